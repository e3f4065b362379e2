"""Meta's rules, enforced by send_message for every caller: each rule allows and refuses."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from bsp.events import services as event_services
from messaging import services
from messaging.models import Consent, Message
from messaging.policy import WHATSAPP_MARKETING_TOPIC, Rule, SendRefused, check_marketing_preference
from messaging.whatsapp import builders as b
from records.audit import Actor
from records.models import AuditEvent
from templates_mgr.models import MessageTemplate
from tenants.models import BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, ContactFactory, TemplateFactory
from tests.messaging.conftest import CITIZEN

SENDER = services.Sender.system("test")


def send(agency, message, to=CITIZEN, **kwargs) -> Message:
    return services.send_message(agency=agency, sender=SENDER, to=to, message=message, **kwargs)


def refusal(agency, message, to=CITIZEN, **kwargs) -> SendRefused:
    with pytest.raises(SendRefused) as info:
        send(agency, message, to=to, **kwargs)
    return info.value


def notice(number, **fields) -> MessageTemplate:
    return TemplateFactory(agency=number.agency, waba=number.waba, name="case_update", **fields)


NOTICE = b.Template("case_update", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-42")])


# --- the 24-hour customer-service window -------------------------------------------------


def test_free_form_text_is_queued_inside_the_window(agency_a, open_conversation):
    message = send(agency_a, b.Text("We fixed the light."))
    assert (message.status, message.business_initiated) == ("queued", False)
    assert message.content == {
        "type": "text",
        "text": {"body": "We fixed the light.", "preview_url": False},
    }


def test_free_form_text_is_refused_outside_the_window(agency_a, number, citizen):
    assert refusal(agency_a, b.Text("Hello?")).rule == Rule.WINDOW_CLOSED


def test_window_refusal_says_when_it_closed(agency_a, open_conversation):
    with agency_scope(agency_a):
        open_conversation.window_expires_at = timezone.now() - timedelta(minutes=5)
        open_conversation.save()
    refused = refusal(agency_a, b.Text("Hello?"))
    assert "It closed on" in refused.message
    assert refused.details["window_expired_at"] is not None


# --- business-initiated messages: opt-in ----------------------------------------------------


def test_a_template_outside_the_window_goes_to_an_opted_in_contact(agency_a, number, citizen):
    notice(number)
    ConsentFactory(agency=agency_a, contact=citizen)
    message = send(agency_a, NOTICE)
    assert message.business_initiated is True
    assert message.template.name == "case_update"


def test_a_template_outside_the_window_is_refused_without_opt_in(agency_a, number, citizen):
    notice(number)
    assert refusal(agency_a, NOTICE).rule == Rule.NO_OPT_IN


def test_a_template_is_refused_after_an_opt_out(agency_a, number, citizen):
    notice(number)
    ConsentFactory(agency=agency_a, contact=citizen, recorded_at=timezone.now() - timedelta(days=2))
    ConsentFactory(agency=agency_a, contact=citizen, status=Consent.Status.OPTED_OUT)
    assert refusal(agency_a, NOTICE).rule == Rule.OPTED_OUT


def test_a_topic_template_needs_that_topic_or_a_general_opt_in(agency_a, number, citizen):
    notice(number, topic="road_closures")
    ConsentFactory(
        agency=agency_a, contact=citizen, topic="road_closures", status=Consent.Status.OPTED_OUT
    )
    ConsentFactory(agency=agency_a, contact=citizen, recorded_at=timezone.now() - timedelta(days=1))
    assert refusal(agency_a, NOTICE).rule == Rule.OPTED_OUT


def test_a_template_inside_the_window_needs_no_opt_in(agency_a, number, open_conversation):
    notice(number)
    message = send(agency_a, NOTICE)
    assert message.business_initiated is False


# --- marketing turned off in WhatsApp itself (user_preferences webhook) -------------------


def whatsapp_marketing(contact, status, **fields) -> Consent:
    return ConsentFactory(
        agency=contact.agency,
        contact=contact,
        topic=WHATSAPP_MARKETING_TOPIC,
        status=status,
        source=Consent.Source.WHATSAPP_PREFERENCES,
        **fields,
    )


def test_a_marketing_template_is_refused_to_a_citizen_who_turned_marketing_off_in_whatsapp(
    agency_a, number, citizen
):
    template = notice(number, category=MessageTemplate.Category.MARKETING)
    whatsapp_marketing(citizen, Consent.Status.OPTED_OUT)
    with agency_scope(agency_a), pytest.raises(SendRefused) as info:
        check_marketing_preference(citizen, template)
    assert info.value.rule == Rule.OPTED_OUT
    assert info.value.message.startswith(
        "This person turned off marketing messages from the agency in WhatsApp"
    )
    assert info.value.details["topic"] == "whatsapp:marketing"


def test_a_utility_template_is_allowed_to_a_citizen_who_turned_marketing_off_in_whatsapp(
    agency_a, number, citizen
):
    template = notice(number, category=MessageTemplate.Category.UTILITY)
    whatsapp_marketing(citizen, Consent.Status.OPTED_OUT)
    with agency_scope(agency_a):
        check_marketing_preference(citizen, template)  # does not refuse


def test_a_marketing_template_is_allowed_again_once_the_citizen_resumed_marketing(
    agency_a, number, citizen
):
    template = notice(number, category=MessageTemplate.Category.MARKETING)
    whatsapp_marketing(
        citizen, Consent.Status.OPTED_OUT, recorded_at=timezone.now() - timedelta(days=2)
    )
    whatsapp_marketing(citizen, Consent.Status.OPTED_IN)
    with agency_scope(agency_a):
        check_marketing_preference(citizen, template)  # does not refuse


def test_sending_a_marketing_template_to_a_citizen_who_turned_marketing_off_is_refused(
    agency_a, number, open_conversation
):
    notice(number, category=MessageTemplate.Category.MARKETING)
    whatsapp_marketing(open_conversation.contact, Consent.Status.OPTED_OUT)
    assert refusal(agency_a, NOTICE).rule == Rule.OPTED_OUT  # even inside the window


# --- templates ----------------------------------------------------------------------------


def test_an_unknown_template_is_refused(agency_a, open_conversation):
    assert refusal(agency_a, NOTICE).rule == Rule.TEMPLATE_NOT_FOUND


def test_a_template_of_another_language_is_not_found(agency_a, number, open_conversation):
    notice(number, language="es")
    assert refusal(agency_a, NOTICE).rule == Rule.TEMPLATE_NOT_FOUND


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DISABLED"])
def test_a_template_that_is_not_approved_is_refused(status, agency_a, number, open_conversation):
    notice(number, status=status)
    assert refusal(agency_a, NOTICE).rule == Rule.TEMPLATE_NOT_APPROVED


def test_a_template_with_missing_parameters_is_refused(agency_a, number, open_conversation):
    notice(number)
    refused = refusal(agency_a, b.Template("case_update", "en_US", body=[b.TextParam("Ana")]))
    assert refused.rule == Rule.TEMPLATE_PARAMS
    assert refused.details == {"component": "body", "expected": ["1", "2"], "given": ["1"]}


def test_a_named_template_needs_exactly_its_named_parameters(agency_a, number, open_conversation):
    notice(
        number,
        parameter_format="NAMED",
        components=[{"type": "BODY", "text": "Hi {{first_name}}, case {{case_id}}."}],
    )
    wrong = b.Template(
        "case_update",
        "en_US",
        body=[b.TextParam("Ana", name="first_name"), b.TextParam("1", name="x")],
    )
    assert refusal(agency_a, wrong).rule == Rule.TEMPLATE_PARAMS
    right = b.Template(
        "case_update",
        "en_US",
        body=[b.TextParam("Ana", name="first_name"), b.TextParam("C-1", name="case_id")],
    )
    assert send(agency_a, right).status == "queued"


def test_a_template_with_a_dynamic_url_button_needs_its_suffix(agency_a, number, open_conversation):
    notice(
        number,
        components=[
            {"type": "BODY", "text": "Your permit is ready."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "URL", "text": "View", "url": "https://permits.example.gov/{{1}}"}
                ],
            },
        ],
    )
    bare = b.Template("case_update", "en_US")
    assert refusal(agency_a, bare).rule == Rule.TEMPLATE_PARAMS
    with_suffix = b.Template("case_update", "en_US", buttons=[b.UrlButton(0, "P-77")])
    assert send(agency_a, with_suffix).status == "queued"


# --- recipients ---------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["120363025246125486@g.us", "15551234567-1600000000"])
def test_a_group_is_refused(to, agency_a, number):
    assert refusal(agency_a, b.Text("hi"), to=to).rule == Rule.INVALID_RECIPIENT


@pytest.mark.parametrize("to", ["12", "not a number", "+1 555 0100"])
def test_an_invalid_number_is_refused(to, agency_a, number):
    assert refusal(agency_a, b.Text("hi"), to=to).rule == Rule.INVALID_RECIPIENT


def test_a_contact_known_to_be_off_whatsapp_is_refused(agency_a, open_conversation, citizen):
    with agency_scope(agency_a):
        citizen.unreachable_at = timezone.now()
        citizen.save()
    assert refusal(agency_a, b.Text("hi")).rule == Rule.INVALID_RECIPIENT


def test_formatted_numbers_reach_the_same_contact(agency_a, open_conversation, citizen):
    message = send(agency_a, b.Text("hi"), to="+1 (415) 555-0100")
    assert message.contact_id == citizen.pk


# --- the sender -----------------------------------------------------------------------------


def test_a_suspended_agency_cannot_send(agency_a, open_conversation):
    agency_a.status = "suspended"
    agency_a.save()
    assert refusal(agency_a, b.Text("hi")).rule == Rule.SENDER_UNAVAILABLE


def test_a_disconnected_number_cannot_send(agency_a, number, open_conversation):
    with agency_scope(agency_a):
        PhoneNumber.objects.filter(pk=number.pk).update(status="disconnected")
    assert refusal(agency_a, b.Text("hi")).rule == Rule.SENDER_UNAVAILABLE


# --- Meta's restrictions on the WABA (account_update ACCOUNT_RESTRICTION) -------------------

BUSINESS_INITIATED = "RESTRICTED_BIZ_INITIATED_MESSAGING"
REPLIES = "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"


def restrict(number, restriction_type, expires_in: timedelta):
    """As the account_update webhook leaves it: Meta's list, expiration in unix seconds."""
    expires_at = timezone.now() + expires_in
    restrictions = [
        {"restriction_type": restriction_type, "expiration": int(expires_at.timestamp())}
    ]
    with agency_scope(number.agency_id):
        WhatsAppBusinessAccount.objects.filter(pk=number.waba_id).update(restrictions=restrictions)
    return expires_at


