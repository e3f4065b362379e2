"""Inbound media still waiting for its download long after it arrived (its task was lost:
a broker restart, a worker killed before it acknowledged) is enqueued again, well before
Meta forgets the media id (7 days). Downloads are idempotent (a lease, and only a pending
row is worked on), so enqueueing one twice costs a no-op.

``sweep_pending_media`` is meant for a beat task in the system scope (requests-capture.md).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from messaging.models import MediaObject
from messaging.webhooks import media

logger = logging.getLogger(__name__)

# A download normally ends within seconds; its retries back off up to 5 minutes each.
STUCK_AFTER = timedelta(minutes=30)
BATCH = 500


def sweep_pending_media(*, now: datetime | None = None) -> int:
    """Enqueue the download of every media row pending for longer than ``STUCK_AFTER``;
    how many. Oldest first, at most ``BATCH`` per run."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    stuck = list(
        MediaObject.objects.filter(status=MediaObject.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .only("pk", "agency_id")[:BATCH]
    )
    with transaction.atomic():  # schedule_download enqueues once this commits
        for media_object in stuck:
            media.schedule_download(media_object)
    if stuck:
        logger.warning("inbound media re-enqueued by the sweeper", extra={"count": len(stuck)})
    return len(stuck)
