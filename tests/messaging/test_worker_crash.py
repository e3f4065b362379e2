"""Exactly once toward Meta, even when a real worker is SIGKILLed in the middle of a batch."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Message
from messaging.whatsapp import builders as b
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory
from tests.processes import django_env, start_worker, stop

BATCH = 150


def _start_worker(simulator) -> subprocess.Popen:
    env = django_env(GRAPH_API_BASE_URL=simulator.base_url, GRAPH_API_VERSION="v23.0")
    return start_worker("agent_replies", env, concurrency=2)


def _statuses(agency) -> Counter:
    with agency_scope(agency):
        return Counter(Message.objects.values_list("status", flat=True))


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_killing_a_worker_mid_batch_never_sends_a_message_twice(
    agency_a, registered_number, simulator
):
    simulator.configure(limits={"throughput_mps": 0, "pair_burst": 0, "enforce_window": False})
    now = timezone.now()
    for i in range(BATCH):  # one citizen each: our pair limiter allows ~45 per person
        conversation = ConversationFactory(
            agency=agency_a,
            phone_number=registered_number,
            last_inbound_at=now,
            window_expires_at=now + timedelta(hours=24),
        )
        services.send_message(
            agency=agency_a,
            sender=services.Sender.system("test"),
            to=conversation.contact.wa_id,  # type: ignore[arg-type]  # factory contacts have one
            message=b.Text(f"notice {i}"),
        )
    worker = _start_worker(simulator)
    try:
        _wait(lambda: _statuses(agency_a)["accepted"] >= BATCH // 5, timeout=60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool children
        worker.wait()
    killed_at = _statuses(agency_a)
    assert killed_at["queued"] > 0, "the kill came too late to test anything"

    # Self-healing: the database, not the broker, says what is still to send.
    with agency_scope(agency_a):
        delivery.requeue_stuck_messages(now=timezone.now() + timedelta(minutes=11))
    in_flight_at_kill = killed_at["sending"]
    worker = _start_worker(simulator)
    try:
        _wait(lambda: _statuses(agency_a)["accepted"] == BATCH - in_flight_at_kill, timeout=90)
    finally:
        stop(worker)  # warm shutdown (SIGKILL if it takes longer than 15 s)

    received = Counter(
        m["payload"]["biz_opaque_callback_data"]
        for m in simulator.messages(registered_number.phone_number_id)
    )
    final = _statuses(agency_a)
    assert max(received.values()) == 1  # nothing reached Meta twice
    assert in_flight_at_kill <= 2  # at most one task per pool process (concurrency 2)
    assert final == Counter({"accepted": BATCH - in_flight_at_kill, "sending": in_flight_at_kill})
    with agency_scope(agency_a):
        for message in Message.objects.filter(status="accepted"):
            assert received[f"civic-relay:{message.pk}"] == 1
    # What was in flight is left for the reconciler (never resent): at most once each.
    assert sum(received.values()) in range(final["accepted"], BATCH + 1)
