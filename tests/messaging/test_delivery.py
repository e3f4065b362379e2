"""Delivery: claim, send through the Cloud API (the simulator), record; at most once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Contact, Message
from messaging.tasks import backoff_seconds, deliver_message
from messaging.whatsapp import builders as b
from tenants.models import PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.messaging.conftest import CITIZEN

SENDER = services.Sender.system("test")


@pytest.fixture
def queued(agency_a, registered_number, open_conversation, simulator) -> Message:
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    return services.send_message(
        agency=agency_a, sender=SENDER, to=CITIZEN, message=b.Text("Your permit is ready.")
    )


def _reload(message: Message) -> Message:
    with agency_scope(message.agency_id):
        return Message.objects.get(pk=message.pk)


def _deliver(message: Message) -> str:
    with agency_scope(message.agency_id):
        return delivery.deliver(message.pk)


def test_a_queued_message_is_sent_and_its_wamid_recorded(queued, simulator, registered_number):
    assert _deliver(queued) == "accepted"
    stored = _reload(queued)
    (received,) = simulator.messages(registered_number.phone_number_id)
    assert (stored.status, stored.wamid) == ("accepted", received["id"])
    assert received["payload"]["text"]["body"] == "Your permit is ready."
    assert received["payload"]["biz_opaque_callback_data"] == f"civic-relay:{queued.pk}"


def test_a_second_delivery_of_the_same_task_sends_nothing(queued, simulator, registered_number):
    _deliver(queued)
    assert _deliver(queued) == "not_queued"
    assert len(simulator.messages(registered_number.phone_number_id)) == 1


def test_a_transient_error_puts_the_message_back_in_the_queue(queued, simulator):
    simulator.configure(faults={"error_5xx_fraction": 1.0})
    with pytest.raises(delivery.RetryLater) as info:
        _deliver(queued)
    stored = _reload(queued)
    assert (stored.status, stored.attempts) == ("queued", 1)
    assert info.value.retry_after and info.value.retry_after > 0


def test_a_refused_connection_is_retried_because_nothing_was_sent(queued, settings):
    settings.GRAPH_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(delivery.RetryLater):
        _deliver(queued)
    assert _reload(queued).status == "queued"


def test_the_task_gives_up_into_failed_after_its_last_attempt(queued, simulator):
    simulator.configure(faults={"error_5xx_fraction": 1.0})
    with agency_scope(queued.agency_id):
        Message.objects.filter(pk=queued.pk).update(attempts=delivery.MAX_ATTEMPTS - 1)
    deliver_message.apply(kwargs={"message_id": queued.pk, "agency_id": queued.agency_id})
    stored = _reload(queued)
    assert (stored.status, stored.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert stored.error_reason.startswith(f"Not sent after {delivery.MAX_ATTEMPTS} tries")


def test_a_throttled_message_is_neither_claimed_nor_counted_as_an_attempt(
    queued, registered_number
):
    limiter = delivery.rate_limiter()
    tier = registered_number.throughput_tier
    limiter.acquire(registered_number.phone_number_id, tier, n=tier)  # spend this second
    with pytest.raises(delivery.Throttled) as info:
        _deliver(queued)
    assert 0 < info.value.retry_after <= 1
    stored = _reload(queued)
    assert (stored.status, stored.attempts) == ("queued", 0)


def test_meta_throughput_errors_slow_the_shared_limiter_down(queued, simulator, registered_number):
    simulator.register_number(registered_number.phone_number_id, throughput_mps=0.001)
    limiter = delivery.rate_limiter()
    tier = registered_number.throughput_tier
    before = limiter.effective_rate(registered_number.phone_number_id, tier)
    with pytest.raises(delivery.RetryLater):
        for _ in range(3):  # the first may still fit the simulator's bucket
            _deliver(queued)
    assert limiter.effective_rate(registered_number.phone_number_id, tier) < before


def test_a_revoked_token_fails_the_message_disconnects_the_number_and_alerts_admins(
    queued, simulator, registered_number, agency_a, django_capture_on_commit_callbacks
):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    simulator.register_number(registered_number.phone_number_id, token_revoked=True)
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves after commit
        assert _deliver(queued) == "failed"
    stored = _reload(queued)
    assert (stored.status, stored.error_code) == ("failed", 190)
    with agency_scope(agency_a):
        assert PhoneNumber.objects.get(pk=registered_number.pk).status == "disconnected"
    (alert,) = mail.outbox
    assert alert.to == [admin.user.email]


def test_messages_stuck_in_sending_are_failed_as_unknown_not_resent(
    queued, simulator, registered_number
):
    with agency_scope(queued.agency_id):
        Message.objects.filter(pk=queued.pk).update(
            status="sending", sending_at=timezone.now() - timedelta(minutes=20)
        )
    with agency_scope(queued.agency_id):
        counts = delivery.requeue_stuck_messages()
    assert counts == {"requeued": 0, "unknown": 1}
    stored = _reload(queued)
    assert stored.status == "failed" and "unknown" in stored.error_reason
    assert simulator.messages(registered_number.phone_number_id) == []


def test_backoff_grows_and_honours_the_delay_meta_asked_for():
    assert backoff_seconds(0, None) < backoff_seconds(4, None) <= 300 * 1.2
    assert backoff_seconds(0, 60.0) >= 60 * 0.8


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_broker_message_was_lost_is_requeued_and_delivered_by_a_worker(
    agency_a, registered_number, open_conversation, simulator
):
    """The database is the truth: the beat sweeper re-enqueues, a real worker delivers."""
    from celery.contrib.testing.worker import start_worker

    from bsp.celery import app

    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    message = services.send_message(
        agency=agency_a, sender=SENDER, to=CITIZEN, message=b.Text("Lost and found")
    )
    channel = app.connection_for_write().default_channel
    channel.queue_purge("agent_replies")  # type: ignore[attr-defined]  # kombu's Channel; lose it
    with agency_scope(agency_a):
        Message.objects.filter(pk=message.pk).update(
            created_at=timezone.now() - timedelta(minutes=11)
        )
        assert delivery.requeue_stuck_messages()["requeued"] == 1
    with start_worker(
        app, pool="solo", queues=["agent_replies"], perform_ping_check=False, shutdown_timeout=10
    ):
        deadline = time.monotonic() + 15
        while _reload(message).status == "queued" and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _reload(message).status == "accepted"
    assert len(simulator.messages(registered_number.phone_number_id)) == 1


def test_undeliverable_error_marks_the_contact_unreachable(queued, agency_a):
    from messaging.whatsapp.errors import RecipientUndeliverableError

    with agency_scope(agency_a):
        message = Message.objects.select_related("phone_number").get(pk=queued.pk)
        delivery.apply_send_error(
            message,
            RecipientUndeliverableError(
                "Message undeliverable", code=131026, reason="Not on WhatsApp."
            ),
        )
        assert Contact.objects.get(pk=queued.contact_id).unreachable_at is not None
