"""Which records a records officer means: one selection, read the same way by legal holds,
exports, public-records searches and disposition.

A ``Selection`` is a value (it is stored as JSON on a hold or an export job and read back
with ``Selection.from_json``); ``messages`` turns it into a queryset of the agency's
messages. Every criterion narrows: an empty selection is every message of the agency.

Full text goes through the stored ``search_vector`` column (migration inbox 0004) with
PostgreSQL's ``websearch_to_tsquery`` (quoted phrases, ``or``, ``-word``), which never
raises on a user's input; the embedded demo (SQLite) matches the words as substrings of the
text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from messaging.models import Message


class InvalidSelection(ValueError):
    """A selection whose values cannot be read (a bad date, an unknown key)."""


@dataclass(frozen=True)
class Selection:
    contact_wa_id: str = ""  # the citizen's WhatsApp id, or their number in international format
    conversation_id: int | None = None
    phone_number_id: int | None = None  # our PhoneNumber row's id
    since: dt.datetime | None = None  # inclusive, on the message's created_at
    until: dt.datetime | None = None  # exclusive
    label_id: int | None = None  # conversations carrying this inbox label
    query: str = ""  # full text over the messages' text and captions
    message_ids: tuple[int, ...] = field(default_factory=tuple)  # a review set, say
    hold_id: int | None = None  # the messages a legal hold holds (or held, once released)

    def is_empty(self) -> bool:
        return self == Selection()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["message_ids"] = list(self.message_ids)
        return {key: value for key, value in data.items() if value not in (None, "", [])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidSelection(f"unknown selection keys: {', '.join(sorted(unknown))}")
        values = dict(data)
        try:
            for key in ("since", "until"):
                if values.get(key):
                    instant = dt.datetime.fromisoformat(values[key])
                    # A date without its zone is read as UTC (the JSON we write has one).
                    values[key] = instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)
                else:
                    values[key] = None
            for key in ("conversation_id", "phone_number_id", "label_id", "hold_id"):
                if values.get(key) is not None:
                    values[key] = int(values[key])
            ids = values.get("message_ids") or ()
            if not isinstance(ids, list | tuple):
                raise TypeError("message_ids must be a list of ids")
            values["message_ids"] = tuple(int(pk) for pk in ids)
            for key in ("contact_wa_id", "query"):
                if not isinstance(values.get(key, ""), str):
                    raise TypeError(f"{key} must be text")
        except (TypeError, ValueError) as exc:
            raise InvalidSelection(str(exc)) from None
        return cls(**values)

    def describe(self) -> str:
        """Plain words for a certificate, a hold's page or a package's metadata."""
        parts = []
        if self.contact_wa_id:
            parts.append(f"contact {self.contact_wa_id}")
        if self.conversation_id is not None:
            parts.append(f"conversation {self.conversation_id}")
        if self.phone_number_id is not None:
            parts.append(f"phone number #{self.phone_number_id}")
        if self.since is not None:
            parts.append(f"from {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until {self.until.isoformat()}")
        if self.label_id is not None:
            parts.append(f"label #{self.label_id}")
        if self.query.strip():
            parts.append(f"text matching {self.query.strip()!r}")
        if self.message_ids:
            parts.append(f"{len(self.message_ids)} chosen messages")
        if self.hold_id is not None:
            parts.append(f"held by legal hold #{self.hold_id}")
        return ", ".join(parts) or "every message"


def messages(agency_id: int, selection: Selection) -> QuerySet[Message]:
    """The agency's messages the selection names (not ordered: callers order as they need,
    ``pk`` for streaming)."""
    found = Message.objects.filter(agency_id=agency_id).filter(_conditions(selection))
    if selection.query.strip():
        found = _full_text(found, selection.query)
    return found


def conversation_ids(agency_id: int, selection: Selection) -> QuerySet[Message, int]:
    """The conversations with at least one selected message (a subquery, or a list)."""
    return messages(agency_id, selection).values_list("conversation_id", flat=True).distinct()


def _conditions(selection: Selection) -> Q:
    condition = Q()
    if selection.contact_wa_id:
        # A number in international format as people type it: "+1 (512) 555-0100".
        wa_id = "".join(ch for ch in selection.contact_wa_id if ch.isdigit())
        # No digit at all names nobody (not the contacts without a number).
        condition &= Q(contact__wa_id=wa_id) if wa_id else Q(pk__in=[])
    if selection.conversation_id is not None:
        condition &= Q(conversation_id=selection.conversation_id)
    if selection.phone_number_id is not None:
        condition &= Q(phone_number_id=selection.phone_number_id)
    if selection.since is not None:
        condition &= Q(created_at__gte=selection.since)
    if selection.until is not None:
        condition &= Q(created_at__lt=selection.until)
    if selection.label_id is not None:
        condition &= Q(conversation__label_links__label_id=selection.label_id)
    if selection.message_ids:
        condition &= Q(pk__in=selection.message_ids)
    if selection.hold_id is not None:
        # The hold's own list of what it holds (records.holds keeps it, later arrivals too,
        # and keeps it as history once the hold is released).
        from records.holds.models import HeldMessage

        condition &= Q(
            pk__in=HeldMessage.objects.filter(hold_id=selection.hold_id).values("message_id")
        )
    return condition


def _full_text(found: QuerySet[Message], query: str) -> QuerySet[Message]:
    # PostgreSQL refuses NUL in text; nothing else of a user's query needs escaping.
    query = query.replace("\x00", " ")
    if connection.vendor == "postgresql":
        return found.filter(
            pk__in=RawSQL(
                "SELECT id FROM messaging_message "
                "WHERE search_vector @@ websearch_to_tsquery('simple', %s)",
                [query],
            )
        )
    condition = Q()
    for word in query.split():
        condition &= Q(content__text__body__icontains=word)
    return found.filter(condition)
