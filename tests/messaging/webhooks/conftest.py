"""Fixtures for webhook ingestion: a number Meta's payloads can be routed to, and helpers
that store a payload the way the endpoint does and process it the way the worker does."""

from __future__ import annotations

from typing import Any

import pytest

from messaging.models import WebhookEvent
from messaging.webhooks import processing, signature
from messaging.webhooks.receive import store_event
from tenants.scoping import system_scope
from tests.factories import PhoneNumberFactory
from tests.messaging.webhooks.payloads import contact, encode, envelope, messages_change

CITIZEN = "14155550123"  # who writes in, in the inbound tests


@pytest.fixture(autouse=True)
def _fresh_caches():
    processing.forget_cached_routes()
    signature.forget_cached_secrets()
    yield
    processing.forget_cached_routes()
    signature.forget_cached_secrets()


@pytest.fixture
def wa_number(agency_a):
    """Agency A's number, as Meta's payloads name it."""
    return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def ingest():
    """Store a payload as the endpoint does, process it as the worker does; the event."""

    def run(payload: dict[str, Any] | bytes) -> WebhookEvent:
        body = payload if isinstance(payload, bytes) else encode(payload)
        event_id = store_event(body, "sha256=test", "platform")
        with system_scope():
            processing.process_event(event_id)
            return WebhookEvent.objects.get(pk=event_id)

    return run


@pytest.fixture
def deliver(ingest, wa_number):
    """Meta posts the messages (from CITIZEN, named Sheena Nelson) to agency A's number;
    the event must be processed cleanly."""

    def run(*messages: dict, contacts: list | None = None, errors: list | None = None):
        change = messages_change(
            wa_number.phone_number_id,
            messages=list(messages) if messages else None,
            contacts=[contact(CITIZEN)] if contacts is None else contacts,
            errors=errors,
        )
        event = ingest(envelope(change))
        assert event.status == "processed", event.problems
        return event

    return run
