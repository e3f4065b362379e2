"""Retention of the delivery log: finished deliveries older than
WEBHOOK_DELIVERY_RETENTION_DAYS are purged by beat; pending ones never are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bsp.integrations import delivery
from bsp.integrations.models import Delivery
from tenants.scoping import agency_scope

pytestmark = pytest.mark.django_db


def _row(sub, event_id: str, status: str, finished_days_ago: int | None) -> Delivery:
    now = timezone.now()
    finished = now - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    return Delivery.objects.create(
        agency_id=sub.agency_id,
        subscription=sub,
        event_id=event_id,
        type="message.status",
        body="{}",
        status=status,
        finished_at=finished,
        created_at=now - timedelta(days=40),
    )


def _left(agency) -> set[str]:
    with agency_scope(agency):
        return set(Delivery.objects.values_list("event_id", flat=True))


def test_finished_deliveries_past_the_retention_are_purged(agency_a, subscribe, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    sub, _ = subscribe("http://127.0.0.1:9/hooks", ["message.status"])
    with agency_scope(agency_a):
        _row(sub, "old_ok", Delivery.Status.SUCCEEDED, 31)
        _row(sub, "old_failed", Delivery.Status.FAILED, 31)
        _row(sub, "recent_ok", Delivery.Status.SUCCEEDED, 29)
        _row(sub, "still_pending", Delivery.Status.PENDING, None)

    assert delivery.purge_old_deliveries() == 2
    assert _left(agency_a) == {"recent_ok", "still_pending"}


def test_the_retention_is_a_setting(agency_a, subscribe, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 7
    sub, _ = subscribe("http://127.0.0.1:9/hooks", ["message.status"])
    with agency_scope(agency_a):
        _row(sub, "eight_days", Delivery.Status.SUCCEEDED, 8)
        _row(sub, "six_days", Delivery.Status.SUCCEEDED, 6)

    delivery.purge_old_deliveries()
    assert _left(agency_a) == {"six_days"}


def test_the_purge_covers_every_agency(agency_a, agency_b, subscribe, settings):
    sub_a, _ = subscribe("http://127.0.0.1:9/hooks", ["message.status"])
    sub_b, _ = subscribe("http://127.0.0.1:9/hooks", ["message.status"], agency=agency_b)
    with agency_scope(agency_a):
        _row(sub_a, "a_old", Delivery.Status.SUCCEEDED, 60)
    with agency_scope(agency_b):
        _row(sub_b, "b_old", Delivery.Status.SUCCEEDED, 60)

    assert delivery.purge_old_deliveries() == 2
    assert _left(agency_a) == set() and _left(agency_b) == set()


def test_beat_runs_the_purge_hourly_on_the_housekeeping_queue():
    from bsp.celery import CeleryQueue, app

    entry = app.conf.beat_schedule["integrations.purge_old_deliveries"]
    assert entry["schedule"] == 3600.0
    assert entry["options"]["queue"] == CeleryQueue.HOUSEKEEPING.value