def test_a_restriction_on_business_initiated_messages_refuses_templates_outside_the_window(
    agency_a, number, citizen
):
    notice(number)
    ConsentFactory(agency=agency_a, contact=citizen)
    expires_at = restrict(number, BUSINESS_INITIATED, timedelta(days=2))
    refused = refusal(agency_a, NOTICE)
    assert refused.rule == Rule.SENDER_UNAVAILABLE
    assert BUSINESS_INITIATED in refused.message
    local = timezone.localtime(expires_at, zoneinfo.ZoneInfo(agency_a.timezone))
    assert f"until {local:%b %-d, %Y %H:%M}" in refused.message
    assert refused.details["restriction"] == BUSINESS_INITIATED


def test_an_expired_restriction_on_business_initiated_messages_no_longer_refuses(
    agency_a, number, citizen
):
    notice(number)
    ConsentFactory(agency=agency_a, contact=citizen)
    restrict(number, BUSINESS_INITIATED, timedelta(minutes=-1))
    assert send(agency_a, NOTICE).business_initiated is True


def test_a_restriction_on_business_initiated_messages_still_allows_replies(
    agency_a, open_conversation
):
    restrict(open_conversation.phone_number, BUSINESS_INITIATED, timedelta(days=2))
    assert send(agency_a, b.Text("We fixed the light.")).status == "queued"


