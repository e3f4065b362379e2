"""Who a campaign goes to and who is skipped why: the send policy's rules, in bulk."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox.models import ConversationLabel, Label
from messaging import policy
from messaging.campaigns.audience import resolve
from messaging.campaigns.models import SkipReason
from messaging.models import Consent, Contact
from tenants.scoping import agency_scope
from tests.campaigns.factories import campaign, citizen, marketing_off, template
from tests.factories import ContactFactory, ConversationFactory

IN, OUT = Consent.Status.OPTED_IN, Consent.Status.OPTED_OUT


def verdicts(c) -> dict[str, str]:
    with agency_scope(c.agency_id):
        return {row.wa_id: row.skip_reason for row in resolve(c)}


def test_an_opted_in_citizen_is_sent_the_campaign_with_their_values(agency_a, number, utility):
    ana = citizen(agency_a)
    with agency_scope(agency_a):
        Contact.objects.filter(pk=ana.pk).update(profile_name="Ana")
        (row,) = resolve(campaign(number, utility))
    assert row.skip_reason == ""
    assert row.variables == {"var_1": "Ana", "var_2": "P-7"}


def test_a_contact_who_never_gave_consent_is_not_in_the_audience(agency_a, number, utility):
    ContactFactory(agency=agency_a)
    assert verdicts(campaign(number, utility)) == {}


def test_a_citizen_who_opted_out_after_opting_in_is_skipped_as_opted_out(agency_a, number, utility):
    gone = citizen(agency_a, consents=(("", IN), ("", OUT)))
    assert verdicts(campaign(number, utility)) == {gone.wa_id: SkipReason.OPTED_OUT}


def test_a_citizen_who_opted_in_again_is_sent(agency_a, number, utility):
    back = citizen(agency_a, consents=(("", IN), ("", OUT), ("", IN)))
    assert verdicts(campaign(number, utility)) == {back.wa_id: ""}


def test_an_opt_out_of_the_templates_topic_skips_a_generally_opted_in_citizen(agency_a, number):
    roads = template(number, topic="road_closures")
    no_roads = citizen(agency_a, consents=(("", IN), ("road_closures", OUT)))
    fine = citizen(agency_a, consents=(("", IN),))
    assert verdicts(campaign(number, roads)) == {
        no_roads.wa_id: SkipReason.OPTED_OUT,
        fine.wa_id: "",
    }


def test_an_opt_in_to_another_topic_only_is_not_an_opt_in(agency_a, number):
    roads = template(number, topic="road_closures")
    citizen(agency_a, consents=(("emergency_alerts", IN),))
    topic_only = citizen(agency_a, consents=(("road_closures", IN),))
    assert verdicts(campaign(number, roads)) == {topic_only.wa_id: ""}


def test_an_unreachable_citizen_is_skipped(agency_a, number, utility):
    lost = citizen(agency_a)
    with agency_scope(agency_a):
        Contact.objects.filter(pk=lost.pk).update(unreachable_at=timezone.now())
    assert verdicts(campaign(number, utility)) == {lost.wa_id: SkipReason.UNREACHABLE}


def test_marketing_turned_off_in_whatsapp_skips_a_marketing_template_only(
    agency_a, number, utility, marketing
):
    mx = citizen(agency_a, wa_id="5215512345678")
    marketing_off(mx)
    assert verdicts(campaign(number, marketing)) == {mx.wa_id: SkipReason.MARKETING_OPTED_OUT}
    assert verdicts(campaign(number, utility)) == {mx.wa_id: ""}


def test_a_marketing_template_skips_us_numbers_but_not_canadian_ones(agency_a, number, marketing):
    us = citizen(agency_a, wa_id="14155550123")
    canada = citizen(agency_a, wa_id="14165550123")
    assert verdicts(campaign(number, marketing)) == {
        us.wa_id: SkipReason.US_MARKETING,
        canada.wa_id: "",
    }


def test_a_utility_template_goes_to_us_numbers(agency_a, number, utility):
    us = citizen(agency_a, wa_id="14155550123")
    assert verdicts(campaign(number, utility)) == {us.wa_id: ""}


def test_a_missing_value_for_a_variable_skips_the_citizen(agency_a, number, utility):
    without = citizen(agency_a, permit="")
    assert verdicts(campaign(number, utility)) == {without.wa_id: SkipReason.MISSING_VARIABLE}


def test_the_audience_can_be_narrowed_to_a_label(agency_a, number, utility):
    citizen(agency_a)  # not labelled
    tagged = citizen(agency_a)
    with agency_scope(agency_a):
        label = Label.objects.create(agency=agency_a, name="flood zone")
        conversation = ConversationFactory(agency=agency_a, phone_number=number, contact=tagged)
        ConversationLabel.objects.create(agency=agency_a, conversation=conversation, label=label)
    labelled = campaign(number, utility, audience={"source": "contacts", "label_ids": [label.pk]})
    assert verdicts(labelled) == {tagged.wa_id: ""}


def test_the_audience_can_be_narrowed_to_a_contact_attribute(agency_a, number, utility):
    north = citizen(agency_a, district="north")
    citizen(agency_a, district="south")
    narrowed = campaign(
        number,
        utility,
        audience={"source": "contacts", "attributes": [{"key": "district", "value": "north"}]},
    )
    assert verdicts(narrowed) == {north.wa_id: ""}


HISTORIES = [
    (("", IN),),
    (("", OUT),),
    (("", IN), ("", OUT)),
    (("", OUT), ("", IN)),
    (("topic", IN),),
    (("topic", OUT),),
    (("", IN), ("topic", OUT)),
    (("topic", OUT), ("", IN)),
    (("", OUT), ("topic", IN)),
    (("topic", IN), ("", OUT)),
    (("topic", IN), ("topic", OUT), ("topic", IN)),
    (("", IN), ("other", OUT)),
]


@pytest.mark.parametrize("history", HISTORIES)
def test_the_bulk_check_agrees_with_the_per_message_check(agency_a, number, history):
    """Every consent history gives the same answer in a campaign and in a single send."""
    topical = template(number, topic="topic")
    person = citizen(agency_a, consents=history)
    bulk = verdicts(campaign(number, topical)).get(person.wa_id or "")
    with agency_scope(agency_a):
        try:
            policy.check_opt_in(person, "topic")
            single = ""
        except policy.SendRefused as refusal:
            single = refusal.rule.value
    if bulk is None:  # not in the audience: no consent on "" or the topic at all
        assert single == policy.Rule.NO_OPT_IN
    else:
        assert bulk == single


def test_a_marketing_template_to_a_us_number_is_refused_by_the_send_path_too(
    agency_a, number, marketing
):
    us = citizen(agency_a, wa_id="14155550123")
    with agency_scope(agency_a), pytest.raises(policy.SendRefused) as refused:
        policy.check_marketing_destination(us, marketing)
    assert refused.value.rule == policy.Rule.MARKETING_UNAVAILABLE
