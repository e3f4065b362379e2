"""The canonical streaming reader: an agency's selected messages, a chunk at a time.

Never loads the selection: each chunk is one keyset query (``id > last`` in id order, or
``(conversation_id, created_at, id) > last`` in thread order) of plain values (no model
instances), so memory stays flat whatever the size. Edit and revoke *notices* are skipped:
what they changed is on the original (``content_history``, ``revoked_at``), and a notice
would carry an edited text past a redaction of its original.

``items`` turns rows into ``Item`` — the redacted, format-neutral view every writer reads
(the canonical schema of ``canonical.py``): redactions are applied here, once, so no
writer can see the text they remove.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from django.contrib.auth import get_user_model
from django.db import connection

from messaging.models import Contact, MediaObject, Message
from records import selection as selections
from records.capture.versions import Version, versions
from records.exports.redaction import Redactions, apply_spans, media_marker, message_marker
from records.exports.text import display_text_of
from tenants.models import PhoneNumber

CHUNK: Final = 2_000
NOTICE_TYPES: Final = ("edit", "revoke")
Order = Literal["pk", "thread"]

_MESSAGE_COLUMNS: Final = (
    "id",
    "conversation_id",
    "wamid",
    "direction",
    "type",
    "content",
    "content_history",
    "edited_at",
    "revoked_at",
    "reply_to_wamid",
    "status",
    "sender_type",
    "sender_user_id",
    "campaign_id",
    "created_at",
    "received_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_reason",
    "contact_id",
    "phone_number_id",
    "media_id",
)
_CONTACT_COLUMNS: Final = ("contact__wa_id", "contact__phone_e164", "contact__profile_name")
_NUMBER_COLUMNS: Final = (
    "phone_number__display_phone_number",
    "phone_number__verified_name",
)
_MEDIA_COLUMNS: Final = (
    "media__kind",
    "media__mime_type",
    "media__filename",
    "media__size_bytes",
    "media__sha256",
    "media__storage_key",
    "media__status",
)
_USER_COLUMNS: Final = ("sender_user__email", "sender_user__first_name", "sender_user__last_name")
_COLUMNS: Final = (
    *_MESSAGE_COLUMNS,
    *_CONTACT_COLUMNS,
    *_NUMBER_COLUMNS,
    *_MEDIA_COLUMNS,
    *_USER_COLUMNS,
)
_CREATED_AT: Final = _MESSAGE_COLUMNS.index("created_at")


# One message's values, with the attributes ``records.capture.versions`` reads (a named
# tuple: made in C, a chunk at a time).
_Row = namedtuple("_Row", _COLUMNS)  # type: ignore[misc]


_CONTENT: Final = _MESSAGE_COLUMNS.index("content")
_HISTORY: Final = _MESSAGE_COLUMNS.index("content_history")


def _fetch(queryset: Any) -> list[tuple[Any, ...]]:
    """The chunk's tuples. On PostgreSQL straight from the cursor (the ORM's per-value
    converters cost more than the query); the two JSON columns decoded here."""
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    loads = json.loads
    return [
        (
            *row[:_CONTENT],
            loads(row[_CONTENT]) if isinstance(row[_CONTENT], str) else row[_CONTENT],
            loads(row[_HISTORY]) if isinstance(row[_HISTORY], str) else row[_HISTORY],
            *row[_HISTORY + 1 :],
        )
        for row in fetched
    ]


def _related(model: Any, ids: set[int], columns: tuple[str, ...]) -> dict[int, tuple[Any, ...]]:
    """The chunk's related rows by id: one small query by primary key each (joining them
    into the messages' query lets row-level security's estimates pick a bad plan)."""
    if not ids:
        return {}
    names = [column.split("__", 1)[1] for column in columns]
    return {row[0]: row[1:] for row in model.objects.filter(pk__in=ids).values_list("pk", *names)}


@dataclass(slots=True)
class MediaRef:
    id: int
    kind: str
    mime_type: str
    filename: str
    size: int | None
    sha256: str
    storage_key: str
    stored: bool
    withheld: str = ""  # exemption code: the file is not in the package
    path: str = ""  # where the file is in the package (set by the package writer)


@dataclass(slots=True)
class Item:
    """One message as every format writes it (already redacted)."""

    id: int
    conversation_id: int
    wamid: str
    direction: str  # "in" | "out"
    type: str
    sender_type: str
    sender_user_id: int | None
    sender_user_email: str
    sender_user_name: str
    contact_id: int
    contact_wa_id: str
    contact_phone: str
    contact_name: str
    phone_number_id: int
    business_number: str
    business_name: str
    campaign_id: int | None
    created_at: dt.datetime
    received_at: dt.datetime | None
    status: str
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    failed_at: dt.datetime | None
    revoked_at: dt.datetime | None
    edited_at: dt.datetime | None
    reply_to: str
    text: str
    withheld: str = ""  # the whole message is withheld, with this code
    redaction_codes: list[str] = field(default_factory=list)
    edits: list[tuple[str, str]] = field(default_factory=list)  # (at, text), oldest first
    edits_withheld: bool = False  # earlier versions not shown (the text is redacted)
    reaction_to: str = ""
    reaction_emoji: str = ""
    media: MediaRef | None = None
    content: dict[str, Any] | None = None  # the Cloud API object; None when redacted
    error_code: int | None = None
    error_reason: str = ""
    bates: str = ""

    @property
    def at(self) -> dt.datetime:
        """When it happened: Meta's time for an inbound message, ours otherwise."""
        return self.received_at or self.created_at

    @property
    def redacted(self) -> bool:
        return bool(self.withheld or self.redaction_codes or (self.media and self.media.withheld))


