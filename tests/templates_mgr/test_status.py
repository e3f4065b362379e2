"""A template's life after submission, driven by the simulator as Meta: its review decides
and posts ``message_template_status_update``; quality, pause, disable and category changes
come as their own webhooks. The simulator's own webhook bodies are ingested the way the
endpoint and the worker do; each change lands on the row and as one ``template.status``
event on the stream. With webhooks lost, the periodic sync heals the row."""

from __future__ import annotations

import pytest

from bsp.events.models import DomainEvent
from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import store_event
from templates_mgr import services, tasks
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope, system_scope
from tests.simulator_fixture import wait_until
from tests.templates_mgr.factories import utility_draft

Status = MessageTemplate.Status


class Forwarder:
    """Hands the simulator's webhook POSTs (caught by the receiver) to the platform's
    ingestion, each once."""

    def __init__(self, receiver) -> None:
        self.receiver = receiver
        self.done = 0

    def wait_and_forward(self, count: int = 1) -> None:
        wait_until(lambda: len(self.receiver.requests) >= self.done + count, timeout=10)
        with self.receiver.lock:
            bodies = [r["raw"] for r in self.receiver.requests[self.done :]]
        self.done += len(bodies)
        for raw in bodies:
            event_id = store_event(raw, "sha256=test", "platform")
            with system_scope():
                processing.process_event(event_id)
                assert WebhookEvent.objects.get(pk=event_id).status == "processed"


@pytest.fixture(autouse=True)
def _fresh_routes():
    processing.forget_cached_routes()
    yield
    processing.forget_cached_routes()


@pytest.fixture
def webhooks(registered_number, simulator, webhook_receiver) -> Forwarder:
    simulator.register_number(registered_number.phone_number_id, callback_url=webhook_receiver.url)
    return Forwarder(webhook_receiver)


def _submit(actor, number, **draft):
    template = services.save_draft(
        actor=actor, agency=number.agency, waba=number.waba, draft=utility_draft(**draft)
    )
    return services.submit_template(actor=actor, template=template)


def _row(template) -> MessageTemplate:
    with agency_scope(template.agency_id):
        return MessageTemplate.objects.get(pk=template.pk)


def _status_events(template) -> list[dict]:
    with agency_scope(template.agency_id):
        rows = DomainEvent.objects.filter(type="template.status").order_by("sequence")
        return [e.payload for e in rows if e.subject.get("template") == template.pk]


def test_the_simulators_review_approves_a_submitted_template_through_its_webhook(
    registered_number, webhooks, admin_actor
):
    template = _submit(admin_actor, registered_number)
    assert _row(template).status == Status.PENDING
    webhooks.wait_and_forward()  # the review decides after its delay and posts the webhook
    assert _row(template).status == Status.APPROVED
    assert [(e["previous_status"], e["status"], e["source"]) for e in _status_events(template)] == [
        ("DRAFT", "PENDING", "submission"),
        ("PENDING", "APPROVED", "webhook"),
    ]


def test_a_rejection_keeps_metas_reason_and_advice(registered_number, webhooks, admin_actor):
    # The simulator's reviewer rejects texts with "reject" in them.
    template = _submit(
        admin_actor,
        registered_number,
        body_text="Hello {{1}}, we reject permit {{2}} as filed; please call us.",
    )
    webhooks.wait_and_forward()
    row = _row(template)
    assert (row.status, row.rejected_reason) == (Status.REJECTED, "INVALID_FORMAT")
    assert row.rejection_info["recommendation"]
    assert _status_events(template)[-1]["rejected_reason"] == "INVALID_FORMAT"


def test_pause_and_disable_reach_the_row_as_events(
    registered_number, simulator, webhooks, admin_actor
):
    template = _submit(admin_actor, registered_number)
    webhooks.wait_and_forward()
    simulator.set_template_status(template.meta_template_id, "PAUSED")
    webhooks.wait_and_forward()
    assert _row(template).status == Status.PAUSED
    simulator.set_template_status(template.meta_template_id, "DISABLED")
    webhooks.wait_and_forward()
    assert _row(template).status == Status.DISABLED
    assert [e["status"] for e in _status_events(template)][-2:] == ["PAUSED", "DISABLED"]


def test_a_quality_change_is_an_event(registered_number, simulator, webhooks, admin_actor):
    template = _submit(admin_actor, registered_number)
    webhooks.wait_and_forward()
    simulator._call(
        "POST", f"/_sim/templates/{template.meta_template_id}/quality", json={"score": "YELLOW"}
    )
    webhooks.wait_and_forward()
    assert _row(template).quality_score == "YELLOW"
    assert _status_events(template)[-1]["changed"]["quality_score"][1] == "YELLOW"


def test_a_category_change_by_meta_is_an_event(registered_number, simulator, webhooks, admin_actor):
    template = _submit(admin_actor, registered_number)
    webhooks.wait_and_forward()
    simulator._call(
        "POST",
        f"/_sim/templates/{template.meta_template_id}/category",
        json={"category": "MARKETING"},
    )
    webhooks.wait_and_forward()
    assert _row(template).category == "MARKETING"
    assert _status_events(template)[-1]["changed"]["category"] == ["UTILITY", "MARKETING"]


def test_a_missed_approval_webhook_is_healed_by_the_periodic_sync(
    registered_number, simulator, admin_actor
):
    # No callback URL: Meta's webhook never reaches the platform.
    template = _submit(admin_actor, registered_number)
    wait_until(lambda: simulator._call("GET", "/_sim/templates")["data"][0]["status"] == "APPROVED")
    assert _row(template).status == Status.PENDING
    tasks.sync_templates()  # the beat's periodic task
    assert _row(template).status == Status.APPROVED
    assert _status_events(template)[-1]["source"] == "sync"
