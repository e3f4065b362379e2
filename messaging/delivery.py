"""Delivery: how queued messages reach the Cloud API (runs in Celery workers).

Semantics (README "Sending"): at most once toward Meta. A worker claims a row (queued →
sending) in its own committed statement before the HTTP call, so a second delivery of the
same task finds it claimed and does nothing. Failures that provably happened before the
request left put it back to queued for a retry; an ambiguous failure (timeout, or a worker
killed mid-call) leaves it in `sending`, and the reconciler fails it as "outcome unknown"
unless a status webhook proves it went out — never a blind resend.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from bsp import events
from bsp.celery import CeleryQueue
from bsp.events import types
from bsp.redis import redis_client
from messaging import failures, reach, wa_ids
from messaging.failures import disconnect_number  # noqa: F401  (re-exported)
from messaging.models import Message
from messaging.ratelimit import BULK_RESERVE, PAIR_INTERVAL_SECONDS, ThroughputLimiter
from messaging.webhooks import statuses
from messaging.whatsapp import builders
from messaging.whatsapp.client import BatchItem, CloudAPIClient, SendResult, send_many
from messaging.whatsapp.errors import (
    CloudAPIError,
    RetryableError,
    TransportError,
)
from templates_mgr.models import MessageTemplate
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope
from tenants.services import suspension_reason

BULK_SENDERS = (Message.SenderType.CAMPAIGN, Message.SenderType.AUTOMATION)


def route_for(agency: Agency, template: MessageTemplate | None) -> str:
    """The endpoint a message will be sent through, decided when it is queued (and kept on
    the row, so neither ``deliver`` nor the drain looks it up again): MARKETING templates of
    an agency that enabled Meta's Marketing Messages API go to ``/marketing_messages``;
    everything else, utility and authentication templates included, to ``/messages``."""
    if (
        template is not None
        and agency.marketing_messages_api
        and template.category == MessageTemplate.Category.MARKETING
    ):
        return Message.Route.MARKETING_MESSAGES
    return Message.Route.MESSAGES


def enqueue_delivery(message: Message) -> None:
    """Bulk messages wake their number's drainer; others get a task on `agent_replies`, so
    a campaign backlog never delays a reply. (Without Redis, the demo, all go one by one.)"""
    from messaging.tasks import deliver_message

    bulk = message.sender_type in BULK_SENDERS
    if bulk and redis_client() is not None:
        schedule_drain(message.phone_number_id, message.agency_id)
        return
    deliver_message.apply_async(
        kwargs={"message_id": message.pk, "agency_id": message.agency_id},
        queue=CeleryQueue.BULK if bulk else CeleryQueue.AGENT_REPLIES,
    )


DRAIN_DEBOUNCE_SECONDS = 5


def _drain_key(number_pk: int) -> str:
    return f"civic:drain:{number_pk}"


def schedule_drain(
    number_pk: int, agency_id: int, *, force: bool = False, countdown: float = 0
) -> None:
    """Wake a drainer for the number; while a campaign is being queued, at most one wake-up
    per few seconds (the drainer re-schedules itself while messages remain)."""
    from messaging.tasks import drain_phone_number

    key = _drain_key(number_pk)
    client = redis_client()  # None in the Redis-less demo: no debounce there
    if force or client is None or client.set(key, 1, nx=True, ex=DRAIN_DEBOUNCE_SECONDS):
        drain_phone_number.apply_async(
            kwargs={"phone_number_pk": number_pk, "agency_id": agency_id},
            queue=CeleryQueue.BULK,
            countdown=countdown,
        )


MAX_ATTEMPTS = 8
STUCK_QUEUED_AFTER = timedelta(minutes=10)
UNKNOWN_OUTCOME_AFTER = timedelta(minutes=15)


THROUGHPUT_EXCEEDED = 130429


class RetryLater(Exception):
    """A retryable failure. The message row counts ``attempts``, which decide when to give
    up, so broker redeliveries and throttling do not use the retry budget up."""

    def __init__(self, retry_after: float | None, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason
        self.attempts = attempts


class Throttled(Exception):
    """The number's (or the pair's) rate budget is spent: try again in ``retry_after``."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"throttled for {retry_after:.3f}s")
        self.retry_after = retry_after


@functools.cache
def rate_limiter() -> ThroughputLimiter | None:
    """The Redis limiter shared by every worker; None in the Redis-less demo, where the
    single worker relies on Meta's (the simulator's) 130429 answers instead."""
    return ThroughputLimiter() if settings.REDIS_URL else None