def rows(agency_id: int, selection: selections.Selection, order: Order = "pk") -> Iterator[Any]:
    """The selected messages' rows (attributes named as ``_COLUMNS``), chunk by chunk.
    Call inside the agency's scope."""
    for chunk in _chunks(agency_id, selection, order):
        yield from chunk


def _chunks(agency_id: int, selection: selections.Selection, order: Order) -> Iterator[list[Any]]:
    base = selections.messages(agency_id, selection).exclude(type__in=NOTICE_TYPES)
    table = Message._meta.db_table
    last: tuple[Any, ...] | None = None
    while True:
        if order == "pk":
            chunk = base.order_by("pk")
            if last is not None:
                chunk = chunk.filter(pk__gt=last[0])
        else:
            chunk = base.order_by("conversation_id", "created_at", "pk")
            if last is not None:
                # A row comparison the ORM cannot say; the table name is ours, the
                # values are bound parameters.
                chunk = chunk.extra(  # noqa: S610
                    where=[
                        f'("{table}"."conversation_id", "{table}"."created_at", "{table}"."id")'
                        " > (%s, %s, %s)"
                    ],
                    params=list(last),
                )
        values = _fetch(chunk.values_list(*_MESSAGE_COLUMNS)[:CHUNK])
        contacts = _related(Contact, {v[-3] for v in values}, _CONTACT_COLUMNS)
        numbers = _related(PhoneNumber, {v[-2] for v in values}, _NUMBER_COLUMNS)
        media = _related(MediaObject, {v[-1] for v in values if v[-1] is not None}, _MEDIA_COLUMNS)
        users = _related(
            get_user_model(), {v[12] for v in values if v[12] is not None}, _USER_COLUMNS
        )
        _make = _Row._make
        no_media = (None,) * len(_MEDIA_COLUMNS)
        no_user = ("", "", "")
        no_contact = ("", "", "")
        no_number = ("", "")
        yield [
            _make(
                value
                + contacts.get(value[-3], no_contact)
                + numbers.get(value[-2], no_number)
                + (media.get(value[-1], no_media) if value[-1] is not None else no_media)
                + (users.get(value[12], no_user) if value[12] is not None else no_user)
            )
            for value in values
        ]
        if len(values) < CHUNK:
            return
        final = values[-1]
        last = (final[0],) if order == "pk" else (final[1], final[_CREATED_AT], final[0])


