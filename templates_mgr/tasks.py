"""Periodic template reconciliation (beat: ``templates_mgr.sync_templates``)."""

from __future__ import annotations

import dataclasses
import logging

from celery import shared_task

from templates_mgr import services

logger = logging.getLogger(__name__)


@shared_task(name="templates_mgr.sync_templates", ignore_result=True)
def sync_templates() -> None:
    """Every WABA's templates from Meta's list, so a missed status webhook heals."""
    report = services.sync_all_templates()
    # Prefixed: "created" (and others) are LogRecord attributes, and logging refuses to
    # overwrite them (the task died after a successful sync before this).
    fields = {f"sync_{name}": value for name, value in dataclasses.asdict(report).items()}
    logger.info("sync_templates", extra=fields)
