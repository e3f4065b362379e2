"""Sending deliveries: signed POSTs with retries, exponential backoff with jitter, for up
to 24 hours; ordered per conversation.

Ordering rule: deliveries of one subscription sharing an ordering key (``conversation:<id>``)
are sent one at a time in stream order: the next waits until the previous one succeeded or
was given up (after 24 h). Deliveries without a conversation are independent.

A drain (Celery task ``integrations.drain_subscription``, queue ``integrations``) serves one
shard of a subscription (``WEBHOOK_DRAIN_SHARDS``, 2: the ordering keys hashed, so one
conversation is always in the same shard and shards run in parallel on several workers):
a pass takes the shard's transaction-level advisory lock (a second drain of the shard
skips it), the due head of every ordering key plus due unordered deliveries (up to
``BATCH``), re-checks the URL (SSRF, once per pass), sends them concurrently over one
keep-alive client to the checked address, and records the outcomes in one UPDATE. Woken
after the consumer's commit (deduplicated by a Redis key, as the stream's dispatcher is),
after a failure for a short backoff, and by beat (``integrations.deliver_due``) for the rest.
"""

from __future__ import annotations

import random
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bsp.celery import CeleryQueue
from bsp.integrations import services, urlsafety
from bsp.integrations.models import Delivery, WebhookSubscription
from bsp.integrations.verify import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from bsp.redis import redis_client
from tenants.scoping import agency_scope

BATCH = 500
WAKE_MS = 200
SECONDS = 20.0
USER_AGENT = "Civic-Relay-Webhooks/1"


def retry_for() -> timedelta:
    return timedelta(hours=getattr(settings, "WEBHOOK_RETRY_HOURS", 24))


def disable_after() -> timedelta:
    return timedelta(hours=getattr(settings, "WEBHOOK_DISABLE_AFTER_HOURS", 24))


def backoff(attempts: int, rng: Any = random.random) -> timedelta:
    """Delay after the ``attempts``-th failed attempt: 30 s doubling to at most 1 h, times
    a random factor in [0.5, 1) (jitter: receivers coming back are not stampeded)."""
    base = getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30)
    ceiling = getattr(settings, "WEBHOOK_RETRY_MAX_SECONDS", 3600)
    delay = min(base * 2 ** max(0, attempts - 1), ceiling)
    return timedelta(seconds=delay * (0.5 + rng() / 2))


@cache
def _client() -> httpx.Client:
    timeout = getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10.0)
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,  # a redirect is a failure: it could lead anywhere
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        trust_env=False,  # no proxy from the environment
    )


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=getattr(settings, "WEBHOOK_CONCURRENCY", 16))


@dataclass
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(target: urlsafety.Target, secret: str, event_id: str, body: bytes) -> Outcome:
    """One signed POST to the checked address (Host header and SNI carry the name)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host_header(),
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        EVENT_ID_HEADER: event_id,
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    started = time.monotonic()
    try:
        response = _client().post(
            target.connect_url(), content=body, headers=headers, extensions=extensions
        )
        response.close()
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(None, elapsed, f"{type(exc).__name__}: {exc}"[:300])
    elapsed = int((time.monotonic() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, elapsed, error)


# Advisory lock keys: (this space + shard, subscription id), held by a pass's transaction.
_LOCK_SPACE = 0x57E800

_HEADS_SQL = """
(SELECT id FROM (
    SELECT DISTINCT ON (ordering_key) id, next_attempt_at, sequence
    FROM integrations_delivery
    WHERE subscription_id = %(sub)s AND status = 'pending' AND ordering_key <> ''
      AND mod(abs(hashtext(ordering_key)), %(shards)s) = %(shard)s
    ORDER BY ordering_key, sequence NULLS FIRST, id
) heads WHERE next_attempt_at <= %(now)s ORDER BY sequence NULLS FIRST, id LIMIT %(limit)s)
UNION ALL
(SELECT id FROM integrations_delivery
 WHERE subscription_id = %(sub)s AND status = 'pending' AND ordering_key = ''
   AND mod(id, %(shards)s) = %(shard)s AND next_attempt_at <= %(now)s
 ORDER BY next_attempt_at, id LIMIT %(limit)s)
