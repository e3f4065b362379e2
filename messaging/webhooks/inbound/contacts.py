"""Contacts (by wa_id or business-scoped user id) and conversations: found or created, in
batches; the conversation's window moved by the citizen's messages, and in the same UPDATE
the columns the inbox lists (snippet, unread count, waiting since, reopened status)."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from bsp.events import types
from messaging import policy, previews
from messaging.models import Contact, Conversation, Message
from messaging.webhooks.inbound.batch import (
    _NO_REOPEN,
    _NOT_BY_CITIZEN,
    _NOT_LISTED,
    _NOT_UNREAD,
    _Batch,
    _insert_new,
    _phone,
)
from records.dlp.masking import mask_preview

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
        conversation, created = Conversation.objects.get_or_create(
            phone_number_id=batch.number_pk,
            contact=contact,
            defaults={"agency_id": batch.agency_id},
        )
        if created:
            _created(batch, conversation)
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
    for conversation in created:
        _created(batch, conversation)
    return {conversation.pk for conversation in created}


def _created(batch: _Batch, conversation: Conversation) -> None:
    subject = {
        "conversation": conversation.pk,
        "contact": conversation.contact_id,
        "phone_number": conversation.phone_number_id,
    }
    batch.publish(types.CONVERSATION_CREATED, subject, {})


def _window_opened(
    batch: _Batch,
    conversation_pk: int,
    contact_pk: int,
    before: datetime | None,
    after: datetime | None,
    now: datetime,
) -> None:
    """``conversation.window_opened`` when the window was closed (or never open) and the
    citizen's message opened it; a message inside an open window only extends it."""
    if after is not None and after > now and (before is None or before <= now):
        subject = {"conversation": conversation_pk, "contact": contact_pk}
        batch.publish(types.CONVERSATION_WINDOW_OPENED, subject, {"window_expires_at": after})


def _reopened(
    batch: _Batch,
    conversation_pk: int,
    contact_pk: int,
    previous: str,
    assignee_pk: int | None,
    team_pk: int | None,
) -> None:
    """``conversation.status`` when the citizen's message reopened a pending, snoozed or
    resolved conversation (as ``inbox.services`` publishes a status change)."""
    batch.publish(
        types.CONVERSATION_STATUS,
        {"conversation": conversation_pk, "contact": contact_pk},
        {
            "status": Conversation.Status.OPEN.value,
            "previous": previous,
            "snoozed_until": None,
            "assignee": assignee_pk,
            "team": team_pk,
            "by": None,
            "reason": "citizen_wrote",
        },
    )


def _touch_conversation(batch: _Batch, conversation: Conversation, row: Message) -> None:
    """Move the window to the message's own time, never backwards (a late old message, or
    two workers at once, cannot shrink it: GREATEST in the UPDATE), and keep the list's
    columns with it: the snippet, unread count and waiting time (``_TOUCH_SQL``)."""
    now = timezone.now()
    at = min(row.received_at or now, now)  # a clock ahead opens nothing
    updates: dict[str, Any] = {"last_message_at": _latest("last_message_at", at)}
    opens = row.type not in _NOT_BY_CITIZEN
    if opens:
        updates["last_inbound_at"] = _latest("last_inbound_at", at)
        updates["window_expires_at"] = _latest("window_expires_at", at + policy.WINDOW)
    if row.type not in _NOT_LISTED:
        updates["last_preview"] = _newer_preview({conversation.pk: (at, _preview(row))})
    if row.type not in _NOT_UNREAD:
        updates["unread_count"] = F("unread_count") + 1
        updates["waiting_since"] = Coalesce(F("waiting_since"), _moment(at))
    reopens = row.type not in _NO_REOPEN
    if reopens:
        updates.update(_REOPENED)
    target = Conversation.objects.filter(pk=conversation.pk)
    locked = target.select_for_update().values_list(*_BEFORE).first()
    if locked is None:
        return
    before, status, assignee_pk, team_pk = locked
    target.update(**updates)
    if opens:
        after = target.values_list("window_expires_at", flat=True).first()
        _window_opened(batch, conversation.pk, conversation.contact_id, before, after, now)
    if reopens and status != Conversation.Status.OPEN:
        _reopened(batch, conversation.pk, conversation.contact_id, status, assignee_pk, team_pk)


