"""The dispatcher: delivers each agency's committed events, in sequence order, to the
consumers (Celery queue ``events``).

Woken after a publishing transaction commits (at most one wake-up per ``WAKE_MS`` through a
Redis key, as the webhook drainer is), and by beat every few seconds as a safety net. A
pass takes each agency with undelivered events in turn: it claims the agency's cursor
(``EventCursor``, how far it has been delivered) ``FOR UPDATE SKIP LOCKED`` — another
dispatcher skips that agency instead of delivering its later events first — reads the
events after the cursor in sequence order, hands them to every consumer, and moves the
cursor in the same transaction: one UPDATE per batch, none per event. Delivery is
at least once: a dispatcher that dies after a consumer had the events but before its commit
delivers them again next time, so consumers keep the last sequence they applied and ignore
anything at or below it.

Consumers: the agency's Redis pub/sub channel ``civic:events:<database>:agency:<id>`` (one JSON
message per event: agency, sequence, type, subject, payload, created_at), where the live
inbox subscribes. Without Redis (the embedded demo) nothing is pushed: readers poll
``selectors.events_after``, and the dispatcher only marks events dispatched so that they
can be pruned (the cursor moves). Later consumers (integrator webhooks) ``register_consumer``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from bsp.celery import CeleryQueue
from bsp.events.models import DomainEvent, EventCounter, EventCursor
from bsp.events.selectors import as_message
from bsp.redis import redis_client
from tenants.context import agency_scope, system_scope

logger = logging.getLogger(__name__)

WAKE_KEY = "civic:events:dispatch"
WAKE_MS = 200
BATCH = 500
SECONDS = 20.0
PRUNE_BATCH = 10_000

# (agency id, the events in order, each as its JSON message)
Consumer = Callable[[int, list[str]], None]
_registered: list[Consumer] = []


def channel(agency_id: int) -> str:
    """The agency's pub/sub channel. Named after the database too: Redis channels are
    global to a server (not per numbered database), so two platforms (or two test
    databases) sharing a Redis never hear each other's agencies."""
    return f"civic:events:{connection.settings_dict['NAME']}:agency:{agency_id}"


# One command for a whole batch: subscribers still get one message per event, in order
# (a script runs atomically), and the client packs one command instead of hundreds.
_PUBLISH_ALL = """
for i = 1, #ARGV do redis.call('PUBLISH', KEYS[1], ARGV[i]) end
return #ARGV
"""


def redis_channel(agency_id: int, messages: list[str]) -> None:
    """Publish each event on the agency's channel, in order, in one round trip."""
    client = redis_client()
    if client is None:
        return
    for start in range(0, len(messages), BATCH):
        client.eval(_PUBLISH_ALL, 1, channel(agency_id), *messages[start : start + BATCH])


def register_consumer(consumer: Consumer) -> None:
    if consumer not in _registered:
        _registered.append(consumer)


def consumers() -> list[Consumer]:
    return [redis_channel, *_registered]


def wake_dispatcher(*, force: bool = False) -> None:
    """Make sure a dispatcher runs soon (after a commit that published). Without Redis
    there is nothing to push to; beat's pass marks the events dispatched."""
    from bsp.events.tasks import dispatch_events

    client = redis_client()
    if client is None:
        return
    if force or client.set(WAKE_KEY, 1, nx=True, px=WAKE_MS):
        dispatch_events.apply_async(queue=CeleryQueue.EVENTS, retry=False)


def dispatch(*, seconds: float = SECONDS) -> int:
    """Deliver pending events pass after pass for up to ``seconds``; how many. Returns
    early when none are left (after letting the next commit's wake-up through)."""
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        delivered = dispatch_pending()
        if not delivered:
            # Free the wake-up key *then* look once more: an event committed before the
            # key was freed is seen now; one committed after it wakes a new dispatcher.
            client = redis_client()
            if client is not None:
                client.delete(WAKE_KEY)
            delivered = dispatch_pending()
            if not delivered:
                return done
        done += delivered
    wake_dispatcher(force=True)  # more may be waiting: hand over instead of hogging a worker
    return done


def dispatch_pending(limit: int = BATCH) -> int:
    """One pass over every agency with undelivered events; how many were delivered."""
    with system_scope():
        cursors = dict(EventCursor.objects.values_list("agency_id", "dispatched_through"))
        counters = EventCounter.objects.values_list("agency_id", "last_sequence")
        agencies = sorted(a for a, last in counters if last > cursors.get(a, 0))
    return sum(dispatch_agency(agency_id, limit) for agency_id in agencies)


# The message each consumer gets, built by PostgreSQL (no JSON decoding and re-encoding
# in Python): the shape of selectors.as_message.
_PENDING_SQL = """
SELECT sequence, json_build_object(
    'agency', agency_id, 'sequence', sequence, 'type', type,
    'subject', subject, 'payload', payload, 'created_at', created_at
)::text
FROM events_domainevent
WHERE agency_id = %s AND sequence > %s
ORDER BY sequence
LIMIT %s
"""


def dispatch_agency(agency_id: int, limit: int = BATCH) -> int:
    """Deliver the agency's oldest undelivered events (up to ``limit``), in order; how many
    (0 when another dispatcher has the agency: its cursor row is locked)."""
    with agency_scope(agency_id), transaction.atomic():
        cursor = EventCursor.objects.filter(agency_id=agency_id)
        through = _claim(cursor)
        if through is None:
            if cursor.exists():
                return 0  # another dispatcher has it
            EventCursor.objects.bulk_create(
                [EventCursor(agency_id=agency_id)], ignore_conflicts=True
            )  # the agency's first dispatch
            through = _claim(cursor)
            if through is None:
                return 0
        messages = _pending(agency_id, through, limit)
        if not messages:
            return 0
        for consumer in consumers():
            consumer(agency_id, [text for _, text in messages])  # raises: delivered again later
        cursor.update(dispatched_through=messages[-1][0])
    return len(messages)


def _claim(cursor: QuerySet[EventCursor]) -> int | None:
    return (
        cursor.select_for_update(skip_locked=True)
        .values_list("dispatched_through", flat=True)
        .first()
    )


def _pending(agency_id: int, through: int, limit: int) -> list[tuple[int, str]]:
    """(sequence, JSON message) of the events after ``through``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, [agency_id, through, limit])
            return cursor.fetchall()
    rows = (
        DomainEvent.objects.filter(agency_id=agency_id, sequence__gt=through)
        .order_by("sequence")
        .values("sequence", "type", "subject", "payload", "created_at")[:limit]
    )
    return [(row["sequence"], json.dumps(as_message(agency_id, row))) for row in rows]


def prune(*, now: datetime | None = None) -> int:
    """Delete dispatched events created more than EVENT_RETENTION_HOURS ago; how many. In
    batches by id (ids grow with time), so each DELETE is short."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.EVENT_RETENTION_HOURS)
    deleted = 0
    with system_scope():
        cursors = list(EventCursor.objects.values_list("agency_id", "dispatched_through"))
        for agency_id, through in cursors:
            old = DomainEvent.objects.filter(
                agency_id=agency_id, sequence__lte=through, created_at__lt=cutoff
            )
            while ids := list(old.order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH]):
                count, _ = DomainEvent.objects.filter(pk__in=ids).delete()
                deleted += count
    return deleted