def test_a_restriction_on_replies_refuses_free_form_replies_inside_the_window(
    agency_a, open_conversation
):
    restrict(open_conversation.phone_number, REPLIES, timedelta(hours=5))
    refused = refusal(agency_a, b.Text("We fixed the light."))
    assert refused.rule == Rule.SENDER_UNAVAILABLE
    assert REPLIES in refused.message and "until " in refused.message


def test_a_restriction_on_replies_refuses_templates_inside_the_window_too(
    agency_a, number, open_conversation
):
    notice(number)
    restrict(number, REPLIES, timedelta(hours=5))
    assert refusal(agency_a, NOTICE).rule == Rule.SENDER_UNAVAILABLE


def test_an_expired_restriction_on_replies_no_longer_refuses(agency_a, open_conversation):
    restrict(open_conversation.phone_number, REPLIES, timedelta(seconds=-5))
    assert send(agency_a, b.Text("We fixed the light.")).status == "queued"


def test_a_restriction_on_replies_still_allows_business_initiated_templates(
    agency_a, number, citizen
):
    notice(number)
    ConsentFactory(agency=agency_a, contact=citizen)
    restrict(number, REPLIES, timedelta(days=2))
    assert send(agency_a, NOTICE).business_initiated is True


# --- messaging-limit tier -------------------------------------------------------------------


