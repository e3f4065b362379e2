"""End to end with a real Celery worker draining to the simulator over HTTP: pause stops
sending, resume sends the rest, and nothing reaches WhatsApp twice."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

import pytest

from messaging.campaigns import selectors, services
from messaging.campaigns.models import Campaign
from messaging.models import Message
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN, campaign, many_citizens
from tests.processes import django_env, start_worker, stop, wait_for

RECIPIENTS = 400


def _worker(simulator) -> subprocess.Popen:
    env = django_env(GRAPH_API_BASE_URL=simulator.base_url, GRAPH_API_VERSION="v23.0")
    return start_worker("bulk,events,default", env, concurrency=2)


def _statuses(agency) -> Counter:
    with agency_scope(agency):
        return Counter(
            Message.objects.filter(campaign_id__isnull=False).values_list("status", flat=True)
        )


def _received(simulator, number) -> Counter:
    return Counter(
        m["payload"]["biz_opaque_callback_data"] for m in simulator.messages(number.phone_number_id)
    )


@pytest.mark.django_db(transaction=True)
def test_pausing_and_resuming_a_campaign_sends_every_message_exactly_once(
    agency_a, registered, sim_utility, simulator
):
    many_citizens(agency_a, RECIPIENTS)
    c = campaign(registered, sim_utility)
    worker = _worker(simulator)
    try:
        services.schedule_campaign(actor=ADMIN, campaign=c)
        wait_for(lambda: _statuses(agency_a)["accepted"] >= 60, timeout=120)
        services.pause_campaign(actor=ADMIN, campaign=c)
        time.sleep(3)  # a batch claimed before the pause finishes; then nothing moves
        at_pause = _statuses(agency_a)
        time.sleep(2)
        assert _statuses(agency_a) == at_pause, "messages were sent while paused"
        assert at_pause["held"] > 0, "the pause came too late to test anything"
        assert sum(_received(simulator, registered).values()) == at_pause["accepted"]

        services.resume_campaign(actor=ADMIN, campaign=c)
        wait_for(lambda: _statuses(agency_a)["accepted"] == RECIPIENTS, timeout=120)
        received = _received(simulator, registered)
        assert sum(received.values()) == RECIPIENTS
        assert max(received.values()) == 1  # nothing reached WhatsApp twice

        # The counters come from the stream (the worker dispatches it) and complete it.
        try:
            wait_for(lambda: selectors.campaign_progress(c).sent == RECIPIENTS, timeout=60)
        except AssertionError:
            raise AssertionError(str(selectors.campaign_progress(c))) from None
        with agency_scope(agency_a):
            wait_for(
                lambda: Campaign.objects.get(pk=c.pk).status == Campaign.Status.COMPLETED,
                timeout=30,
            )
    finally:
        stop(worker)


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_campaign_stops_its_unsent_messages(
    agency_a, registered, sim_utility, simulator
):
    many_citizens(agency_a, RECIPIENTS)
    c = campaign(registered, sim_utility)
    worker = _worker(simulator)
    try:
        services.schedule_campaign(actor=ADMIN, campaign=c)
        wait_for(lambda: _statuses(agency_a)["accepted"] >= 60, timeout=120)
        services.cancel_campaign(actor=ADMIN, campaign=c)
        time.sleep(3)
        final = _statuses(agency_a)
        assert final["cancelled"] > 0
        assert final["queued"] == final["held"] == final["sending"] == 0
        received = _received(simulator, registered)
        assert sum(received.values()) == final["accepted"] and max(received.values()) == 1
        wait_for(lambda: selectors.campaign_progress(c).cancelled == final["cancelled"], timeout=60)
    finally:
        stop(worker)
