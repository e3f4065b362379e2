"""Celery tasks of consent: thin, take ids, idempotent (a read import is not read again, a
committed row is never redone). ``queue`` sends them to the bulk queue: a large import
never delays an agent's reply."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from bsp.celery import CeleryQueue
from messaging.consent import imports
from tenants.scoping import agency_task

logger = logging.getLogger(__name__)


@shared_task(name="consent.preview_import", acks_late=True, ignore_result=True)
@agency_task
def preview_import(*, import_id: int, agency_id: int) -> None:
    read = imports.read_upload(import_id)
    status = read.status if read is not None else "already read"
    logger.info("preview_import", extra={"import_id": import_id, "status": status})


# acks_late: a worker that dies mid-import leaves the message to another, which resumes
# at the first row not yet committed (each batch commits whole, its rows marked).
@shared_task(name="consent.commit_import", acks_late=True, ignore_result=True)
@agency_task
def commit_import(*, import_id: int, agency_id: int) -> None:
    batches = imports.commit(import_id)
    logger.info("commit_import", extra={"import_id": import_id, "batches": batches})


def queue(task: Task, *, import_id: int, agency_id: int) -> None:
    task.apply_async(
        kwargs={"import_id": import_id, "agency_id": agency_id}, queue=CeleryQueue.BULK
    )
