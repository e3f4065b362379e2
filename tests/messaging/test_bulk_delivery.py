"""Bulk delivery: campaign messages drained per number in batches, paced by the limiter."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Message, ParkedStatus
from messaging.ratelimit import PAIR_BURST
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
                to=conversation.contact.wa_id,  # type: ignore[arg-type]  # factory contacts have one
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


def test_a_claim_takes_at_most_the_batch_it_was_granted(agency_a, registered_number):
    _queue_campaign(agency_a, registered_number, 20)
    with agency_scope(agency_a):
        claimed = delivery.claim_batch(registered_number, 5)
    assert len(claimed) == 5
    assert [row.id for row in claimed] == sorted(row.id for row in claimed)  # oldest first
    assert _statuses(agency_a) == {"sending": 5, "queued": 15}


def test_a_claim_skips_the_recipients_it_is_told_to(agency_a, registered_number):
    first, *others = _queue_campaign(agency_a, registered_number, 3)
    with agency_scope(agency_a):
        claimed = delivery.claim_batch(registered_number, 10, skip_contacts=[first.contact_id])
    assert {row.id for row in claimed} == {m.pk for m in others}


def _queue_to(agency, number, contact, count: int) -> list[Message]:
    return [
        services.send_message(
            agency=agency, sender=CAMPAIGN, to=contact.wa_id, message=b.Text(f"Update {i}")
        )
        for i in range(count)
    ]


@pytest.fixture
def fresh_pair_buckets(registered_number):
    """No pair tokens left over from another test that had the same factory-made number."""

    def clear() -> None:
        client = delivery.redis_client()
        pattern = f"civic:rl:{{{registered_number.phone_number_id}}}:pair:*"
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)

    clear()
    yield
    clear()


def test_messages_over_a_recipients_pair_budget_go_back_to_the_queue_unsent(
    agency_a, registered_number, open_simulator, fresh_pair_buckets
):
    now = timezone.now()
    busy = ConversationFactory(
        agency=agency_a, phone_number=registered_number, window_expires_at=now + timedelta(hours=2)
    ).contact
    # The citizen already got all but one message of their burst from this number.
    delivery.rate_limiter().acquire_pairs(
        registered_number.phone_number_id, [str(busy.wa_id)] * (PAIR_BURST - 1)
    )
    to_busy = _queue_to(agency_a, registered_number, busy, 3)
    others = _queue_campaign(agency_a, registered_number, 2)

    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=5)
        stored = {m.pk: m for m in Message.objects.all()}

    assert (counts["accepted"], counts["pair_limited"], counts["pair_waiting"]) == (3, 2, 1)
    assert [stored[m.pk].status for m in to_busy] == ["accepted", "queued", "queued"]
    assert all(stored[m.pk].status == "accepted" for m in others)
    # Held back before the request, so the retry budget is untouched.
    assert [stored[m.pk].attempts for m in to_busy[1:]] == [0, 0]
    received = open_simulator.messages(registered_number.phone_number_id)
    assert sorted(m["payload"]["to"] for m in received) == sorted(
        [str(busy.wa_id)] + [str(m.contact.wa_id) for m in others]
    )
    # The number's drainer comes back when the citizen's next pair token is due.
    assert delivery.next_drain_in(counts) == delivery.PAIR_WAIT_SECONDS


def test_a_drain_that_emptied_the_queue_is_not_rescheduled(
    agency_a, registered_number, open_simulator
):
    _queue_campaign(agency_a, registered_number, 3)
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=5)
    assert counts["accepted"] == 3
    assert delivery.next_drain_in(counts) is None


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
    assert delivery.next_drain_in(counts) == delivery.RETRY_PAUSE_SECONDS


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


def test_a_status_that_arrived_before_the_wamid_was_recorded_is_applied_with_it(
    agency_a, registered_number
):
    _queue_campaign(agency_a, registered_number, 1)
    with agency_scope(agency_a):
        [row] = delivery.claim_batch(registered_number, 1)
        ParkedStatus.objects.create(
            agency=agency_a,
            phone_number=registered_number,
            wamid="wamid.early",
            status="delivered",
            payload={"id": "wamid.early", "status": "delivered", "timestamp": "1750000000"},
        )
        delivery._mark_accepted(registered_number, [(row.id, "wamid.early")])
        message = Message.objects.get(pk=row.id)
        assert (message.wamid, message.status) == ("wamid.early", "delivered")
        assert not ParkedStatus.objects.exists()


def _bulk_tasks() -> list[str]:
    return [
        json.loads(raw)["headers"]["task"] for raw in delivery.redis_client().lrange("bulk", 0, -1)
    ]


def test_a_message_whose_wake_up_the_debounce_swallowed_gets_a_drainer_when_the_queue_empties(
    agency_a, registered_number
):
    # A drainer emptied the queue while this message's wake-up was suppressed by the key.
    delivery.redis_client().set(f"civic:drain:{registered_number.pk}", 1)
    _queue_campaign(agency_a, registered_number, 1)
    delivery.redis_client().delete("bulk")
    with agency_scope(agency_a):
        assert delivery.drain_finished(registered_number.pk, agency_a.pk) is True
    assert _bulk_tasks() == ["messaging.drain_phone_number"]


def test_an_empty_queue_frees_the_wake_up_key_and_schedules_nothing(agency_a, registered_number):
    key = f"civic:drain:{registered_number.pk}"
    delivery.redis_client().set(key, 1)
    with agency_scope(agency_a):
        assert delivery.drain_finished(registered_number.pk, agency_a.pk) is False
    assert not delivery.redis_client().exists(key)
    assert _bulk_tasks() == []
