"""End to end with real processes: the simulator posts signed webhooks to gunicorn, a Celery
worker processes them; and an outage of the broker loses nothing."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from messaging import services
from messaging.models import Message, WebhookEvent
from messaging.whatsapp import builders as b
from records.audit import Actor
from tenants.scoping import agency_scope, system_scope
from tests.messaging.conftest import CITIZEN
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    inbound_text,
    messages_change,
    signed_headers,
)
from tests.processes import (
    ROOT,
    RedisServer,
    django_env,
    free_port,
    start_web,
    start_worker,
    stop,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(simulator):
    """gunicorn + a worker for replies and webhooks, pointed at the simulator."""
    env = django_env(GRAPH_API_BASE_URL=simulator.base_url, GRAPH_API_VERSION="v23.0")
    port = free_port()
    web = start_web(port, env)
    worker = start_worker("agent_replies,webhooks,media", env, concurrency=2)
    yield f"http://127.0.0.1:{port}"
    stop(worker)
    stop(web)


def _message(agency, **filters) -> Message | None:
    with agency_scope(agency):
        return Message.objects.filter(**filters).first()


def test_a_reply_moves_to_read_from_the_simulators_status_webhooks(
    agency_a, registered_number, open_conversation, simulator, platform
):
    simulator.register_number(
        registered_number.phone_number_id, callback_url=f"{platform}/webhooks/whatsapp"
    )
    simulator.open_window(registered_number.phone_number_id, CITIZEN)  # as in Meta's records
    actor = Actor("user", "7", "clerk@example.gov")
    sent = services.send_message(
        agency=agency_a,
        sender=services.Sender("user", actor),
        to=CITIZEN,
        message=b.Text("Your permit is ready."),
    )
    read = wait_for(lambda: _message(agency_a, pk=sent.pk, status="read"), timeout=30)
    assert read.wamid
    assert read.sent_at <= read.delivered_at <= read.read_at
    assert read.pricing  # kept from the status webhooks


def test_a_citizens_message_arrives_in_the_database(
    agency_a, registered_number, simulator, platform
):
    simulator.register_number(
        registered_number.phone_number_id, callback_url=f"{platform}/webhooks/whatsapp"
    )
    sent = simulator.trigger_inbound(
        registered_number.phone_number_id, CITIZEN, type="text", text="When is the hearing?"
    )
    row = wait_for(lambda: _message(agency_a, wamid=sent["id"]), timeout=30)
    assert row.direction == Message.Direction.INBOUND
    assert row.content["text"]["body"] == "When is the hearing?"
    with agency_scope(agency_a):
        assert row.conversation.window_expires_at is not None


def test_events_received_while_the_broker_is_down_are_processed_when_it_returns(
    agency_a, wa_number
):
    broker = RedisServer().start()
    env = django_env(REDIS_URL=broker.url, WEBHOOK_SWEEP_AFTER_SECONDS="0")
    port = free_port()
    web = start_web(port, env)
    worker = None
    try:
        broker.stop()
        message = inbound_text(CITIZEN, "Is the office open?")
        body = encode(
            envelope(
                messages_change(
                    wa_number.phone_number_id, messages=[message], contacts=[contact(CITIZEN)]
                )
            )
        )
        headers = {"X-Hub-Signature-256": signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]}
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/whatsapp", content=body, headers=headers, timeout=30
        )
        assert response.status_code == 200  # stored, so acknowledged
        with system_scope():
            [event] = WebhookEvent.objects.all()
        assert event.status == WebhookEvent.Status.RECEIVED

        broker.start()
        worker = start_worker("webhooks,media", env)
        subprocess.run(
            [sys.executable, "manage.py", "webhook_events", "--sweep"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        row = wait_for(lambda: _message(agency_a, wamid=message["id"]), timeout=30)
        assert row.content["text"]["body"] == "Is the office open?"
        event.refresh_from_db()
        assert event.status == WebhookEvent.Status.PROCESSED
    finally:
        if worker is not None:
            stop(worker)
        stop(web)
        broker.stop()