def claim_for_sending(message_id: int) -> Message | None:
    """queued → sending, atomically; None when another worker already has it."""
    claimed = Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.SENDING, sending_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Message.objects.select_related("phone_number__waba", "contact", "agency").get(
        pk=message_id
    )


def _take_rate_budget(message_id: int) -> bool:
    """One token of the number's throughput and of the recipient pair, before claiming, so a
    throttled message is neither claimed nor counted as an attempt. False: nothing to send."""
    limiter = rate_limiter()
    pending = (
        Message.objects.filter(pk=message_id, status=Message.Status.QUEUED)
        .select_related("phone_number", "contact")
        .first()
    )
    if pending is None:
        return False
    if limiter is not None:
        number_id = pending.phone_number.phone_number_id
        grant = limiter.acquire(number_id, pending.phone_number.throughput_tier)
        if not grant.granted:
            raise Throttled(grant.retry_after)
        pair = limiter.acquire_pair(number_id, pending.contact.wa_id or "")
        if not pair.granted:
            raise Throttled(pair.retry_after)
    return True


def deliver(message_id: int) -> str:
    """Send one queued message through the Cloud API. Returns what happened (for logs)."""
    if not _take_rate_budget(message_id):
        return "not_queued"
    message = claim_for_sending(message_id)
    if message is None:
        return "not_queued"
    number = message.phone_number
    if not message.agency.is_active:  # suspended after the message was queued
        mark_failed(message, code=None, reason=suspension_reason(message.agency))
        return "failed"
    if not number.can_send:
        mark_failed(
            message,
            code=None,
            reason=f"The number {number.display_phone_number} is "
            f"{number.get_status_display().lower()}.",
        )
        return "failed"
    if message.sandbox and not _sandbox_base_url():
        return _record_sandbox_sent(message)
    # A test key's message goes to the simulator, never to Meta (Message.sandbox).
    base_url = _sandbox_base_url() if message.sandbox else None
    client = CloudAPIClient(number.phone_number_id, number.bearer_token(), base_url=base_url)
    # The route was decided when the message was queued (route_for).
    send = (
        client.send_marketing if message.route == Message.Route.MARKETING_MESSAGES else client.send
    )
    try:
        result = send(
            message.contact.wa_id or "",  # as in claim_batch: Meta refuses the empty one
            builders.from_stored_form(message.content),
            context_message_id=message.reply_to_wamid or None,
            biz_opaque_callback_data=f"civic-relay:{message.pk}",
        )
    except TransportError as exc:
        if exc.maybe_delivered:
            return "outcome_unknown"  # stays `sending`; the reconciler decides
        _requeue(message)
        raise RetryLater(exc.retry_after, exc.reason, message.attempts) from exc
    except RetryableError as exc:
        if exc.code == THROUGHPUT_EXCEEDED and (limiter := rate_limiter()) is not None:
            limiter.penalize(number.phone_number_id)
        _requeue(message)
        raise RetryLater(exc.retry_after, exc.reason, message.attempts) from exc
    except CloudAPIError as exc:
        apply_send_error(message, exc)
        return "failed"
    accepted_at = timezone.now()
    with transaction.atomic():
        recorded = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.ACCEPTED, wamid=result.wamid, accepted_at=accepted_at
        )
        if recorded:
            events.publish_many(
                message.agency_id,
                [
                    _status_event(
                        message.pk,
                        message.conversation_id,
                        message.contact_id,
                        Message.Status.SENDING,
                        Message.Status.ACCEPTED,
                        accepted_at,
                        wamid=result.wamid,
                    )
                ],
            )
    if recorded:
        _apply_early_statuses(number.pk, [result.wamid])
        answered = (message.contact_id, message.contact.wa_id or "", result.wa_id or "")
        wa_ids.adopt_canonical_wa_ids(message.agency_id, [answered])
    return "accepted"


def _sandbox_base_url() -> str:
    return str(getattr(settings, "TEST_MODE_GRAPH_API_BASE_URL", "") or "")


def _record_sandbox_sent(message: Message) -> str:
    """A test key's message where no simulator is configured (production): nothing is sent
    anywhere; it is recorded as sent with a made-up wamid, so integrators see it complete."""
    now = timezone.now()
    with transaction.atomic():
        recorded = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.SENT,
            wamid=f"wamid.sandbox.{message.pk}",
            accepted_at=now,
            sent_at=now,
        )
        if recorded:
            events.publish_many(
                message.agency_id,
                [
                    _status_event(
                        message.pk,
                        message.conversation_id,
                        message.contact_id,
                        Message.Status.SENDING,
                        Message.Status.SENT,
                        now,
                        wamid=f"wamid.sandbox.{message.pk}",
                    )
                ],
            )
    return "sandbox"


