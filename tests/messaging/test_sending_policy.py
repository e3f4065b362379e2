"""Meta's rules, enforced by send_message for every caller: each rule allows and refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Consent, Message
from messaging.policy import Rule, SendRefused
from messaging.whatsapp import builders as b
from records.audit import Actor
from records.models import AuditEvent
from templates_mgr.models import MessageTemplate
from tenants.models import BusinessPortfolio, PhoneNumber
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
    assert len(callbacks) == 1


def test_staff_sends_are_audited_with_the_staff_actor(agency_a, open_conversation):
    actor = Actor("user", "7", "clerk@example.gov")
    services.send_message(
        agency=agency_a, sender=services.Sender("user", actor), to=CITIZEN, message=b.Text("hi")
    )
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="message.queued")
    assert event.actor_label == "clerk@example.gov"
