"""Housekeeping of the REST API's state (beat, hourly)."""

from __future__ import annotations

import logging

from celery import shared_task

from tenants.api.idempotency import key_hours
from tenants.services import purge_expired_api_state

logger = logging.getLogger(__name__)


@shared_task(name="tenants.purge_expired_api_state", ignore_result=True)
def purge_expired_api_state_task() -> tuple[int, int]:
    """Delete expired OAuth access tokens and idempotency keys older than 24 h (idempotent)."""
    tokens, keys = purge_expired_api_state(idempotency_hours=key_hours())
    if tokens or keys:
        logger.info("purged %d access tokens and %d idempotency keys", tokens, keys)
    return tokens, keys