def _opted_in_contacts(agency, n):
    contacts = [ContactFactory(agency=agency) for _ in range(n)]
    for contact in contacts:
        ConsentFactory(agency=agency, contact=contact)
    return contacts


def test_the_tier_counts_unique_contacts_per_portfolio_and_refuses_beyond(agency_a, number):
    notice(number)
    with agency_scope(agency_a):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier="TIER_250"
        )
    contacts = _opted_in_contacts(agency_a, 251)
    for contact in contacts[:250]:
        send(agency_a, NOTICE, to=contact.wa_id)
    send(agency_a, NOTICE, to=contacts[0].wa_id)  # the same person again: no new slot
    refused = refusal(agency_a, NOTICE, to=contacts[250].wa_id)
    assert refused.rule == Rule.TIER_LIMIT
    assert refused.details["remaining"] == 0 and refused.details["limit"] == 250


def test_an_unlimited_portfolio_has_no_reach_limit(agency_a, number, citizen):
    notice(number)
    with agency_scope(agency_a):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier="TIER_UNLIMITED"
        )
    ConsentFactory(agency=agency_a, contact=citizen)
    assert send(agency_a, NOTICE).business_initiated


# --- cross-cutting --------------------------------------------------------------------------


def test_a_refusal_is_audited_with_its_rule(agency_a, number, citizen):
    refusal(agency_a, b.Text("hi"))
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="message.refused")
    assert event.changes["rule"] == "window_closed"


def test_the_same_idempotency_key_returns_the_first_message(agency_a, open_conversation):
    first = send(agency_a, b.Text("once"), idempotency_key="crm-123")
    again = send(agency_a, b.Text("once"), idempotency_key="crm-123")
    assert again.pk == first.pk
    with agency_scope(agency_a):
        assert Message.objects.count() == 1


def test_a_queued_message_is_enqueued_only_after_commit(
    agency_a, open_conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        send(agency_a, b.Text("hi"))
    # Beside the event stream's wake-up (message.queued is published in the transaction).
    assert len([c for c in callbacks if c is not event_services._wake]) == 1


def test_staff_sends_are_audited_with_the_staff_actor(agency_a, open_conversation):
    actor = Actor("user", "7", "clerk@example.gov")
    services.send_message(
        agency=agency_a, sender=services.Sender("user", actor), to=CITIZEN, message=b.Text("hi")
    )
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="message.queued")
    assert event.actor_label == "clerk@example.gov"
