"""Celery tasks of the integrator webhooks: thin wrappers (ids in, idempotent)."""

from __future__ import annotations

from celery import shared_task

from bsp.integrations import delivery


@shared_task(name="integrations.drain_subscription", acks_late=True, ignore_result=True)
def drain_subscription(agency_id: int, subscription_id: int, shard: int = 0) -> int:
    return delivery.drain(agency_id, subscription_id, shard)


@shared_task(name="integrations.deliver_due", ignore_result=True)
def deliver_due() -> int:
    return delivery.wake_due()


@shared_task(name="integrations.purge_old_deliveries", ignore_result=True)
def purge_old_deliveries() -> int:
    return delivery.purge_old_deliveries()