def _agency_active(agency_id: int) -> bool:
    # Read each pass, like the number: an operator may suspend the agency mid-campaign.
    return Agency.objects.filter(pk=agency_id, status=Agency.Status.ACTIVE).exists()


def _apply_early_statuses(number_pk: int, wamids: list[str]) -> None:
    """A status webhook can beat our own write of the wamid; it waited parked until now."""
    statuses.apply_parked_for(number_pk, wamids)


def _requeue(message: Message) -> None:
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED
    )


def give_up(message_id: int, reason: str) -> None:
    message = Message.objects.filter(pk=message_id).first()
    if message is not None and message.status in (Message.Status.QUEUED, Message.Status.SENDING):
        mark_failed(message, code=None, reason=f"Not sent after {message.attempts} tries: {reason}")


def _status_event(
    pk: int,
    conversation_pk: int,
    contact_pk: int,
    previous: str,
    status: str,
    at: Any,
    **payload: Any,
) -> events.Event:
    """``message.status`` for a transition our own send made (statuses.py has Meta's)."""
    return events.Event(
        types.MESSAGE_STATUS,
        {"message": pk, "conversation": conversation_pk, "contact": contact_pk},
        {"status": status, "previous": previous, "at": at, **payload},
    )


def mark_failed(
    message: Message, *, code: int | None, reason: str, details: dict[str, Any] | None = None
) -> bool:
    """Fail the row unless it is failed already; whether this call failed it."""
    failed_at = timezone.now()
    with transaction.atomic():
        previous = (
            Message.objects.filter(pk=message.pk)
            .exclude(status=Message.Status.FAILED)
            .select_for_update()
            .values_list("status", flat=True)
            .first()
        )
        if previous is None:
            return False
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.FAILED,
            failed_at=failed_at,
            error_code=code,
            error_reason=reason[:300],
            error_details=details or {},
        )
        events.publish_many(
            message.agency_id,
            [
                _status_event(
                    message.pk,
                    message.conversation_id,
                    message.contact_id,
                    previous,
                    Message.Status.FAILED,
                    failed_at,
                    error_code=code,
                    error_reason=reason[:300],
                )
            ],
        )
        if message.business_initiated:
            _release_reach(message, failed_at)
    return True


def _release_reach(message: Message, now: Any) -> None:
    """A failed message reached nobody: its slot of the messaging limit comes back (unless
    another message to the same citizen still uses it). See messaging.reach."""
    portfolio_id = (
        PhoneNumber.objects.filter(pk=message.phone_number_id)
        .values_list("waba__portfolio_id", flat=True)
        .first()
    )
    with agency_scope(message.agency_id):  # the sweeper fails messages in the system scope
        reach.release(portfolio_id, [message.contact_id], now)


def apply_send_error(message: Message, exc: CloudAPIError) -> None:
    """Fail the message with Meta's reason, and act on what the error says about the world
    (also used when the error arrives later in a status webhook)."""
    details = {
        "type": exc.error_type,
        "subcode": exc.subcode,
        "details": exc.details,
        "fbtrace_id": exc.fbtrace_id,
    }
    if mark_failed(message, code=exc.code, reason=exc.reason or str(exc), details=details):
        failures.act_on_error(
            exc,
            number=message.phone_number,
            conversation_pk=message.conversation_id,
            contact_pk=message.contact_id,
        )


def requeue_stuck_messages(*, now: Any = None) -> dict[str, int]:
    """Self-healing (beat): queued rows whose broker message was lost are enqueued again
    (the claim makes a duplicate harmless); rows stuck in `sending` past the reconciliation
    delay are failed as "outcome unknown" — never resent blindly."""
    now = now or timezone.now()
    counts = {"requeued": 0, "unknown": 0}
    stuck = Message.objects.filter(status=Message.Status.QUEUED).filter(
        Q(sending_at__lt=now - STUCK_QUEUED_AFTER)
        | Q(sending_at=None, created_at__lt=now - STUCK_QUEUED_AFTER)
    )
    for message in stuck.only("pk", "agency_id", "sender_type")[:5000]:
        enqueue_delivery(message)
        counts["requeued"] += 1
    unknown = Message.objects.filter(
        status=Message.Status.SENDING, sending_at__lt=now - UNKNOWN_OUTCOME_AFTER
    )
    for message in unknown:
        mark_failed(
            message,
            code=None,
            reason=(
                "The outcome of the send is unknown (no answer from WhatsApp). It was not resent, "
                "to avoid a duplicate; check with the person or send again."
            ),
        )
        counts["unknown"] += 1
    return counts


