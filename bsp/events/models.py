"""The outbox: one row per domain event, and one sequence counter per agency."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.scoping import AgencyOwnedModel


class DomainEvent(AgencyOwnedModel):
    """A change the platform made, written in the transaction that made it.

    ``sequence`` counts the agency's events from 1 with no gap and in commit order (see
    ``bsp.events.services``), so a consumer that has seen n only ever needs what is after n.
    ``subject`` holds the ids the event is about (``{"message": 12, "conversation": 3}``),
    ``payload`` what changed."""

    # No foreign-key trigger or index of its own: a per-row referential check and a second
    # index were a third of the cost of publishing. The agency is vouched for by the
    # EventCounter row the same statement increments (that one keeps its foreign key), and
    # (agency, sequence) is indexed by the unique constraint below. Agencies are never
    # deleted (their records outlive them).
    agency = models.ForeignKey(
        "tenants.Agency",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    sequence = models.BigIntegerField()
    type = models.CharField(max_length=64)
    subject = models.JSONField(default=dict)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the dispatcher's index: an agency's events after its cursor, in order.
            models.UniqueConstraint(fields=["agency", "sequence"], name="event_unique_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence}"


class EventCounter(AgencyOwnedModel):
    """The agency's last sequence number. Publishing updates this row, which it keeps
    locked until the transaction ends: that lock is what makes sequence order commit order."""

    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="event_counter_unique")]

    def __str__(self) -> str:
        return f"events of agency {self.agency_id}: {self.last_sequence}"


class EventCursor(AgencyOwnedModel):
    """How far the dispatcher has delivered the agency's events: every event up to
    ``dispatched_through`` has been handed to every consumer. One row per agency, claimed
    ``FOR UPDATE SKIP LOCKED`` by the dispatcher that serves it (so one at a time, in
    order); one UPDATE per batch instead of one per event."""

    dispatched_through = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="event_cursor_unique")]

    def __str__(self) -> str:
        return f"events of agency {self.agency_id} dispatched through {self.dispatched_through}"
