"""Writing the outbox (``publish_many``; ``bsp.events.publish`` is the one-event form).

Order. The sequence comes from the agency's ``EventCounter`` row, incremented by the same
statement that inserts the events. That row stays locked until the transaction ends, so a
second transaction publishing for the same agency waits at its own publish until the first
has committed (or rolled back): sequence order is commit order, and a reader that sees
event n has already been able to see every event before it. Nothing is "assigned at
insert, visible later" out of order, and a rollback leaves no gap (the counter rolls back
too). The price is that an agency's publishing transactions are serialized from their
publish to their commit, which is why producers publish once, at the end of their work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from bsp.events import Event, OutsideTransaction
from bsp.events.models import DomainEvent

_PUBLISH_SQL = """
WITH counter AS (
    INSERT INTO events_eventcounter AS c (agency_id, last_sequence) VALUES (%(agency)s, %(n)s)
    ON CONFLICT (agency_id) DO UPDATE SET last_sequence = c.last_sequence + EXCLUDED.last_sequence
    RETURNING c.last_sequence
)
INSERT INTO events_domainevent (agency_id, sequence, type, subject, payload, created_at)
SELECT %(agency)s, counter.last_sequence - %(n)s + v.n, v.e ->> 0, v.e -> 1, v.e -> 2, %(now)s
FROM counter, jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS v(e, n)
"""


def publish_many(agency_id: int, events: Iterable[Event | tuple[Any, ...]]) -> int:
    """Append ``events`` (in this order) to the agency's stream, in one statement; how many.

    Must run inside the transaction that makes the change (``transaction.atomic``); a
    rollback publishes nothing. Consumers get them after the commit (the dispatcher is
    woken then)."""
    batch = [item if isinstance(item, Event) else Event(*item) for item in events]
    if not batch or not settings.EVENT_STREAM_ENABLED:
        return 0
    if not connection.in_atomic_block:
        raise OutsideTransaction("bsp.events.publish() must run inside transaction.atomic()")
    now = timezone.now()
    if on_postgresql():
        # One JSON document of [type, subject, payload] triples: text[]/jsonb[] array
        # parameters are escaped element by element by the driver (that was most of the
        # cost of publishing).
        params: dict[str, Any] = {
            "agency": agency_id,
            "n": len(batch),
            "now": now,
            "events": _json([[event.type, event.subject, event.payload] for event in batch]),
        }
        with connection.cursor() as cursor:
            cursor.execute(_PUBLISH_SQL, params)
    else:
        _publish_portably(agency_id, batch, now)
    _wake_after_commit()
    return len(batch)


# SQLite 3.35+ has the same upsert and RETURNING; the scope is the caller's (RLS is
# PostgreSQL's, and there the statement above is used).
_COUNT_SQL = """
INSERT INTO events_eventcounter AS c (agency_id, last_sequence) VALUES (%s, %s)
ON CONFLICT (agency_id) DO UPDATE SET last_sequence = c.last_sequence + excluded.last_sequence
RETURNING last_sequence
"""


def on_postgresql() -> bool:
    """Whether the one-statement SQL applies (else the ORM path SQLite runs)."""
    return connection.vendor == "postgresql"


def _publish_portably(agency_id: int, batch: list[Event], now: Any) -> None:
    """The same on SQLite (the demo), where a write transaction already excludes others."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, [agency_id, len(batch)])
        (last,) = cursor.fetchone()
    first = last - len(batch) + 1
    DomainEvent.objects.bulk_create(
        DomainEvent(
            agency_id=agency_id,
            sequence=first + index,
            type=event.type,
            subject=json.loads(_json(event.subject)),
            payload=json.loads(_json(event.payload)),
            created_at=now,
        )
        for index, event in enumerate(batch)
    )


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"))


def _wake_after_commit() -> None:
    """One wake-up per transaction, however many publishes it made."""
    # django-stubs has Django 4's (sids, func) pairs; Django 5 keeps (sids, func, robust).
    if any(callback is _wake for _, callback, _ in connection.run_on_commit):  # type: ignore[misc]
        return
    transaction.on_commit(_wake, robust=True)  # a broker hiccup must not fail the change


def _wake() -> None:
    from bsp.events.dispatch import wake_dispatcher

    wake_dispatcher()