# --- Bulk delivery: the database is the queue, a drain task per number empties it --------
#
# Campaign and automation messages are not sent one task each: a `drain_phone_number` task
# takes as many throughput tokens as a batch needs, claims that many rows in one statement
# (FOR UPDATE SKIP LOCKED, so several drainers can share a number), checks each recipient's
# pair budget, sends the batch with many requests in flight, and records the accepted ones in
# one statement. Same claim-before-send semantics as `deliver`.
#
# The claim and the record are raw SQL because they run for every batch: the ORM's
# bulk_update builds a CASE WHEN per row and was about 40 % of a drainer's CPU. Raw SQL is
# still RLS-bound (it runs on the connection the agency scope configured, see tenants.db),
# and both statements name the number and its agency explicitly. PostgreSQL only; the
# Redis-less demo never drains (enqueue_delivery).

# The whole batch is in flight at once: sustaining a rate needs rate * (latency + the
# batch's claim and record) requests in flight, and Meta answers in a few hundred ms. With
# 200, a 0.2 s Meta held one drainer at 750 msg/s (BENCHMARKS.md); 500 leaves room above
# the 1,000 msg/s tier, and the limiter still grants only what the tier refills.
DRAIN_BATCH = 500
DRAIN_SECONDS = 20.0
# After the bucket ran dry, let tokens accumulate a little: at 80 msg/s, one token per loop
# would make per-batch overhead (claim, record) the limit instead of the tier.
DRAIN_REFILL_PAUSE = 0.1
# When only messages to pair-limited recipients are left, look again after about one pair
# token (cloud-api.md 7.2: one message per 6 s per recipient).
PAIR_WAIT_SECONDS = PAIR_INTERVAL_SECONDS
RETRY_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class Claimed:
    """A bulk message claimed for sending (queued → sending), with what the send needs."""

    id: int
    attempts: int
    contact_id: int
    wa_id: str
    content: dict[str, Any]
    reply_to_wamid: str
    route: str = Message.Route.MESSAGES


# The pick is a materialized CTE, not `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
# LOCKED)`: PostgreSQL may run such a subquery once per joined row, and each run then skips
# the rows the previous ones locked, so the UPDATE claims more than n.
_CLAIM_SQL = """
WITH picked AS MATERIALIZED (
    SELECT id FROM messaging_message
     WHERE phone_number_id = %(number)s AND agency_id = %(agency)s
       AND status = 'queued' AND sender_type = ANY(%(senders)s::text[])
       AND contact_id <> ALL(%(skip_contacts)s::bigint[])
     ORDER BY id
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
)
UPDATE messaging_message AS m
   SET status = 'sending', sending_at = %(now)s, attempts = m.attempts + 1
  FROM picked, messaging_contact AS c
 WHERE m.id = picked.id AND c.id = m.contact_id
RETURNING m.id, m.attempts, m.contact_id, c.wa_id, m.content, m.reply_to_wamid, m.route
"""

# Only rows still `sending`: as in `deliver`, a status webhook that got there first wins.
_ACCEPT_SQL = """
UPDATE messaging_message AS m
   SET status = 'accepted', wamid = v.wamid, accepted_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(wamids)s::text[]) AS v(id, wamid)
 WHERE m.id = ANY(%(ids)s::bigint[]) AND m.id = v.id  -- primary-key lookups
   AND m.phone_number_id = %(number)s AND m.agency_id = %(agency)s AND m.status = 'sending'
RETURNING m.id, m.conversation_id, m.contact_id, m.wamid
"""


