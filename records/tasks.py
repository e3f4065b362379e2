"""Periodic records work: audit verification, and the signed checkpoints."""

from __future__ import annotations

import logging

from celery import shared_task

from bsp.celery import CeleryQueue
from records import checkpoints, verification
from records.audit import chain_agency_ids, verify_chain
from records.exports import tasks as _export_tasks  # noqa: F401  (registers records.run_export)
from records.foia import tasks as _foia_tasks  # noqa: F401  (registers records.build_production)
from records.worm.verification import verify_archive
from tenants.models import Agency
from tenants.scoping import system_scope

logger = logging.getLogger(__name__)


@shared_task(name="records.verify_audit_chains", ignore_result=True)
def verify_audit_chains() -> int:
    broken = 0
    for agency_id in chain_agency_ids():
        report = verify_chain(agency_id)
        if not report.ok:
            broken += 1
            logger.error(
                "audit chain broken",
                extra={
                    "agency_id": agency_id,
                    "problem": report.problem,
                    "event_id": report.broken_event.pk if report.broken_event else None,
                },
            )
    return broken


@shared_task(name="records.verify_records", ignore_result=True)
def verify_records() -> int:
    """Beat (daily): what ``manage.py records_verify`` does, a mismatch logged as an error for
    operators; how many agencies failed."""
    failed = 0
    for agency_id in Agency.objects.order_by("pk").values_list("pk", flat=True):
        report = verification.verify_records(agency_id)
        problems = [report.problem] if not report.ok else verify_archive(agency_id)
        if problems:
            failed += 1
            logger.error(
                "records verification failed",
                extra={"agency_id": agency_id, "problem": problems[0]},
            )
    return failed


@shared_task(name="records.sign_checkpoints", ignore_result=True)
def sign_checkpoints() -> None:
    """Beat: one checkpoint task per agency (an agency's failure does not stop the others)."""
    for agency_id in Agency.objects.order_by("pk").values_list("pk", flat=True):
        sign_agency_checkpoint.apply_async(
            kwargs={"agency_id": agency_id}, queue=CeleryQueue.HOUSEKEEPING.value
        )


@shared_task(name="records.sign_agency_checkpoint", ignore_result=True)
def sign_agency_checkpoint(*, agency_id: int) -> None:
    if not Agency.objects.filter(pk=agency_id).exists():
        logger.info("sign_agency_checkpoint: agency gone", extra={"agency_id": agency_id})
        return
    checkpoint = checkpoints.sign_checkpoint(agency_id=agency_id)
    if checkpoint is not None:
        logger.info(
            "records checkpoint signed",
            extra={
                "agency_id": agency_id,
                "checkpoint_number": checkpoint.number,
                "leaf_count": checkpoint.leaf_count,
                "audit_sequence": checkpoint.audit_sequence,
            },
        )


@shared_task(name="records.sweep_pending_media", ignore_result=True)
def sweep_pending_media() -> int:
    """Beat: inbound media whose download task was lost is enqueued again (records.capture)."""
    from records.capture import sweep

    with system_scope():
        return sweep.sweep_pending_media()
