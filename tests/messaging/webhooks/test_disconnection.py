"""Disconnecting a number (Meta rejected its token, 190) is a tenants service that emails
the agency's admins after commit: a batch rolled back and re-applied, a redelivered
webhook or two workers meeting the same failure send one email, and a rollback none."""

from __future__ import annotations

from typing import Any

import factory
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from bsp.events.models import DomainEvent
from messaging.models import Message, WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import store_event
from records.audit import Actor
from tenants import services
from tenants.models import PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope, system_scope
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboundMessageFactory,
    MembershipFactory,
)
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    messages_change,
    status,
)

pytestmark = pytest.mark.django_db

CITIZEN = "16505551234"
ACTOR = Actor.worker("tests")
TOKEN_EXPIRED = {
    "code": 190,
    "title": "Access token has expired",
    "message": "Access token has expired",
    "error_data": {"details": "Error validating access token"},
}


class SentMessageFactory(InboundMessageFactory):
    direction = Message.Direction.OUTBOUND
    status = Message.Status.ACCEPTED
    sender_type = Message.SenderType.USER
    wamid = factory.Sequence(lambda n: f"wamid.HBgLdisc{n:010d}")
    received_at: Any = None
    accepted_at = factory.LazyFunction(timezone.now)


@pytest.fixture
def admin(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)


@pytest.fixture
def sent(agency_a, wa_number):
    citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    conversation = ConversationFactory(agency=agency_a, phone_number=wa_number, contact=citizen)
    return SentMessageFactory(agency=agency_a, conversation=conversation)


def _status(agency) -> str:
    with agency_scope(agency):
        return PhoneNumber.objects.get().status


def test_a_batch_reapplied_change_by_change_emails_the_admins_once(
    wa_number, sent, admin, django_capture_on_commit_callbacks
):
    """The two events' changes are merged into one call; the other event's malformed
    message fails it, so the group is rolled back and applied again change by change."""
    failure = status(sent.wamid, "failed", CITIZEN, errors=[TOKEN_EXPIRED])
    malformed = {"from": CITIZEN, "id": "wamid.bad", "timestamp": "1", "type": "text", "text": "?"}
    first = store_event(
        encode(envelope(messages_change(wa_number.phone_number_id, statuses=[failure]))),
        "sha256=test",
        "platform",
    )
    second = store_event(
        encode(
            envelope(
                messages_change(
                    wa_number.phone_number_id, messages=[malformed], contacts=[contact(CITIZEN)]
                )
            )
        ),
        "sha256=test",
        "platform",
    )
    with django_capture_on_commit_callbacks(execute=True), system_scope():
        processing.drain()
        statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert statuses == {first: "processed", second: "quarantined"}
    assert _status(wa_number.agency) == "disconnected"
    (alert,) = mail.outbox
    assert alert.to == [admin.user.email]


def test_a_redelivered_failure_emails_once(
    ingest, wa_number, sent, admin, django_capture_on_commit_callbacks
):
    failure = status(sent.wamid, "failed", CITIZEN, errors=[TOKEN_EXPIRED])
    payload = envelope(messages_change(wa_number.phone_number_id, statuses=[failure]))
    with django_capture_on_commit_callbacks(execute=True):
        ingest(payload)
        ingest(payload)
    assert len(mail.outbox) == 1


def test_a_rolled_back_disconnection_emails_nobody(
    wa_number, admin, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.disconnect_phone_number(actor=ACTOR, number=wa_number, reason="190")
        raise RuntimeError("the rest of the change failed")
    assert _status(wa_number.agency) == "connected"
    assert mail.outbox == []


def test_a_stale_copy_of_a_number_already_disconnected_changes_nothing(
    wa_number, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.disconnect_phone_number(actor=ACTOR, number=wa_number, reason="190")
        # ``wa_number`` in memory still says connected: the service reads the row afresh.
        assert wa_number.status == "connected"
        assert not services.disconnect_phone_number(actor=ACTOR, number=wa_number, reason="190")
    assert len(mail.outbox) == 1
    with agency_scope(wa_number.agency):
        changed = DomainEvent.objects.filter(type="phone_number.changed")
        assert [event.payload["changed"] for event in changed] == [
            {"status": ["connected", "disconnected"]}
        ]