def claim_batch(
    number: PhoneNumber, limit: int, *, skip_contacts: Collection[int] = ()
) -> list[Claimed]:
    """Up to ``limit`` queued bulk messages of ``number``, oldest first: queued → sending in
    one statement (its own transaction in a worker, which runs in autocommit, so the claim is
    committed before any request). ``skip_contacts``: recipients whose pair budget is spent."""
    params: dict[str, Any] = {
        "now": timezone.now(),
        "number": number.pk,
        "agency": number.agency_id,
        "senders": list(BULK_SENDERS),
        "skip_contacts": list(skip_contacts),
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        rows = cursor.fetchall()
    claimed = [
        Claimed(pk, attempts, contact_id, wa_id or "", _json(content), reply_to or "", route)
        for pk, attempts, contact_id, wa_id, content, reply_to, route in rows
    ]
    return sorted(claimed, key=lambda row: row.id)


def _json(value: Any) -> Any:
    # Django has psycopg hand jsonb over as text (JSONField decodes it itself).
    return json.loads(value) if isinstance(value, str) else value


def _batch_item(row: Claimed) -> BatchItem:
    return BatchItem(
        to=row.wa_id,
        message=builders.from_stored_form(row.content),
        context_message_id=row.reply_to_wamid or None,
        biz_opaque_callback_data=f"civic-relay:{row.id}",
        marketing_messages=row.route == Message.Route.MARKETING_MESSAGES,
    )


def _put_back(number: PhoneNumber, ids: list[int], *, attempt_counts: bool) -> None:
    """sending → queued for a later pass. A claim that never reached Meta because we held it
    back (pair budget) does not use up the message's attempts."""
    update: dict[str, Any] = {"status": Message.Status.QUEUED}
    if not attempt_counts:
        update["attempts"] = F("attempts") - 1
    Message.objects.filter(pk__in=ids, phone_number=number, status=Message.Status.SENDING).update(
        **update
    )


def _within_pair_budget(
    limiter: ThroughputLimiter | None,
    number: PhoneNumber,
    rows: list[Claimed],
    waits: dict[int, float],
) -> tuple[list[Claimed], int]:
    """The rows whose recipient has a pair token (taken now), and how many were put back.

    The others go back to the queue and their recipients into ``waits`` (contact id →
    monotonic time of their next token), so the next claims skip them instead of taking
    the same rows again and again."""
    if limiter is None:
        return rows, 0
    grants = limiter.acquire_pairs(number.phone_number_id, [row.wa_id for row in rows])
    now, allowed, held = time.monotonic(), [], []
    for row, grant in zip(rows, grants, strict=True):
        if grant.granted:
            allowed.append(row)
        else:
            held.append(row.id)
            waits[row.contact_id] = now + grant.retry_after
    if held:
        _put_back(number, held, attempt_counts=False)
    return allowed, len(held)


def _waiting_contacts(waits: dict[int, float]) -> list[int]:
    now = time.monotonic()
    for contact_id in [c for c, until in waits.items() if until <= now]:
        del waits[contact_id]
    return list(waits)


def _record_batch(number: PhoneNumber, rows: list[Claimed], results: list[Any]) -> Counter:
    counts: Counter = Counter()
    accepted: list[tuple[int, str]] = []
    retry: list[tuple[Claimed, RetryableError]] = []
    failed: dict[int, CloudAPIError] = {}
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, SendResult):
            accepted.append((row.id, result.wamid))
        elif isinstance(result, TransportError) and result.maybe_delivered:
            counts["outcome_unknown"] += 1  # stays `sending` for the reconciler
        elif isinstance(result, RetryableError):
            retry.append((row, result))
        else:
            failed[row.id] = result
    _mark_accepted(number, accepted)
    wa_ids.adopt_canonical_wa_ids(
        number.agency_id,
        [
            (row.contact_id, row.wa_id, result.wa_id or "")
            for row, result in zip(rows, results, strict=True)
            if isinstance(result, SendResult) and result.wa_id and result.wa_id != row.wa_id
        ],
    )
    _retry_or_give_up(number, retry)
    _fail_all(failed)
    counts.update(accepted=len(accepted), retry=len(retry), failed=len(failed))
    return +counts


def _mark_accepted(number: PhoneNumber, accepted: list[tuple[int, str]]) -> None:
    if not accepted:
        return
    ids, wamids = zip(*accepted, strict=True)
    params: dict[str, Any] = {
        "now": timezone.now(),
        "ids": list(ids),
        "wamids": list(wamids),
        "number": number.pk,
        "agency": number.agency_id,
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_ACCEPT_SQL, params)
            recorded = cursor.fetchall()
        events.publish_many(
            number.agency_id,
            [
                _status_event(
                    pk,
                    conversation_pk,
                    contact_pk,
                    Message.Status.SENDING,
                    Message.Status.ACCEPTED,
                    params["now"],
                    wamid=wamid,
                )
                for pk, conversation_pk, contact_pk, wamid in sorted(recorded)
            ],
        )
    _apply_early_statuses(number.pk, list(wamids))


