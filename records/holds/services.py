"""Placing and releasing legal holds, and the checks that refuse deleting held records.

``place_hold`` lists the messages its selection names now (one INSERT … SELECT); later
arrivals are added by the stream consumer (``records.holds.consumers``). ``release_hold``
closes the hold; its rows stay as the history of what it held. Each change is one audit
event (``records.audit``) and one event on the stream, in the same transaction.

Deleting a held record is refused three times over: ``ensure_deletable_*`` here (raising
``HeldRecordError`` with the matter), the disposition's own re-check at execution, and
the database trigger of migration 0012, whose error ``held_error`` turns into the same
``HeldRecordError``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.models import Message
from records import selection as selections
from records.audit import Actor, record_event
from records.holds import HeldRecordError
from records.holds.models import LegalHold
from records.holds.selectors import open_holds_for_conversation, open_holds_for_messages
from records.selection import Selection
from tenants.scoping import agency_scope, system_scope
from tenants.services import ApplicationError

MAX_MATTER = 100
MAX_REASON = 2000


class HoldError(ApplicationError):
    """A hold cannot be placed or released as asked (the message says why)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def place_hold(
    agency_id: int,
    *,
    matter_id: str,
    reason: str,
    owner_id: int | None,
    selection: Selection,
    actor: Actor,
) -> LegalHold:
    matter_id, reason = matter_id.strip(), reason.strip()
    if not matter_id:
        raise HoldError("Give the matter id the hold is for.", field="matter_id")
    if len(matter_id) > MAX_MATTER:
        raise HoldError(f"A matter id has at most {MAX_MATTER} characters.", field="matter_id")
    if not reason:
        raise HoldError("Say why the records are held.", field="reason")
    if len(reason) > MAX_REASON:
        raise HoldError(f"A reason has at most {MAX_REASON} characters.", field="reason")
    now = timezone.now()
    with agency_scope(agency_id), transaction.atomic():
        hold = LegalHold.objects.create(
            agency_id=agency_id,
            matter_id=matter_id,
            reason=reason,
            owner_id=owner_id,
            selection=selection.to_json(),
            placed_at=now,
            placed_by_id=actor.id,
            placed_by_label=actor.label[:200],
        )
        held = _hold_matching(hold, selections.messages(agency_id, selection), now)
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.legal_hold_placed",
            target=hold,
            changes={
                "matter_id": matter_id,
                "reason": reason,
                "owner_id": owner_id,
                "selection": hold.selection,
                "messages_held": held,
            },
        )
        events.publish(
            agency_id=agency_id,
            type=types.LEGAL_HOLD_PLACED,
            subject={"hold": hold.pk},
            payload={"matter_id": matter_id, "messages_held": held},
        )
    return hold


def release_hold(hold_id: int, *, reason: str, actor: Actor) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise HoldError("Say why the hold is released.", field="reason")
    if len(reason) > MAX_REASON:
        raise HoldError(f"A reason has at most {MAX_REASON} characters.", field="reason")
    with system_scope():
        agency_id = LegalHold.objects.filter(pk=hold_id).values_list("agency_id", flat=True).get()
    with agency_scope(agency_id), transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold_id)
        if not hold.is_open:
            raise HoldError(f"The hold for matter {hold.matter_id} is already released.")
        hold.status = LegalHold.Status.RELEASED
        hold.released_at = timezone.now()
        hold.released_by_id = actor.id
        hold.released_by_label = actor.label[:200]
        hold.release_reason = reason
        hold.save(
            update_fields=[
                "status",
                "released_at",
                "released_by_id",
                "released_by_label",
                "release_reason",
            ]
        )
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.legal_hold_released",
            target=hold,
            changes={"matter_id": hold.matter_id, "reason": reason},
        )
        events.publish(
            agency_id=agency_id,
            type=types.LEGAL_HOLD_RELEASED,
            subject={"hold": hold.pk},
            payload={"matter_id": hold.matter_id},
        )
    return hold


