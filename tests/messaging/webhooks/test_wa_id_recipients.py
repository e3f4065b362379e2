"""A citizen whose wa_id is Mexico's ``521…`` form (which libphonenumber rejects) gets
keyword confirmations and agents' replies, delivered by the simulator; a send to the dialled
form keeps the canonical wa_id Meta answers with (cloud-api.md §8, §10)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from messaging import delivery, services
from messaging.models import Contact, Message
from messaging.whatsapp import builders as b
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory
from tests.messaging.webhooks.payloads import contact, envelope, inbound_text, messages_change
from tests.simulator_fixture import wait_until

MEXICAN = "5215512345678"  # how WhatsApp reports the mobile +52 55 1234 5678
DIALLED = "525512345678"


def _deliver(agency, message_pk: int) -> str:
    with agency_scope(agency):
        return delivery.deliver(message_pk)


def _delivered_in_simulator(simulator, number, wamid):
    return wait_until(
        lambda: any(
            m["id"] == wamid and m["status"] in ("delivered", "read")
            for m in simulator.messages(number.phone_number_id)
        )
    )


def test_a_521_citizen_who_writes_stop_gets_the_confirmation(
    ingest, agency_a, registered_number, simulator
):
    message = inbound_text(MEXICAN, "STOP")
    change = messages_change(
        registered_number.phone_number_id, messages=[message], contacts=[contact(MEXICAN)]
    )
    assert ingest(envelope(change)).status == "processed"
    simulator.open_window(registered_number.phone_number_id, MEXICAN)  # Meta saw the STOP too
    with agency_scope(agency_a):
        reply = Message.objects.get(direction="out")
        assert (reply.contact.wa_id, reply.status) == (MEXICAN, "queued")
    assert _deliver(agency_a, reply.pk) == "accepted"
    with agency_scope(agency_a):
        wamid = Message.objects.get(pk=reply.pk).wamid
    _delivered_in_simulator(simulator, registered_number, wamid)
    [sent] = simulator.messages(registered_number.phone_number_id)
    assert sent["wa_id"] == MEXICAN


def test_an_agents_reply_to_a_521_citizen_is_accepted_and_delivered(
    agency_a, registered_number, simulator
):
    now = timezone.now()
    citizen = ContactFactory(agency=agency_a, wa_id=MEXICAN, phone_e164="+525512345678")
    ConversationFactory(
        agency=agency_a,
        phone_number=registered_number,
        contact=citizen,
        last_inbound_at=now - timedelta(hours=1),
        window_expires_at=now + timedelta(hours=23),
    )
    simulator.open_window(registered_number.phone_number_id, MEXICAN)
    reply = services.send_message(
        agency=agency_a,
        sender=services.Sender("user", Actor("user", "7", "clerk@example.gov")),
        to=MEXICAN,
        message=b.Text("Your permit is ready."),
    )
    assert reply.contact_id == citizen.pk
    assert _deliver(agency_a, reply.pk) == "accepted"
    with agency_scope(agency_a):
        wamid = Message.objects.get(pk=reply.pk).wamid
    _delivered_in_simulator(simulator, registered_number, wamid)


def test_a_send_to_the_dialled_form_keeps_the_wa_id_meta_answers_with(
    agency_a, registered_number, simulator
):
    now = timezone.now()
    citizen = ContactFactory(agency=agency_a, wa_id=DIALLED, phone_e164=f"+{DIALLED}")
    ConversationFactory(
        agency=agency_a,
        phone_number=registered_number,
        contact=citizen,
        last_inbound_at=now - timedelta(hours=1),
        window_expires_at=now + timedelta(hours=23),
    )
    simulator.open_window(registered_number.phone_number_id, MEXICAN)
    reply = services.send_message(
        agency=agency_a,
        sender=services.Sender.system("test"),
        to="+52 55 1234 5678",
        message=b.Text("Your permit is ready."),
    )
    assert _deliver(agency_a, reply.pk) == "accepted"
    with agency_scope(agency_a):
        stored = Contact.objects.get(pk=citizen.pk)
    assert (stored.wa_id, stored.phone_e164) == (MEXICAN, f"+{DIALLED}")
