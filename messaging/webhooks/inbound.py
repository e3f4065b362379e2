"""Inbound messages (``value.messages[]`` and change-level ``errors``) → normalized rows, and
``user_preferences`` (marketing stop/resume in WhatsApp) → consent records.

Contract (used by ``processing``): ``handle_messages(change)`` and
``handle_user_preferences(change)`` run inside the change's agency scope and a transaction;
they are idempotent (a redelivered change creates nothing new).

Every message becomes one ``Message`` row (direction in, status received), keyed by its
wamid: a wamid already stored is skipped before anything else happens, so a redelivered
webhook records no second row, applies no second edit and sends no second keyword reply.
``content`` has the outbound stored form, ``{"type": t, t: <Meta's payload for t>}``.

- The contact is found by ``wa_id`` or business-scoped user id (``from_user_id``: 2026
  username users may have no phone), created if new; its profile name follows ``contacts[]``.
- The conversation (number + contact) is created if new; ``last_inbound_at`` and
  ``window_expires_at`` (+24 h) move to the message's own timestamp, never backwards, so a
  late old message cannot shrink the window. A new message reopens a resolved conversation.
  WhatsApp's ``system`` notices neither open the window nor reopen.
- Media (image, video, audio, document, sticker) get a pending ``MediaObject``; its download
  is scheduled after commit (``media.schedule_download``).
- ``revoke`` marks the original ``revoked_at`` (its content is kept: it is a record);
  ``edit`` moves the original's content into ``content_history`` and replaces it. Both are
  also rows of their own. If the original arrives after its edit/revoke, it is applied then.
- ``system`` ``user_changed_number`` moves the contact to the new number (unless another
  contact already has it); ``user_changed_user_id`` likewise for the business-scoped id.
- Change-level ``errors`` (Meta could not deliver what the citizen sent) go on the rows of
  the messages the change lists; with no message but a contact, on one ``errors`` row per
  contact (sender system); with neither, the change is quarantined with Meta's error.
- Text and template quick replies go through the opt-out/opt-in keywords (``keywords``).

Cost: a change may hold a number's messages from many webhooks (``processing`` merges
them). The common messages, what citizens write (text, media, interactive…), are stored
together in a fixed number of queries however many they are: one finds the contacts, one
inserts the new ones, likewise for conversations, media objects and the rows (INSERT … ON
CONFLICT DO NOTHING RETURNING, so a concurrent worker's rows are skipped as the unique
constraints decide), one UPDATE moves every window. A message that acts on others or on
consent (edit, revoke, ``system``, a keyword) is applied on its own, in its place in the
change's order, as before it the common messages that came first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any, TypeVar

from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Case, DateTimeField, F, Model, Q, Value, When
from django.db.models.constants import OnConflict
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from messaging import policy
from messaging.models import Consent, Contact, Conversation, MediaObject, Message
from messaging.webhooks import keywords
from messaging.webhooks import media as inbound_media
from messaging.webhooks.changes import Change, InvalidChange, unix_time
from records.audit import Actor, record_event
from tenants.models import Agency

logger = logging.getLogger(__name__)

COMPONENT = "webhooks"
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# WhatsApp's own notices, not something the citizen did: no window, no reopening.
_NOT_BY_CITIZEN = frozenset({"system", "errors"})
_NO_REOPEN = _NOT_BY_CITIZEN | {"revoke"}
_PREFERENCE_STATUS = {
    "stop": Consent.Status.OPTED_OUT,
    "resume": Consent.Status.OPTED_IN,
    "signup": Consent.Status.OPTED_IN,  # the citizen asked for this business's offers
}
_INT_MAX = 2**31 - 1


@dataclass
class _Batch:
    """One change being processed: its route, and what it already looked up."""

    change: Change
    profiles: dict[str, dict[str, Any]]  # "wa:<wa_id>" / "user:<user id>" → contacts[] item
    listed: list[dict[str, Any]]  # contacts[] as received
    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    _agency: Agency | None = None

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
            self._agency = Agency.objects.get(pk=self.agency_id)
        return self._agency

    def profile(self, wa_id: str, user_id: str) -> dict[str, Any] | None:
        found = self.profiles.get(f"wa:{wa_id}") or self.profiles.get(f"user:{user_id}")
        if found is None and not (wa_id or user_id) and len(self.listed) == 1:
            found = self.listed[0]  # a message naming no sender: the change's only contact
        return found


# --- messages ---------------------------------------------------------------------------------


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


def handle_messages(change: Change) -> None:
    """Store the change's new messages in their order. The common ones (what citizens
    write: text, media, interactive…) are stored together, with a fixed number of queries
    whatever their count; a message that acts on others or on consent (edit, revoke,
    WhatsApp's notices, a keyword) is applied on its own, after what came before it."""
    batch = _Batch.of(change)
    messages = _items(change.value, "messages")
    change_errors = _items(change.value, "errors")
    wamids = [_wamid(message) for message in messages]
    done = set(
        Message.objects.filter(phone_number_id=batch.number_pk, wamid__in=wamids).values_list(
            "wamid", flat=True
        )
    )
    run: list[_Inbound] = []
    for wamid, message in zip(wamids, messages, strict=True):
        if wamid in done:
            continue  # a redelivery: already recorded and acted on
        done.add(wamid)
        inbound = _read(batch, wamid, message, change_errors)
        if _acts(batch, inbound):
            _ingest_together(batch, run)
            run = []
            _ingest(batch, inbound)
        else:
            run.append(inbound)
    _ingest_together(batch, run)
    if change_errors and not messages:
        _record_change_errors(batch, change_errors)


def _read(
    batch: _Batch, wamid: str, message: dict[str, Any], change_errors: list[dict[str, Any]]
) -> _Inbound:
    kind = _short(message.get("type"), 32) or "unknown"
    wa_id = _identity(message.get("from"), 32)
    user_id = _identity(message.get("from_user_id"), 128)
    profile = batch.profile(wa_id, user_id)
    if profile is not None:  # 2026 contacts[] add user_id next to wa_id (cloud-api.md §10)
        wa_id = wa_id or _identity(profile.get("wa_id"), 32)
        user_id = user_id or _identity(profile.get("user_id"), 128)
    if not (wa_id or user_id):
        raise InvalidChange(f"message {wamid[:80]} has no sender (from / from_user_id)")
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    referral = message.get("referral") if isinstance(message.get("referral"), dict) else {}
    fields = {
        "wamid": wamid,
        "type": kind,
        "content": stored_form(kind, message),
        "received_at": unix_time(message.get("timestamp")) or timezone.now(),
        "context": context,
        "referral": referral,
        "reply_to_wamid": _short(context.get("id"), 200),
        "sender_type": Message.SenderType.CONTACT,
        **_error_fields(message.get("errors") or change_errors),
    }
    return _Inbound(kind, wa_id, user_id, _profile_name(profile), fields)


# Messages that change other rows or the contact (edit, revoke, system), or that neither
# open the window nor reopen the conversation: stored one at a time, in their place.
_ONE_BY_ONE = _NOT_BY_CITIZEN | _NO_REOPEN | {"edit"}


def _acts(batch: _Batch, inbound: _Inbound) -> bool:
    if inbound.kind in _ONE_BY_ONE:
        return True
    return (
        inbound.kind in keywords.MESSAGE_TYPES
        and keywords.match_content(inbound.kind, inbound.fields["content"], batch.agency)
        is not None
    )


def _ingest(batch: _Batch, inbound: _Inbound) -> None:
    """One message on its own, with everything it does to others."""
    contact = _contact(batch, inbound.wa_id, inbound.user_id, inbound.name)
    conversation = _conversation(batch, contact)
    row = _insert(batch, conversation, **inbound.fields)
    if row is None:
        return
    _touch_conversation(conversation, row)
    kind = inbound.kind
    if kind == "revoke":
        _apply_revoke(row)
    elif kind == "edit":
        _apply_edit(batch, row)
    elif kind == "system":
        _apply_system(batch, row)
    else:
        _apply_pending_notices(batch, [row])
    if kind in keywords.MESSAGE_TYPES:
        keywords.apply_keyword(row, agency=batch.agency)


def _ingest_together(batch: _Batch, run: list[_Inbound]) -> None:
    """Common messages (none of them acts on another row or on consent), stored as
    ``_ingest`` would one by one, in a fixed number of queries: their contacts, their
    conversations, their media objects and the rows are each looked up and inserted
    together, then every conversation's window moves in one UPDATE."""
    if not run:
        return
    names: dict[tuple[str, str], str] = {}
    for m in run:
        names.setdefault(m.sender, m.name)
    new_contacts = _contacts(batch, names)
    senders = [batch.contacts[m.sender] for m in run]
    new_conversations = _conversations(batch, senders, new_contacts)
    media, new_media = _media_objects(batch, run)
    rows = [
        Message(
            agency_id=batch.agency_id,
            conversation_id=batch.conversations[contact.pk].pk,
            phone_number_id=batch.number_pk,
            contact_id=contact.pk,
            direction=Message.Direction.INBOUND,
            status=Message.Status.RECEIVED,
            media=media.get(_media_id(m.kind, m.fields["content"])),
            **m.fields,
        )
        for m, contact in zip(run, senders, strict=True)
    ]
    # A wamid refused here was stored meanwhile by a concurrent worker, which acts on it.
    stored = _insert_new(rows, ("wamid",))
    used = {row.media_id for row in stored}
    for media_object in new_media:
        if media_object.pk in used:
            _schedule_download(media_object)
    unused = [m.pk for m in new_media if m.pk not in used]
    if unused:  # as the savepoint of a refused row would have undone them
        MediaObject.objects.filter(pk__in=unused).delete()
    _touch_conversations(batch, stored)
    # No edit or revoke can wait in a conversation created just now.
    _apply_pending_notices(
        batch, [row for row in stored if row.conversation_id not in new_conversations]
    )


def _insert(batch: _Batch, conversation: Conversation, **fields: Any) -> Message | None:
    """Store the row (and its media object); None if this wamid was stored meanwhile by a
    concurrent worker: the unique constraint decides, and the savepoint undoes our part."""
    kind, content = fields["type"], fields["content"]
    try:
        with transaction.atomic():
            media, media_is_new = _media_object(batch, kind, content.get(kind))
            row = Message.objects.create(
                agency_id=batch.agency_id,
                conversation=conversation,
                phone_number_id=batch.number_pk,
                contact=conversation.contact,
                direction=Message.Direction.INBOUND,
                status=Message.Status.RECEIVED,
                media=media,
                **fields,
            )
    except IntegrityError:
        stored = Message.objects.filter(phone_number_id=batch.number_pk, wamid=fields["wamid"])
        if stored.exists():
            return None
        raise
    if media_is_new:
        _schedule_download(media)
    return row


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
    key_fields = [opts.get_field(name) for name in keys]
    by_key = {tuple(getattr(row, f.attname) for f in key_fields): row for row in rows}
    size = max(1, min(connections[queryset.db].ops.bulk_batch_size(columns, rows), _INSERT_ROWS))
    inserted = []
    for start in range(0, len(rows), size):
        returned = queryset._insert(
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


def _touch_conversation(conversation: Conversation, row: Message) -> None:
    """Move the window to the message's own time, never backwards (a late old message, or
    two workers at once, cannot shrink it: GREATEST in the UPDATE)."""
    at = min(row.received_at or timezone.now(), timezone.now())  # a clock ahead opens nothing
    updates: dict[str, Any] = {"last_message_at": _latest("last_message_at", at)}
    if row.type not in _NOT_BY_CITIZEN:
        updates["last_inbound_at"] = _latest("last_inbound_at", at)
        updates["window_expires_at"] = _latest("window_expires_at", at + policy.WINDOW)
    if row.type not in _NO_REOPEN:
        updates["status"] = Conversation.Status.OPEN
    Conversation.objects.filter(pk=conversation.pk).update(**updates)


def _touch_conversations(batch: _Batch, rows: list[Message]) -> None:
    """``_touch_conversation`` for many citizens' messages (each opens the window and
    reopens its conversation) in one UPDATE: each conversation moves to its latest."""
    now = timezone.now()
    latest: dict[int, datetime] = {}
    for row in rows:
        at = min(row.received_at or now, now)  # a clock ahead opens nothing
        if row.conversation_id not in latest or at > latest[row.conversation_id]:
            latest[row.conversation_id] = at
    if not latest:
        return
    touch = _touch_sql if connection.vendor == "postgresql" else _touch_portably
    touch(batch.agency_id, latest)


# The conversations are locked in id order first: two workers touching overlapping sets
# queue behind each other instead of deadlocking, and each GREATEST reads the latest row.
_TOUCH_SQL = """
WITH v AS (SELECT * FROM unnest(%(ids)s::bigint[], %(at)s::timestamptz[]) AS v(id, at)),
target AS MATERIALIZED (
    SELECT c.id FROM messaging_conversation c
    WHERE c.id = ANY(%(ids)s::bigint[]) AND c.agency_id = %(agency)s  -- primary-key lookups
    ORDER BY c.id
    FOR UPDATE OF c
)
UPDATE messaging_conversation AS c SET
    last_message_at = GREATEST(c.last_message_at, v.at),
    last_inbound_at = GREATEST(c.last_inbound_at, v.at),
    window_expires_at = GREATEST(c.window_expires_at, v.at + %(window)s),
    status = %(status)s
FROM target t JOIN v ON v.id = t.id
WHERE c.id = t.id
"""


def _touch_sql(agency_id: int, latest: dict[int, datetime]) -> None:
    # PostgreSQL's GREATEST ignores NULLs: an empty column takes the value.
    params = {
        "ids": list(latest),
        "at": list(latest.values()),
        "agency": agency_id,
        "window": policy.WINDOW,
        "status": Conversation.Status.OPEN.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH_SQL, params)


def _touch_portably(agency_id: int, latest: dict[int, datetime]) -> None:
    def per_conversation(offset: timedelta) -> Case:
        moments = [When(pk=pk, then=Value(at + offset)) for pk, at in latest.items()]
        return Case(*moments, output_field=DateTimeField())

    at, expiry = per_conversation(timedelta(0)), per_conversation(policy.WINDOW)
    Conversation.objects.filter(agency_id=agency_id, pk__in=latest).update(
        last_message_at=_latest("last_message_at", at),
        last_inbound_at=_latest("last_inbound_at", at),
        window_expires_at=_latest("window_expires_at", expiry),
        status=Conversation.Status.OPEN,
    )


def _latest(column: str, value: datetime | Case) -> Greatest:
    # An empty column takes the value. COALESCE because SQLite's GREATEST (MAX) is NULL
    # when an argument is; PostgreSQL's ignores NULLs.
    moment = value if isinstance(value, Case) else Value(value, output_field=DateTimeField())
    return Greatest(Coalesce(F(column), moment), moment)


# --- content ----------------------------------------------------------------------------------


def stored_form(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """``{"type": kind, kind: payload}`` as outbound messages are stored, with the few
    normalizations readers need: numeric coordinates, a parsed flow response, an explicit
    empty emoji for a removed reaction."""
    payload = message.get(kind)
    if kind == "location" and isinstance(payload, dict):
        payload = {
            **payload,
            **{k: _coordinate(payload[k]) for k in ("latitude", "longitude") if k in payload},
        }
    elif kind == "interactive" and isinstance(payload, dict):
        payload = _interactive(payload)
    elif kind == "reaction" and isinstance(payload, dict):
        payload = {**payload, "emoji": payload.get("emoji") or ""}  # empty: reaction removed
    return {"type": kind, kind: payload if payload is not None else {}}


def _coordinate(value: Any) -> Any:
    """Some payloads carry coordinates as strings; kept as received when not a number."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def _interactive(payload: dict[str, Any]) -> dict[str, Any]:
    reply = payload.get("nfm_reply")
    if not isinstance(reply, dict) or not isinstance(reply.get("response_json"), str):
        return payload
    try:
        response = json.loads(reply["response_json"])
    except ValueError:
        return payload  # kept as received; the string is the record
    return {**payload, "nfm_reply": {**reply, "response": response}}


def _error_fields(errors: Any) -> dict[str, Any]:
    if not isinstance(errors, list) or not errors:
        return {}
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = first.get("code")
    title = str(first.get("title") or first.get("message") or "WhatsApp reported an error")
    data = first.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    reason = f"{title}: {details}" if details and details != title else title
    return {
        "error_code": code if isinstance(code, int) and 0 <= code <= _INT_MAX else None,
        "error_reason": reason[:300],
        "error_details": {"errors": errors},
    }


# --- media ------------------------------------------------------------------------------------


def _media_id(kind: str, content: dict[str, Any]) -> str:
    payload = content.get(kind)
    if kind not in MEDIA_TYPES or not isinstance(payload, dict):
        return ""
    return _short(payload.get("id"), 128)


def _media_columns(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "mime_type": _short(payload.get("mime_type"), 128),
        "meta_sha256": _short(payload.get("sha256"), 128),
        "filename": _short(payload.get("filename"), 255),
    }


def _media_object(batch: _Batch, kind: str, payload: Any) -> tuple[MediaObject | None, bool]:
    media_id = _media_id(kind, {kind: payload})
    if not media_id:
        return None, False
    return MediaObject.objects.get_or_create(
        phone_number_id=batch.number_pk,
        meta_media_id=media_id,
        defaults={"agency_id": batch.agency_id, **_media_columns(kind, payload)},
    )


def _media_objects(
    batch: _Batch, run: list[_Inbound]
) -> tuple[dict[str, MediaObject], list[MediaObject]]:
    """``_media_object`` for many messages: media id → its object, and those created."""
    wanted: dict[str, MediaObject] = {}
    for m in run:
        media_id = _media_id(m.kind, m.fields["content"])
        if media_id and media_id not in wanted:
            wanted[media_id] = MediaObject(
                agency_id=batch.agency_id,
                phone_number_id=batch.number_pk,
                meta_media_id=media_id,
                **_media_columns(m.kind, m.fields["content"][m.kind]),
            )
    if not wanted:
        return {}, []
    created = _insert_new([wanted[key] for key in sorted(wanted)], ("meta_media_id",))
    known = [key for key, media in wanted.items() if media.pk is None]
    if known:
        stored = MediaObject.objects.filter(
            phone_number_id=batch.number_pk, meta_media_id__in=known
        )
        wanted.update({media.meta_media_id: media for media in stored})
    return wanted, created


def _schedule_download(media: MediaObject | None) -> None:
    if media is None:
        return
    # robust: a broker hiccup must not fail the committed change; pending media is swept.
    transaction.on_commit(lambda: inbound_media.schedule_download(media), robust=True)


# --- contacts and conversations ---------------------------------------------------------------


def _contact(batch: _Batch, wa_id: str, user_id: str, name: str) -> Contact:
    key = (wa_id, user_id)
    if key in batch.contacts:
        return batch.contacts[key]
    lookup = Q(wa_id=wa_id) if wa_id else Q()
    if user_id:
        lookup |= Q(business_scoped_user_id=user_id)
    # The phone's contact first: a username-only contact is not merged into it.
    found = sorted(Contact.objects.filter(lookup), key=lambda c: (c.wa_id != wa_id, c.pk))
    if found:
        contact = found[0]
        _save_contact(contact, _contact_updates(contact, found[1:], wa_id, user_id, name))
    else:
        contact = _create_contact(batch, lookup, wa_id, user_id, name)
    batch.contacts[key] = contact
    return contact


def _new_contact(batch: _Batch, wa_id: str, user_id: str, name: str) -> Contact:
    return Contact(
        agency_id=batch.agency_id,
        wa_id=wa_id or None,
        business_scoped_user_id=user_id or None,
        phone_e164=_phone(wa_id),
        profile_name=name,
    )


def _create_contact(batch: _Batch, lookup: Q, wa_id: str, user_id: str, name: str) -> Contact:
    try:
        with transaction.atomic():
            contact = _new_contact(batch, wa_id, user_id, name)
            contact.save(force_insert=True)
            return contact
    except IntegrityError:  # another worker created them first
        contact = Contact.objects.filter(lookup).order_by("pk").first()
        if contact is None:
            raise
        return contact


def _contact_updates(
    contact: Contact, others: list[Contact], wa_id: str, user_id: str, name: str
) -> dict[str, Any]:
    """Keep what Meta tells us current: the profile name, an identity we lacked (unless
    another contact holds it), and reachability (they just wrote, so they are on WhatsApp)."""
    updates: dict[str, Any] = {}
    if name and contact.profile_name != name:
        updates["profile_name"] = name
    if contact.unreachable_at is not None:
        updates["unreachable_at"] = None
    if wa_id and not contact.wa_id and not any(o.wa_id == wa_id for o in others):
        updates.update(wa_id=wa_id, phone_e164=_phone(wa_id))
    if (
        user_id
        and not contact.business_scoped_user_id
        and not any(o.business_scoped_user_id == user_id for o in others)
    ):
        updates["business_scoped_user_id"] = user_id
    return updates


_IDENTITY = ("wa_id", "phone_e164", "business_scoped_user_id")


def _save_contact(contact: Contact, updates: dict[str, Any]) -> None:
    if not updates:
        return
    try:
        with transaction.atomic():
            Contact.objects.filter(pk=contact.pk).update(**updates)
    except IntegrityError:  # an identity taken concurrently: keep the rest
        for column in _IDENTITY:
            updates.pop(column, None)
        Contact.objects.filter(pk=contact.pk).update(**updates)
    for name_, value in updates.items():
        setattr(contact, name_, value)


class _Directory:
    """The contacts a run of messages may name, by identity (each is unique per agency)."""

    def __init__(self, contacts: list[Contact]) -> None:
        self.by_wa_id: dict[str, Contact] = {}
        self.by_user_id: dict[str, Contact] = {}
        for contact in contacts:
            self.add(contact)

    def add(self, contact: Contact) -> None:
        if contact.wa_id:
            self.by_wa_id.setdefault(contact.wa_id, contact)
        if contact.business_scoped_user_id:
            self.by_user_id.setdefault(contact.business_scoped_user_id, contact)

    def find(self, wa_id: str, user_id: str) -> list[Contact]:
        """As ``_contact``'s query finds them: the phone's contact first, then by age (one
        still to be created is the youngest)."""
        found = {id(c): c for c in (self.by_wa_id.get(wa_id), self.by_user_id.get(user_id)) if c}
        return sorted(found.values(), key=lambda c: (c.wa_id != wa_id, c.pk is None, c.pk or 0))


def _contacts(batch: _Batch, names: dict[tuple[str, str], str]) -> set[int]:
    """``_contact`` for every sender (wa_id, user id) → profile name, in order, in a few
    queries: one finds the known ones, one inserts the new ones; profile names and
    reachability are written together. The pks of the contacts created."""
    missing = {sender: name for sender, name in names.items() if sender not in batch.contacts}
    if not missing:
        return set()
    directory = _Directory(list(Contact.objects.filter(_identities(missing))))
    chosen: dict[tuple[str, str], Contact] = {}
    new: list[Contact] = []
    changed: dict[int, tuple[Contact, set[str]]] = {}
    for (wa_id, user_id), name in missing.items():
        found = directory.find(wa_id, user_id)
        if not found:
            contact = _new_contact(batch, wa_id, user_id, name)
            new.append(contact)
        else:
            contact = found[0]
            updates = _contact_updates(contact, found[1:], wa_id, user_id, name)
            if contact.pk is not None and updates.keys() & set(_IDENTITY):
                _save_contact(contact, updates)  # rare: learning an identity, now
            elif updates:
                for column, value in updates.items():
                    setattr(contact, column, value)
                if contact.pk is not None:
                    changed.setdefault(contact.pk, (contact, set()))[1].update(updates)
        directory.add(contact)
        chosen[(wa_id, user_id)] = contact
    created = _insert_new(
        sorted(new, key=lambda c: (c.wa_id or "", c.business_scoped_user_id or "")),
        ("wa_id", "business_scoped_user_id"),
    )
    stored = _stored_contacts([c for c in new if c.pk is None])
    for sender, contact in chosen.items():
        batch.contacts[sender] = stored.get(id(contact), contact)
    _save_contacts(changed.values())
    return {contact.pk for contact in created}


def _identities(senders: Iterable[tuple[str, str]]) -> Q:
    wa_ids = sorted({wa_id for wa_id, _ in senders if wa_id})
    user_ids = sorted({user_id for _, user_id in senders if user_id})
    lookups = []
    if wa_ids:
        lookups.append(Q(wa_id__in=wa_ids))
    if user_ids:
        lookups.append(Q(business_scoped_user_id__in=user_ids))
    return reduce(operator.or_, lookups)


def _stored_contacts(refused: list[Contact]) -> dict[int, Contact]:
    """The contacts another worker created first, for ours it refused (by ``id()``): the
    oldest holding one of its identities, as ``_create_contact`` finds it."""
    if not refused:
        return {}
    senders = [(c.wa_id or "", c.business_scoped_user_id or "") for c in refused]
    stored = list(Contact.objects.filter(_identities(senders)).order_by("pk"))
    found = {}
    for contact, (wa_id, user_id) in zip(refused, senders, strict=True):
        holders = [
            c
            for c in stored
            if (wa_id and c.wa_id == wa_id) or (user_id and c.business_scoped_user_id == user_id)
        ]
        if not holders:
            raise IntegrityError(f"contact {wa_id or user_id} refused, and not found")
        found[id(contact)] = holders[0]
    return found


def _save_contacts(changed: Iterable[tuple[Contact, set[str]]]) -> None:
    """Profile names (one UPDATE) and reachability (one UPDATE) of known contacts."""
    renamed = [contact for contact, columns in changed if "profile_name" in columns]
    reachable = [contact.pk for contact, columns in changed if "unreachable_at" in columns]
    if renamed:
        Contact.objects.bulk_update(renamed, ["profile_name"])
    if reachable:
        Contact.objects.filter(pk__in=reachable).update(unreachable_at=None)


def _conversation(batch: _Batch, contact: Contact) -> Conversation:
    if contact.pk not in batch.conversations:
        conversation, _ = Conversation.objects.get_or_create(
            phone_number_id=batch.number_pk,
            contact=contact,
            defaults={"agency_id": batch.agency_id},
        )
        conversation.contact = contact
        batch.conversations[contact.pk] = conversation
    return batch.conversations[contact.pk]


def _conversations(batch: _Batch, contacts: list[Contact], new_contacts: set[int]) -> set[int]:
    """``_conversation`` for many contacts: one query finds them (none for a contact just
    created), one inserts the missing. The pks of the conversations created."""
    missing = {c.pk: c for c in contacts if c.pk not in batch.conversations}
    if not missing:
        return set()
    ours = Conversation.objects.filter(phone_number_id=batch.number_pk)
    known = [pk for pk in missing if pk not in new_contacts]
    found = list(ours.filter(contact_id__in=known)) if known else []
    found_for = {conversation.contact_id for conversation in found}
    new = [
        Conversation(agency_id=batch.agency_id, phone_number_id=batch.number_pk, contact_id=pk)
        for pk in sorted(missing)
        if pk not in found_for
    ]
    created = _insert_new(new, ("contact",))
    refused = [conversation.contact_id for conversation in new if conversation.pk is None]
    if refused:  # created meanwhile by a concurrent worker
        found += ours.filter(contact_id__in=refused)
    for conversation in [*found, *created]:
        conversation.contact = missing[conversation.contact_id]
        batch.conversations[conversation.contact_id] = conversation
    return {conversation.pk for conversation in created}


def _profile_name(profile: dict[str, Any] | None) -> str:
    inner = (profile or {}).get("profile")
    return _short(inner.get("name"), 200) if isinstance(inner, dict) else ""


# --- revoke, edit, system ---------------------------------------------------------------------


def _original(notice: Message, payload_key: str, *, lock: bool = False) -> Message | None:
    payload = notice.content.get(payload_key)
    wamid = _short(payload.get("original_message_id"), 200) if isinstance(payload, dict) else ""
    if not wamid:
        return None
    originals = Message.objects.filter(
        phone_number_id=notice.phone_number_id,
        wamid=wamid,
        direction=Message.Direction.INBOUND,
        contact_id=notice.contact_id,  # a citizen can only delete or edit their own message
    )
    return (originals.select_for_update() if lock else originals).first()


def _apply_revoke(notice: Message) -> None:
    """The citizen deleted a message for everyone: mark it, keep its content (a record)."""
    original = _original(notice, "revoke")
    if original is not None and original.revoked_at is None:
        Message.objects.filter(pk=original.pk).update(revoked_at=notice.received_at)


def _apply_edit(batch: _Batch, notice: Message) -> None:
    """Make the edit the original's content and keep every earlier version, in the order the
    citizen wrote them (edits can arrive out of order)."""
    original = _original(notice, "edit", lock=True)
    if original is None:
        return  # applied when the original arrives (_apply_pending_notices)
    edited = notice.content["edit"].get("message")
    edited = edited if isinstance(edited, dict) else {}
    kind = _short(edited.get("type"), 32) or original.type
    content = stored_form(kind, edited)
    at = notice.received_at or timezone.now()
    versions = [(v["content"], datetime.fromisoformat(v["at"])) for v in original.content_history]
    versions.append((original.content, original.edited_at or original.received_at or at))
    if (content, at) in versions:
        return
    first, *later = versions
    versions = [first, *sorted([*later, (content, at)], key=lambda version: version[1])]
    original.content_history = [
        {"content": body, "at": _iso(since), "replaced_at": _iso(versions[i + 1][1])}
        for i, (body, since) in enumerate(versions[:-1])
    ]
    original.content, original.edited_at = versions[-1]
    original.type = _short(original.content.get("type"), 32) or original.type
    media, media_is_new = _media_object(batch, original.type, original.content.get(original.type))
    if media is not None:
        original.media = media
        if media_is_new:
            _schedule_download(media)
    original.save(update_fields=["content", "content_history", "edited_at", "type", "media"])


def _apply_pending_notices(batch: _Batch, rows: list[Message]) -> None:
    """An edit or revoke can arrive before the message it changes: apply it now (for many
    new rows, one query finds them all)."""
    if not rows:
        return
    wamids = [row.wamid for row in rows]
    notices = (
        Message.objects.filter(
            conversation_id__in={row.conversation_id for row in rows},
            direction=Message.Direction.INBOUND,
            type__in=("revoke", "edit"),
        )
        .filter(
            Q(content__revoke__original_message_id__in=wamids)
            | Q(content__edit__original_message_id__in=wamids)
        )
        .order_by("received_at", "pk")
    )
    waiting: dict[tuple[int, Any], list[Message]] = {}
    for notice in notices:
        payload = notice.content.get(notice.type)
        original = payload.get("original_message_id") if isinstance(payload, dict) else None
        waiting.setdefault((notice.conversation_id, original), []).append(notice)
    for row in rows:
        for notice in waiting.get((row.conversation_id, row.wamid), []):
            if notice.type == "revoke":
                _apply_revoke(notice)
            else:
                _apply_edit(batch, notice)


def _apply_system(batch: _Batch, row: Message) -> None:
    system = row.content.get("system")
    if not isinstance(system, dict):
        return
    kind = system.get("type")
    contact = row.contact
    if kind in ("user_changed_number", "customer_changed_number"):
        new = _identity(system.get("wa_id") or system.get("new_wa_id"), 32)
        if new and new != contact.wa_id:
            _move_identity(batch, contact, "wa_id", new, phone_e164=_phone(new))
    elif kind == "user_changed_user_id":
        new = _identity(system.get("user_id") or system.get("new_user_id"), 128)
        if new and new != contact.business_scoped_user_id:
            _move_identity(batch, contact, "business_scoped_user_id", new)
    # customer_identity_changed (the security code changed): the row itself is the record.


def _move_identity(batch: _Batch, contact: Contact, column: str, new: str, **also: str) -> None:
    """The citizen's number (or user id) changed: the same person, so the same contact and
    history — unless another contact already has the new one (then both are kept)."""
    old = getattr(contact, column)
    if Contact.objects.filter(**{column: new}).exclude(pk=contact.pk).exists():
        logger.info("contact %s: new %s already belongs to another contact", contact.pk, column)
        return
    try:
        with transaction.atomic():
            Contact.objects.filter(pk=contact.pk).update(**{column: new}, **also)
    except IntegrityError:
        return
    setattr(contact, column, new)
    for name, value in also.items():
        setattr(contact, name, value)
    batch.contacts.clear()
    record_event(
        agency_id=batch.agency_id,
        actor=Actor.system(COMPONENT),
        action="contact.identity_changed",
        target=contact,
        changes={column: [old, new]},
    )


# --- change-level errors ------------------------------------------------------------------------


def _record_change_errors(batch: _Batch, errors: list[dict[str, Any]]) -> None:
    """Meta could not deliver something a citizen sent, and named no message: one row per
    contact the change names. Nobody named: quarantine the change, so operators see it."""
    if batch.change.value.get("statuses"):
        # About the statuses beside them, not a citizen's message; never roll those back.
        logger.warning("change-level errors beside statuses: %s", _describe(errors))
        return
    senders = {
        (_identity(item.get("wa_id"), 32), _identity(item.get("user_id"), 128)): item
        for item in batch.listed
    }
    senders.pop(("", ""), None)
    if not senders:
        raise InvalidChange(f"Meta reported errors for no message: {_describe(errors)}")
    for (wa_id, user_id), item in senders.items():
        contact = _contact(batch, wa_id, user_id, _profile_name(item))
        conversation = _conversation(batch, contact)
        # No wamid from Meta: a stable key makes a redelivery a duplicate all the same.
        key = json.dumps([wa_id, user_id, errors], sort_keys=True, default=str)
        row = _insert(
            batch,
            conversation,
            wamid=f"errors.{hashlib.sha256(key.encode()).hexdigest()[:48]}",
            type="errors",
            content={"type": "errors", "errors": errors},
            received_at=timezone.now(),
            sender_type=Message.SenderType.SYSTEM,
            **_error_fields(errors),
        )
        if row is not None:
            _touch_conversation(conversation, row)


def _describe(errors: list[dict[str, Any]]) -> str:
    fields = _error_fields(errors)
    return f"{fields.get('error_code')} {fields.get('error_reason', '')}"[:300]


# --- user preferences ---------------------------------------------------------------------------


def handle_user_preferences(change: Change) -> None:
    """A citizen stopped (or resumed) marketing messages inside WhatsApp: Meta will refuse
    our marketing templates (131050) until they resume, so the policy refuses them first."""
    batch = _Batch.of(change)
    for item in _items(change.value, "user_preferences"):
        status = _PREFERENCE_STATUS.get(str(item.get("value", "")).lower())
        if item.get("category") != "marketing_messages" or status is None:
            logger.info("user preference ignored: %s/%s", item.get("category"), item.get("value"))
            continue
        wa_id = _identity(item.get("wa_id"), 32)
        user_id = _identity(item.get("user_id"), 128)
        if not (wa_id or user_id):
            raise InvalidChange("a user preference names no user (wa_id / user_id)")
        contact = _contact(batch, wa_id, user_id, _profile_name(batch.profile(wa_id, user_id)))
        _record_preference(batch, contact, status, item)


def _record_preference(batch: _Batch, contact: Contact, status: str, item: dict[str, Any]) -> None:
    recorded_at = min(unix_time(item.get("timestamp")) or timezone.now(), timezone.now())
    # Serializes two deliveries of the same preference, so the check below is exact.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    consents = Consent.objects.filter(
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        source=Consent.Source.WHATSAPP_PREFERENCES,
    )
    if consents.filter(status=status, recorded_at=recorded_at).exists():
        return  # a redelivery
    consent = Consent.objects.create(
        agency_id=batch.agency_id,
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        status=status,
        source=Consent.Source.WHATSAPP_PREFERENCES,
        evidence={**item, "phone_number_id": batch.change.route.phone_number_id},
        recorded_at=recorded_at,
    )
    record_event(
        agency_id=batch.agency_id,
        actor=Actor.system(COMPONENT),
        action=f"consent.{status}",
        target=consent,
        changes={
            "contact": contact.pk,
            "topic": policy.WHATSAPP_MARKETING_TOPIC,
            "source": Consent.Source.WHATSAPP_PREFERENCES.value,
        },
    )


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
