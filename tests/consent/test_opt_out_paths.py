"""Every opt-out path is effective at once for business-initiated sends: the policy refuses
the next send, and the campaign messages still waiting for that citizen are withdrawn in the
same transaction, each with a message.status event (campaign progress reads them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bsp.events.models import DomainEvent
from messaging import policy
from messaging.consent import services
from messaging.models import Consent, Message, WebhookEvent
from messaging.webhooks import processing, signature
from messaging.webhooks.receive import store_event
from records.audit import Actor
from tenants.scoping import agency_scope, system_scope
from tests.consent.factories import waiting_campaign_message
from tests.factories import ConsentFactory, ContactFactory, ConversationFactory, TemplateFactory
from tests.messaging.webhooks.payloads import contact as wa_contact
from tests.messaging.webhooks.payloads import encode, envelope, inbound_text, messages_change

pytestmark = pytest.mark.django_db
WITHDRAWN = "Opted out before sending"


@pytest.fixture(autouse=True)
def _fresh_caches():
    processing.forget_cached_routes()
    signature.forget_cached_secrets()
    yield
    processing.forget_cached_routes()
    signature.forget_cached_secrets()


@pytest.fixture
def citizen(agency_a):
    """Opted in to everything, with a campaign message queued and another held."""
    contact = ContactFactory(agency=agency_a, wa_id="14155550123")
    # Yesterday: a keyword's time is the webhook's (whole seconds), never after it.
    ConsentFactory(agency=agency_a, contact=contact, recorded_at=timezone.now() - timedelta(days=1))
    return contact


def _write_in(number, wa_id: str, body: str) -> None:
    """A citizen's message through the real webhook path (stored, then processed)."""
    text = inbound_text(wa_id, body)
    change = messages_change(number.phone_number_id, messages=[text], contacts=[wa_contact(wa_id)])
    event_id = store_event(
        encode(envelope(change, waba_id=number.waba.waba_id)), "sha256=test", "platform"
    )
    with system_scope():
        processing.process_event(event_id)
        event = WebhookEvent.objects.get(pk=event_id)
    assert event.status == "processed", event.problems


def _refused(contact, topic: str = "") -> policy.Rule | None:
    with agency_scope(contact.agency):
        try:
            policy.check_opt_in(contact, topic)
        except policy.SendRefused as refusal:
            return refusal.rule
    return None


def _status(message: Message) -> tuple[str, str]:
    with agency_scope(message.agency_id):
        message.refresh_from_db()
    return message.status, message.error_reason


def _status_events(agency) -> list[dict]:
    with agency_scope(agency):
        return list(
            DomainEvent.objects.filter(type="message.status").values_list("subject", "payload")
        )


def test_stop_by_keyword_blocks_sends_and_withdraws_waiting_messages(agency_a, number, citizen):
    queued = waiting_campaign_message(citizen)
    held = waiting_campaign_message(citizen, status=Message.Status.HELD)
    _write_in(number, citizen.wa_id, "STOP")
    assert _refused(citizen) == policy.Rule.OPTED_OUT
    assert _status(queued) == (Message.Status.CANCELLED, WITHDRAWN)
    assert _status(held) == (Message.Status.CANCELLED, WITHDRAWN)
    withdrawn = {s["message"]: p for s, p in _status_events(agency_a)}
    assert withdrawn[queued.pk]["status"] == "cancelled"
    assert withdrawn[held.pk]["previous"] == "held"


def test_an_opt_out_in_the_inbox_blocks_sends_and_withdraws(
    agency_a, citizen, client_for, make_member
):
    queued = waiting_campaign_message(citizen)
    conversation = ConversationFactory(agency=agency_a, contact=citizen)
    client = client_for(make_member())
    response = client.post(
        reverse("inbox:record_consent", args=[conversation.pk]),
        {"status": "opted_out", "topic": "", "evidence": "Asked on the phone"},
    )
    assert response.status_code in (200, 302)
    assert _refused(citizen) == policy.Rule.OPTED_OUT
    assert _status(queued) == (Message.Status.CANCELLED, WITHDRAWN)


