"""The dispatcher: delivers each agency's committed events, in sequence order, to the
consumers (Celery queue ``events``).

Woken after a publishing transaction commits (at most one wake-up per ``WAKE_MS`` through a
Redis key, as the webhook drainer is), and by beat every few seconds as a safety net. A
pass takes each agency with undelivered events in turn: it holds the agency's advisory
lock for the pass (another dispatcher skips that agency instead of delivering its later
events first), claims the oldest undelivered events ``FOR UPDATE SKIP LOCKED``, hands them
to every consumer in order, and marks them dispatched in the same transaction. Delivery is
at least once: a dispatcher that dies after a consumer had the events but before its commit
delivers them again next time, so consumers keep the last sequence they applied and ignore
anything at or below it.

Consumers: the agency's Redis pub/sub channel ``civic:events:agency:<id>`` (one JSON
message per event: agency, sequence, type, subject, payload, created_at), where the live
inbox subscribes. Without Redis (the embedded demo) nothing is pushed: readers poll
``selectors.events_after``, and the dispatcher only marks events dispatched so that they
can be pruned. Later consumers (integrator webhooks) ``register_consumer``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bsp.celery import CeleryQueue
from bsp.events.models import DomainEvent
from bsp.events.selectors import as_message
from bsp.redis import redis_client
from tenants.context import agency_scope, system_scope

logger = logging.getLogger(__name__)

WAKE_KEY = "civic:events:dispatch"
WAKE_MS = 200
BATCH = 500
SECONDS = 20.0
PRUNE_BATCH = 10_000
# pg_try_advisory_xact_lock(ADVISORY_NAMESPACE, agency id): one dispatcher per agency.
ADVISORY_NAMESPACE = 0x45564E54  # "EVNT"

Consumer = Callable[[int, list[dict[str, Any]]], None]  # (agency id, events in order)
_registered: list[Consumer] = []


def channel(agency_id: int) -> str:
    return f"civic:events:agency:{agency_id}"


def redis_channel(agency_id: int, messages: list[dict[str, Any]]) -> None:
    """Publish each event on the agency's channel, in order (one pipeline, one round trip)."""
    client = redis_client()
    if client is None:
        return
    pipe = client.pipeline(transaction=False)
    for message in messages:
        pipe.publish(channel(agency_id), json.dumps(message, separators=(",", ":")))
    pipe.execute()


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
        agencies = list(
            DomainEvent.objects.filter(dispatched_at=None)
            .order_by("agency_id")
            .values_list("agency_id", flat=True)
            .distinct()
        )
    return sum(dispatch_agency(agency_id, limit) for agency_id in agencies)


def dispatch_agency(agency_id: int, limit: int = BATCH) -> int:
    """Deliver the agency's oldest undelivered events (up to ``limit``), in order; how many
    (0 when another dispatcher has the agency)."""
    with agency_scope(agency_id), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, agency_id]
                )
                if not cursor.fetchone()[0]:
                    return 0
        rows = list(
            DomainEvent.objects.filter(agency_id=agency_id, dispatched_at=None)
            .order_by("sequence")
            .select_for_update(skip_locked=True)
            .values("pk", "sequence", "type", "subject", "payload", "created_at")[:limit]
        )
        if not rows:
            return 0
        messages = [as_message(agency_id, row) for row in rows]
        for consumer in consumers():
            consumer(agency_id, messages)  # raises: rolled back, delivered again later
        DomainEvent.objects.filter(pk__in=[row["pk"] for row in rows]).update(
            dispatched_at=timezone.now()
        )
    return len(rows)


def prune(*, now: datetime | None = None) -> int:
    """Delete events dispatched more than EVENT_RETENTION_HOURS ago; how many. In batches
    by id (ids grow with time), so each DELETE is short."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.EVENT_RETENTION_HOURS)
    deleted = 0
    with system_scope():
        while True:
            ids = list(
                DomainEvent.objects.filter(dispatched_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if not ids:
                return deleted
            count, _ = DomainEvent.objects.filter(pk__in=ids).delete()
            deleted += count