def _retry_or_give_up(number: PhoneNumber, retry: list[tuple[Claimed, RetryableError]]) -> None:
    if not retry:
        return
    limiter = rate_limiter()
    if limiter is not None and any(e.code == THROUGHPUT_EXCEEDED for _, e in retry):
        limiter.penalize(number.phone_number_id)  # once: one overshoot, one cut
    for row, error in retry:
        if row.attempts >= MAX_ATTEMPTS:
            give_up(row.id, error.reason or str(error))
    again = [row.id for row, _ in retry if row.attempts < MAX_ATTEMPTS]
    if again:
        _put_back(number, again, attempt_counts=True)


def _fail_all(failed: dict[int, CloudAPIError]) -> None:
    """Permanent errors are rare in a batch (except a revoked token, which fails all of it):
    they go through the same path as a single send."""
    if not failed:
        return
    # phone_number stays lazy: after a 190 disconnects it, the next rows must see that.
    for message in Message.objects.filter(pk__in=failed):
        apply_send_error(message, failed[message.pk])


def _throughput_budget(limiter: ThroughputLimiter | None, number: PhoneNumber) -> tuple[int, bool]:
    """How many messages to claim now, and whether the number's bucket ran dry."""
    if limiter is None:
        return DRAIN_BATCH, False
    grant = limiter.acquire(
        number.phone_number_id, number.throughput_tier, n=DRAIN_BATCH, reserve=BULK_RESERVE
    )
    if not grant.granted:
        # Pacing inside a batch sender: wait for the bucket, the broker is not involved.
        time.sleep(min(grant.retry_after, 0.25))
    return grant.granted, grant.granted < DRAIN_BATCH


def drain_phone_number(number_pk: int, *, seconds: float = DRAIN_SECONDS) -> Counter:
    """Send queued bulk messages of one number for up to ``seconds``, paced by the shared
    limiter. ``counts["more"]`` is 1 when messages were left for the next run;
    ``counts["pair_waiting"]`` is 1 when the only ones left wait for their recipients' pair
    budget (see ``next_drain_in``)."""
    number = PhoneNumber.objects.select_related("waba").get(pk=number_pk)
    limiter, counts = rate_limiter(), Counter[str]()
    waits: dict[int, float] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # Re-read each pass: a 190 may have disconnected it, Meta may have changed its tier.
        number.refresh_from_db(fields=["status", "throughput_tier"])
        if not number.can_send or not _agency_active(number.agency_id):
            break  # the rows wait, queued, until the number is reconnected / agency reactivated
        want, bucket_ran_dry = _throughput_budget(limiter, number)
        if not want:
            continue
        rows = claim_batch(number, want, skip_contacts=_waiting_contacts(waits))
        if not rows:
            if waits:
                counts["pair_waiting"] = 1
            return counts
        rows, held = _within_pair_budget(limiter, number, rows, waits)
        counts["pair_limited"] += held
        if rows:
            items = [_batch_item(row) for row in rows]
            results = send_many(
                number.phone_number_id, number.bearer_token(), items, concurrency=len(items)
            )
            batch = _record_batch(number, rows, results)
            counts += batch
            if batch["retry"]:
                break  # back off: the task runs the next pass after a pause, not in a hot loop
        if bucket_ran_dry:
            time.sleep(DRAIN_REFILL_PAUSE)
    counts["more"] = 1
    return counts


def drain_finished(number_pk: int, agency_id: int) -> bool:
    """The number's queue looked empty: free the wake-up key, *then* look once more. A
    message queued before the key was freed (its wake-up swallowed by the debounce) is
    seen now and gets a drainer; one queued after it wakes its own. Without this, the tail
    of a campaign queued more slowly than it drains waited for the sweeper. Whether a
    drainer was scheduled."""
    client = redis_client()
    if client is None:
        return False  # no debounce without Redis: every queued message woke a drainer
    client.delete(_drain_key(number_pk))
    waiting = Message.objects.filter(
        phone_number_id=number_pk, status=Message.Status.QUEUED, sender_type__in=BULK_SENDERS
    ).exists()
    if waiting:
        schedule_drain(number_pk, agency_id)
    return waiting


def next_drain_in(counts: Counter) -> float | None:
    """Seconds until the number's next drain pass, from what the last one reported; None
    when its queue is empty."""
    if counts["retry"]:
        return RETRY_PAUSE_SECONDS  # transient failures: give Meta a moment
    if counts["more"]:
        return 0.0
    if counts["pair_waiting"]:
        return PAIR_WAIT_SECONDS
    return None
