"""Inbound messages and their contact and conversation: idempotent, batched, and opening the
24-hour window from the message's own time, never moving it backwards."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from tests.factories import ContactFactory, ConversationFactory
from tests.messaging.webhooks.conftest import CITIZEN
from tests.messaging.webhooks.payloads import (
    at,
    contact,
    envelope,
    inbound_text,
    messages_change,
)

NEIGHBOUR = "14155550124"
HOUR = 3600


# --- idempotency and batches -------------------------------------------------------------------


def test_the_same_message_delivered_twice_is_stored_once(deliver, scope_a):
    message = inbound_text(CITIZEN, "Is the library open today?")
    deliver(message)
    deliver(message)
    assert Message.objects.filter(wamid=message["id"]).count() == 1


def test_the_same_wamid_twice_in_one_batch_is_stored_once(deliver, scope_a):
    message = inbound_text(CITIZEN, "Hello")
    deliver(message, dict(message))
    assert Message.objects.count() == 1


def test_every_message_of_a_batch_is_stored_with_its_own_contact(deliver, scope_a):
    deliver(
        inbound_text(CITIZEN, "first"),
        inbound_text(NEIGHBOUR, "from next door"),
        inbound_text(CITIZEN, "second"),
        contacts=[contact(CITIZEN, "Ana"), contact(NEIGHBOUR, "Ben")],
    )
    bodies = {
        (m.contact.profile_name, m.content["text"]["body"])
        for m in Message.objects.select_related("contact")
    }
    assert bodies == {("Ana", "first"), ("Ben", "from next door"), ("Ana", "second")}
    assert Conversation.objects.count() == 2


def test_every_change_of_an_event_is_processed(ingest, wa_number, scope_a):
    first = messages_change(
        wa_number.phone_number_id,
        messages=[inbound_text(CITIZEN, "one")],
        contacts=[contact(CITIZEN)],
    )
    second = messages_change(
        wa_number.phone_number_id,
        messages=[inbound_text(NEIGHBOUR, "two")],
        contacts=[contact(NEIGHBOUR)],
    )
    event = ingest(envelope(first, second))
    assert (event.status, event.change_count) == ("processed", 2)
    assert sorted(m.content["text"]["body"] for m in Message.objects.all()) == ["one", "two"]


# --- contacts -------------------------------------------------------------------------------------


def test_a_known_contact_is_reused_and_their_profile_name_updated(deliver, agency_a, scope_a):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN, profile_name="Old name")
    deliver(inbound_text(CITIZEN, "hi"), contacts=[contact(CITIZEN, "Ana María")])
    known.refresh_from_db()
    assert known.profile_name == "Ana María"
    assert Contact.objects.count() == 1
    assert Message.objects.get().contact_id == known.pk


def test_a_contact_known_to_be_unreachable_is_reachable_once_they_write(deliver, agency_a, scope_a):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN, unreachable_at=timezone.now())
    deliver(inbound_text(CITIZEN, "I am on WhatsApp now"))
    known.refresh_from_db()
    assert known.unreachable_at is None


def bsuid_message(user_id: str, body: str) -> dict:
    message = inbound_text("", body, from_user_id=user_id)
    del message["from"]  # a username user: Meta omits the phone number
    return message


def test_a_username_user_without_a_phone_number_is_a_contact_by_business_scoped_id(
    deliver, scope_a
):
    user_id = "US.13491208655302741918"
    contacts = [{"profile": {"name": "Ana", "username": "@ana"}, "user_id": user_id}]
    deliver(bsuid_message(user_id, "hello"), contacts=contacts)
    deliver(bsuid_message(user_id, "again"), contacts=contacts)
    citizen = Contact.objects.get()
    assert (citizen.wa_id, citizen.phone_e164) == (None, "")
    assert (citizen.business_scoped_user_id, citizen.profile_name) == (user_id, "Ana")
    assert citizen.messages.count() == 2


def test_a_phone_contact_learns_its_business_scoped_id(deliver, agency_a, scope_a):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN)
    user_id = "US.13491208655302741918"
    message = inbound_text(CITIZEN, "hi", from_user_id=user_id)
    deliver(message, contacts=[{"profile": {"name": "Ana"}, "wa_id": CITIZEN, "user_id": user_id}])
    known.refresh_from_db()
    assert known.business_scoped_user_id == user_id
    assert Contact.objects.count() == 1


# --- the conversation and its window --------------------------------------------------------


def test_a_message_opens_the_window_for_24_hours_from_its_own_timestamp(deliver, scope_a):
    sent = int(time.time()) - 2 * HOUR
    deliver(inbound_text(CITIZEN, "hello", timestamp=sent))
    conversation = Conversation.objects.get()
    assert conversation.last_inbound_at == at(sent)
    assert conversation.window_expires_at == at(sent) + timedelta(hours=24)
    assert conversation.last_message_at == at(sent)
    assert conversation.status == "open"


def test_a_late_old_message_does_not_shrink_the_window(deliver, scope_a):
    recent = int(time.time()) - HOUR
    deliver(inbound_text(CITIZEN, "recent", timestamp=recent))
    deliver(inbound_text(CITIZEN, "written earlier, delivered late", timestamp=recent - 5 * HOUR))
    conversation = Conversation.objects.get()
    assert conversation.last_inbound_at == at(recent)
    assert conversation.window_expires_at == at(recent) + timedelta(hours=24)
    assert conversation.last_message_at == at(recent)
    assert Message.objects.count() == 2


def test_a_newer_message_extends_an_open_window(deliver, scope_a):
    earlier = int(time.time()) - 10 * HOUR
    deliver(inbound_text(CITIZEN, "first", timestamp=earlier))
    deliver(inbound_text(CITIZEN, "follow-up", timestamp=earlier + 9 * HOUR))
    conversation = Conversation.objects.get()
    assert conversation.window_expires_at == at(earlier + 9 * HOUR) + timedelta(hours=24)


def test_a_message_reopens_a_resolved_conversation(deliver, agency_a, wa_number, scope_a):
    citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN)
    resolved = ConversationFactory(
        agency=agency_a, phone_number=wa_number, contact=citizen, status="resolved"
    )
    deliver(inbound_text(CITIZEN, "it is broken again"))
    resolved.refresh_from_db()
    assert resolved.status == "open"
    assert Conversation.objects.count() == 1


def test_a_redelivered_message_does_not_reopen_a_resolved_conversation(deliver, scope_a):
    message = inbound_text(CITIZEN, "thanks!")
    deliver(message)
    Conversation.objects.update(status="resolved")
    deliver(message)
    assert Conversation.objects.get().status == "resolved"


def test_a_message_timestamped_in_the_future_opens_the_window_from_now(deliver, scope_a):
    before = timezone.now()
    deliver(inbound_text(CITIZEN, "clock ahead", timestamp=int(time.time()) + 30 * 24 * HOUR))
    conversation = Conversation.objects.get()
    assert conversation.window_expires_at <= timezone.now() + timedelta(hours=24)
    assert conversation.window_expires_at >= before + timedelta(hours=24) - timedelta(seconds=1)
