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
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bsp.celery import CeleryQueue
from messaging.models import Contact, Conversation, Message
from messaging.ratelimit import BULK_RESERVE, ThroughputLimiter
from messaging.whatsapp import builders
from messaging.whatsapp.client import BatchItem, CloudAPIClient, SendResult, send_many
from messaging.whatsapp.errors import (
    AuthError,
    CloudAPIError,
    RecipientUndeliverableError,
    RetryableError,
    TransportError,
    WindowClosedError,
)
from records.audit import Actor
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Role

BULK_SENDERS = (Message.SenderType.CAMPAIGN, Message.SenderType.AUTOMATION)


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


@functools.cache
def redis_client() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


DRAIN_DEBOUNCE_SECONDS = 5


def schedule_drain(
    number_pk: int, agency_id: int, *, force: bool = False, countdown: float = 0
) -> None:
    """Wake a drainer for the number; while a campaign is being queued, at most one wake-up
    per few seconds (the drainer re-schedules itself while messages remain)."""
    from messaging.tasks import drain_phone_number

    key = f"civic:drain:{number_pk}"
    if force or redis_client().set(key, 1, nx=True, ex=DRAIN_DEBOUNCE_SECONDS):
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
    return Message.objects.select_related("phone_number__waba", "contact").get(pk=message_id)


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
    if not number.can_send:
        mark_failed(
            message,
            code=None,
            reason=f"The number {number.display_phone_number} is "
            f"{number.get_status_display().lower()}.",
        )
        return "failed"
    client = CloudAPIClient(number.phone_number_id, number.bearer_token())
    try:
        result = client.send(
            message.contact.wa_id,
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
        if exc.code == THROUGHPUT_EXCEEDED and rate_limiter() is not None:
            rate_limiter().penalize(number.phone_number_id)
        _requeue(message)
        raise RetryLater(exc.retry_after, exc.reason, message.attempts) from exc
    except CloudAPIError as exc:
        apply_send_error(message, exc)
        return "failed"
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.ACCEPTED, wamid=result.wamid, accepted_at=timezone.now()
    )
    return "accepted"


def _requeue(message: Message) -> None:
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED
    )


def give_up(message_id: int, reason: str) -> None:
    message = Message.objects.filter(pk=message_id).first()
    if message is not None and message.status in (Message.Status.QUEUED, Message.Status.SENDING):
        mark_failed(message, code=None, reason=f"Not sent after {message.attempts} tries: {reason}")


def mark_failed(
    message: Message, *, code: int | None, reason: str, details: dict[str, Any] | None = None
) -> None:
    Message.objects.filter(pk=message.pk).exclude(status=Message.Status.FAILED).update(
        status=Message.Status.FAILED,
        failed_at=timezone.now(),
        error_code=code,
        error_reason=reason[:300],
        error_details=details or {},
    )


def apply_send_error(message: Message, exc: CloudAPIError) -> None:
    """Fail the message with Meta's reason, and act on what the error says about the world
    (also used when the error arrives later in a status webhook)."""
    details = {
        "type": exc.error_type,
        "subcode": exc.subcode,
        "details": exc.details,
        "fbtrace_id": exc.fbtrace_id,
    }
    mark_failed(message, code=exc.code, reason=exc.reason or str(exc), details=details)
    now = timezone.now()
    if isinstance(exc, WindowClosedError):
        # Meta knows better than our record: the window is closed now.
        Conversation.objects.filter(pk=message.conversation_id, window_expires_at__gt=now).update(
            window_expires_at=now
        )
    elif isinstance(exc, RecipientUndeliverableError):
        Contact.objects.filter(pk=message.contact_id, unreachable_at=None).update(
            unreachable_at=now
        )
    elif isinstance(exc, AuthError):
        disconnect_number(message.phone_number, reason=exc.reason or str(exc))


