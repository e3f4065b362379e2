"""The automatic legal hold of an open request: every message of its review set not marked
not responsive (pending ones too: they may yet be responsive) is held through
``records.holds`` while the request is open, released when it closes.

A hold's selection is fixed when it is placed, so a review-set change places the new hold
first, then releases the previous one: the records are never unheld in between (both in the
caller's transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from records.audit import Actor
from records.selection import Selection

if TYPE_CHECKING:
    from records.foia.models import RecordsRequest


def held_message_ids(request: RecordsRequest) -> tuple[int, ...]:
    from records.foia.models import RequestItem

    ids = (
        RequestItem.objects.filter(request=request)
        .exclude(decision=RequestItem.Decision.NOT_RESPONSIVE)
        .order_by("message_id")
        .values_list("message_id", flat=True)
    )
    return tuple(ids)


def sync(request: RecordsRequest, actor: Actor) -> None:
    """Place or replace the request's hold so it covers its review set (sets ``hold_id``;
    the caller saves)."""
    from records.holds.models import LegalHold
    from records.holds.services import place_hold, release_hold

    wanted = held_message_ids(request)
    previous = LegalHold.objects.filter(pk=request.hold_id).first() if request.hold_id else None
    if previous is not None and previous.is_open:
        held = Selection.from_json(previous.selection).message_ids
        if tuple(sorted(held)) == wanted:
            return
    elif previous is not None:  # released by someone else: the request holds afresh
        previous = None
    if wanted:
        hold = place_hold(
            request.agency_id,
            matter_id=f"Records request {request.number}",
            reason=f"Public-records request {request.number} is open: its review set is held.",
            owner_id=request.created_by_id,
            selection=Selection(message_ids=wanted),
            actor=actor,
        )
        request.hold_id = hold.pk
    else:
        request.hold_id = None
    if previous is not None:
        release_hold(
            previous.pk,
            reason=f"Replaced by the hold of request {request.number}'s updated review set.",
            actor=actor,
        )


def release(request: RecordsRequest, actor: Actor) -> None:
    """Release the request's hold (it closes); sets ``hold_id`` to None."""
    from records.holds.models import LegalHold
    from records.holds.services import release_hold

    open_hold = LegalHold.objects.filter(pk=request.hold_id, status=LegalHold.Status.OPEN)
    if request.hold_id is not None and open_hold.exists():
        release_hold(
            request.hold_id, reason=f"Records request {request.number} closed.", actor=actor
        )
    request.hold_id = None