def test_an_opt_out_on_the_contact_page_blocks_sends_and_withdraws(agency_a, citizen, admin_client):
    queued = waiting_campaign_message(citizen)
    response = admin_client.post(
        reverse("contacts:record", args=[citizen.pk]),
        {"status": "opted_out", "topic": "", "source": "phone", "staff_name": "R. Díaz"},
    )
    assert response.status_code == 302
    assert _refused(citizen) == policy.Rule.OPTED_OUT
    assert _status(queued) == (Message.Status.CANCELLED, WITHDRAWN)
    with agency_scope(agency_a):
        latest = Consent.objects.filter(contact=citizen).latest("recorded_at")
    assert latest.source == "phone"
    assert latest.evidence["staff_name"] == "R. Díaz"


def test_an_opt_out_through_the_service_the_api_calls_blocks_sends_and_withdraws(agency_a, citizen):
    queued = waiting_campaign_message(citizen)
    with agency_scope(agency_a):
        services.record_consent(
            actor=Actor.system("api-test"),
            contact=citizen,
            status=Consent.Status.OPTED_OUT,
            source=Consent.Source.API,
        )
    assert _refused(citizen) == policy.Rule.OPTED_OUT
    assert _status(queued) == (Message.Status.CANCELLED, WITHDRAWN)


def test_a_topic_opt_out_withdraws_only_that_topics_messages(agency_a, citizen):
    alerts = TemplateFactory(agency=agency_a, topic="alerts")
    reminders = TemplateFactory(agency=agency_a, topic="reminders")
    alert = waiting_campaign_message(citizen, template=alerts)
    reminder = waiting_campaign_message(citizen, template=reminders)
    with agency_scope(agency_a):
        services.record_consent(
            actor=Actor.system("test"),
            contact=citizen,
            status=Consent.Status.OPTED_OUT,
            source=Consent.Source.API,
            topic="alerts",
        )
    assert _refused(citizen, "alerts") == policy.Rule.OPTED_OUT
    assert _refused(citizen, "reminders") is None
    assert _status(alert)[0] == Message.Status.CANCELLED
    assert _status(reminder)[0] == Message.Status.QUEUED


def test_messages_already_on_their_way_and_replies_are_not_withdrawn(agency_a, citizen):
    sending = waiting_campaign_message(citizen, status=Message.Status.SENDING)
    reply = waiting_campaign_message(citizen)
    with agency_scope(agency_a):
        Message.objects.filter(pk=reply.pk).update(business_initiated=False)
        services.record_consent(
            actor=Actor.system("test"),
            contact=citizen,
            status=Consent.Status.OPTED_OUT,
            source=Consent.Source.API,
        )
    assert _status(sending)[0] == Message.Status.SENDING
    assert _status(reply)[0] == Message.Status.QUEUED


def test_an_opt_in_withdraws_nothing(agency_a, citizen):
    queued = waiting_campaign_message(citizen)
    with agency_scope(agency_a):
        services.record_consent(
            actor=Actor.system("test"),
            contact=citizen,
            status=Consent.Status.OPTED_IN,
            source=Consent.Source.API,
        )
    assert _status(queued)[0] == Message.Status.QUEUED


def test_a_topic_keyword_opts_in_to_its_topic_and_stop_keyword_opts_out_of_it(
    agency_a, number, citizen
):
    from tests.consent.factories import TopicFactory

    TopicFactory(agency=agency_a, slug="alerts", name="Emergency alerts", keywords=["ALERTS"])
    for body in ("Alerts", "STOP ALERTS"):
        _write_in(number, citizen.wa_id, body)
    with agency_scope(agency_a):
        rows = list(
            Consent.objects.filter(contact=citizen, topic="alerts")
            .order_by("recorded_at", "pk")
            .values_list("status", "source")
        )
    assert rows == [("opted_in", "keyword"), ("opted_out", "keyword")]
    assert _refused(citizen, "alerts") == policy.Rule.OPTED_OUT
    assert _refused(citizen, "") is None  # the general opt-in stands
