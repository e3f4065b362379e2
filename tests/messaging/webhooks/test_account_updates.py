"""account_update: restrictions and bans on the WABA (and what they do to its numbers),
violations, deletion, and the events we only record."""

from __future__ import annotations

import time
from typing import Any

import pytest

from messaging import services
from messaging.models import WebhookEvent
from messaging.policy import Rule, SendRefused
from messaging.whatsapp import builders as b
from records.models import AuditEvent
from tenants.models import PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, PhoneNumberFactory, TemplateFactory, WabaFactory
from tests.messaging.webhooks.account_payloads import (
    ENTRY_TIME,
    account_update,
    ban,
    restriction,
)

Number = PhoneNumber.Status


@pytest.fixture
def waba(agency_a):
    return WabaFactory(agency=agency_a)


@pytest.fixture
def numbers(waba):
    return [PhoneNumberFactory(agency=waba.agency, waba=waba) for _ in range(2)]


def reloaded(row):
    with agency_scope(row.agency_id):
        return type(row).objects.get(pk=row.pk)


def statuses(rows) -> list[str]:
    return [reloaded(row).status for row in rows]


def audit(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# --- restrictions -----------------------------------------------------------------------------


def test_a_restriction_is_kept_on_the_waba_and_audited(ingest, waba):
    payload = restriction(
        waba.waba_id,
        ("RESTRICTED_BIZ_INITIATED_MESSAGING", 1751852348),
        ("RESTRICTED_ADD_PHONE_NUMBER_ACTION", 1751852348),
    )
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert reloaded(waba).restrictions == [
        {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1751852348},
        {"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": 1751852348},
    ]
    [record] = audit(waba.agency, "waba.restrictions_changed")
    assert record.object_id == str(waba.pk)
    assert record.changes["restrictions"][0] == []


def test_a_restriction_from_meta_refuses_business_initiated_sends(ingest, waba, numbers):
    TemplateFactory(agency=waba.agency, waba=waba, name="case_update")
    consent = ConsentFactory(agency=waba.agency)
    expires = int(time.time()) + 86400
    ingest(restriction(waba.waba_id, ("RESTRICTED_BIZ_INITIATED_MESSAGING", expires)))
    notice = b.Template("case_update", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-42")])
    with pytest.raises(SendRefused) as refused:
        services.send_message(
            agency=waba.agency,
            sender=services.Sender.system("test"),
            to=consent.contact.wa_id,  # type: ignore[arg-type]  # factory contacts have one
            message=notice,
            phone_number=numbers[0],
        )
    assert refused.value.rule == Rule.SENDER_UNAVAILABLE
    assert "RESTRICTED_BIZ_INITIATED_MESSAGING" in refused.value.message


def test_the_same_restriction_twice_is_audited_once(ingest, waba):
    payload = restriction(waba.waba_id, ("RESTRICTED_BIZ_INITIATED_MESSAGING", 1751852348))
    ingest(payload)
    ingest(payload)
    assert len(audit(waba.agency, "waba.restrictions_changed")) == 1


def test_a_restriction_without_its_list_is_quarantined(ingest, waba):
    event = ingest(account_update(waba.waba_id, "ACCOUNT_RESTRICTION", restriction_info="soon"))
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert "restriction_info" in event.problems[0]["reason"]
    assert reloaded(waba).restrictions == []


# --- bans ----------------------------------------------------------------------------------------


def test_a_disabled_waba_bans_its_numbers(ingest, waba, numbers):
    ingest(ban(waba.waba_id, "DISABLE"))
    assert reloaded(waba).ban_state == "DISABLE"
    assert statuses(numbers) == [Number.BANNED, Number.BANNED]
    assert len(audit(waba.agency, "waba.ban_state_changed")) == 1
    changes = [e.changes["status"] for e in audit(waba.agency, "phone_number.status_changed")]
    assert changes == [[Number.CONNECTED, Number.BANNED]] * 2


def test_a_reinstated_waba_gives_each_number_back_its_status_from_before_the_ban(
    ingest, waba, numbers
):
    with agency_scope(waba.agency):
        PhoneNumber.objects.filter(pk=numbers[1].pk).update(status=Number.DISCONNECTED)
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(ban(waba.waba_id, "REINSTATE", time=ENTRY_TIME + 86400))
    assert reloaded(waba).ban_state == "REINSTATE"
    assert statuses(numbers) == [Number.CONNECTED, Number.DISCONNECTED]


def test_a_scheduled_disable_leaves_the_numbers_sending(ingest, waba, numbers):
    ingest(ban(waba.waba_id, "SCHEDULE_FOR_DISABLE"))
    assert reloaded(waba).ban_state == "SCHEDULE_FOR_DISABLE"
    assert statuses(numbers) == [Number.CONNECTED, Number.CONNECTED]


def test_the_same_ban_twice_is_applied_and_audited_once(ingest, waba, numbers):
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(ban(waba.waba_id, "DISABLE"))
    assert len(audit(waba.agency, "waba.ban_state_changed")) == 1
    assert len(audit(waba.agency, "phone_number.status_changed")) == 2


def test_an_older_ban_arriving_after_the_reinstatement_changes_nothing(ingest, waba, numbers):
    ingest(ban(waba.waba_id, "REINSTATE", time=ENTRY_TIME + 86400))
    ingest(ban(waba.waba_id, "DISABLE"))
    assert reloaded(waba).ban_state == "REINSTATE"
    assert statuses(numbers) == [Number.CONNECTED, Number.CONNECTED]


def test_a_ban_without_its_state_is_quarantined(ingest, waba, numbers):
    event = ingest(account_update(waba.waba_id, "DISABLED_UPDATE", ban_info={}))
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert statuses(numbers) == [Number.CONNECTED, Number.CONNECTED]


# --- deletion and the events we only record --------------------------------------------------


@pytest.mark.parametrize("event_word", ["ACCOUNT_DELETED", "ACCOUNT_OFFBOARDED"])
def test_a_deleted_or_offboarded_waba_disconnects_its_numbers(event_word, ingest, waba, numbers):
    ingest(account_update(waba.waba_id, event_word))
    assert statuses(numbers) == [Number.DISCONNECTED, Number.DISCONNECTED]
    [record] = audit(waba.agency, "waba.account_update")
    assert record.changes["event"] == event_word


def test_a_violation_is_audited_once_with_its_details(ingest, waba, numbers):
    payload = account_update(
        waba.waba_id, "ACCOUNT_VIOLATION", violation_info={"violation_type": "ADULT"}
    )
    ingest(payload)
    ingest(payload)
    [record] = audit(waba.agency, "waba.account_update")
    assert record.changes["event"] == "ACCOUNT_VIOLATION"
    assert record.changes["violation_info"] == {"violation_type": "ADULT"}
    assert record.changes["meta_time"] == ENTRY_TIME
    assert statuses(numbers) == [Number.CONNECTED, Number.CONNECTED]


def test_a_violation_at_another_time_is_recorded_again(ingest, waba):
    info: dict[str, Any] = {"violation_info": {"violation_type": "ADULT"}}
    ingest(account_update(waba.waba_id, "ACCOUNT_VIOLATION", **info))
    ingest(account_update(waba.waba_id, "ACCOUNT_VIOLATION", time=ENTRY_TIME + 60, **info))
    assert len(audit(waba.agency, "waba.account_update")) == 2


@pytest.mark.parametrize(
    ("event_word", "fields"),
    [
        ("PARTNER_ADDED", {"waba_info": {"waba_id": "980198427658004"}}),
        (
            "VOLUME_BASED_PRICING_TIER_UPDATE",
            {"volume_tier_info": {"pricing_category": "UTILITY", "tier": "25000001:50000000"}},
        ),
        ("ACCOUNT_RECONNECTED", {}),
    ],
)
def test_other_events_are_only_recorded(event_word, fields, ingest, waba, numbers):
    event = ingest(account_update(waba.waba_id, event_word, **fields))
    assert event.status == WebhookEvent.Status.PROCESSED
    [record] = audit(waba.agency, "waba.account_update")
    assert record.changes == {
        "event": event_word,
        **fields,
        "meta_time": ENTRY_TIME,
        "webhook_event": event.pk,
    }
    waba = reloaded(waba)
    assert (waba.restrictions, waba.ban_state) == ([], "")
    assert statuses(numbers) == [Number.CONNECTED, Number.CONNECTED]


def test_an_update_without_an_event_is_quarantined(ingest, waba):
    event = ingest(account_update(waba.waba_id, ""))
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["reason"] == "no event"


# --- routing and tenancy -------------------------------------------------------------------------


def test_an_update_for_a_waba_we_do_not_have_is_quarantined(ingest, waba):
    event = ingest(ban("424242424242", "DISABLE"))
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["kind"] == "unroutable"
    assert "424242424242" in event.problems[0]["reason"]
    assert reloaded(waba).ban_state == ""


def test_another_agencys_waba_is_not_touched(ingest, waba, numbers, agency_b):
    theirs = WabaFactory(agency=agency_b)
    their_number = PhoneNumberFactory(agency=agency_b, waba=theirs)
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(restriction(waba.waba_id, ("RESTRICTED_BIZ_INITIATED_MESSAGING", 1751852348)))
    assert statuses(numbers) == [Number.BANNED, Number.BANNED]
    theirs = reloaded(theirs)
    assert (theirs.ban_state, theirs.restrictions) == ("", [])
    assert reloaded(their_number).status == Number.CONNECTED
    with agency_scope(agency_b):
        assert not AuditEvent.objects.filter(actor_type="worker").exists()


def test_another_waba_of_the_same_agency_is_not_touched(ingest, waba, numbers, agency_a):
    other_number = PhoneNumberFactory(agency=agency_a)
    ingest(ban(waba.waba_id, "DISABLE"))
    assert reloaded(other_number).status == Number.CONNECTED
    with agency_scope(agency_a):
        assert WhatsAppBusinessAccount.objects.get(pk=other_number.waba_id).ban_state == ""
