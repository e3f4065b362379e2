"""Bulk delivery: campaign messages drained per number in batches, paced by the limiter."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Message
from messaging.whatsapp import builders as b
from tenants.models import PhoneNumber
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory

CAMPAIGN = services.Sender.campaign(campaign_id=7)


@pytest.fixture(autouse=True)
def _fresh_bulk_queue():
    delivery.redis_client().delete("bulk")
    yield
    delivery.redis_client().delete("bulk")


def _queue_campaign(agency, number, count: int) -> list[Message]:
    now = timezone.now()
    rows = []
    for i in range(count):
        conversation = ConversationFactory(
            agency=agency, phone_number=number, window_expires_at=now + timedelta(hours=2)
        )
        rows.append(
            services.send_message(
                agency=agency,
                sender=CAMPAIGN,
                to=conversation.contact.wa_id,
                message=b.Text(f"Road closure notice {i}"),
            )
        )
    return rows


def _statuses(agency) -> dict[str, int]:
    with agency_scope(agency):
        rows = Message.objects.values_list("status", flat=True)
        return {status: list(rows).count(status) for status in set(rows)}


@pytest.fixture
def open_simulator(simulator):
    simulator.configure(limits={"enforce_window": False, "throughput_mps": 0})
    return simulator


def test_a_drain_sends_every_queued_campaign_message_once(
    agency_a, registered_number, open_simulator
):
    _queue_campaign(agency_a, registered_number, 30)
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=10)
    assert counts["accepted"] == 30 and not counts["more"]
    assert _statuses(agency_a) == {"accepted": 30}
    received = open_simulator.messages(registered_number.phone_number_id)
    assert len({m["payload"]["biz_opaque_callback_data"] for m in received}) == len(received) == 30


def test_a_drain_leaves_agent_replies_to_their_own_tasks(
    agency_a, registered_number, open_simulator, open_conversation
):
    reply = services.send_message(
        agency=agency_a,
        sender=services.Sender.system("inbox"),
        to=open_conversation.contact.wa_id,
        message=b.Text("hi"),
    )
    with agency_scope(agency_a):
        delivery.drain_phone_number(registered_number.pk, seconds=2)
        assert Message.objects.get(pk=reply.pk).status == "queued"


def test_a_drain_is_paced_by_the_numbers_throughput(agency_a, registered_number, open_simulator):
    _queue_campaign(agency_a, registered_number, 60)
    limiter = delivery.rate_limiter()
    tier = int(registered_number.throughput_tier)  # 80/s
    started = time.monotonic()
    limiter.acquire(registered_number.phone_number_id, tier, n=tier)  # this second is spent
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=0.3)
    elapsed = time.monotonic() - started
    assert counts["more"] == 1
    # Only what refilled since the bucket was emptied can have been sent (+1 rounding).
    assert 0 < counts["accepted"] <= tier * elapsed + 1


def test_a_revoked_token_fails_the_batch_and_disconnects_the_number(
    agency_a, registered_number, open_simulator
):
    _queue_campaign(agency_a, registered_number, 5)
    open_simulator.register_number(registered_number.phone_number_id, token_revoked=True)
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=5)
        assert PhoneNumber.objects.get(pk=registered_number.pk).status == "disconnected"
    assert counts["failed"] == 5
    assert _statuses(agency_a) == {"failed": 5}


def test_transient_errors_go_back_to_the_queue(agency_a, registered_number, open_simulator):
    _queue_campaign(agency_a, registered_number, 5)
    open_simulator.configure(faults={"error_5xx_fraction": 1.0})
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=0.05)
    assert counts["retry"] == 5
    assert _statuses(agency_a) == {"queued": 5}


def test_queueing_a_campaign_wakes_one_drainer_not_one_task_per_message(
    agency_a, registered_number, django_capture_on_commit_callbacks
):
    delivery.redis_client().delete(f"civic:drain:{registered_number.pk}")  # no earlier wake-up
    with django_capture_on_commit_callbacks(execute=True):
        _queue_campaign(agency_a, registered_number, 10)
    queued_tasks = [
        json.loads(raw)["headers"]["task"] for raw in delivery.redis_client().lrange("bulk", 0, -1)
    ]
    assert queued_tasks == ["messaging.drain_phone_number"]