def disconnect_number(number: PhoneNumber, *, reason: str) -> None:
    """Meta rejected the token (190): stop sending from it and tell the agency's admins."""
    if number.status == PhoneNumber.Status.DISCONNECTED:
        return
    from tenants.services import set_phone_number_status

    set_phone_number_status(
        actor=Actor.worker("messaging.deliver_message"),
        number=number,
        status=PhoneNumber.Status.DISCONNECTED,
        reason=reason,
    )
    admins = Membership.objects.filter(agency_id=number.agency_id, role=Role.AGENCY_ADMIN)
    send_mail(
        subject=f"WhatsApp number {number.display_phone_number} disconnected",
        message=(
            f"Meta rejected the access token of {number.display_phone_number}: {reason}\n"
            "Messages from this number are refused until an admin reconnects it."
        ),
        from_email=None,
        recipient_list=[m.user.email for m in admins.select_related("user")],
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
# claims them in batches (FOR UPDATE SKIP LOCKED, so several drainers can share a number),
# takes as many throughput tokens as the batch needs, sends the batch with many requests in
# flight, and records all results in a few statements. Same claim-before-send semantics.

DRAIN_BATCH = 200
DRAIN_SECONDS = 20.0
# After the bucket ran dry, let tokens accumulate a little: at 80 msg/s, one token per loop
# would make per-batch overhead (claim, record) the limit instead of the tier.
DRAIN_REFILL_PAUSE = 0.1


def claim_batch(number: PhoneNumber, limit: int) -> list[Message]:
    """Up to ``limit`` queued bulk messages of ``number``: queued → sending."""
    with transaction.atomic():
        ids = list(
            Message.objects.filter(
                phone_number=number, status=Message.Status.QUEUED, sender_type__in=BULK_SENDERS
            )
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Message.objects.filter(id__in=ids).update(
                status=Message.Status.SENDING,
                sending_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
    return list(Message.objects.filter(id__in=ids).select_related("contact")) if ids else []


def _batch_item(message: Message) -> BatchItem:
    return BatchItem(
        to=message.contact.wa_id or "",
        message=builders.from_stored_form(message.content),
        context_message_id=message.reply_to_wamid or None,
        biz_opaque_callback_data=f"civic-relay:{message.pk}",
    )


def _record_batch(number: PhoneNumber, rows: list[Message], results: list[Any]) -> Counter:
    counts: Counter = Counter()
    now = timezone.now()
    accepted = []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, SendResult):
            row.status, row.wamid, row.accepted_at = Message.Status.ACCEPTED, result.wamid, now
            accepted.append(row)
        elif isinstance(result, TransportError) and result.maybe_delivered:
            counts["outcome_unknown"] += 1  # stays `sending` for the reconciler
        elif isinstance(result, RetryableError):
            counts["retry"] += 1
            _retry_or_give_up(number, row, result)
        else:
            counts["failed"] += 1
            apply_send_error(row, result)
    Message.objects.bulk_update(accepted, ["status", "wamid", "accepted_at"], batch_size=500)
    counts["accepted"] += len(accepted)
    return counts


def _retry_or_give_up(number: PhoneNumber, row: Message, error: RetryableError) -> None:
    if error.code == THROUGHPUT_EXCEEDED and rate_limiter() is not None:
        rate_limiter().penalize(number.phone_number_id)
    if row.attempts >= MAX_ATTEMPTS:
        give_up(row.pk, error.reason or str(error))
    else:
        _requeue(row)


def drain_phone_number(number_pk: int, *, seconds: float = DRAIN_SECONDS) -> Counter:
    """Send queued bulk messages of one number for up to ``seconds``, paced by the shared
    limiter. ``counts["more"]`` is 1 when messages were left for the next run."""
    number = PhoneNumber.objects.select_related("waba").get(pk=number_pk)
    limiter, counts = rate_limiter(), Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # Re-read each pass: a 190 may have disconnected it, Meta may have changed its tier.
        number.refresh_from_db(fields=["status", "throughput_tier"])
        if not number.can_send:
            break
        want = DRAIN_BATCH
        if limiter is not None:
            grant = limiter.acquire(
                number.phone_number_id, number.throughput_tier, n=want, reserve=BULK_RESERVE
            )
            if not grant.granted:
                # Pacing inside a batch sender: wait for the bucket, the broker is not involved.
                time.sleep(min(grant.retry_after, 0.25))
                continue
            bucket_ran_dry, want = grant.granted < want, grant.granted
        else:
            bucket_ran_dry = False
        rows = claim_batch(number, want)
        if not rows:
            return counts
        results = send_many(
            number.phone_number_id, number.bearer_token(), [_batch_item(row) for row in rows]
        )
        batch = _record_batch(number, rows, results)
        counts += batch
        if batch["retry"]:
            break  # back off: the task runs the next pass after a pause, not in a hot loop
        if bucket_ran_dry:
            time.sleep(DRAIN_REFILL_PAUSE)
    counts["more"] = 1
    return counts
