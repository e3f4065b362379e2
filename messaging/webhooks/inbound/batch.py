"""What every inbound handler shares: the change being processed (``_Batch``), the
batched INSERT, and the small parsers of Meta's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.db import connections
from django.db.models import Field, Model
from django.db.models.constants import OnConflict

from bsp import events
from bsp.events import types
from messaging.models import Contact, Conversation, Message
from messaging.webhooks import keywords
from messaging.webhooks.changes import Change, InvalidChange
from tenants.models import Agency

COMPONENT = "webhooks"
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# WhatsApp's own notices, not something the citizen did: no window, no reopening.
_NOT_BY_CITIZEN = frozenset({"system", "errors"})
_NO_REOPEN = _NOT_BY_CITIZEN | {"revoke"}
_INT_MAX = 2**31 - 1
# Rows that are notices about another message: no message.received of their own.
_CHANGES_OTHERS = frozenset({"edit", "revoke"})
# Not a message of the citizen's for the conversation list: no snippet, nothing unread.
_NOT_LISTED = _NOT_BY_CITIZEN | _CHANGES_OTHERS
# Listed, but nothing for an agent to answer: the snippet moves, unread and waiting do not.
_NOT_UNREAD = _NOT_LISTED | {"reaction", "request_welcome"}


@dataclass
class _Batch:
    """One change being processed: its route, and what it already looked up."""

    change: Change
    profiles: dict[str, dict[str, Any]]  # "wa:<wa_id>" / "user:<user id>" → contacts[] item
    listed: list[dict[str, Any]]  # contacts[] as received
    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    # What the change did, published in order by flush() (at the end: see bsp.events).
    events: list[events.Event] = field(default_factory=list)
    # Every row the change stored, for the DLP scan at its end (records.dlp.inbound).
    stored: list[Message] = field(default_factory=list)
    _agency: Agency | None = None
    _topic_keywords: dict[str, str] | None = None

    @classmethod
    def of(cls, change: Change) -> _Batch:
        if change.route.phone_number_pk is None:
            raise InvalidChange("the change names no business phone number")
        listed = _items(change.value, "contacts")
        profiles: dict[str, dict[str, Any]] = {}
        for item in listed:
            for kind, key in (("wa", "wa_id"), ("user", "user_id")):
                if item.get(key):
                    profiles[f"{kind}:{item[key]}"] = item
        return cls(change, profiles, listed)

    @property
    def agency_id(self) -> int:
        return self.change.route.agency_id

    @property
    def number_pk(self) -> int:
        return self.change.route.phone_number_pk  # type: ignore[return-value]  # checked in of()

    @property
    def agency(self) -> Agency:
        if self._agency is None:
            # With its DLP policy (records.dlp), in the same query.
            self._agency = Agency.objects.select_related("dlp_policy").get(pk=self.agency_id)
        return self._agency

    def topic_keywords(self) -> dict[str, str]:
        """The agency's consent-topic keywords, loaded once for the whole change."""
        if self._topic_keywords is None:
            self._topic_keywords = keywords.topic_keywords_of(self.agency)
        return self._topic_keywords

    def publish(self, type: str, subject: dict[str, Any], payload: dict[str, Any]) -> None:
        self.events.append(events.Event(type, subject, payload))

    def received(self, row: Message) -> None:
        """``message.received`` for a new row (edits and revokes publish what they did)."""
        self.stored.append(row)
        if row.type in _CHANGES_OTHERS:
            return
        subject = {
            "message": row.pk,
            "conversation": row.conversation_id,
            "contact": row.contact_id,
            "phone_number": row.phone_number_id,
        }
        payload = {
            "wamid": row.wamid,
            "type": row.type,
            "sender_type": row.sender_type,
            "received_at": row.received_at,
        }
        self.publish(types.MESSAGE_RECEIVED, subject, payload)

    def flush(self) -> None:
        """Publish what was collected so far, in order."""
        if self.events:
            events.publish_many(self.agency_id, self.events)
            self.events = []

    def profile(self, wa_id: str, user_id: str) -> dict[str, Any] | None:
        found = self.profiles.get(f"wa:{wa_id}") or self.profiles.get(f"user:{user_id}")
        if found is None and not (wa_id or user_id) and len(self.listed) == 1:
            found = self.listed[0]  # a message naming no sender: the change's only contact
        return found


_Row = TypeVar("_Row", bound=Model)
_INSERT_ROWS = 500  # per statement: PostgreSQL takes at most 65,535 parameters


def _insert_new(rows: list[_Row], keys: tuple[str, ...]) -> list[_Row]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows a unique constraint let in, with
    their pk (found by ``keys``, unique among ``rows``); a refused row keeps pk None. The
    same statement on SQLite is INSERT OR IGNORE … RETURNING (3.35+)."""
    if not rows:
        return []
    opts = rows[0]._meta
    queryset = type(rows[0])._default_manager.all()  # the agency scope applies
    columns = [f for f in opts.concrete_fields if not f.generated and not f.primary_key]
    key_fields = [cast(Field, opts.get_field(name)) for name in keys]  # concrete, unique
    by_key = {tuple(getattr(row, f.attname) for f in key_fields): row for row in rows}
    size = max(1, min(connections[queryset.db].ops.bulk_batch_size(columns, rows), _INSERT_ROWS))
    inserted = []
    for start in range(0, len(rows), size):
        # What bulk_create uses; private, so django-stubs leave it out.
        returned = queryset._insert(  # type: ignore[attr-defined]
            rows[start : start + size],
            fields=columns,
            returning_fields=[opts.pk, *key_fields],
            using=queryset.db,
            on_conflict=OnConflict.IGNORE,
        )
        for values in returned:
            if values is None:  # a statement of one row, refused
                continue
            row = by_key[tuple(values[1:])]
            row.pk = values[0]
            row._state.adding, row._state.db = False, queryset.db
            inserted.append(row)
    return inserted


def _profile_name(profile: dict[str, Any] | None) -> str:
    inner = (profile or {}).get("profile")
    return _short(inner.get("name"), 200) if isinstance(inner, dict) else ""


# --- small parsers ------------------------------------------------------------------------------


def _items(value: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = value.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidChange(f"`{key}` is not a list of objects")
    return items


def _wamid(message: dict[str, Any]) -> str:
    wamid = message.get("id")
    if not isinstance(wamid, str) or not wamid.strip() or len(wamid) > 200:
        raise InvalidChange("a message without a usable id")
    return wamid


def _identity(value: Any, max_length: int) -> str:
    if value is None or value == "":
        return ""
    text = str(value).strip()
    if len(text) > max_length or isinstance(value, dict | list | bool):
        raise InvalidChange(f"an unusable user identifier {text[:40]!r}")
    return text


def _phone(wa_id: str) -> str:
    """The E.164 form of a wa_id (digits), or "" for anything that cannot be one."""
    return f"+{wa_id}" if wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= 15 else ""


def _short(value: Any, max_length: int) -> str:
    return value[:max_length] if isinstance(value, str) else ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass
class _Inbound:
    """One message of the change, read: who sent it, and the columns of its row."""

    kind: str
    wa_id: str
    user_id: str
    name: str  # the sender's profile name in contacts[]
    fields: dict[str, Any]

    @property
    def sender(self) -> tuple[str, str]:
        return (self.wa_id, self.user_id)
