"""Meta's 2026 contacts (cloud-api.md §10): inbound ``contacts[]`` carry ``user_id`` (BSUID),
status changes carry ``value.contacts`` ``[{wa_id, user_id}]``, and a 131026 failure may name
only the ``wa_id``. Processing takes every shape, with or without them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Contact, Message
from tests.factories import ContactFactory, ConversationFactory, InboundMessageFactory
from tests.messaging.webhooks.payloads import (
    contact,
    envelope,
    inbound_text,
    messages_change,
    status,
    status_contact,
)

CITIZEN = "14155550123"
BSUID = "US.13491208655302741918"
UNDELIVERABLE = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Message Undeliverable."},
}


@pytest.fixture
def sent_message(agency_a, wa_number):
    citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    now = timezone.now()
    conversation = ConversationFactory(
        agency=agency_a,
        phone_number=wa_number,
        contact=citizen,
        last_inbound_at=now - timedelta(hours=1),
        window_expires_at=now + timedelta(hours=23),
    )
    return InboundMessageFactory(
        agency=agency_a,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.ACCEPTED,
        sender_type=Message.SenderType.USER,
        wamid="wamid.HBgLout2026000001",
        received_at=None,
        accepted_at=now,
    )


def _statuses(wa_number, items, contacts):
    return envelope(messages_change(wa_number.phone_number_id, statuses=items, contacts=contacts))


def test_an_inbound_contact_with_a_user_id_keeps_it_on_the_contact(ingest, wa_number, scope_a):
    message = inbound_text(CITIZEN, "Hello")
    change = messages_change(
        wa_number.phone_number_id,
        messages=[message],
        contacts=[contact(CITIZEN, user_id=BSUID)],
    )
    assert ingest(envelope(change)).status == "processed"
    stored = Contact.objects.get(wa_id=CITIZEN)
    assert stored.business_scoped_user_id == BSUID
    assert Message.objects.get(wamid=message["id"]).contact_id == stored.pk


def test_an_inbound_contact_without_a_user_id_is_still_taken(ingest, wa_number, scope_a):
    message = inbound_text(CITIZEN, "Hello")
    change = messages_change(
        wa_number.phone_number_id, messages=[message], contacts=[contact(CITIZEN)]
    )
    assert ingest(envelope(change)).status == "processed"
    assert Contact.objects.get(wa_id=CITIZEN).business_scoped_user_id is None


@pytest.mark.parametrize(
    "contacts",
    [None, [status_contact(CITIZEN, BSUID)], [status_contact(CITIZEN)]],
    ids=["without-contacts", "wa_id-and-user_id", "wa_id-only"],
)
def test_a_status_change_is_applied_with_or_without_contacts(
    ingest, wa_number, sent_message, contacts, scope_a
):
    event = ingest(
        _statuses(wa_number, [status(sent_message.wamid, "delivered", CITIZEN)], contacts)
    )
    assert event.status == "processed", event.problems
    assert Message.objects.get(pk=sent_message.pk).status == "delivered"


def test_an_undeliverable_failure_naming_only_the_wa_id_marks_the_contact(
    ingest, wa_number, sent_message, scope_a
):
    failed = status(sent_message.wamid, "failed", CITIZEN, errors=[UNDELIVERABLE])
    event = ingest(_statuses(wa_number, [failed], [status_contact(CITIZEN)]))
    assert event.status == "processed", event.problems
    row = Message.objects.get(pk=sent_message.pk)
    assert (row.status, row.error_code) == ("failed", 131026)
    assert Contact.objects.get(wa_id=CITIZEN).unreachable_at is not None