"""


def _due_heads(subscription_id: int, shard: int, now: datetime, limit: int) -> list[Delivery]:
    params: dict[str, Any] = {
        "sub": subscription_id,
        "now": now,
        "limit": limit,
        "shards": shards(),
        "shard": shard,
    }
    if connection.vendor != "postgresql":
        ids = _due_heads_portably(subscription_id, shard, now, limit)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_HEADS_SQL, params)
            ids = [row[0] for row in cursor.fetchall()]
    return list(Delivery.objects.filter(pk__in=ids[:limit]).order_by("sequence", "pk"))


def shards() -> int:
    return max(1, int(getattr(settings, "WEBHOOK_DRAIN_SHARDS", 2)))


def _due_heads_portably(subscription_id: int, shard: int, now: datetime, limit: int) -> list[int]:
    """The same choice on SQLite (the embedded demo: small volumes, one writer at a time)."""
    pending = Delivery.objects.filter(
        subscription_id=subscription_id, status=Delivery.Status.PENDING
    ).order_by("sequence", "pk")
    seen: set[str] = set()
    ids: list[int] = []
    for pk, key, due in pending.values_list("pk", "ordering_key", "next_attempt_at")[:10_000]:
        if key:
            if key in seen:
                continue
            seen.add(key)
            if zlib.crc32(key.encode()) % shards() != shard:
                continue
        elif pk % shards() != shard:
            continue
        if due <= now:
            ids.append(pk)
        if len(ids) >= limit:
            break
    return ids


def _lock_shard(subscription_id: int, shard: int) -> bool:
    """The shard's transaction-level lock (PostgreSQL; SQLite serializes writers itself)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_SPACE + shard, subscription_id]
        )
        (locked,) = cursor.fetchone()
    return bool(locked)


def deliver_pass(
    agency_id: int, subscription_id: int, shard: int | None = None, *, limit: int = BATCH
) -> int:
    """Send the due deliveries of one shard of the subscription once (every shard in turn
    when ``shard`` is None); how many were attempted (0 if another drain holds the shard,
    the subscription is disabled, or none is due)."""
    if shard is None:
        return sum(
            deliver_pass(agency_id, subscription_id, n, limit=limit) for n in range(shards())
        )
    with agency_scope(agency_id), transaction.atomic():
        if not _lock_shard(subscription_id, shard):
            return 0
        sub = WebhookSubscription.objects.filter(pk=subscription_id, enabled=True).first()
        if sub is None:
            return 0
        now = timezone.now()
        batch = _due_heads(sub.pk, shard, now, limit)
        if not batch:
            return 0
        try:
            target: urlsafety.Target | None = urlsafety.check(sub.url)
            refusal = ""
        except urlsafety.UnsafeURL as exc:
            target, refusal = None, f"Refused: {exc}"[:300]
        if target is None:
            outcomes = [Outcome(None, 0, refusal) for _ in batch]
        else:
            checked = target
            outcomes = list(
                _pool().map(lambda d: post(checked, sub.secret, d.event_id, d.body.encode()), batch)
            )
        _record(sub, batch, outcomes)
    return len(batch)


def _record(sub: WebhookSubscription, batch: list[Delivery], outcomes: list[Outcome]) -> None:
    now = timezone.now()
    deadline = retry_for()
    for delivery, outcome in zip(batch, outcomes, strict=True):
        delivery.attempts += 1
        delivery.last_status_code = outcome.status_code
        delivery.last_latency_ms = outcome.latency_ms
        delivery.last_error = outcome.error
        if outcome.ok:
            delivery.status, delivery.finished_at = Delivery.Status.SUCCEEDED, now
        elif now >= delivery.created_at + deadline:
            delivery.status, delivery.finished_at = Delivery.Status.FAILED, now
        else:
            later = now + backoff(delivery.attempts)
            delivery.next_attempt_at = min(later, delivery.created_at + deadline)
    _save_outcomes(batch)
    if any(o.ok for o in outcomes):
        if sub.failing_since is not None:
            WebhookSubscription.objects.filter(pk=sub.pk).update(failing_since=None)
        return
    since = sub.failing_since or now
    if sub.failing_since is None:
        WebhookSubscription.objects.filter(pk=sub.pk).update(failing_since=now)
    elif now - since >= disable_after():
        services.disable_failing(sub.pk, since)


_OUTCOMES_SQL = """
UPDATE integrations_delivery AS d SET
    attempts = v.attempts, last_status_code = v.code, last_latency_ms = v.latency,
    last_error = v.error, status = v.status, finished_at = v.finished, next_attempt_at = v.next
FROM unnest(
    %s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[], %s::text[],
    %s::timestamptz[], %s::timestamptz[]
) AS v(id, attempts, code, latency, error, status, finished, next)
WHERE d.id = v.id
"""
_FIELDS = [
    "attempts",
    "last_status_code",
    "last_latency_ms",
    "last_error",
    "status",
    "finished_at",
    "next_attempt_at",
]


