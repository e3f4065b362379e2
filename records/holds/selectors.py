"""Reads of the legal holds: what is held, by which hold, and what a selection covers.

Callers are inside the agency's scope (views, services, tasks), as every tenant read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from records import selection as selections
from records.holds.models import HeldMessage, LegalHold
from records.selection import Selection


def held_message_ids(agency_id: int) -> QuerySet[HeldMessage, int]:
    """Ids of the agency's messages under at least one open hold (a subquery)."""
    return (
        HeldMessage.objects.filter(agency_id=agency_id, hold__status=LegalHold.Status.OPEN)
        .values_list("message_id", flat=True)
        .distinct()
    )


def held_conversation_ids(agency_id: int) -> QuerySet[HeldMessage, int]:
    return (
        HeldMessage.objects.filter(agency_id=agency_id, hold__status=LegalHold.Status.OPEN)
        .values_list("conversation_id", flat=True)
        .distinct()
    )


def is_conversation_held(conversation_id: int) -> bool:
    return HeldMessage.objects.filter(
        conversation_id=conversation_id, hold__status=LegalHold.Status.OPEN
    ).exists()


def open_holds_for_conversation(conversation_id: int) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(
        status=LegalHold.Status.OPEN, held__conversation_id=conversation_id
    ).distinct()


def open_holds_for_messages(message_ids: Iterable[int]) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(
        status=LegalHold.Status.OPEN, held__message_id__in=list(message_ids)
    ).distinct()


def open_holds(agency_id: int) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(agency_id=agency_id, status=LegalHold.Status.OPEN)


def holds(agency_id: int, status: str = "") -> QuerySet[LegalHold]:
    found = LegalHold.objects.filter(agency_id=agency_id).annotate(
        message_count=Count("held", distinct=True)
    )
    if status:
        found = found.filter(status=status)
    return found.select_related("owner").order_by("-placed_at", "-id")


def hold(agency_id: int, pk: int) -> LegalHold:
    """The agency's hold (``LegalHold.DoesNotExist`` for another agency's)."""
    return LegalHold.objects.select_related("owner").get(agency_id=agency_id, pk=pk)


@dataclass(frozen=True)
class Coverage:
    messages: int
    conversations: int


def hold_coverage(hold: LegalHold) -> Coverage:
    held = HeldMessage.objects.filter(hold=hold)
    counts = held.aggregate(
        messages=Count("message_id", distinct=True),
        conversations=Count("conversation_id", distinct=True),
    )
    return Coverage(counts["messages"], counts["conversations"])


def selection_coverage(agency_id: int, selection: Selection) -> Coverage:
    """What a hold on ``selection`` would cover now (the place form's live preview)."""
    found = selections.messages(agency_id, selection)
    counts = found.aggregate(
        messages=Count("id", distinct=True),
        conversations=Count("conversation_id", distinct=True),
    )
    return Coverage(counts["messages"], counts["conversations"])


@dataclass(frozen=True)
class HeldConversation:
    conversation_id: int
    contact: str  # the citizen's number as stored (wa_id), or "" when the row is gone
    messages: int


def held_conversations(hold: LegalHold, limit: int = 50) -> list[HeldConversation]:
    """The conversations the hold holds, most messages first (the hold's page)."""
    from messaging.models import Conversation

    rows = list(
        HeldMessage.objects.filter(hold=hold)
        .values("conversation_id")
        .annotate(messages=Count("message_id"))
        .order_by("-messages", "conversation_id")[:limit]
    )
    contacts = dict(
        Conversation.objects.filter(pk__in=[r["conversation_id"] for r in rows]).values_list(
            "pk", "contact__wa_id"
        )
    )
    return [
        HeldConversation(
            r["conversation_id"], contacts.get(r["conversation_id"], ""), r["messages"]
        )
        for r in rows
    ]
