"""The disposition's tasks: the beat's eligibility run, and the execution of an approved
report (takes its id; idempotent)."""

from __future__ import annotations

import logging

from celery import shared_task

from records.retention import disposition, services

logger = logging.getLogger(__name__)


@shared_task(name="records.compute_eligibility", ignore_result=True)
def compute_eligibility() -> int:
    """Beat (daily): an eligibility report for each agency whose records are due."""
    made = services.compute_all()
    logger.info("disposition eligibility computed", extra={"reports": made})
    return made


@shared_task(name="records.execute_disposition", ignore_result=True)
def execute_disposition(*, report_id: int) -> int | None:
    certificate = disposition.execute_report(report_id)
    return certificate.pk if certificate else None
