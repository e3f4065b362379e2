"""A citizen deletes or edits a message, or WhatsApp reports a change about them (number,
identity, user id): applied to what we hold, once, whatever the arrival order."""

from __future__ import annotations

import time
from typing import Any

from messaging.models import Contact, Conversation, Message
from records.capture.versions import current_content, earlier_versions
from records.models import AuditEvent
from tests.factories import ContactFactory
from tests.messaging.webhooks.conftest import CITIZEN
from tests.messaging.webhooks.payloads import (
    at,
    contact,
    inbound_text,
    wamid,
)

NEW_NUMBER = "14155550199"
T0 = int(time.time()) - 600


def revoke(original_id: str, *, timestamp: int) -> dict:
    return {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(timestamp),
        "type": "revoke",
        "revoke": {"original_message_id": original_id},
    }


def edit(original_id: str, body: str, *, timestamp: int) -> dict:
    return {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(timestamp),
        "type": "edit",
        "edit": {
            "original_message_id": original_id,
            "message": {"type": "text", "text": {"body": body}},
        },
    }


def row(message: dict) -> Message:
    return Message.objects.get(wamid=message["id"])


# --- revoke -------------------------------------------------------------------------------------


def test_a_revoke_marks_the_original_and_keeps_its_content(deliver, scope_a):
    original = inbound_text(CITIZEN, "My case number is 4471", timestamp=T0)
    deliver(original)
    notice = revoke(original["id"], timestamp=T0 + 60)
    deliver(notice)
    kept = row(original)
    assert kept.revoked_at == at(T0 + 60)
    assert kept.content == {"type": "text", "text": {"body": "My case number is 4471"}}
    assert row(notice).content == {
        "type": "revoke",
        "revoke": {"original_message_id": original["id"]},
    }


def test_a_redelivered_revoke_changes_nothing(deliver, scope_a):
    original = inbound_text(CITIZEN, "oops", timestamp=T0)
    deliver(original)
    notice = revoke(original["id"], timestamp=T0 + 60)
    deliver(notice)
    deliver(notice)
    assert row(original).revoked_at == at(T0 + 60)
    assert Message.objects.filter(type="revoke").count() == 1


def test_a_revoke_that_arrives_before_its_message_is_applied_when_the_message_arrives(
    deliver, scope_a
):
    original = inbound_text(CITIZEN, "sent then deleted", timestamp=T0)
    deliver(revoke(original["id"], timestamp=T0 + 30))
    deliver(original)
    assert row(original).revoked_at == at(T0 + 30)


def test_a_revoke_does_not_reopen_a_resolved_conversation(deliver, scope_a):
    original = inbound_text(CITIZEN, "thanks", timestamp=T0)
    deliver(original)
    Conversation.objects.update(status="resolved")
    deliver(revoke(original["id"], timestamp=T0 + 60))
    assert Conversation.objects.get().status == "resolved"


def test_a_citizen_cannot_revoke_someone_elses_message(deliver, scope_a):
    original = inbound_text(CITIZEN, "mine", timestamp=T0)
    deliver(original)
    other = "14155550177"
    notice = revoke(original["id"], timestamp=T0 + 60) | {"from": other}
    deliver(notice, contacts=[contact(other)])
    assert row(original).revoked_at is None


# --- edit ---------------------------------------------------------------------------------------


def test_an_edit_keeps_the_original_content_and_records_the_new_version(deliver, scope_a):
    original = inbound_text(CITIZEN, "The light at Main and 3rd", timestamp=T0)
    deliver(original)
    notice = edit(original["id"], "The light at Main and 4th", timestamp=T0 + 120)
    deliver(notice)
    edited = row(original)
    # The stored content is the record, as received; the edit is recorded beside it.
    assert edited.content == {"type": "text", "text": {"body": "The light at Main and 3rd"}}
    assert current_content(edited) == {
        "type": "text",
        "text": {"body": "The light at Main and 4th"},
    }
    assert edited.edited_at == at(T0 + 120)
    assert earlier_versions(edited) == [
        {
            "content": {"type": "text", "text": {"body": "The light at Main and 3rd"}},
            "at": at(T0).isoformat(),
            "replaced_at": at(T0 + 120).isoformat(),
        }
    ]
    assert edited.content_history == [
        {
            "content": {"type": "text", "text": {"body": "The light at Main and 4th"}},
            "at": at(T0 + 120).isoformat(),
            "edit_wamid": notice["id"],
        }
    ]
    assert row(notice).type == "edit"


