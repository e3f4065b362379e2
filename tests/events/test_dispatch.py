"""The dispatcher: committed events reach the agency's Redis channel in order, once
dispatched they are not sent again, and old dispatched events are pruned."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connections, transaction
from django.utils import timezone

from bsp import events
from bsp.events import dispatch, types
from bsp.events.models import DomainEvent, EventCursor
from bsp.events.selectors import events_after
from bsp.redis import redis_client
from tenants.scoping import agency_scope, system_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def subscriber():
    """A real Redis subscription to a channel; ``received()`` drains what arrived."""
    pubsubs = []

    def subscribe(channel: str):
        pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        pubsub.get_message(timeout=1.0)  # the subscription's confirmation
        pubsubs.append(pubsub)

        def received() -> list[dict]:
            found: list[dict] = []
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=0.2)
                if message is None:
                    if found:
                        break
                    continue
                found.append(json.loads(message["data"]))
            return found

        return received

    yield subscribe
    for pubsub in pubsubs:
        pubsub.close()


def _publish(agency, count: int, start: int = 1) -> None:
    with agency_scope(agency), transaction.atomic():
        events.publish_many(
            agency.pk,
            [
                (types.MESSAGE_RECEIVED, {"message": n}, {"n": n})
                for n in range(start, start + count)
            ],
        )


def test_committed_events_reach_the_agencys_channel_in_sequence_order(agency_a, subscriber):
    received = subscriber(dispatch.channel(agency_a.pk))
    _publish(agency_a, 3)
    _publish(agency_a, 2, start=4)

    assert dispatch.dispatch(seconds=5) == 5

    got = received()
    assert [(e["sequence"], e["type"], e["subject"]) for e in got] == [
        (n, "message.received", {"message": n}) for n in range(1, 6)
    ]
    assert got[0]["agency"] == agency_a.pk and got[0]["payload"] == {"n": 1}


def test_each_agency_gets_only_its_own_events(agency_a, agency_b, subscriber):
    received_by_b = subscriber(dispatch.channel(agency_b.pk))
    _publish(agency_a, 2)
    _publish(agency_b, 1)

    dispatch.dispatch(seconds=5)

    assert [(e["agency"], e["sequence"]) for e in received_by_b()] == [(agency_b.pk, 1)]


def test_dispatched_events_are_not_delivered_again(agency_a, subscriber):
    received = subscriber(dispatch.channel(agency_a.pk))
    _publish(agency_a, 2)
    dispatch.dispatch(seconds=5)
    assert len(received()) == 2

    _publish(agency_a, 1, start=3)
    dispatch.dispatch(seconds=5)

    assert [e["sequence"] for e in received()] == [3]


def test_a_consumer_failure_leaves_the_events_for_the_next_pass(agency_a, subscriber):
    received = subscriber(dispatch.channel(agency_a.pk))
    _publish(agency_a, 2)

    def broken(agency_id, messages):
        raise ConnectionError("consumer down")

    dispatch.register_consumer(broken)
    try:
        with pytest.raises(ConnectionError):
            dispatch.dispatch(seconds=5)
    finally:
        dispatch._registered.remove(broken)
    dispatch.dispatch(seconds=5)

    # At least once: the channel had them on the failed pass too; consumers skip by sequence.
    assert [e["sequence"] for e in received()] == [1, 2, 1, 2]
    with system_scope():
        assert EventCursor.objects.get(agency=agency_a).dispatched_through == 2


def test_a_commit_that_publishes_wakes_a_dispatcher(agency_a):
    client = redis_client()
    client.delete(dispatch.WAKE_KEY, "events")

    _publish(agency_a, 1)

    tasks = [json.loads(raw)["headers"]["task"] for raw in client.lrange("events", 0, -1)]
    assert tasks == ["events.dispatch_events"]


def test_dispatched_events_are_pruned_after_the_retention(agency_a, settings):
    settings.EVENT_RETENTION_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _publish(agency_a, 2)
        dispatch.dispatch(seconds=5)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        _publish(agency_a, 1, start=3)  # not dispatched: kept whatever its age
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert dispatch.prune() == 0

    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert dispatch.prune() == 2

    with system_scope():
        assert list(DomainEvent.objects.values_list("sequence", flat=True)) == [3]


def test_a_second_dispatcher_skips_an_agency_another_is_delivering(agency_a, subscriber):
    received = subscriber(dispatch.channel(agency_a.pk))
    _publish(agency_a, 3)
    dispatch.dispatch_agency(agency_a.pk, limit=1)  # the cursor exists, at 1
    holding, release = threading.Event(), threading.Event()

    def first_dispatcher() -> None:
        try:
            with agency_scope(agency_a), transaction.atomic():
                EventCursor.objects.select_for_update().get(agency=agency_a)
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_dispatcher)
    thread.start()
    assert holding.wait(timeout=10)
    try:
        assert dispatch.dispatch_agency(agency_a.pk) == 0  # no later events delivered first
    finally:
        release.set()
        thread.join(timeout=10)
    assert dispatch.dispatch_agency(agency_a.pk) == 2

    assert [e["sequence"] for e in received()] == [1, 2, 3]


def test_without_redis_the_dispatcher_only_moves_the_cursor_and_readers_poll_the_table(
    agency_a, settings
):
    settings.REDIS_URL = ""  # the embedded demo
    redis_client.cache_clear()
    try:
        _publish(agency_a, 2)
        assert dispatch.dispatch(seconds=5) == 2
    finally:
        redis_client.cache_clear()

    with agency_scope(agency_a):
        assert EventCursor.objects.get().dispatched_through == 2
        assert [e["sequence"] for e in events_after(agency_a.pk, 0)] == [1, 2]
