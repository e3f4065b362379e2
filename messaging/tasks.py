"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task

from messaging import delivery
from messaging.webhooks import media, processing, statuses
from tenants.scoping import agency_task, system_scope

logger = logging.getLogger(__name__)
MAX_BACKOFF = 300.0


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter, never sooner than Meta asked us to wait."""
    exponential = min(MAX_BACKOFF, 2.0 * 2**retries)
    return max(retry_after or 0.0, exponential) * random.uniform(0.8, 1.2)  # noqa: S311


# max_retries=None: the message row counts attempts (delivery.MAX_ATTEMPTS), so throttling
# and broker redeliveries do not use up the retry budget.
@shared_task(
    name="messaging.deliver_message",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
)
@agency_task
def deliver_message(self: Task, *, message_id: int, agency_id: int) -> None:
    try:
        outcome = delivery.deliver(message_id)
    except delivery.Throttled as exc:
        raise self.retry(countdown=exc.retry_after) from exc
    except delivery.RetryLater as exc:
        if exc.attempts >= delivery.MAX_ATTEMPTS:
            delivery.give_up(message_id, exc.reason)
            return
        raise self.retry(countdown=backoff_seconds(exc.attempts - 1, exc.retry_after)) from exc
    logger.info("deliver_message", extra={"message_id": message_id, "outcome": outcome})


@shared_task(name="messaging.drain_phone_number", acks_late=True, ignore_result=True)
@agency_task
def drain_phone_number(*, phone_number_pk: int, agency_id: int) -> None:
    counts = delivery.drain_phone_number(phone_number_pk)
    countdown = delivery.next_drain_in(counts)
    if countdown is not None:
        delivery.schedule_drain(phone_number_pk, agency_id, force=True, countdown=countdown)
    else:
        delivery.drain_finished(phone_number_pk, agency_id)
    logger.info("drain_phone_number", extra={"phone_number_pk": phone_number_pk, **counts})


@shared_task(name="messaging.requeue_stuck_messages", ignore_result=True)
def requeue_stuck_messages() -> dict[str, int]:
    with system_scope():
        counts = delivery.requeue_stuck_messages()
    if any(counts.values()):
        logger.warning("stuck messages handled", extra=counts)
    return counts


# --- Webhooks ---------------------------------------------------------------------------


@shared_task(name="messaging.drain_webhook_events", acks_late=True, ignore_result=True)
def drain_webhook_events() -> None:
    # The system scope only claims and routes; each change runs in its agency's scope.
    with system_scope():
        done = processing.drain()
    logger.info("drain_webhook_events", extra={"events": done})


@shared_task(name="messaging.sweep_webhook_events", ignore_result=True)
def sweep_webhook_events() -> int:
    with system_scope():
        enqueued = processing.sweep()
    if enqueued:
        logger.warning("webhook events enqueued by the sweeper", extra={"count": enqueued})
    return enqueued


@shared_task(name="messaging.apply_parked_statuses", ignore_result=True)
def apply_parked_statuses() -> int:
    with system_scope():
        return statuses.apply_parked()


# max_retries=None: the media row counts attempts (media.MAX_ATTEMPTS) and download() marks
# it failed on the last one; a retry because another worker holds the download lease does not
# count, so Celery's own counter must not give up first and leave the row pending.
@shared_task(
    name="messaging.download_inbound_media",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
)
@agency_task
def download_inbound_media(self: Task, *, media_id: int, agency_id: int) -> None:
    try:
        outcome = media.download(media_id)
    except media.RetryDownload as exc:
        raise self.retry(countdown=backoff_seconds(self.request.retries, exc.retry_after)) from exc
    logger.info("download_inbound_media", extra={"media_id": media_id, "outcome": outcome})
