"""End to end with real processes: a Celery worker (queues events and integrations) takes
committed stream events to a local receiver; a receiver that is down for a while loses
nothing and is caught up, each conversation in order."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction

from bsp import events
from bsp.events import types
from bsp.integrations.verify import verify
from tenants.scoping import agency_scope
from tests.processes import django_env, start_worker, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    env = django_env(DJANGO_SETTINGS_MODULE="tests.integrations.worker_settings")
    process = start_worker("events,integrations", env, concurrency=2)
    yield process
    stop(process)


def _statuses(agency, conversations: int, per: int) -> None:
    with agency_scope(agency), transaction.atomic():
        events.publish_many(
            agency.pk,
            [
                events.Event(
                    types.MESSAGE_STATUS,
                    {"message": c, "conversation": c},
                    {"status": "sent", "n": n},
                )
                for n in range(per)
                for c in range(1, conversations + 1)
            ],
        )


def test_a_worker_delivers_committed_events_signed(agency_a, subscribe, receiver, worker):
    _, secret = subscribe(receiver.url, ["message.status"])
    _statuses(agency_a, conversations=3, per=2)
    wait_for(lambda: len(receiver.received) >= 6, timeout=30)
    for hit in receiver.received:
        assert verify(secret, hit.body, hit.headers["Civic-Relay-Signature"])


def test_a_receiver_down_for_a_while_loses_nothing_and_catches_up_in_order(
    agency_a, subscribe, receiver, worker
):
    subscribe(receiver.url, ["message.status"])
    receiver.plan = [503] * 60  # down: the first 60 attempts fail
    _statuses(agency_a, conversations=5, per=10)
    wait_for(lambda: len(receiver.received) >= 50, timeout=60)

    by_conversation = defaultdict(list)
    for hit in receiver.received:
        data = hit.json["data"]
        by_conversation[data["subject"]["conversation"]].append(data["payload"]["n"])
    assert dict(by_conversation) == {c: list(range(10)) for c in range(1, 6)}
    assert len({hit.json["id"] for hit in receiver.received}) == 50
