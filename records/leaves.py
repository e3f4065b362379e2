"""What a record's leaf commits to: the fields of a message (or a stored media file) that
never change once stored.

A message row keeps changing after capture (status, delivery times, pricing, an outbound
message's wamid once Meta accepts it, an edit's new content), so the leaf covers only what
is fixed when the row is written: who, to whom, where, when, and the content *as first
stored* (an edit is a message of its own, ``type = "edit"``, with its own leaf, and is
recorded beside the original: see ``_original_content``).
Nullable foreign keys whose target is never deleted by the platform (users are deactivated,
API credentials revoked) are included: the sender is transmission data of the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from records import merkle

LEAF_VERSION = 1
T = TypeVar("T")

MESSAGE_FIELDS = (
    "id",
    "agency_id",
    "conversation_id",
    "phone_number_id",
    "contact_id",
    "direction",
    "content",
    "content_history",
    "template_id",
    "reply_to_wamid",
    "context",
    "referral",
    "wamid",
    "sender_type",
    "sender_user_id",
    "sender_credential_id",
    "campaign_id",
    "idempotency_key",
    "created_at",
    "received_at",
)


def message_leaf_data(row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a message (a ``values(*MESSAGE_FIELDS)`` row)."""
    original = _original_content(row["content"], row["content_history"])
    inbound = row["direction"] == "in"
    document = {
        "leaf": "message",
        "v": LEAF_VERSION,
        "id": row["id"],
        "agency_id": row["agency_id"],
        "conversation_id": row["conversation_id"],
        "phone_number_id": row["phone_number_id"],
        "contact_id": row["contact_id"],
        "direction": row["direction"],
        "content": original,
        "template_id": row["template_id"],
        "reply_to_wamid": row["reply_to_wamid"],
        "context": row["context"],
        "referral": row["referral"],
        # An outbound message gets its wamid only when Meta accepts it: not fixed at capture.
        "wamid": row["wamid"] if inbound else None,
        "sender_type": row["sender_type"],
        "sender_user_id": row["sender_user_id"],
        "sender_credential_id": row["sender_credential_id"],
        "campaign_id": row["campaign_id"],
        "idempotency_key": row["idempotency_key"],
        "created_at": _instant(row["created_at"]),
        "received_at": _instant(row["received_at"]),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def message_leaf_hash(row: Mapping[str, Any]) -> str:
    return merkle.leaf_hash(message_leaf_data(row)).hex()


# A media file once stored (``status = stored``): its row never changes after that, and
# ``sha256`` is the digest of the bytes in storage, so the leaf also vouches for the file.
MEDIA_FIELDS = (
    "id",
    "agency_id",
    "phone_number_id",
    "meta_media_id",
    "kind",
    "mime_type",
    "meta_sha256",
    "sha256",
    "size_bytes",
    "storage_key",
    "created_at",
    "stored_at",
)


def media_leaf_data(row: Mapping[str, Any]) -> bytes:
    document = {
        "leaf": "media",
        "v": LEAF_VERSION,
        **{field: row[field] for field in MEDIA_FIELDS if not field.endswith("_at")},
        "created_at": _instant(row["created_at"]),
        "stored_at": _instant(row["stored_at"]),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def media_leaf_hash(row: Mapping[str, Any]) -> str:
    return merkle.leaf_hash(media_leaf_data(row)).hex()


def _original_content(content: Any, history: Any) -> Any:
    """The content as first stored. Since issue 12 §1 ``content`` stays the original and
    each edit is a ``content_history`` entry with its ``edit_wamid``; rows edited before
    that hold the latest version in ``content`` and the original in the first entry
    without an ``edit_wamid`` (``records.capture.versions`` reads both shapes the same)."""
    for entry in history if isinstance(history, list) else []:
        if isinstance(entry, dict) and not entry.get("edit_wamid"):
            return entry.get("content")
    return content


def _instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``itertools.batched`` (Python 3.12), for 3.11."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
