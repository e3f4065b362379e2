"""Simulated citizens (control API and scenarios) send every inbound kind the platform
handles — edits, revokes, request_welcome, change-level errors — and each goes through the
platform's own webhook path: the simulator signs and posts it, the callback URL verifies and
stores it, processing applies it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from messaging.models import Message, WebhookEvent
from messaging.webhooks import processing
from records.capture.versions import current_content
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory
from tests.simulator_fixture import wait_until

CITIZEN = "14155550142"
URL = "/webhooks/whatsapp"


@pytest.fixture
def platform_number(agency_a, simulator, webhook_receiver):
    """Agency A's number, registered in the simulator, which posts to ``webhook_receiver``."""
    number = PhoneNumberFactory(agency=agency_a)
    simulator.register_number(
        number.phone_number_id,
        display_phone_number="15550100042",
        access_token=number.waba.access_token,
        waba_id=number.waba.waba_id,
        callback_url=webhook_receiver.url,
    )
    return number


@pytest.fixture
def relay(simulator, webhook_receiver):
    """Forward what the simulator posted, bytes and signature untouched, to the platform's
    callback URL; then process the stored events as the worker does."""
    client = Client()
    forwarded = 0

    def run(expected_posts: int) -> None:
        nonlocal forwarded
        wait_until(lambda: len(webhook_receiver.requests) >= forwarded + expected_posts)
        simulator.wait_webhooks_idle()
        for request in webhook_receiver.requests[forwarded:]:
            response = client.generic(
                "POST",
                URL,
                request["raw"],
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=request["headers"]["X-Hub-Signature-256"],
            )
            assert response.status_code == 200
        forwarded = len(webhook_receiver.requests)
        with system_scope():
            pending = list(
                WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).values_list(
                    "pk", flat=True
                )
            )
        for event_id in pending:
            with system_scope():
                processing.process_event(event_id)
        with system_scope():
            problems = list(
                WebhookEvent.objects.exclude(status="processed").values_list("problems", flat=True)
            )
        assert not problems, problems

    return run


def _row(agency, wamid: str) -> Message:
    with agency_scope(agency):
        return Message.objects.select_related("conversation").get(wamid=wamid)


def test_a_citizen_edits_a_message(simulator, platform_number, relay, agency_a):
    pid = platform_number.phone_number_id
    original = simulator.trigger_inbound(pid, CITIZEN, type="text", text="The light is out")
    relay(1)
    edit = simulator.trigger_inbound(pid, CITIZEN, type="edit", edit={"text": "Two lights"})
    assert edit["edit"]["original_message_id"] == original["id"]
    relay(1)
    row = _row(agency_a, original["id"])
    assert current_content(row)["text"]["body"] == "Two lights"
    assert row.edited_at is not None
    assert row.content["text"]["body"] == "The light is out"  # the original, as received


def test_a_citizen_deletes_a_message(simulator, platform_number, relay, agency_a):
    pid = platform_number.phone_number_id
    original = simulator.trigger_inbound(pid, CITIZEN, type="text", text="Wrong chat, sorry")
    relay(1)
    simulator.trigger_inbound(pid, CITIZEN, type="revoke")
    relay(1)
    assert _row(agency_a, original["id"]).revoked_at is not None


def test_a_citizen_opening_the_chat_opens_the_window(simulator, platform_number, relay, agency_a):
    welcome = simulator.trigger_inbound(
        platform_number.phone_number_id, CITIZEN, type="request_welcome"
    )
    assert "request_welcome" not in welcome  # the type alone says it
    relay(1)
    row = _row(agency_a, welcome["id"])
    assert row.type == "request_welcome"
    expires = row.conversation.window_expires_at
    assert expires is not None and expires > timezone.now() + timedelta(hours=23)


def test_change_level_errors_beside_a_message_land_on_it(
    simulator, platform_number, relay, agency_a, webhook_receiver
):
    sent = simulator.trigger_inbound(
        platform_number.phone_number_id, CITIZEN, type="errors", message_type="interactive"
    )
    relay(1)
    [value] = webhook_receiver.changes()
    assert value["errors"][0]["code"] == 131000 and "interactive" not in value["messages"][0]
    row = _row(agency_a, sent["id"])
    assert (row.type, row.error_code) == ("interactive", 131000)


def test_change_level_errors_alone_are_one_row_for_the_citizen(
    simulator, platform_number, relay, agency_a
):
    errors = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}]
    simulator.trigger_inbound(
        platform_number.phone_number_id, CITIZEN, type="errors", errors=errors
    )
    relay(1)
    with agency_scope(agency_a):
        row = Message.objects.select_related("contact").get()
    assert (row.type, row.sender_type, row.error_code) == ("errors", "system", 131051)
    assert row.contact.wa_id == CITIZEN


def test_a_scenario_citizen_writes_edits_and_deletes(
    simulator, platform_number, relay, agency_a, webhook_receiver
):
    scenario = {
        "time_scale": 0.01,
        "citizens": [
            {
                "wa_id": CITIZEN,
                "name": "Ana",
                "script": [
                    {"send": {"type": "request_welcome"}},
                    {"send": {"type": "text", "text": "Bin not collected"}},
                    {"after": 1, "edit": "Bins not collected on Elm St"},
                    {"send": {"type": "text", "text": "oops"}},
                    {"after": 1, "revoke": True},
                ],
            }
        ],
    }
    simulator.start_scenario(scenario, platform_number.phone_number_id)
    wait_until(lambda: len(webhook_receiver.inbound_messages()) == 5)
    relay(0)
    sent = [r["message"] for r in simulator.inbound(platform_number.phone_number_id)]
    assert [m["type"] for m in sent] == ["request_welcome", "text", "edit", "text", "revoke"]
    assert _row(agency_a, sent[0]["id"]).type == "request_welcome"
    edited = _row(agency_a, sent[1]["id"])
    assert current_content(edited)["text"]["body"] == "Bins not collected on Elm St"
    assert _row(agency_a, sent[3]["id"]).revoked_at is not None
