"""What queueing a message does to the conversation the inbox lists: its snippet becomes the
message's, a reply from staff or an integrator ends the citizen's wait (a campaign or an
automation does not), and ``message.queued`` is published once, in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bsp.events.models import DomainEvent
from messaging import services
from messaging.models import Conversation, Message
from messaging.policy import SendRefused
from messaging.whatsapp import builders as b
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import ApiCredentialFactory, ConsentFactory, TemplateFactory, UserFactory
from tests.messaging.conftest import CITIZEN

WAITING = timezone.now() - timedelta(minutes=20)


def queued_events(agency) -> list[DomainEvent]:
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type="message.queued").order_by("sequence"))


def state(conversation: Conversation) -> Conversation:
    with agency_scope(conversation.agency_id):
        conversation.refresh_from_db()
    return conversation


@pytest.fixture
def waiting(open_conversation) -> Conversation:
    """The citizen's question has waited 20 minutes."""
    with agency_scope(open_conversation.agency_id):
        Conversation.objects.filter(pk=open_conversation.pk).update(
            waiting_since=WAITING, last_preview="Is the pool open?"
        )
    return open_conversation


@pytest.fixture
def clerk(agency_a):
    return UserFactory()


def send(agency, sender, message) -> Message:
    return services.send_message(agency=agency, sender=sender, to=CITIZEN, message=message)


def staff(user) -> services.Sender:
    return services.Sender.staff(user, Actor("user", str(user.pk), user.email))


def test_a_staff_reply_becomes_the_snippet_and_ends_the_wait(agency_a, waiting, clerk):
    send(agency_a, staff(clerk), b.Text("Yes, until 8 pm."))
    conversation = state(waiting)
    assert conversation.last_preview == "Yes, until 8 pm."
    assert conversation.waiting_since is None


def test_an_integrators_reply_ends_the_wait(agency_a, waiting):
    credential = ApiCredentialFactory(agency=agency_a)
    sender = services.Sender.api(credential, Actor("api_key", str(credential.pk), "crm"))
    send(agency_a, sender, b.Text("Your case C-42 is closed."))
    assert state(waiting).waiting_since is None


def test_a_campaign_message_moves_the_snippet_but_the_citizen_still_waits(agency_a, waiting):
    send(agency_a, services.Sender.campaign(7), b.Text("Road closure on Main St tomorrow."))
    conversation = state(waiting)
    assert conversation.last_preview == "Road closure on Main St tomorrow."
    assert conversation.waiting_since == WAITING


def test_an_automatic_message_does_not_end_the_wait(agency_a, waiting):
    send(agency_a, services.Sender.system("away_message"), b.Text("We are closed until 9 am."))
    assert state(waiting).waiting_since == WAITING


def test_the_snippet_of_a_document_names_the_file(agency_a, waiting, clerk):
    document = b.document(link="https://example.gov/permit.pdf", filename="permit.pdf")
    send(agency_a, staff(clerk), document)
    assert state(waiting).last_preview == "📄 Document: permit.pdf"


def test_the_snippet_of_a_template_names_it(agency_a, number, citizen):
    TemplateFactory(agency=agency_a, waba=number.waba, name="case_update")
    ConsentFactory(agency=agency_a, contact=citizen)
    template = b.Template("case_update", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-42")])
    message = send(agency_a, services.Sender.system("test"), template)
    assert state(message.conversation).last_preview == "Template: case_update"


def test_a_queued_message_is_published_once_with_what_it_is_about(agency_a, waiting, clerk):
    message = send(agency_a, staff(clerk), b.Text("On it."))
    [event] = queued_events(agency_a)
    assert event.subject == {
        "message": message.pk,
        "conversation": waiting.pk,
        "contact": waiting.contact_id,
        "phone_number": waiting.phone_number_id,
    }
    assert event.payload == {
        "type": "text",
        "sender_type": "user",
        "sender_user": clerk.pk,
        "campaign": None,
        "business_initiated": False,
    }


def test_a_campaign_message_is_published_with_its_campaign(agency_a, waiting):
    send(agency_a, services.Sender.campaign(7), b.Text("Road closure on Main St tomorrow."))
    [event] = queued_events(agency_a)
    assert (event.payload["sender_type"], event.payload["campaign"]) == ("campaign", 7)


def test_a_repeated_send_with_the_same_key_publishes_nothing_more(agency_a, waiting, clerk):
    for _ in range(2):
        services.send_message(
            agency=agency_a,
            sender=staff(clerk),
            to=CITIZEN,
            message=b.Text("On it."),
            idempotency_key="reply-1",
        )
    assert len(queued_events(agency_a)) == 1


def test_a_refused_send_publishes_nothing_and_changes_nothing(agency_a, number, citizen, clerk):
    with pytest.raises(SendRefused):
        send(agency_a, staff(clerk), b.Text("Hello?"))  # no window: refused
    assert queued_events(agency_a) == []
    with agency_scope(agency_a):
        assert not Conversation.objects.exclude(last_preview="").exists()