# What the touch reads of a conversation first (locked), and sets when a message reopens it.
_BEFORE = ("window_expires_at", "status", "assignee_id", "team_id")
_REOPENED: dict[str, Any] = {
    "status": Conversation.Status.OPEN,
    "snoozed_until": None,
    "resolved_at": None,
}


def _preview(row: Message) -> str:
    # The list's snippet never shows a validated number in full (records.dlp.masking).
    return mask_preview(previews.preview(row.type, row.content))


@dataclass
class _Touch:
    """What a batch does to one conversation: its latest message (time and row), and the
    citizen's messages an agent has to read (how many, the earliest's time)."""

    at: datetime
    latest: Message
    unread: int = 0
    first_unread: datetime | None = None

    @property
    def preview(self) -> str:
        return _preview(self.latest)


def _touches(rows: list[Message], now: datetime) -> dict[int, _Touch]:
    touches: dict[int, _Touch] = {}
    for row in rows:
        at = min(row.received_at or now, now)  # a clock ahead opens nothing
        touch = touches.get(row.conversation_id)
        if touch is None:
            touch = touches[row.conversation_id] = _Touch(at, row)
        elif at >= touch.at:  # the same second: the later in the change is the latest
            touch.at, touch.latest = at, row
        if row.type not in _NOT_UNREAD:
            touch.unread += 1
            if touch.first_unread is None or at < touch.first_unread:
                touch.first_unread = at
    return touches


def _touch_conversations(batch: _Batch, rows: list[Message]) -> None:
    """``_touch_conversation`` for many citizens' messages (each opens the window, is
    listed and reopens its conversation: ``_ONE_BY_ONE`` keeps the others out) in one
    UPDATE: each conversation moves to its latest, counts its unread messages and waits
    since the earliest of them, unless it already waited."""
    touches = _touches(rows, timezone.now())
    if not touches:
        return
    now = timezone.now()
    touch = _touch_sql if connection.vendor == "postgresql" else _touch_portably
    for pk, contact_pk, opened, previous, assignee_pk, team_pk in sorted(
        touch(batch.agency_id, touches, now)
    ):
        if opened is not None:
            _window_opened(batch, pk, contact_pk, None, opened, now)
        if previous is not None:
            _reopened(batch, pk, contact_pk, previous, assignee_pk, team_pk)


# The conversations are locked in id order first: two workers touching overlapping sets
# queue behind each other instead of deadlocking, and each GREATEST reads the latest row.
# The snippet is the latest message's unless the citizen's later one is there already (a
# late old message). Not against last_message_at: Meta's times are whole seconds, so an
# answer to our reply can carry a time just before it. Every SET reads the row as it was.
_TOUCH_SQL = """
WITH v AS (
    SELECT * FROM unnest(
        %(ids)s::bigint[], %(at)s::timestamptz[], %(preview)s::text[], %(unread)s::integer[],
        %(first_unread)s::timestamptz[]
    ) AS v(id, at, preview, unread, first_unread)
),
target AS MATERIALIZED (
    SELECT c.id, c.window_expires_at AS before, c.status AS was FROM messaging_conversation c
    WHERE c.id = ANY(%(ids)s::bigint[]) AND c.agency_id = %(agency)s  -- primary-key lookups
    ORDER BY c.id
    FOR UPDATE OF c
)
UPDATE messaging_conversation AS c SET
    last_message_at = GREATEST(c.last_message_at, v.at),
    last_inbound_at = GREATEST(c.last_inbound_at, v.at),
    window_expires_at = GREATEST(c.window_expires_at, v.at + %(window)s),
    status = %(status)s,
    snoozed_until = NULL,
    resolved_at = NULL,
    unread_count = c.unread_count + v.unread,
    waiting_since = COALESCE(c.waiting_since, v.first_unread),
    last_preview = CASE WHEN c.last_inbound_at IS NULL OR c.last_inbound_at <= v.at
        THEN v.preview ELSE c.last_preview END
FROM target t JOIN v ON v.id = t.id
WHERE c.id = t.id
-- The window only when this opened it (parsing times costs): closed, or never open, before.
-- The status it had only when this reopened it.
RETURNING c.id, c.contact_id, CASE
    WHEN (t.before IS NULL OR t.before <= %(now)s) AND c.window_expires_at > %(now)s
    THEN c.window_expires_at
END, NULLIF(t.was, %(status)s), c.assignee_id, c.team_id
"""


