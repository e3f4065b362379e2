"""A conversation as one deterministic document: the object the WORM archive stores.

Canonical JSON (sorted keys, no insignificant white space, UTF-8, datetimes in UTC with
microseconds; the JSON values Meta sent kept as they are): the same conversation gives the
same bytes, so its SHA-256 says whether anything changed since the last version.

It holds the conversation (number, contact, status, times), every message with its
transmission data (direction, sender, recipient, times, every status step and error,
pricing, the quoted message, edits as recorded beside the original, revocation), the
conversation's status transitions, assignments and labels as the audit trail recorded
them (who, when, what), its staff notes, and a reference to each media file (id, kind,
type, size, SHA-256 and the archive key of the file, which is stored as its own object).
What changes by itself without being part of the record — unread counters, the inbox
preview, the 24-hour window — is left out, so reading a conversation makes no new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inbox.models import ConversationLabel, Note
from messaging.models import Conversation, MediaObject, Message
from records.models import AuditEvent

SCHEMA = "civic-relay.worm/conversation/1"
CONTENT_TYPE = "application/json"

MESSAGE_FIELDS = (
    "id",
    "wamid",
    "direction",
    "type",
    "content",
    "content_history",
    "edited_at",
    "revoked_at",
    "template_id",
    "reply_to_wamid",
    "context",
    "referral",
    "media_id",
    "sender_type",
    "sender_user_id",
    "sender_user__email",
    "sender_credential_id",
    "campaign_id",
    "idempotency_key",
    "business_initiated",
    "route",
    "status",
    "error_code",
    "error_reason",
    "error_details",
    "pricing",
    "meta_conversation",
    "created_at",
    "received_at",
    "sending_at",
    "accepted_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
)
MEDIA_FIELDS = ("id", "kind", "mime_type", "filename", "size_bytes", "sha256", "storage_key")
TRANSITIONS = ("conversation.status", "conversation.assigned", "conversation.labels")


def conversation_prefix(agency_id: int, conversation_id: int) -> str:
    return f"worm/agency-{agency_id}/conversation-{conversation_id}/"


def conversation_key(agency_id: int, conversation_id: int) -> str:
    return f"{conversation_prefix(agency_id, conversation_id)}conversation.json"


def media_key(agency_id: int, conversation_id: int, media_id: int, sha256: str) -> str:
    return f"{conversation_prefix(agency_id, conversation_id)}media/{media_id}-{sha256}"


@dataclass(frozen=True)
class MediaFile:
    """A stored media file of the conversation, to be archived as its own object."""

    media_id: int
    sha256: str
    storage_key: str
    mime_type: str
    key: str


@dataclass(frozen=True)
class Document:
    data: bytes
    media: tuple[MediaFile, ...]


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode("utf-8")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant(value)
    raise TypeError(f"not canonical JSON: {type(value).__name__}")


def instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def build(conversation: Conversation) -> Document:
    """The conversation's document (call inside its agency's scope)."""
    agency_id, pk = conversation.agency_id, conversation.pk
    messages = list(
        Message.objects.filter(conversation_id=pk).order_by("id").values(*MESSAGE_FIELDS)
    )
    media_ids = sorted({m["media_id"] for m in messages if m["media_id"] is not None})
    media_rows = {
        row["id"]: row
        for row in MediaObject.objects.filter(id__in=media_ids).values(*MEDIA_FIELDS, "status")
    }
    files: list[MediaFile] = []
    media: list[dict[str, Any]] = []
    for media_id in media_ids:
        row = media_rows.get(media_id)
        if row is None:
            continue
        stored = row["status"] == MediaObject.Status.STORED and bool(row["sha256"])
        key = media_key(agency_id, pk, media_id, row["sha256"]) if stored else None
        media.append(
            {
                "id": media_id,
                "kind": row["kind"],
                "mime_type": row["mime_type"],
                "filename": row["filename"],
                "size": row["size_bytes"],
                "sha256": row["sha256"] or None,
                "status": row["status"],
                "archive_key": key,
            }
        )
        if key:
            files.append(
                MediaFile(media_id, row["sha256"], row["storage_key"], row["mime_type"], key)
            )
    document = {
        "schema": SCHEMA,
        "conversation": {
            "id": pk,
            "agency_id": agency_id,
            "agency": conversation.agency.slug,
            "phone_number_id": conversation.phone_number_id,
            "business_number": conversation.phone_number.display_phone_number,
            "contact_id": conversation.contact_id,
            "contact_wa_id": conversation.contact.wa_id,
            "contact_name": conversation.contact.profile_name,
            "status": conversation.status,
            "created_at": conversation.created_at,
            "resolved_at": conversation.resolved_at,
            "last_message_at": conversation.last_message_at,
            "labels": sorted(
                ConversationLabel.objects.filter(conversation_id=pk).values_list(
                    "label__name", flat=True
                )
            ),
        },
        "messages": [_message(row) for row in messages],
        "transitions": [
            {
                "sequence": event["sequence"],
                "action": event["action"],
                "at": event["created_at"],
                "actor_type": event["actor_type"],
                "actor": event["actor_label"],
                "changes": event["changes"],
                "hash": event["hash"],
            }
            for event in AuditEvent.objects.filter(
                agency_id=agency_id,
                object_type="messaging.conversation",
                object_id=str(pk),
                action__in=TRANSITIONS,
            )
            .order_by("sequence")
            .values(
                "sequence", "action", "created_at", "actor_type", "actor_label", "changes", "hash"
            )
        ],
        "notes": [
            {
                "id": note["id"],
                "author": note["author__email"],
                "at": note["created_at"],
                "body": note["body"],
            }
            for note in Note.objects.filter(conversation_id=pk)
            .order_by("id")
            .values("id", "author__email", "created_at", "body")
        ],
        "media": media,
    }
    return Document(canonical_json(document), tuple(files))


def _message(row: dict[str, Any]) -> dict[str, Any]:
    message = dict(row)
    message["sender_user"] = message.pop("sender_user__email")
    return message
