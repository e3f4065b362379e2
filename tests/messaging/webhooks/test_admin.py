"""Operators see every stored webhook event, its outcome, counts, and can reprocess."""

from __future__ import annotations

import pytest

from messaging.models import WebhookEvent
from messaging.webhooks.receive import store_event
from records.models import AuditEvent
from tenants.scoping import system_scope

pytestmark = pytest.mark.django_db


def test_the_event_list_shows_counts_by_status(client, operator):
    store_event(b'{"entry": []}', "sha256=x", "platform")
    failed = store_event(b"nope", "sha256=x", "platform")
    WebhookEvent.objects.filter(pk=failed).update(status="failed", error="Unreadable payload")
    client.force_login(operator)
    response = client.get("/admin/messaging/webhookevent/")
    assert response.status_code == 200
    counts = dict(response.context["status_counts"])
    assert counts["Received, waiting for processing"] == 1
    assert counts["Failed, needs an operator"] == 1
    assert b"Unreadable payload" in response.content
    assert "rejected_signatures" in response.context


def test_an_event_shows_its_body_as_received(client, operator):
    event_id = store_event(b'{"object": "whatsapp_business_account", "entry": []}', "s", "p")
    client.force_login(operator)
    response = client.get(f"/admin/messaging/webhookevent/{event_id}/change/")
    assert response.status_code == 200
    assert b"whatsapp_business_account" in response.content


def test_reprocessing_is_an_audited_operator_action(client, operator):
    event_id = store_event(b'{"object": "whatsapp_business_account", "entry": []}', "s", "p")
    client.force_login(operator)
    response = client.post(
        "/admin/messaging/webhookevent/",
        {"action": "reprocess", "_selected_action": [event_id]},
    )
    assert response.status_code == 302
    assert WebhookEvent.objects.get(pk=event_id).status == WebhookEvent.Status.PROCESSED
    with system_scope():
        audit = AuditEvent.objects.get(action="webhook_event.reprocessed_by_operator")
    assert audit.changes == {"event_ids": [event_id]}


def test_events_cannot_be_edited_or_deleted(client, operator):
    event_id = store_event(b"{}", "s", "p")
    client.force_login(operator)
    assert client.post(f"/admin/messaging/webhookevent/{event_id}/delete/").status_code == 403
