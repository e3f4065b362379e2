"""Inbound webhooks publish what they changed, once: new messages, new conversations,
windows that open, edits, revokes and consent changes. Redeliveries publish nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from messaging.models import Conversation, Message
from tenants.scoping import agency_scope
from tests.messaging.webhooks.conftest import CITIZEN
from tests.messaging.webhooks.payloads import (
    contact,
    envelope,
    inbound_text,
    messages_change,
    wamid,
)

pytestmark = pytest.mark.django_db


def _conversation(agency) -> Conversation:
    with agency_scope(agency):
        return Conversation.objects.get()


def _message(agency, wamid_: str) -> Message:
    with agency_scope(agency):
        return Message.objects.get(wamid=wamid_)


def test_a_first_message_creates_the_conversation_and_opens_its_window(
    agency_a, wa_number, deliver, stream
):
    message = inbound_text(CITIZEN, "Is the library open on Sunday?")
    deliver(message)

    row, conversation = _message(agency_a, message["id"]), _conversation(agency_a)
    ids = {"conversation": conversation.pk, "contact": row.contact_id}
    assert stream(agency_a) == [
        ("conversation.created", {**ids, "phone_number": wa_number.pk}, {}),
        (
            "message.received",
            {"message": row.pk, **ids, "phone_number": wa_number.pk},
            {
                "wamid": message["id"],
                "type": "text",
                "sender_type": "contact",
                "received_at": row.received_at.isoformat().replace("+00:00", "Z"),
            },
        ),
        (
            "conversation.window_opened",
            ids,
            {
                "window_expires_at": conversation.window_expires_at.isoformat().replace(
                    "+00:00", "Z"
                )
            },
        ),
    ]


def test_a_redelivered_webhook_publishes_nothing(agency_a, deliver, stream):
    message = inbound_text(CITIZEN, "Hello")
    deliver(message)
    before = stream(agency_a)

    deliver(message)

    assert stream(agency_a) == before


def test_a_message_inside_an_open_window_is_only_received(agency_a, deliver, stream_types):
    deliver(inbound_text(CITIZEN, "Hello", timestamp=int(time.time()) - 60))
    deliver(inbound_text(CITIZEN, "Are you there?"))

    assert stream_types(agency_a) == [
        "conversation.created",
        "message.received",
        "conversation.window_opened",
        "message.received",
    ]


def test_many_messages_in_one_change_publish_one_event_each_in_one_batch(
    agency_a, wa_number, ingest, stream_types
):
    citizens = [f"1415555{n:04d}" for n in range(5)]
    change = messages_change(
        wa_number.phone_number_id,
        messages=[inbound_text(wa_id, "Hi") for wa_id in citizens],
        contacts=[contact(wa_id) for wa_id in citizens],
    )
    ingest(envelope(change))

    assert stream_types(agency_a) == [
        *["conversation.created"] * 5,
        *["message.received"] * 5,
        *["conversation.window_opened"] * 5,
    ]


def test_an_edit_and_a_revoke_publish_what_they_did_to_the_original(agency_a, deliver, stream):
    original = inbound_text(CITIZEN, "Meet at 5")
    deliver(original)
    start = len(stream(agency_a))
    edit: dict[str, Any] = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "edit",
        "edit": {
            "original_message_id": original["id"],
            "message": {"type": "text", "text": {"body": "Meet at 6"}},
        },
    }
    revoke: dict[str, Any] = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "revoke",
        "revoke": {"original_message_id": original["id"]},
    }
    deliver(edit)
    deliver(revoke)

    row = _message(agency_a, original["id"])
    notices = [_message(agency_a, edit["id"]).pk, _message(agency_a, revoke["id"]).pk]
    published = stream(agency_a)[start:]
    assert [(kind, subject["message"], subject["notice"]) for kind, subject, _ in published] == [
        ("message.edited", row.pk, notices[0]),
        ("message.revoked", row.pk, notices[1]),
    ]
    assert published[0][2]["type"] == "text"


def test_an_edit_that_arrives_first_is_published_when_its_original_arrives(
    agency_a, deliver, stream_types
):
    original = inbound_text(CITIZEN, "Meet at 5")
    deliver(
        {
            "from": CITIZEN,
            "id": wamid(),
            "timestamp": str(int(time.time())),
            "type": "edit",
            "edit": {
                "original_message_id": original["id"],
                "message": {"type": "text", "text": {"body": "Meet at 6"}},
            },
        }
    )
    assert "message.edited" not in stream_types(agency_a)

    deliver(original)

    assert stream_types(agency_a)[-2:] == ["message.received", "message.edited"]


def test_a_stop_keyword_publishes_the_consent_change_after_the_message(agency_a, deliver, stream):
    message = inbound_text(CITIZEN, "STOP")
    deliver(message)

    published = stream(agency_a)
    kinds = [kind for kind, _, _ in published]
    assert kinds.index("message.received") < kinds.index("consent.changed")
    ((_, subject, payload),) = [e for e in published if e[0] == "consent.changed"]
    assert subject["message"] == _message(agency_a, message["id"]).pk
    assert (payload["status"], payload["topic"], payload["source"]) == ("opted_out", "", "keyword")


def test_a_marketing_stop_in_whatsapp_publishes_one_consent_change(
    agency_a, wa_number, ingest, stream
):
    preference = {
        "wa_id": CITIZEN,
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": int(time.time()),
    }
    change = {
        "field": "user_preferences",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "1555",
                "phone_number_id": wa_number.phone_number_id,
            },
            "contacts": [contact(CITIZEN)],
            "user_preferences": [preference],
        },
    }
    ingest(envelope(change))
    ingest(envelope(change))  # redelivered

    consents = [e for e in stream(agency_a) if e[0] == "consent.changed"]
    assert [(e[2]["status"], e[2]["topic"], e[2]["source"]) for e in consents] == [
        ("opted_out", "whatsapp:marketing", "whatsapp")
    ]


def test_a_change_the_handler_rolls_back_publishes_nothing(agency_a, wa_number, ingest, stream):
    good = inbound_text(CITIZEN, "Hello")
    bad = inbound_text(CITIZEN, "Hello again", id=" ")  # not a usable wamid
    first = messages_change(wa_number.phone_number_id, messages=[good], contacts=[contact(CITIZEN)])
    second = messages_change(wa_number.phone_number_id, messages=[bad], contacts=[contact(CITIZEN)])
    event = ingest(envelope(first, second))

    assert event.status == "quarantined"
    # The merged call was rolled back and the good change applied alone: its events once.
    assert [kind for kind, _, _ in stream(agency_a)] == [
        "conversation.created",
        "message.received",
        "conversation.window_opened",
    ]