def test_a_redelivered_edit_is_applied_once(deliver, scope_a):
    original = inbound_text(CITIZEN, "helo", timestamp=T0)
    deliver(original)
    notice = edit(original["id"], "hello", timestamp=T0 + 10)
    deliver(notice)
    deliver(notice)
    assert len(row(original).content_history) == 1


def test_edits_arriving_out_of_order_end_with_the_latest_version(deliver, scope_a):
    original = inbound_text(CITIZEN, "v1", timestamp=T0)
    deliver(original)
    deliver(edit(original["id"], "v3", timestamp=T0 + 200))
    deliver(edit(original["id"], "v2", timestamp=T0 + 100))
    edited = row(original)
    assert edited.content["text"]["body"] == "v1"
    assert current_content(edited)["text"]["body"] == "v3"
    assert edited.edited_at == at(T0 + 200)
    assert [v["content"]["text"]["body"] for v in earlier_versions(edited)] == ["v1", "v2"]
    assert [v["replaced_at"] for v in earlier_versions(edited)] == [
        at(T0 + 100).isoformat(),
        at(T0 + 200).isoformat(),
    ]


def test_an_edit_that_arrives_before_its_message_is_applied_when_the_message_arrives(
    deliver, scope_a
):
    original = inbound_text(CITIZEN, "draft", timestamp=T0)
    deliver(edit(original["id"], "final", timestamp=T0 + 60))
    deliver(original)
    edited = row(original)
    assert current_content(edited)["text"]["body"] == "final"
    assert [v["content"]["text"]["body"] for v in earlier_versions(edited)] == ["draft"]


def test_an_edited_caption_is_applied_to_a_media_message(deliver, scope_a):
    image = {"id": "8001", "mime_type": "image/jpeg", "sha256": "aW1n", "caption": "pothole"}
    original: dict[str, Any] = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "image",
        "image": image,
    }
    deliver(original)
    notice = edit(original["id"], "", timestamp=T0 + 60)
    notice["edit"]["message"] = {"type": "image", "image": image | {"caption": "big pothole"}}
    deliver(notice)
    edited = row(original)
    assert current_content(edited)["image"]["caption"] == "big pothole"
    assert edited.content["image"]["caption"] == "pothole"
    assert edited.media.meta_media_id == "8001"


# --- system messages ----------------------------------------------------------------------------


def system(kind: str, **fields: str) -> dict:
    return {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "system",
        "system": {"type": kind, **fields},
    }


def test_a_changed_number_moves_the_contact_to_the_new_number(deliver, agency_a, scope_a):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN)
    body = f"User Ana changed from {CITIZEN} to {NEW_NUMBER}"
    notice = system("user_changed_number", body=body, wa_id=NEW_NUMBER)
    deliver(notice, contacts=[])  # system messages carry no contacts array
    known.refresh_from_db()
    assert (known.wa_id, known.phone_e164) == (NEW_NUMBER, f"+{NEW_NUMBER}")
    assert row(notice).content["system"]["body"] == body
    assert row(notice).contact_id == known.pk
    event = AuditEvent.objects.get(action="contact.identity_changed")
    assert event.changes == {"wa_id": [CITIZEN, NEW_NUMBER]}


def test_a_changed_number_already_held_by_another_contact_changes_nothing(
    deliver, agency_a, scope_a
):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN)
    ContactFactory(agency=agency_a, wa_id=NEW_NUMBER)
    deliver(system("user_changed_number", wa_id=NEW_NUMBER), contacts=[])
    known.refresh_from_db()
    assert known.wa_id == CITIZEN


def test_a_system_message_does_not_open_the_window(deliver, scope_a):
    deliver(system("user_changed_number", wa_id=NEW_NUMBER), contacts=[])
    conversation = Conversation.objects.get()
    assert (conversation.last_inbound_at, conversation.window_expires_at) == (None, None)


def test_a_changed_identity_is_recorded(deliver, scope_a):
    notice = system(
        "customer_identity_changed",
        body="User's security code changed",
        customer=CITIZEN,
    )
    notice["system"]["identity"] = {"acknowledged": "true", "hash": "Sjvjlx8G6Z0="}
    deliver(notice, contacts=[])
    stored = row(notice)
    assert stored.type == "system"
    assert stored.content["system"]["type"] == "customer_identity_changed"
    assert stored.content["system"]["identity"]["hash"] == "Sjvjlx8G6Z0="


def test_a_changed_user_id_moves_the_contacts_business_scoped_id(deliver, agency_a, scope_a):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN, business_scoped_user_id="US.1")
    deliver(system("user_changed_user_id", user_id="US.2"), contacts=[])
    known.refresh_from_db()
    assert known.business_scoped_user_id == "US.2"
    assert Contact.objects.count() == 1