def _save_outcomes(batch: list[Delivery]) -> None:
    """One UPDATE for the batch (``bulk_update``'s CASE expressions cost more than the
    HTTP itself; it remains the path on SQLite, the demo)."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_update(batch, _FIELDS)
        return
    columns = [[getattr(d, "pk" if f == "id" else f) for d in batch] for f in ["id", *_FIELDS]]
    with connection.cursor() as cursor:
        cursor.execute(_OUTCOMES_SQL, columns)


def drain(agency_id: int, subscription_id: int, shard: int = 0, *, seconds: float = SECONDS) -> int:
    """Deliver pass after pass for up to ``seconds``; how many attempts. Then make sure the
    next due retry is scheduled."""
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = deliver_pass(agency_id, subscription_id, shard)
        if not sent:
            client = redis_client()
            if client is not None:
                client.delete(_wake_key(subscription_id, shard))
            sent = deliver_pass(agency_id, subscription_id, shard)
            if not sent:
                _schedule_next(agency_id, subscription_id, shard)
                return done
        done += sent
    wake(agency_id, subscription_id, force=True, shard=shard)
    return done


def _schedule_next(agency_id: int, subscription_id: int, shard: int) -> None:
    """A retry due within a few minutes gets its own wake-up; later ones are beat's."""
    with agency_scope(agency_id):
        nxt = (
            Delivery.objects.filter(
                subscription_id=subscription_id,
                status=Delivery.Status.PENDING,
                subscription__enabled=True,
            )
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
    if nxt is None:
        return
    delay = (nxt - timezone.now()).total_seconds()
    if delay <= 300:
        from bsp.integrations.tasks import drain_subscription

        drain_subscription.apply_async(
            kwargs={"agency_id": agency_id, "subscription_id": subscription_id, "shard": shard},
            countdown=max(0.0, delay),
            queue=CeleryQueue.INTEGRATIONS,
            retry=False,
        )


def _wake_key(subscription_id: int, shard: int) -> str:
    name = connection.settings_dict["NAME"]
    return f"civic:webhooks:{name}:drain:{subscription_id}:{shard}"


def wake(
    agency_id: int, subscription_id: int, *, force: bool = False, shard: int | None = None
) -> None:
    """Make sure a drain of each shard of the subscription (or of ``shard``) runs soon (at
    most one wake-up per shard per WAKE_MS)."""
    from bsp.integrations.tasks import drain_subscription

    client = redis_client()
    for n in range(shards()) if shard is None else [shard]:
        key = _wake_key(subscription_id, n)
        fresh = client is None or force or client.set(key, 1, nx=True, px=WAKE_MS)
        if fresh:
            drain_subscription.apply_async(
                kwargs={"agency_id": agency_id, "subscription_id": subscription_id, "shard": n},
                queue=CeleryQueue.INTEGRATIONS,
                retry=False,
            )


def wake_due(now: datetime | None = None) -> int:
    """Beat's safety net: wake every enabled subscription with a due delivery; how many."""
    from tenants.scoping import system_scope

    now = now or timezone.now()
    with system_scope():
        due = (
            Delivery.objects.filter(
                status=Delivery.Status.PENDING, next_attempt_at__lte=now, subscription__enabled=True
            )
            .values_list("agency_id", "subscription_id")
            .distinct()
        )
        pairs = list(due)
    for agency_id, subscription_id in pairs:
        wake(agency_id, subscription_id)
    return len(pairs)


def retention() -> timedelta:
    return timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)


def purge_old_deliveries(now: datetime | None = None) -> int:
    """Beat's: delete finished deliveries (delivered or given up) that finished more than
    ``WEBHOOK_DELIVERY_RETENTION_DAYS`` (30) ago; how many. Failed ones are kept as long as
    delivered ones, no longer: the log is for debugging a receiver, and a give-up is
    already a fact in the audit trail and on the stream when it disables the subscription.
    Pending rows are never purged (they are the queue)."""
    from tenants.scoping import system_scope

    cutoff = (now or timezone.now()) - retention()
    finished = [Delivery.Status.SUCCEEDED, Delivery.Status.FAILED]
    with system_scope():
        deleted, _ = Delivery.objects.filter(status__in=finished, finished_at__lt=cutoff).delete()
    return deleted
