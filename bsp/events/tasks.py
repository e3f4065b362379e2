"""Celery tasks of the event stream: thin wrappers around ``dispatch``."""

from __future__ import annotations

import logging

from celery import shared_task

from bsp.events import dispatch

logger = logging.getLogger(__name__)


@shared_task(name="events.dispatch_events", acks_late=True, ignore_result=True)
def dispatch_events() -> int:
    done = dispatch.dispatch()
    if done:
        logger.info("dispatch_events", extra={"events": done})
    return done


@shared_task(name="events.prune_events", ignore_result=True)
def prune_events() -> int:
    deleted = dispatch.prune()
    if deleted:
        logger.info("prune_events", extra={"deleted": deleted})
    return deleted
