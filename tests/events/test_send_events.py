"""Our own sends publish their `accepted` transition: a reply sent alone and a campaign
drained in batches (one INSERT of events per batch), through the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import delivery, services
from messaging.models import Message
from messaging.whatsapp import builders as b
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory
from tests.messaging.conftest import CITIZEN

pytestmark = pytest.mark.django_db


def _accepted(stream, agency) -> list[tuple[int, str, str, str]]:
    return [
        (subject["message"], payload["previous"], payload["status"], payload["wamid"])
        for kind, subject, payload in stream(agency)
        if kind == "message.status"
    ]


def test_a_reply_accepted_by_meta_publishes_its_transition(
    agency_a, registered_number, open_conversation, simulator, stream
):
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    reply = services.send_message(
        agency=agency_a,
        sender=services.Sender.system("test"),
        to=CITIZEN,
        message=b.Text("Your permit is ready."),
    )
    with agency_scope(agency_a):
        assert delivery.deliver(reply.pk) == "accepted"
        assert delivery.deliver(reply.pk) == "not_queued"  # a redelivered task: nothing more
        sent = Message.objects.get(pk=reply.pk)

    assert _accepted(stream, agency_a) == [(reply.pk, "sending", "accepted", sent.wamid)]


def test_a_drained_campaign_publishes_one_accepted_transition_per_message(
    agency_a, registered_number, simulator, stream
):
    simulator.configure(limits={"enforce_window": False, "throughput_mps": 0})
    now, queued = timezone.now(), []
    for i in range(12):
        conversation = ConversationFactory(
            agency=agency_a,
            phone_number=registered_number,
            window_expires_at=now + timedelta(hours=2),
        )
        queued.append(
            services.send_message(
                agency=agency_a,
                sender=services.Sender.campaign(campaign_id=7),
                to=conversation.contact.wa_id,  # type: ignore[arg-type]  # factory contacts have one
                message=b.Text(f"Road closure notice {i}"),
            )
        )
    with agency_scope(agency_a):
        delivery.drain_phone_number(registered_number.pk, seconds=10)
        wamids = dict(
            Message.objects.filter(pk__in=[m.pk for m in queued]).values_list("pk", "wamid")
        )

    assert _accepted(stream, agency_a) == [
        (m.pk, "sending", "accepted", wamids[m.pk]) for m in queued
    ]