# (conversation, contact, the window if this opened it, the status if this reopened it,
# assignee, team)
_Touched = tuple[int, int, datetime | None, str | None, int | None, int | None]


def _touch_sql(agency_id: int, touches: dict[int, _Touch], now: datetime) -> list[_Touched]:
    # PostgreSQL's GREATEST ignores NULLs: an empty column takes the value.
    params: dict[str, Any] = {
        "ids": list(touches),
        "at": [t.at for t in touches.values()],
        "preview": [t.preview for t in touches.values()],
        "unread": [t.unread for t in touches.values()],
        "first_unread": [t.first_unread for t in touches.values()],
        "agency": agency_id,
        "window": policy.WINDOW,
        "status": Conversation.Status.OPEN.value,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH_SQL, params)
        return cursor.fetchall()


def _touch_portably(agency_id: int, touches: dict[int, _Touch], now: datetime) -> list[_Touched]:
    def per_conversation(offset: timedelta) -> Case:
        moments = [When(pk=pk, then=_moment(t.at + offset)) for pk, t in touches.items()]
        return Case(*moments, output_field=DateTimeField())

    at, expiry = per_conversation(timedelta(0)), per_conversation(policy.WINDOW)
    targets = Conversation.objects.filter(agency_id=agency_id, pk__in=touches)
    before = list(targets.values_list("pk", "contact_id", *_BEFORE))
    updates: dict[str, Any] = {
        "last_message_at": _latest("last_message_at", at),
        "last_inbound_at": _latest("last_inbound_at", at),
        "window_expires_at": _latest("window_expires_at", expiry),
        "last_preview": _newer_preview({pk: (t.at, t.preview) for pk, t in touches.items()}),
        **_REOPENED,
    }
    unread = {pk: t for pk, t in touches.items() if t.unread}
    if unread:
        counts = [When(pk=pk, then=Value(t.unread)) for pk, t in unread.items()]
        updates["unread_count"] = F("unread_count") + Case(*counts, default=Value(0))
        firsts = [When(pk=pk, then=_moment(t.first_unread)) for pk, t in unread.items()]
        updates["waiting_since"] = Coalesce(
            F("waiting_since"), Case(*firsts, output_field=DateTimeField())
        )
    targets.update(**updates)
    # The writer excludes others here (SQLite), so the window after is computed, not read.
    touched = []
    for pk, contact_pk, expires, status, assignee_pk, team_pk in before:
        after = touches[pk].at + policy.WINDOW
        after = max(expires, after) if expires else after
        opened = after > now and (expires is None or expires <= now)
        previous = status if status != Conversation.Status.OPEN else None
        touched.append((pk, contact_pk, after if opened else None, previous, assignee_pk, team_pk))
    return touched


def _newer_preview(latest: dict[int, tuple[datetime, str]]) -> Case:
    """Each conversation's new snippet, unless the citizen's later message is there already
    (as in ``_TOUCH_SQL``)."""
    newer = [
        When(
            Q(pk=pk) & (Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lte=at)),
            then=Value(preview),
        )
        for pk, (at, preview) in latest.items()
    ]
    return Case(*newer, default=F("last_preview"))


def _moment(value: datetime | None) -> Value:
    return Value(value, output_field=DateTimeField())


def _latest(column: str, value: datetime | Case) -> Greatest:
    # An empty column takes the value. COALESCE because SQLite's GREATEST (MAX) is NULL
    # when an argument is; PostgreSQL's ignores NULLs.
    moment = value if isinstance(value, Case) else _moment(value)
    return Greatest(Coalesce(F(column), moment), moment)
