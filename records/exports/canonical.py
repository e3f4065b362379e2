"""The canonical schema of an export (JSON Lines), and its CSV projection.

One JSON object per line, per message, keys sorted, compact separators, UTF-8, ``\\n``
after each line (RFC 8785-style canonical form: the same record always has the same
bytes). Schema ``civic-relay.records.message/1``:

- ``schema``: that name; ``id``: our message id; ``bates``: the Bates number or null;
  ``conversation``: id; ``wamid``: WhatsApp's id or null;
- ``direction``: ``inbound`` | ``outbound``; ``type``: WhatsApp's message type;
- ``sender``: ``{"type": contact|user|api|campaign|automation|system, "id", "display"}``
  (the citizen's wa_id, the staff user's e-mail, else the business number);
- ``contact``: ``{"wa_id", "phone", "name"}``; ``business_number``: ``{"id", "display", "name"}``;
- ``at`` (when it happened: Meta's time inbound, ours outbound), ``created_at``,
  ``received_at``; ``status`` and ``status_times`` ``{sent, delivered, read, failed}``;
  all times ISO 8601 UTC with microseconds, or null;
- ``text``: the display text (redactions burned in as ``[REDACTED <code>]``);
  ``redactions``: the codes applied, in order; ``withheld``: the code when the whole
  message is withheld (then only ids, times and direction remain), else null;
- ``reply_to``: the quoted message's wamid or null; ``reaction``: ``{"to", "emoji"}`` or null;
- ``edits``: earlier versions ``[{"at", "text"}]``, oldest first; ``edits_withheld``: true
  when a redaction hides them; ``edited_at``, ``revoked_at`` (deleted for everyone);
- ``media``: ``{"id", "kind", "mime_type", "filename", "size", "sha256", "path"}`` (path
  in the package, null when the file was not stored) or ``{"id", "kind", "withheld",
  "placeholder"}`` when the file is withheld;
- ``content``: the Cloud API message object as first stored, or null when redacted;
- ``error``: ``{"code", "reason"}`` for a failed send, else null.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

from records.exports.reader import Item
from records.exports.redaction import media_marker

SCHEMA: Final = "civic-relay.records.message/1"
CSV_COLUMNS: Final = (
    "bates",
    "id",
    "conversation",
    "wamid",
    "at",
    "created_at",
    "received_at",
    "direction",
    "type",
    "sender_type",
    "sender",
    "contact_wa_id",
    "contact_name",
    "business_number",
    "status",
    "delivered_at",
    "read_at",
    "reply_to",
    "reaction_to",
    "text",
    "edited_at",
    "edit_count",
    "revoked_at",
    "media_kind",
    "media_path",
    "media_sha256",
    "media_filename",
    "withheld",
    "redactions",
)


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not dt.UTC:  # the database's values are UTC already
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat(timespec="microseconds")


def sender(item: Item) -> dict[str, str]:
    if item.direction == "in":
        return {
            "type": item.sender_type,
            "id": item.contact_wa_id,
            "display": item.contact_name or item.contact_phone or item.contact_wa_id,
        }
    if item.sender_user_id is not None and item.sender_user_email:
        return {
            "type": item.sender_type,
            "id": item.sender_user_email,
            "display": item.sender_user_name or item.sender_user_email,
        }
    return {
        "type": item.sender_type,
        "id": item.business_number,
        "display": item.business_name or item.business_number,
    }


def record(item: Item) -> dict[str, Any]:
    media: dict[str, Any] | None = None
    if item.media is not None:
        if item.media.withheld:
            media = {
                "id": item.media.id,
                "kind": item.media.kind,
                "withheld": item.media.withheld,
                "placeholder": media_marker(item.media.withheld),
            }
        else:
            media = {
                "id": item.media.id,
                "kind": item.media.kind,
                "mime_type": item.media.mime_type,
                "filename": item.media.filename,
                "size": item.media.size,
                "sha256": item.media.sha256,
                "path": item.media.path or None,
            }
    withheld = bool(item.withheld)
    return {
        "schema": SCHEMA,
        "id": item.id,
        "bates": item.bates or None,
        "conversation": item.conversation_id,
        "wamid": item.wamid or None,
        "direction": "inbound" if item.direction == "in" else "outbound",
        "type": item.type,
        "sender": sender(item),
        "contact": {
            "wa_id": item.contact_wa_id,
            "phone": item.contact_phone,
            "name": item.contact_name,
        },
        "business_number": {
            "id": item.phone_number_id,
            "display": item.business_number,
            "name": item.business_name,
        },
        "at": iso(item.at),
        "created_at": iso(item.created_at),
        "received_at": iso(item.received_at),
        "status": item.status,
        "status_times": {
            "sent": iso(item.sent_at),
            "delivered": iso(item.delivered_at),
            "read": iso(item.read_at),
            "failed": iso(item.failed_at),
        },
        "text": item.text,
        "redactions": item.redaction_codes,
        "withheld": item.withheld or None,
        "reply_to": item.reply_to or None,
        "reaction": None
        if item.type != "reaction" or withheld
        else {"to": item.reaction_to, "emoji": item.reaction_emoji},
        "edits": [{"at": at, "text": text} for at, text in item.edits],
        "edits_withheld": item.edits_withheld,
        "edited_at": iso(item.edited_at),
        "revoked_at": iso(item.revoked_at),
        "media": media,
        "content": item.content,
        "error": {"code": item.error_code, "reason": item.error_reason}
        if item.error_code is not None or item.error_reason
        else None,
    }


def jsonl_line(item: Item) -> bytes:
    return (
        json.dumps(record(item), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode()


def csv_row(item: Item) -> list[str]:
    who = sender(item)
    media = item.media
    return [
        item.bates,
        str(item.id),
        str(item.conversation_id),
        item.wamid,
        iso(item.at) or "",
        iso(item.created_at) or "",
        iso(item.received_at) or "",
        "inbound" if item.direction == "in" else "outbound",
        item.type,
        item.sender_type,
        who["id"],
        item.contact_name,
        item.business_number,
        item.status,
        iso(item.delivered_at) or "",
        iso(item.read_at) or "",
        item.reply_to,
        item.reaction_to,
        item.text,
        iso(item.edited_at) or "",
        str(len(item.edits)),
        iso(item.revoked_at) or "",
        media.kind if media else "",
        media.path if media and not media.withheld else "",
        media.sha256 if media and not media.withheld else "",
        (media_marker(media.withheld) if media.withheld else media.filename) if media else "",
        item.withheld or (media.withheld if media else ""),
        ";".join(item.redaction_codes),
    ]
