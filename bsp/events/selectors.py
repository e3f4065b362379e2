"""Reading the stream from the table: what consumers without Redis (the embedded demo's
live pages) poll, and what a consumer that missed messages on its channel catches up from."""

from __future__ import annotations

from typing import Any

from bsp.events.models import DomainEvent, EventCounter
from tenants.context import agency_scope


def events_after(agency_id: int, sequence: int, limit: int = 100) -> list[dict[str, Any]]:
    """The agency's events with a sequence above ``sequence``, oldest first, at most
    ``limit``, in the shape the Redis channel carries. Sequences are gap-free and visible
    in order, so the last one returned is the next call's ``sequence``."""
    rows = (
        DomainEvent.objects.filter(agency_id=agency_id, sequence__gt=sequence)
        .order_by("sequence")
        .values("sequence", "type", "subject", "payload", "created_at")[: max(0, limit)]
    )
    return [as_message(agency_id, row) for row in rows]


def last_sequence(agency_id: int) -> int:
    """The agency's latest committed sequence (0 before its first event): a page rendered
    now has seen everything up to it, so its live stream starts after it."""
    with agency_scope(agency_id):
        counter = EventCounter.objects.filter(agency_id=agency_id)
        return counter.values_list("last_sequence", flat=True).first() or 0


def as_message(agency_id: int, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "agency": agency_id,
        "sequence": row["sequence"],
        "type": row["type"],
        "subject": row["subject"],
        "payload": row["payload"],
        "created_at": row["created_at"].isoformat(),
    }