def items(
    agency_id: int,
    selection: selections.Selection,
    order: Order = "pk",
    redactions: Redactions | None = None,
) -> Iterator[Item]:
    redactions = redactions or Redactions()
    for row in rows(agency_id, selection, order):
        yield to_item(row, redactions)


def to_item(row: Any, redactions: Redactions) -> Item:
    if row.content_history:
        all_versions = versions(row)
        current = all_versions[-1].content
    else:  # never edited: the original is the current version (what versions() says)
        current = row.content if isinstance(row.content, dict) else {}
        all_versions = [Version(current, "")]
    text = display_text_of(row.type, current)
    item = Item(
        id=row.id,
        conversation_id=row.conversation_id,
        wamid=row.wamid or "",
        direction=row.direction,
        type=row.type,
        sender_type=row.sender_type,
        sender_user_id=row.sender_user_id,
        sender_user_email=row.sender_user__email or "",
        sender_user_name=" ".join(
            p for p in (row.sender_user__first_name, row.sender_user__last_name) if p
        ),
        contact_id=row.contact_id,
        contact_wa_id=row.contact__wa_id or "",
        contact_phone=row.contact__phone_e164 or "",
        contact_name=row.contact__profile_name or "",
        phone_number_id=row.phone_number_id,
        business_number=row.phone_number__display_phone_number or "",
        business_name=row.phone_number__verified_name or "",
        campaign_id=row.campaign_id,
        created_at=row.created_at,
        received_at=row.received_at,
        status=row.status,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        read_at=row.read_at,
        failed_at=row.failed_at,
        revoked_at=row.revoked_at,
        edited_at=row.edited_at,
        reply_to=row.reply_to_wamid or "",
        text=text,
        error_code=row.error_code,
        error_reason=row.error_reason or "",
    )
    if row.type == "reaction":
        payload = current.get("reaction") if isinstance(current.get("reaction"), dict) else {}
        target = payload.get("message_id") if isinstance(payload, dict) else ""
        item.reaction_to = target if isinstance(target, str) else ""
        item.reaction_emoji = text
    if row.media_id is not None:
        item.media = MediaRef(
            id=row.media_id,
            kind=row.media__kind or "",
            mime_type=row.media__mime_type or "application/octet-stream",
            filename=row.media__filename or "",
            size=row.media__size_bytes,
            sha256=row.media__sha256 or "",
            storage_key=row.media__storage_key or "",
            stored=row.media__status == "stored" and bool(row.media__storage_key),
            withheld=redactions.media.get(row.media_id, ""),
        )
        if item.media.withheld:
            item.media.filename = ""  # a file name can say what the file is
    withheld = redactions.withheld_messages.get(row.id)
    if withheld:
        item.withheld = withheld
        item.text = message_marker(withheld)
        item.reaction_emoji = ""
        item.edits_withheld = len(all_versions) > 1
        if item.media is not None:
            item.media.withheld = item.media.withheld or withheld
            item.media.filename = ""
        return item
    spans = redactions.text.get(row.id)
    if spans:
        item.text, item.redaction_codes = apply_spans(text, spans)
        if row.type == "reaction":
            item.reaction_emoji = item.text
    if item.redaction_codes or (item.media is not None and item.media.withheld):
        # The earlier versions and the raw object would show what the redaction removes.
        item.edits_withheld = len(all_versions) > 1
        return item
    item.content = row.content if isinstance(row.content, dict) else {}
    item.edits = [(v.at, display_text_of(row.type, v.content)) for v in all_versions[:-1]]
    return item


def withheld_file_text(media: MediaRef) -> str:
    return media_marker(media.withheld)
