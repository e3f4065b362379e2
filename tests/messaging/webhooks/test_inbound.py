"""Every inbound message type becomes one normalized Message row (cloud-api.md §5.5)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from messaging.models import MediaObject, Message
from messaging.webhooks import media as inbound_media
from tests.messaging.webhooks.conftest import CITIZEN
from tests.messaging.webhooks.payloads import envelope, messages_change, wamid

SENT_AT = int(time.time()) - 60


def inbound(kind: str, payload: Any = None, *, sender: str = CITIZEN, **extra: Any) -> dict:
    message = {"from": sender, "id": wamid(), "timestamp": str(SENT_AT), "type": kind, **extra}
    if payload is not None:
        message[kind] = payload
    return message


def stored(message: dict) -> Message:
    return Message.objects.select_related("contact", "conversation", "media").get(
        wamid=message["id"]
    )


# --- what every inbound row carries ----------------------------------------------------------


def test_a_text_is_stored_as_a_received_inbound_message_from_the_contact(
    deliver, wa_number, scope_a
):
    message = inbound("text", {"body": "The street light on Main St is out."})
    deliver(message)
    row = stored(message)
    assert (row.direction, row.status, row.sender_type) == ("in", "received", "contact")
    assert row.type == "text"
    assert row.content == {"type": "text", "text": {"body": "The street light on Main St is out."}}
    assert row.received_at == datetime.fromtimestamp(SENT_AT, UTC)
    assert row.phone_number_id == wa_number.pk
    assert (row.contact.wa_id, row.contact.profile_name) == (CITIZEN, "Sheena Nelson")
    assert row.contact.phone_e164 == f"+{CITIZEN}"
    assert (row.conversation.phone_number_id, row.conversation.contact_id) == (
        wa_number.pk,
        row.contact_id,
    )


def test_a_reply_keeps_the_quoted_message_id(deliver, scope_a):
    quoted = {"from": "15550100001", "id": "wamid.HBgLquotedbusinessmessage"}
    message = inbound("text", {"body": "Yes, that one"}, context=quoted)
    deliver(message)
    row = stored(message)
    assert row.context == quoted
    assert row.reply_to_wamid == "wamid.HBgLquotedbusinessmessage"


@pytest.mark.parametrize("flag", ["forwarded", "frequently_forwarded"])
def test_forwarded_flags_are_kept_in_the_context(flag, deliver, scope_a):
    message = inbound("text", {"body": "Look at this"}, context={flag: True})
    deliver(message)
    row = stored(message)
    assert row.context == {flag: True}
    assert row.reply_to_wamid == ""


def test_a_referred_product_is_kept_in_the_context(deliver, scope_a):
    context = {
        "from": "15550100001",
        "id": "wamid.HBgLcatalogmessage",
        "referred_product": {"catalog_id": "354160437058781", "product_retailer_id": "SKU-1"},
    }
    message = inbound("text", {"body": "Is this permit still available?"}, context=context)
    deliver(message)
    assert stored(message).context["referred_product"]["product_retailer_id"] == "SKU-1"


def test_a_click_to_whatsapp_referral_is_kept(deliver, scope_a):
    referral = {
        "source_url": "https://fb.me/3cr4Wqqkk",
        "source_id": "120226305854810726",
        "source_type": "ad",
        "headline": "Report a problem in your street",
        "body": "Message the city on WhatsApp",
        "media_type": "image",
        "image_url": "https://scontent.example/ad.jpg",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
    }
    message = inbound("text", {"body": "Hi, I saw your ad"}, referral=referral)
    deliver(message)
    assert stored(message).referral == referral


# --- media --------------------------------------------------------------------------------------


def test_an_image_creates_a_pending_media_object_linked_from_the_message(deliver, scope_a):
    image = {
        "id": "1003383421387256",
        "mime_type": "image/jpeg",
        "sha256": "NTJhY2Q4ZGYxYjVkZGVjYzQxNTAwYjI1ZTlhZTkwYjZhNzQzNWEz",
        "caption": "The pothole",
    }
    message = inbound("image", image)
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "image", "image": image}
    media = row.media
    assert (media.status, media.kind, media.meta_media_id) == ("pending", "image", image["id"])
    assert (media.mime_type, media.meta_sha256) == ("image/jpeg", image["sha256"])
    assert media.phone_number_id == row.phone_number_id


def test_a_video_creates_a_media_object(deliver, scope_a):
    message = inbound("video", {"id": "2001", "mime_type": "video/mp4", "sha256": "dmlk"})
    deliver(message)
    row = stored(message)
    assert (row.media.kind, row.media.mime_type) == ("video", "video/mp4")


def test_a_voice_note_is_audio_with_the_voice_flag(deliver, scope_a):
    audio = {"id": "3001", "mime_type": "audio/ogg; codecs=opus", "sha256": "YXVk", "voice": True}
    message = inbound("audio", audio)
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "audio", "audio": audio}
    assert (row.media.kind, row.media.mime_type) == ("audio", "audio/ogg; codecs=opus")


def test_a_document_keeps_its_filename(deliver, scope_a):
    document = {
        "id": "4001",
        "mime_type": "application/pdf",
        "sha256": "ZG9j",
        "filename": "permit-application.pdf",
        "caption": "My form",
    }
    message = inbound("document", document)
    deliver(message)
    row = stored(message)
    assert row.content["document"]["caption"] == "My form"
    assert (row.media.kind, row.media.filename) == ("document", "permit-application.pdf")


def test_a_sticker_creates_a_media_object(deliver, scope_a):
    sticker = {"id": "5001", "mime_type": "image/webp", "sha256": "c3Rr", "animated": False}
    message = inbound("sticker", sticker)
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "sticker", "sticker": sticker}
    assert row.media.kind == "sticker"


def test_the_download_is_scheduled_after_commit(
    deliver, scope_a, monkeypatch, django_capture_on_commit_callbacks
):
    scheduled: list[MediaObject] = []
    monkeypatch.setattr(inbound_media, "schedule_download", scheduled.append)
    message = inbound("image", {"id": "6001", "mime_type": "image/png", "sha256": "cG5n"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliver(message)
    assert scheduled == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert [media.meta_media_id for media in scheduled] == ["6001"]


def test_a_redelivered_media_message_schedules_no_second_download(
    deliver, scope_a, monkeypatch, django_capture_on_commit_callbacks
):
    scheduled: list[MediaObject] = []
    monkeypatch.setattr(inbound_media, "schedule_download", scheduled.append)
    message = inbound("image", {"id": "7001", "mime_type": "image/png", "sha256": "cG5n"})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(message)
        deliver(message)
    assert len(scheduled) == 1
    assert MediaObject.objects.filter(meta_media_id="7001").count() == 1


# --- the other types ----------------------------------------------------------------------------


def test_a_location_with_numeric_coordinates(deliver, scope_a):
    location = {
        "latitude": 37.4611978,
        "longitude": -122.2164385,
        "name": "City Hall",
        "address": "1 Civic Center Plaza",
    }
    message = inbound("location", location)
    deliver(message)
    assert stored(message).content == {"type": "location", "location": location}


def test_a_location_with_string_coordinates_is_stored_with_numbers(deliver, scope_a):
    message = inbound("location", {"latitude": "37.4611978", "longitude": "-122.2164385"})
    deliver(message)
    location = stored(message).content["location"]
    assert (location["latitude"], location["longitude"]) == (37.4611978, -122.2164385)


def test_shared_contacts(deliver, scope_a):
    cards = [
        {
            "name": {"formatted_name": "Chandler Bing", "first_name": "Chandler"},
            "phones": [{"phone": "+1 555-555-5555", "wa_id": "15555555555", "type": "CELL"}],
        }
    ]
    message = inbound("contacts", cards)
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "contacts", "contacts": cards}
    assert row.media is None


def test_an_interactive_button_reply(deliver, scope_a):
    reply = {"type": "button_reply", "button_reply": {"id": "slot_yes", "title": "Yes"}}
    message = inbound("interactive", reply, context={"from": "15550100001", "id": "wamid.Q1"})
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "interactive", "interactive": reply}
    assert row.reply_to_wamid == "wamid.Q1"


def test_an_interactive_list_reply(deliver, scope_a):
    reply = {
        "type": "list_reply",
        "list_reply": {"id": "trash", "title": "Trash pickup", "description": "Missed pickup"},
    }
    message = inbound("interactive", reply)
    deliver(message)
    assert stored(message).content == {"type": "interactive", "interactive": reply}


def test_a_flow_reply_keeps_the_json_string_and_its_parsed_response(deliver, scope_a):
    response_json = json.dumps({"flow_token": "tok-1", "rating": "4"})
    reply = {
        "type": "nfm_reply",
        "nfm_reply": {"name": "flow", "body": "Sent", "response_json": response_json},
    }
    message = inbound("interactive", reply)
    deliver(message)
    nfm = stored(message).content["interactive"]["nfm_reply"]
    assert nfm["response_json"] == response_json
    assert nfm["response"] == {"flow_token": "tok-1", "rating": "4"}


def test_a_template_quick_reply_button(deliver, scope_a):
    button = {"payload": "CONFIRM_APPOINTMENT", "text": "Confirm"}
    message = inbound("button", button, context={"from": "15550100001", "id": "wamid.T1"})
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "button", "button": button}
    assert row.reply_to_wamid == "wamid.T1"


def test_a_reaction(deliver, scope_a):
    reaction = {"message_id": "wamid.HBgLbusinessmessage", "emoji": "\U0001f44d"}
    message = inbound("reaction", reaction)
    deliver(message)
    assert stored(message).content == {"type": "reaction", "reaction": reaction}


def test_a_removed_reaction_has_an_empty_emoji(deliver, scope_a):
    message = inbound("reaction", {"message_id": "wamid.HBgLbusinessmessage"})
    deliver(message)
    assert stored(message).content["reaction"] == {
        "message_id": "wamid.HBgLbusinessmessage",
        "emoji": "",
    }


def test_an_order(deliver, scope_a):
    order = {
        "catalog_id": "354160437058781",
        "text": "",
        "product_items": [
            {"product_retailer_id": "SKU-1", "quantity": 3, "item_price": 30, "currency": "USD"}
        ],
    }
    message = inbound("order", order)
    deliver(message)
    assert stored(message).content == {"type": "order", "order": order}


def test_a_request_welcome(deliver, scope_a):
    message = inbound("request_welcome")
    deliver(message)
    row = stored(message)
    assert (row.type, row.content) == (
        "request_welcome",
        {"type": "request_welcome", "request_welcome": {}},
    )


def test_an_unsupported_message_keeps_metas_error(deliver, scope_a):
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    message = inbound("unsupported", {"type": "poll"}, errors=errors)
    deliver(message)
    row = stored(message)
    assert row.content == {"type": "unsupported", "unsupported": {"type": "poll"}}
    assert row.error_code == 131051
    assert row.error_reason == "Message type unknown: Message type is currently not supported."
    assert row.error_details == {"errors": errors}


def test_an_older_unknown_message_is_stored_with_its_error(deliver, scope_a):
    errors = [{"code": 131051, "title": "Unsupported message type"}]
    message = inbound("unknown", errors=errors)
    deliver(message)
    row = stored(message)
    assert (row.type, row.error_code, row.error_reason) == (
        "unknown",
        131051,
        "Unsupported message type",
    )


# --- change-level errors --------------------------------------------------------------------------

CHANGE_ERRORS = [
    {
        "code": 131000,
        "title": "Something went wrong",
        "message": "Something went wrong",
        "error_data": {"details": "Unsupported webhook payload"},
    }
]


def test_change_level_errors_go_on_the_messages_the_change_lists(deliver, scope_a):
    message = {"from": CITIZEN, "id": wamid(), "timestamp": str(SENT_AT), "type": "interactive"}
    deliver(message, errors=CHANGE_ERRORS)
    row = stored(message)
    assert row.type == "interactive"
    assert row.error_code == 131000
    assert row.error_reason == "Something went wrong: Unsupported webhook payload"
    assert row.error_details == {"errors": CHANGE_ERRORS}


def test_change_level_errors_without_messages_are_one_system_row_for_the_contact(deliver, scope_a):
    deliver(errors=CHANGE_ERRORS)
    deliver(errors=CHANGE_ERRORS)  # Meta redelivers
    row = Message.objects.select_related("contact").get()
    assert (row.type, row.direction, row.sender_type) == ("errors", "in", "system")
    assert row.contact.wa_id == CITIZEN
    assert row.content == {"type": "errors", "errors": CHANGE_ERRORS}
    assert row.error_code == 131000


def test_change_level_errors_naming_nobody_quarantine_the_change(ingest, wa_number, scope_a):
    change = messages_change(wa_number.phone_number_id, errors=CHANGE_ERRORS)
    event = ingest(envelope(change))
    assert event.status == "quarantined"
    assert "131000" in event.problems[0]["reason"]
    assert not Message.objects.exists()
