"""Messages queued before the agency was suspended are not sent once it is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Message
from messaging.whatsapp import builders as b
from records.audit import Actor
from tenants import services as tenant_services
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory
from tests.messaging.conftest import CITIZEN


def _suspend(agency) -> None:
    tenant_services.set_agency_status(actor=Actor.system("test"), agency=agency, status="suspended")


def _reload(message: Message) -> Message:
    with agency_scope(message.agency_id):
        return Message.objects.get(pk=message.pk)


def test_a_reply_queued_before_suspension_fails_with_the_reason_and_is_not_sent(
    agency_a, registered_number, open_conversation, simulator
):
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    queued = services.send_message(
        agency=agency_a, sender=services.Sender.system("test"), to=CITIZEN, message=b.Text("hi")
    )
    _suspend(agency_a)
    with agency_scope(agency_a):
        assert delivery.deliver(queued.pk) == "failed"
    stored = _reload(queued)
    assert stored.status == Message.Status.FAILED
    assert "Agency A is suspended" in stored.error_reason
    assert simulator.messages(registered_number.phone_number_id) == []


@pytest.fixture(autouse=True)
def _fresh_bulk_queue():
    delivery.redis_client().delete("bulk")
    yield
    delivery.redis_client().delete("bulk")


def test_a_campaign_drain_stops_when_the_agency_is_suspended(
    agency_a, registered_number, simulator
):
    simulator.configure(limits={"enforce_window": False, "throughput_mps": 0})
    conversation = ConversationFactory(
        agency=agency_a,
        phone_number=registered_number,
        window_expires_at=timezone.now() + timedelta(hours=2),
    )
    queued = services.send_message(
        agency=agency_a,
        sender=services.Sender.campaign(campaign_id=7),
        to=conversation.contact.wa_id or "",
        message=b.Text("Road closure notice"),
    )
    _suspend(agency_a)
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(registered_number.pk, seconds=2)
    assert counts["accepted"] == 0
    assert _reload(queued).status == Message.Status.QUEUED  # waits for reactivation
    assert simulator.messages(registered_number.phone_number_id) == []
