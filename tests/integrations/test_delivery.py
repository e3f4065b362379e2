"""Delivering: the stream's events become one delivery per subscription; failed ones are
retried with exponential backoff (with jitter) for 24 h; a conversation's deliveries go in
order; a subscription failing for 24 h is disabled; agencies never see each other's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bsp.events import dispatch, types
from bsp.integrations import delivery, services
from bsp.integrations.models import Delivery, WebhookSubscription
from records.audit import Actor
from records.models import AuditEvent
from tenants.scoping import agency_scope, system_scope
from tests.integrations.conftest import flow, publish

pytestmark = pytest.mark.django_db(transaction=True)


def _deliveries(agency) -> list[Delivery]:
    with agency_scope(agency):
        return list(Delivery.objects.order_by("pk"))


def test_only_the_subscribed_integrator_events_are_delivered(agency_a, subscribe, receiver):
    sub, _ = subscribe(receiver.url, ["message.status", "conversation.resolved"])
    publish(agency_a, types.MESSAGE_STATUS, {"message": 1, "conversation": 5}, {"status": "sent"})
    publish(agency_a, types.MESSAGE_RECEIVED, {"message": 2, "conversation": 5}, {})
    publish(agency_a, types.CONVERSATION_STATUS, {"conversation": 5}, {"status": "snoozed"})
    publish(agency_a, types.CONVERSATION_STATUS, {"conversation": 5}, {"status": "resolved"})
    publish(agency_a, types.NOTE_ADDED, {"conversation": 5}, {})
    flow(agency_a, sub)

    assert receiver.types() == ["message.status", "conversation.resolved"]


def test_a_redelivered_stream_batch_makes_no_second_delivery(agency_a, subscribe, receiver):
    from bsp.integrations.consumers import webhook_consumer

    subscribe(receiver.url, ["consent.changed"])
    message = json.dumps(
        {
            "agency": agency_a.pk,
            "sequence": 99,
            "type": "consent.changed",
            "subject": {"contact": 1},
            "payload": {},
            "created_at": "2026-01-01T00:00:00+00:00",
        }
    )
    from django.db import transaction

    for _ in range(2):
        with agency_scope(agency_a), transaction.atomic():
            webhook_consumer(agency_a.pk, [message])
    assert [d.sequence for d in _deliveries(agency_a)] == [99]


def test_a_receiver_that_fails_then_succeeds_gets_the_event_once(agency_a, subscribe, receiver):
    receiver.plan = [500, 503]
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {"status": "opted_in"})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow(agency_a, sub)
        (row,) = _deliveries(agency_a)
        assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
        assert row.last_error == "HTTP 500"
        clock.shift(timedelta(minutes=1))
        flow(agency_a, sub)
        clock.shift(timedelta(minutes=2))
        flow(agency_a, sub)

    (row,) = _deliveries(agency_a)
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 3, 200)
    assert row.last_latency_ms is not None
    assert len(receiver.received) == 1


def test_a_retry_waits_for_its_backoff(agency_a, subscribe, receiver):
    receiver.plan = [500]
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow(agency_a, sub)
        clock.shift(timedelta(seconds=14))  # the first backoff is 15-30 s
        flow(agency_a, sub)
        assert receiver.received == []
        clock.shift(timedelta(seconds=17))
        flow(agency_a, sub)
    assert len(receiver.received) == 1


def test_the_backoff_doubles_from_30_seconds_to_an_hour_with_jitter():
    no_jitter = [delivery.backoff(n, rng=lambda: 1.0).total_seconds() for n in range(1, 10)]
    assert no_jitter == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    most_jitter = [delivery.backoff(n, rng=lambda: 0.0).total_seconds() for n in (1, 8)]
    assert most_jitter == [15, 1800]


def test_a_delivery_is_given_up_after_24_hours_and_the_subscription_disabled(
    agency_a, subscribe, receiver
):
    receiver.plan = [500] * 1000
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {})
    attempts_at: list[int] = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        for _ in range(200):
            flow(agency_a, sub, passes=1)
            (row,) = _deliveries(agency_a)
            if row.attempts and (not attempts_at or attempts_at[-1] != row.attempts):
                attempts_at.append(row.attempts)
            if row.status != "pending":
                break
            clock.move_to(row.next_attempt_at)

    (row,) = _deliveries(agency_a)
    assert row.status == "failed"
    assert row.finished_at is not None
    assert row.finished_at - start == timedelta(hours=24)
    assert 25 < row.attempts < 50  # 8 doubling, then about one an hour
    with agency_scope(agency_a):
        sub = WebhookSubscription.objects.get(pk=sub.pk)
        assert not sub.enabled
        assert sub.disabled_reason == "Every delivery failed for 24 hours"
        assert AuditEvent.objects.filter(action="webhook_subscription.disabled").exists()
    from bsp.events.selectors import events_after

    with agency_scope(agency_a):
        stream = events_after(agency_a.pk, 0, 1000)
    disabled = [e for e in stream if e["payload"].get("notify")]
    assert disabled[0]["type"] == "webhook_subscription.changed"
    assert disabled[0]["payload"]["action"] == "disabled"


def test_a_conversations_next_delivery_waits_for_the_previous_one(agency_a, subscribe, receiver):
    receiver.plan = [500]
    sub, _ = subscribe(receiver.url, ["message.status", "consent.changed"])
    subject = {"message": 1, "conversation": 9}
    with time_machine.travel(timezone.now(), tick=False) as clock:
        publish(agency_a, types.MESSAGE_STATUS, subject, {"status": "sent"})
        flow(agency_a, sub)  # conversation 9's first delivery fails
        for status in ("delivered", "read"):
            publish(agency_a, types.MESSAGE_STATUS, subject, {"status": status})
        publish(agency_a, types.MESSAGE_STATUS, {"message": 2, "conversation": 10}, {})
        flow(agency_a, sub)
        # conversation 9's later ones wait for its first; conversation 10 went on.
        assert [r.json["data"]["subject"]["conversation"] for r in receiver.received] == [10]
        clock.shift(timedelta(minutes=1))
        flow(agency_a, sub)

    statuses = [
        r.json["data"]["payload"]["status"]
        for r in receiver.received
        if r.json["data"]["subject"]["conversation"] == 9
    ]
    assert statuses == ["sent", "delivered", "read"]


def test_a_given_up_delivery_lets_the_conversation_go_on(agency_a, subscribe, receiver):
    sub, _ = subscribe(receiver.url, ["message.status"])
    publish(agency_a, types.MESSAGE_STATUS, {"message": 1, "conversation": 9}, {"status": "sent"})
    publish(agency_a, types.MESSAGE_STATUS, {"message": 1, "conversation": 9}, {"status": "read"})
    while dispatch.dispatch_pending():
        pass
    with agency_scope(agency_a):
        first = Delivery.objects.order_by("sequence").first()
        Delivery.objects.filter(pk=first.pk).update(status="failed")
    flow(agency_a, sub)
    assert [r.json["data"]["payload"]["status"] for r in receiver.received] == ["read"]


def test_another_agencys_events_never_reach_a_subscription(agency_a, agency_b, subscribe, receiver):
    sub_a, _ = subscribe(receiver.url, ["consent.changed"])
    publish(agency_b, types.CONSENT_CHANGED, {"contact": 1}, {"status": "opted_out"})
    flow(agency_a, sub_a)
    flow(agency_b, sub_a)
    assert receiver.received == []
    with agency_scope(agency_b):
        assert not Delivery.objects.exists()
        assert not WebhookSubscription.objects.exists()  # row-level security


def test_a_disabled_subscription_gets_no_new_events_and_resumes_when_enabled(
    agency_a, subscribe, receiver
):
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    services.disable(actor=Actor.system("tests"), subscription=sub)
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {})
    flow(agency_a, sub)
    assert receiver.received == [] and _deliveries(agency_a) == []
    services.enable(actor=Actor.system("tests"), subscription=sub)
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 2}, {})
    flow(agency_a, sub)
    assert len(receiver.received) == 1


def test_a_test_event_is_delivered_signed(agency_a, subscribe, receiver):
    from bsp.integrations.verify import verify

    sub, secret = subscribe(receiver.url, ["consent.changed"])
    services.send_test(actor=Actor.system("tests"), subscription=sub)
    flow(agency_a, sub)
    (hit,) = receiver.received
    assert hit.json["type"] == "webhook.test"
    assert verify(secret, hit.body, hit.headers["Civic-Relay-Signature"])


def test_every_change_is_audited_and_published_once(agency_a, subscribe, receiver):
    from bsp.events.selectors import events_after

    sub, _ = subscribe(receiver.url, ["consent.changed"])
    actor = Actor.system("tests")
    services.update_subscription(
        actor=actor, subscription=sub, url=receiver.url, events=["message.status"]
    )
    services.rotate_secret(actor=actor, subscription=sub)
    services.disable(actor=actor, subscription=sub)
    services.enable(actor=actor, subscription=sub)
    services.delete(actor=actor, subscription=sub)
    with agency_scope(agency_a):
        actions = [e["payload"]["action"] for e in events_after(agency_a.pk, 0, 100)]
    assert actions == ["created", "updated", "secret_rotated", "disabled", "enabled", "deleted"]
    with system_scope():
        audited = list(
            AuditEvent.objects.filter(action__startswith="webhook_subscription.")
            .order_by("sequence")
            .values_list("action", flat=True)
        )
        assert "secret" not in str(
            AuditEvent.objects.filter(action="webhook_subscription.secret_rotated")
            .values_list("changes", flat=True)
            .first()
        ).replace("secret_rotated", "")
    assert len(audited) == 6


def test_the_beat_sweep_wakes_subscriptions_with_due_deliveries(agency_a, subscribe, receiver):
    subscribe(receiver.url, ["consent.changed"])
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {})
    while dispatch.dispatch_pending():
        pass
    assert delivery.wake_due() == 1


def test_each_conversation_lives_in_one_shard_and_every_shard_is_drained(
    agency_a, subscribe, receiver, settings
):
    settings.WEBHOOK_DRAIN_SHARDS = 3
    sub, _ = subscribe(receiver.url, ["message.status"])
    for n in range(4):
        for conversation in range(1, 9):
            subject = {"message": conversation, "conversation": conversation}
            publish(agency_a, types.MESSAGE_STATUS, subject, {"n": n})
    while dispatch.dispatch_pending():
        pass
    taken: dict[int, set[int]] = {}
    for shard in range(3):
        before = len(receiver.received)
        while delivery.deliver_pass(agency_a.pk, sub.pk, shard):
            pass
        for hit in receiver.received[before:]:
            conversation = hit.json["data"]["subject"]["conversation"]
            taken.setdefault(conversation, set()).add(shard)
    assert len(receiver.received) == 32
    assert all(len(shards) == 1 for shards in taken.values())
    for conversation in range(1, 9):
        ns = [
            r.json["data"]["payload"]["n"]
            for r in receiver.received
            if r.json["data"]["subject"]["conversation"] == conversation
        ]
        assert ns == [0, 1, 2, 3]


def test_the_demos_portable_head_choice_matches_the_postgresql_statement(
    agency_a, subscribe, receiver, settings
):
    settings.WEBHOOK_DRAIN_SHARDS = 1
    sub, _ = subscribe(receiver.url, ["message.status", "consent.changed"])
    for n in range(3):
        for conversation in (1, 2, 3):
            subject = {"message": n, "conversation": conversation}
            publish(agency_a, types.MESSAGE_STATUS, subject, {"n": n})
        publish(agency_a, types.CONSENT_CHANGED, {"contact": n}, {})
    while dispatch.dispatch_pending():
        pass
    now = timezone.now()
    with agency_scope(agency_a):
        sql = [d.pk for d in delivery._due_heads(sub.pk, 0, now, 100)]
        portable = delivery._due_heads_portably(sub.pk, 0, now, 100)
    assert sorted(sql) == sorted(portable)
    assert len(sql) == 6  # the head of each conversation and the three consent events
