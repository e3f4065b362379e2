"""Before sending: every skip reason counted on its own with examples, the cost by pricing
category at the agency's own rates, and the template as real recipients will read it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.campaigns import services
from messaging.campaigns.models import SkipReason
from messaging.campaigns.planning import plan_campaign, preview_recipients
from messaging.models import Consent, Contact
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN, campaign, citizen, marketing_off, template
from tests.factories import ConversationFactory

IN, OUT = Consent.Status.OPTED_IN, Consent.Status.OPTED_OUT
US, CANADA, MEXICO, UK = "15125550100", "14165550100", "5215555550100", "447700900123"


def _skip(agency, reason: str) -> Contact | None:
    """One citizen skipped for ``reason`` (contacts audience, marketing template)."""
    if reason == SkipReason.OPTED_OUT:
        return citizen(agency, wa_id=MEXICO, consents=(("", IN), ("", OUT)))
    if reason == SkipReason.NO_OPT_IN:
        return citizen(agency, wa_id=MEXICO, consents=(("alerts", IN),))
    if reason == SkipReason.UNREACHABLE:
        contact = citizen(agency, wa_id=MEXICO)
        with agency_scope(agency):
            Contact.objects.filter(pk=contact.pk).update(unreachable_at=timezone.now())
        return contact
    if reason == SkipReason.MARKETING_OPTED_OUT:
        contact = citizen(agency, wa_id=MEXICO)
        marketing_off(contact)
        return contact
    if reason == SkipReason.US_MARKETING:
        return citizen(agency, wa_id=US)
    if reason == SkipReason.MISSING_VARIABLE:
        return citizen(agency, wa_id=MEXICO, permit="")
    raise AssertionError(reason)


@pytest.mark.parametrize(
    "reason",
    [
        SkipReason.OPTED_OUT,
        SkipReason.UNREACHABLE,
        SkipReason.MARKETING_OPTED_OUT,
        SkipReason.US_MARKETING,
        SkipReason.MISSING_VARIABLE,
    ],
)
def test_each_skip_reason_is_counted_alone_with_an_example(agency_a, number, marketing, reason):
    citizen(agency_a, wa_id=CANADA)  # sent: marketing is delivered to Canada
    skipped = _skip(agency_a, reason)
    plan = plan_campaign(campaign(number, marketing))
    assert (plan.total, plan.will_send) == (2, 1)
    assert plan.skipped == {reason.value: 1}
    ((code, words, count, samples),) = plan.skipped_rows
    assert (code, words, count) == (reason.value, reason.label, 1)
    assert [s.contact_id for s in samples] == [skipped.pk]


def test_an_agency_in_trial_mode_sees_who_its_trial_skips(agency_a, number, utility):
    staff = citizen(agency_a, wa_id=US)
    stranger = citizen(agency_a, wa_id=CANADA)
    agency_a.live_approved = False
    agency_a.contact_phone = "+1 512 555 0100"
    with agency_scope(agency_a):
        agency_a.save(update_fields=["live_approved", "contact_phone"])
    plan = plan_campaign(campaign(number, utility))
    assert (plan.total, plan.will_send) == (2, 1)
    assert plan.skipped == {SkipReason.TRIAL_RECIPIENT.value: 1}
    ((_, _, _, samples),) = plan.skipped_rows
    assert [s.contact_id for s in samples] == [stranger.pk]
    assert staff.pk not in [s.contact_id for s in samples]


def test_a_contact_never_opted_in_to_anything_is_not_in_the_audience(agency_a, number, utility):
    citizen(agency_a, wa_id=CANADA)
    citizen(agency_a, wa_id=MEXICO, consents=())
    plan = plan_campaign(campaign(number, utility))
    assert (plan.total, plan.skipped) == (1, {})


def test_an_opt_in_to_another_topic_only_is_skipped_as_not_opted_in(agency_a, number):
    topical = template(number, "UTILITY", topic="alerts")
    citizen(agency_a, wa_id=CANADA, consents=(("alerts", IN),))
    citizen(agency_a, wa_id=MEXICO, consents=(("news", IN),))
    plan = plan_campaign(campaign(number, topical, audience={"source": "contacts"}))
    assert plan.skipped == {}  # only opt-ins of the template's topic or general are candidates
    general_only = citizen(agency_a, wa_id=UK, consents=(("", IN), ("alerts", OUT)))
    plan = plan_campaign(campaign(number, topical, name="again"))
    assert plan.skipped == {SkipReason.OPTED_OUT.value: 1}
    assert plan.skipped_samples[SkipReason.OPTED_OUT][0].contact_id == general_only.pk


def test_samples_are_capped_per_reason(agency_a, number, marketing):
    for i in range(7):
        citizen(agency_a, wa_id=f"1512555{i:04d}")  # US: marketing skipped
    plan = plan_campaign(campaign(number, marketing))
    assert plan.skipped == {SkipReason.US_MARKETING.value: 7}
    assert len(plan.skipped_samples[SkipReason.US_MARKETING]) == 5
    assert "Everyone in this audience would be skipped." in plan.problems


# --- cost --------------------------------------------------------------------------------


def _rate(agency, market: str, category: str, rate: str) -> None:
    services.set_pricing_rate(
        actor=ADMIN, agency=agency, market=market, category=category, rate=rate
    )


def test_marketing_is_charged_per_message_at_the_agencys_edited_rate(agency_a, number, marketing):
    _rate(agency_a, "north_america", "MARKETING", "0.5")
    _rate(agency_a, "mexico", "MARKETING", "0.25")
    for i in range(3):
        citizen(agency_a, wa_id=f"1416555{i:04d}")  # Canada: North America's rate
    citizen(agency_a, wa_id=MEXICO)
    cost = plan_campaign(campaign(number, marketing)).cost
    assert [(x.market, x.count, x.rate, x.amount) for x in cost.lines] == [
        ("north_america", 3, Decimal("0.5000"), Decimal("1.50")),
        ("mexico", 1, Decimal("0.2500"), Decimal("0.25")),
    ]
    assert cost.by_category == {"MARKETING": Decimal("1.75")}
    assert cost.total == Decimal("1.75")


def test_utility_inside_an_open_window_is_free_and_outside_charged(agency_a, number, utility):
    _rate(agency_a, "north_america", "UTILITY", "0.1")
    talking = citizen(agency_a, wa_id=CANADA)
    ConversationFactory(
        agency=agency_a,
        phone_number=number,
        contact=talking,
        window_expires_at=timezone.now() + timedelta(hours=2),
    )
    citizen(agency_a, wa_id=US)
    cost = plan_campaign(campaign(number, utility)).cost
    ((line,),) = [cost.lines]
    assert (line.category, line.count, line.free, line.amount) == (
        "UTILITY",
        2,
        1,
        Decimal("0.10"),
    )
    assert cost.free == 1


def test_skipped_recipients_cost_nothing(agency_a, number, marketing):
    _rate(agency_a, "north_america", "MARKETING", "1")
    citizen(agency_a, wa_id=US)  # skipped: US marketing
    citizen(agency_a, wa_id=CANADA)
    assert plan_campaign(campaign(number, marketing)).cost.total == Decimal("1.00")


def test_restoring_metas_rates_changes_the_estimate_back(agency_a, number, marketing):
    for i in range(100):
        citizen(agency_a, wa_id=f"1416555{i:04d}")
    c = campaign(number, marketing)
    default = plan_campaign(c).cost.total
    _rate(agency_a, "north_america", "MARKETING", "0.01")
    assert plan_campaign(c).cost.total == Decimal("1.00") != default
    services.reset_pricing_rates(actor=ADMIN, agency=agency_a)
    assert plan_campaign(c).cost.total == default


# --- previews ----------------------------------------------------------------------------


def _body(preview) -> str:
    return "".join(segment.text for segment in preview.preview.body)


def test_previews_fill_each_variable_from_the_recipients_own_attributes(agency_a, number, utility):
    ana = citizen(agency_a, wa_id=CANADA, permit="BP-1")
    ben = citizen(agency_a, wa_id=MEXICO, permit="BP-2")
    with agency_scope(agency_a):
        Contact.objects.filter(pk=ana.pk).update(profile_name="Ana")
        Contact.objects.filter(pk=ben.pk).update(profile_name="Ben")
    previews = preview_recipients(campaign(number, utility))
    assert [(p.wa_id, _body(p)) for p in previews] == [
        (CANADA, "Hello Ana, your permit BP-1 is ready."),
        (MEXICO, "Hello Ben, your permit BP-2 is ready."),
    ]


def test_a_fixed_value_is_the_same_for_everyone(agency_a, number, utility):
    citizen(agency_a, wa_id=CANADA, permit="BP-1")
    mapping = {
        "var_1": {"source": "fixed", "value": "neighbour"},
        "var_2": {"source": "attribute", "value": "permit"},
    }
    (preview,) = preview_recipients(campaign(number, utility, mapping=mapping))
    assert _body(preview) == "Hello neighbour, your permit BP-1 is ready."


def test_a_recipient_missing_a_value_is_left_out_of_the_previews(agency_a, number, utility):
    citizen(agency_a, wa_id=CANADA, permit="")
    ben = citizen(agency_a, wa_id=MEXICO, permit="BP-2")
    (preview,) = preview_recipients(campaign(number, utility))
    assert preview.wa_id == ben.wa_id and preview.values["var_2"] == "BP-2"


def test_previews_show_at_most_three_real_recipients(agency_a, number, utility):
    for i in range(5):
        citizen(agency_a, wa_id=f"52155555{i:05d}")
    assert len(preview_recipients(campaign(number, utility))) == 3


def test_no_preview_without_a_template(agency_a, number):
    draft = services.create_campaign(
        actor=ADMIN, agency=agency_a, name="No template yet", phone_number=number
    )
    assert preview_recipients(draft) == []
