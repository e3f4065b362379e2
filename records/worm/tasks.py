"""The WORM archive's tasks (queue ``housekeeping``). They take ids and are idempotent.

Beat runs ``records.worm.archive`` (hourly; the schedule entry is in the README): one
``records.worm.archive_agency`` per agency, which archives the conversations past their
active period, mirrors the agency's legal holds and extends retention to the file plan's
dates (the stream consumer asks for the last two at once when a hold or the plan changes;
the hourly run catches up whatever a lost task missed), and deletes destroyed versions a
failed deletion left in the store.
"""

from __future__ import annotations

import logging

from celery import shared_task

from bsp.celery import CeleryQueue
from records.worm import services
from tenants.models import Agency

logger = logging.getLogger(__name__)

QUEUE = CeleryQueue.HOUSEKEEPING.value


@shared_task(name="records.worm.archive", ignore_result=True)
def archive() -> None:
    """Beat: one archive task per agency (an agency's failure does not stop the others)."""
    for agency_id in Agency.objects.order_by("pk").values_list("pk", flat=True):
        archive_agency.apply_async(kwargs={"agency_id": agency_id}, queue=QUEUE)


@shared_task(name="records.worm.archive_agency", ignore_result=True)
def archive_agency(agency_id: int, after: int = 0) -> int:
    """Archive what is due, then mirror holds, extend retention and retry deletions; how
    many conversations were archived. A full batch queues the next one (from where this
    one stopped) before the catch-up work, so a backlog drains batch after batch."""
    run = services.archive_due(agency_id, after=after)
    if run.full:
        archive_agency.apply_async(
            kwargs={"agency_id": agency_id, "after": run.last_id}, queue=QUEUE
        )
        return len(run.archived)
    services.mirror_agency_holds(agency_id)
    services.sync_retention(agency_id)
    services.purge_destroyed(agency_id)
    return len(run.archived)


@shared_task(name="records.worm.mirror_holds", ignore_result=True)
def mirror_holds(agency_id: int) -> int:
    return services.mirror_agency_holds(agency_id)


@shared_task(name="records.worm.sync_retention", ignore_result=True)
def sync_retention(agency_id: int) -> int:
    return services.sync_retention(agency_id)


@shared_task(name="records.worm.archive_conversation", ignore_result=True)
def archive_conversation(conversation_id: int) -> int:
    return services.archive_conversation(conversation_id).pk
