"""Periodic audit verification: a broken chain is logged as an error for operators."""

from __future__ import annotations

import logging

from celery import shared_task

from records.audit import chain_agency_ids, verify_chain

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
