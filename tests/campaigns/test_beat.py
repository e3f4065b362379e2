"""Beat starts campaigns scheduled more than an hour ahead (no ETA task is queued for those),
once each, however many ticks see them due."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bsp.celery import CeleryQueue
from bsp.celery import app as celery_app
from bsp.events import types
from bsp.events.models import DomainEvent
from messaging.campaigns import tasks
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from tenants.scoping import agency_scope
from tests.campaigns.factories import campaign, citizen, scheduled


@pytest.fixture
def eager():
    """Tasks run where they are queued (this test's own; never set for the whole suite)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_the_beat_schedule_runs_the_due_campaigns_task_every_half_minute():
    entry = celery_app.conf.beat_schedule["campaigns.run_due_campaigns"]
    celery_app.loader.import_default_modules()  # what a worker does at start
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] <= 60
    # Housekeeping, not bulk: a campaign's backlog must not delay starting the next one.
    assert entry["options"]["queue"] == CeleryQueue.HOUSEKEEPING.value


def test_beat_starts_a_campaign_due_later_exactly_once(agency_a, number, utility, eager):
    citizen(agency_a), citizen(agency_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        c = scheduled(campaign(number, utility), at=start + timedelta(hours=3))
        assert tasks.run_due_campaigns() == {"started": 0, "queued": 0}
    with time_machine.travel(start + timedelta(hours=3, seconds=20), tick=False):
        first = tasks.run_due_campaigns()
    with time_machine.travel(start + timedelta(hours=3, seconds=50), tick=False):
        second = tasks.run_due_campaigns()
    assert first == {"started": 1, "queued": 0}
    assert second == {"started": 0, "queued": 0}
    with agency_scope(agency_a):
        assert Campaign.objects.get(pk=c.pk).status == Campaign.Status.SENDING
        assert CampaignRecipient.objects.filter(campaign=c).count() == 2
        assert Message.objects.filter(campaign_id=c.pk).count() == 2
        assert DomainEvent.objects.filter(type=types.CAMPAIGN_STARTED).count() == 1


def test_beat_leaves_a_campaign_that_is_not_due_yet(agency_a, number, utility, eager):
    citizen(agency_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        c = scheduled(campaign(number, utility), at=start + timedelta(hours=3))
    with time_machine.travel(start + timedelta(hours=2, minutes=59), tick=False):
        assert tasks.run_due_campaigns() == {"started": 0, "queued": 0}
    with agency_scope(agency_a):
        assert Campaign.objects.get(pk=c.pk).status == Campaign.Status.SCHEDULED
        assert not CampaignRecipient.objects.filter(campaign=c).exists()


def test_a_start_task_that_beat_and_an_eta_both_queued_starts_once(
    agency_a, number, utility, eager
):
    citizen(agency_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        c = scheduled(campaign(number, utility), at=start + timedelta(hours=3))
    with time_machine.travel(start + timedelta(hours=3, seconds=5), tick=False):
        tasks.start_campaign(campaign_id=c.pk, agency_id=agency_a.pk)  # a late ETA task
        assert tasks.run_due_campaigns() == {"started": 0, "queued": 0}
        tasks.start_campaign(campaign_id=c.pk, agency_id=agency_a.pk)  # a duplicate
    with agency_scope(agency_a):
        assert CampaignRecipient.objects.filter(campaign=c).count() == 1
        assert Message.objects.filter(campaign_id=c.pk).count() == 1
