"""Campaign tasks: thin, take ids, idempotent (the services check the campaign's state under
its row lock, so a duplicate or late task does nothing)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from bsp.celery import CeleryQueue
from messaging.campaigns import consumers, services
from messaging.campaigns.models import Campaign
from tenants.scoping import agency_task, system_scope

logger = logging.getLogger(__name__)
STALLED_AFTER_SECONDS = 120  # a queuing campaign untouched this long lost its task


def _queue_next(campaign_id: int, agency_id: int, countdown: float = 0) -> None:
    queue_campaign.apply_async(
        kwargs={"campaign_id": campaign_id, "agency_id": agency_id},
        queue=CeleryQueue.BULK,
        countdown=countdown,
    )


@shared_task(name="campaigns.start_campaign", acks_late=True, ignore_result=True)
@agency_task
def start_campaign(*, campaign_id: int, agency_id: int) -> None:
    outcome = services.start_campaign(campaign_id)
    logger.info("start_campaign", extra={"campaign_id": campaign_id, "outcome": outcome})
    if outcome == "started":
        _queue_next(campaign_id, agency_id)


@shared_task(name="campaigns.queue_campaign", acks_late=True, ignore_result=True)
@agency_task
def queue_campaign(*, campaign_id: int, agency_id: int) -> None:
    outcome = services.queue_pending(campaign_id)
    logger.info("queue_campaign", extra={"campaign_id": campaign_id, "outcome": outcome})
    if outcome == "more":
        _queue_next(campaign_id, agency_id)  # hand over: other campaigns' tasks get a turn


@shared_task(name="campaigns.publish_progress", ignore_result=True)
@agency_task
def publish_progress(*, campaign_id: int, agency_id: int) -> None:
    consumers.publish_progress(campaign_id)


@shared_task(name="campaigns.run_due_campaigns", ignore_result=True)
def run_due_campaigns() -> dict[str, int]:
    """Beat: start scheduled campaigns that are due (their ETA task may be lost, or they
    were scheduled more than an hour ahead), queue a split campaign's next day's share, and
    pick up a queueing that lost its task."""
    now = timezone.now()
    stalled = now - timedelta(seconds=STALLED_AFTER_SECONDS)
    counts = {"started": 0, "queued": 0}
    with system_scope():
        due = list(
            Campaign.objects.filter(
                status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
            ).values_list("pk", "agency_id")[:500]
        )
        continuing = list(
            Campaign.objects.filter(
                Q(status=Campaign.Status.SENDING, next_run_at__lte=now)
                | Q(status=Campaign.Status.QUEUING, updated_at__lt=stalled)
            ).values_list("pk", "agency_id")[:500]
        )
    for pk, agency_id in due:
        start_campaign.apply_async(
            kwargs={"campaign_id": pk, "agency_id": agency_id}, queue=CeleryQueue.BULK
        )
        counts["started"] += 1
    for pk, agency_id in continuing:
        resume_split.apply_async(
            kwargs={"campaign_id": pk, "agency_id": agency_id}, queue=CeleryQueue.BULK
        )
        counts["queued"] += 1
    return counts


@shared_task(name="campaigns.resume_split", ignore_result=True)
@agency_task
def resume_split(*, campaign_id: int, agency_id: int) -> None:
    """The next day's share of a split campaign (or a stalled queueing): queue on."""
    if services.continue_queueing(campaign_id):
        _queue_next(campaign_id, agency_id)
