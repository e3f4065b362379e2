"""phone_number_quality_update: the number's quality and throughput, and the messaging
limit of its WABA's business portfolio (shared by all the portfolio's numbers)."""

from __future__ import annotations

import pytest

from messaging.models import WebhookEvent
from records.models import AuditEvent
from tenants.models import BusinessPortfolio, PhoneNumber
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory, WabaFactory
from tests.messaging.webhooks.account_payloads import ENTRY_TIME, phone_number_quality

Tier = BusinessPortfolio.MessagingLimitTier


@pytest.fixture
def number(agency_a):
    """Stored the way staff type it; Meta sends digits only."""
    return PhoneNumberFactory(agency=agency_a, display_phone_number="+1 (555) 078-3881")


def reloaded(row):
    with agency_scope(row.agency_id):
        return type(row).objects.get(pk=row.pk)


def audit(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def quality(number, event, **limits):
    return phone_number_quality(number.waba.waba_id, "15550783881", event, **limits)


def test_a_throughput_upgrade_raises_the_number_to_1000_and_the_portfolio_to_unlimited(
    ingest, number
):
    event = ingest(
        quality(
            number,
            "THROUGHPUT_UPGRADE",
            current_limit="TIER_UNLIMITED",
            max_daily_conversations_per_business="TIER_UNLIMITED",
        )
    )
    assert event.status == WebhookEvent.Status.PROCESSED
    assert reloaded(number).throughput_tier == 1000
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.UNLIMITED
    [throughput] = audit(number.agency, "phone_number.throughput_changed")
    assert throughput.changes["throughput_tier"] == [80, 1000]
    [limit] = audit(number.agency, "portfolio.messaging_limit_changed")
    assert limit.changes["messaging_limit_tier"] == [Tier.TIER_250, Tier.UNLIMITED]
    assert limit.changes["meta_time"] == ENTRY_TIME


def test_a_flagged_number_is_rated_red_but_can_still_send(ingest, number):
    ingest(quality(number, "FLAGGED", current_limit="TIER_2K"))
    number = reloaded(number)
    assert number.quality_rating == PhoneNumber.QualityRating.RED
    assert number.status == PhoneNumber.Status.CONNECTED
    assert number.can_send
    [record] = audit(number.agency, "phone_number.quality_changed")
    assert record.changes["quality_rating"] == ["UNKNOWN", "RED"]


def test_unflagging_clears_a_red_rating_without_guessing_the_new_one(ingest, number):
    with agency_scope(number.agency):
        PhoneNumber.objects.filter(pk=number.pk).update(quality_rating="RED")
    ingest(quality(number, "UNFLAGGED", current_limit="TIER_2K"))
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.UNKNOWN


def test_unflagging_keeps_a_rating_that_was_not_red(ingest, number):
    with agency_scope(number.agency):
        PhoneNumber.objects.filter(pk=number.pk).update(quality_rating="GREEN")
    ingest(quality(number, "UNFLAGGED", current_limit="TIER_2K"))
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.GREEN
    assert audit(number.agency, "phone_number.quality_changed") == []


def test_a_downgrade_lowers_the_portfolios_limit(ingest, number):
    with agency_scope(number.agency):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier=Tier.TIER_10K
        )
    ingest(
        quality(
            number,
            "DOWNGRADE",
            old_limit="TIER_10K",
            current_limit="TIER_2K",
            max_daily_conversations_per_business="TIER_2K",
        )
    )
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.TIER_2K
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.UNKNOWN


def test_the_portfolio_limit_field_wins_over_the_deprecated_one(ingest, number):
    ingest(
        quality(
            number,
            "UPGRADE",
            current_limit="TIER_10K",
            max_daily_conversations_per_business="TIER_100K",
        )
    )
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.TIER_100K


@pytest.mark.parametrize(
    ("reported", "kept"), [("TIER_50", Tier.TIER_250), ("TIER_1K", Tier.TIER_2K)]
)
def test_older_tiers_map_to_their_successor_on_todays_ladder(reported, kept, ingest, number):
    with agency_scope(number.agency):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier=Tier.TIER_10K
        )
    ingest(quality(number, "DOWNGRADE", current_limit=reported))
    assert reloaded(number.waba.portfolio).messaging_limit_tier == kept


def test_a_number_that_never_sent_sets_no_limit(ingest, number):
    ingest(quality(number, "ONBOARDING", current_limit="TIER_NOT_SET"))
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.TIER_250
    assert audit(number.agency, "portfolio.messaging_limit_changed") == []


def test_the_limit_applies_to_the_portfolio_even_for_a_number_we_do_not_have(ingest, number):
    payload = phone_number_quality(
        number.waba.waba_id, "15550009999", "UPGRADE", current_limit="TIER_10K"
    )
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.TIER_10K
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.UNKNOWN


def test_a_waba_without_a_portfolio_keeps_no_limit_but_processes(ingest, agency_a):
    waba = WabaFactory(agency=agency_a, portfolio=None)
    number = PhoneNumberFactory(agency=agency_a, waba=waba, display_phone_number="15550783881")
    event = ingest(quality(number, "FLAGGED", current_limit="TIER_2K"))
    assert event.status == WebhookEvent.Status.PROCESSED
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.RED


def test_an_update_with_neither_event_nor_limit_is_quarantined(ingest, number):
    payload = phone_number_quality(number.waba.waba_id, "15550783881", "")
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert "without event or limit" in event.problems[0]["reason"]


def test_the_same_update_twice_is_applied_and_audited_once(ingest, number):
    payload = quality(number, "THROUGHPUT_UPGRADE", current_limit="TIER_UNLIMITED")
    ingest(payload)
    ingest(payload)
    assert len(audit(number.agency, "phone_number.throughput_changed")) == 1
    assert len(audit(number.agency, "portfolio.messaging_limit_changed")) == 1


def test_an_older_limit_arriving_late_does_not_undo_a_newer_one(ingest, number):
    newer = phone_number_quality(
        number.waba.waba_id,
        "15550783881",
        "UPGRADE",
        current_limit="TIER_10K",
        time=ENTRY_TIME + 3600,
    )
    older = phone_number_quality(
        number.waba.waba_id, "15550783881", "UPGRADE", current_limit="TIER_2K"
    )
    ingest(newer)
    ingest(older)
    assert reloaded(number.waba.portfolio).messaging_limit_tier == Tier.TIER_10K


def test_another_agencys_number_with_the_same_digits_is_not_touched(ingest, number, agency_b):
    theirs = PhoneNumberFactory(agency=agency_b, display_phone_number="15550783881")
    ingest(quality(number, "FLAGGED"))
    assert reloaded(number).quality_rating == PhoneNumber.QualityRating.RED
    assert reloaded(theirs).quality_rating == PhoneNumber.QualityRating.UNKNOWN
    assert audit(agency_b, "phone_number.quality_changed") == []