def hold_arrivals(
    agency_id: int, message_ids: Iterable[int], conversation_ids: Iterable[int] = ()
) -> dict[int, int]:
    """Add to every open hold the messages among ``message_ids`` — and of the conversations
    ``conversation_ids`` (a label added: a label hold now names them) — that its selection
    names (the stream consumer's work); how many each hold gained. Idempotent: a message
    already listed is not counted again. One ``legal_hold.changed`` event per hold that
    gained."""
    ids = sorted(set(message_ids))
    conversations = sorted(set(conversation_ids))
    if not ids and not conversations:
        return {}
    arrivals = Q(pk__in=ids) | Q(conversation_id__in=conversations)
    gained: dict[int, int] = {}
    now = timezone.now()
    for hold in LegalHold.objects.filter(agency_id=agency_id, status=LegalHold.Status.OPEN):
        selection = Selection.from_json(hold.selection)
        if not ids and selection.label_id is None:
            continue  # only a label hold can newly name a conversation's older messages
        found = selections.messages(agency_id, selection).filter(arrivals)
        added = _hold_matching(hold, found, now)
        if added:
            gained[hold.pk] = added
    if gained:
        events.publish_many(
            agency_id,
            [
                events.Event(types.LEGAL_HOLD_CHANGED, {"hold": pk}, {"messages_added": added})
                for pk, added in sorted(gained.items())
            ],
        )
    return gained


def _hold_matching(hold: LegalHold, found, now) -> int:  # type: ignore[no-untyped-def]
    """INSERT … SELECT the messages of ``found`` under ``hold``; how many were new."""
    sql, params = found.values("id", "conversation_id").query.sql_with_params()
    # The ORM's own SQL for the selection, its values as parameters.
    insert = (
        "INSERT INTO records_heldmessage "  # noqa: S608
        "(agency_id, hold_id, message_id, conversation_id, held_at) "
        # WHERE true: SQLite (the demo) cannot parse INSERT … SELECT … ON CONFLICT without a
        # WHERE (its upsert parsing ambiguity); PostgreSQL does not mind.
        f"SELECT %s, %s, s.id, s.conversation_id, %s FROM ({sql}) s WHERE true "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            insert,
            [hold.agency_id, hold.pk, now, *params],
        )
        return cursor.rowcount


# --- Refusing to delete held records ------------------------------------------------------


def _refusal(what: str, holds: Iterable[LegalHold]) -> HeldRecordError | None:
    matters = sorted({hold.matter_id for hold in holds})
    if not matters:
        return None
    named = ", ".join(matters)
    plural = "s" if len(matters) > 1 else ""
    return HeldRecordError(
        f"{what} is under legal hold (matter{plural} {named}): it cannot be deleted until "
        f"the hold{plural} {'are' if plural else 'is'} released.",
        matters=matters,
    )


def ensure_conversation_deletable(conversation_id: int) -> None:
    """Raise ``HeldRecordError`` if the conversation (its messages, files or notes) is held."""
    error = _refusal(
        f"Conversation {conversation_id}", open_holds_for_conversation(conversation_id)
    )
    if error:
        raise error


def ensure_messages_deletable(message_ids: Iterable[int]) -> None:
    ids = list(message_ids)
    what = f"Message {ids[0]}" if len(ids) == 1 else f"Some of these {len(ids)} messages"
    error = _refusal(what, open_holds_for_messages(ids))
    if error:
        raise error


def ensure_media_deletable(media_id: int) -> None:
    message_ids = Message.objects.filter(media_id=media_id).values_list("pk", flat=True)
    error = _refusal(f"Media file {media_id}", open_holds_for_messages(message_ids))
    if error:
        raise error


def ensure_note_deletable(conversation_id: int, note_id: int) -> None:
    error = _refusal(
        f"Note {note_id} (conversation {conversation_id})",
        open_holds_for_conversation(conversation_id),
    )
    if error:
        raise error


def held_error(error: IntegrityError) -> HeldRecordError | None:
    """The ``HeldRecordError`` for the database trigger's refusal (None for other errors)."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is None or getattr(diag, "message_hint", None) != "legal_hold":
        return None
    text = diag.message_primary or str(cause)
    matter = text.split("(matter ", 1)[-1].split(")", 1)[0] if "(matter " in text else ""
    return HeldRecordError(text, matters=(matter,) if matter else ())
