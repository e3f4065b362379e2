"""Opt-out and opt-in keywords: the whole message is the keyword; the consent is recorded with
the message as evidence and a confirmation is queued, once per message."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from messaging.models import Consent, Message
from messaging.webhooks import keywords
from records.models import AuditEvent
from tests.messaging.webhooks.payloads import contact, envelope, inbound_text, messages_change

CITIZEN = "14155550123"


@pytest.fixture
def deliver(ingest, wa_number):
    def run(message: dict, contacts: list | None = None):
        change = messages_change(
            wa_number.phone_number_id,
            messages=[message],
            contacts=[contact(CITIZEN)] if contacts is None else contacts,
        )
        event = ingest(envelope(change))
        assert event.status == "processed", event.problems
        return event

    return run


def replies() -> list[str]:
    outbound = Message.objects.filter(direction="out").order_by("pk")
    return [m.content["text"]["body"] for m in outbound]


# --- matching -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "  Stop \n",
        "STOP ALL",
        "stop   all",
        "Unsubscribe",
        "cancel",
        "End",
        "quit",
        "Stop!",
    ],
)
def test_standard_opt_out_keywords_match_whatever_the_case_and_spacing(text):
    found = keywords.match([text])
    assert (found.action, found.language) == ("opt_out", "en")


@pytest.mark.parametrize("text", ["BAJA", "baja", "Alto", "parar", " CANCELAR "])
def test_spanish_opt_out_keywords_match_and_answer_in_spanish(text):
    found = keywords.match([text])
    assert (found.action, found.language) == ("opt_out", "es")


@pytest.mark.parametrize(
    "text",
    [
        "please stop the noise",
        "stop sending me this",
        "don't stop",
        "STOPP",
        "cancel my appointment",
    ],
)
def test_a_sentence_containing_a_keyword_is_not_a_keyword(text):
    assert keywords.match([text]) is None


@pytest.mark.parametrize(("text", "language"), [("START", "en"), ("unstop", "en"), ("Alta", "es")])
def test_opt_in_keywords_match(text, language):
    found = keywords.match([text])
    assert (found.action, found.language) == ("opt_in", language)


def test_an_agencys_own_keyword_opts_out_only_where_configured():
    assert keywords.match(["remove me"]) is None
    assert keywords.match(["Remove  me"], extra_opt_out=["REMOVE ME"]).action == "opt_out"


# --- opting out ---------------------------------------------------------------------------------


def test_stop_records_an_opt_out_with_the_message_as_evidence(deliver, scope_a):
    message = inbound_text(CITIZEN, " Stop ")
    deliver(message)
    stored = Message.objects.get(wamid=message["id"])
    consent = Consent.objects.get()
    assert (consent.status, consent.topic, consent.source) == ("opted_out", "", "keyword")
    assert consent.contact_id == stored.contact_id
    assert consent.evidence == {
        "message_id": stored.pk,
        "wamid": message["id"],
        "text": " Stop ",
        "keyword": "STOP",
    }
    assert consent.recorded_at == datetime.fromtimestamp(int(message["timestamp"]), UTC)
    assert AuditEvent.objects.filter(action="consent.opted_out").count() == 1


def test_stop_queues_a_confirmation_from_the_system(deliver, agency_a, scope_a):
    deliver(inbound_text(CITIZEN, "STOP"))
    reply = Message.objects.get(direction="out")
    assert (reply.sender_type, reply.status, reply.type) == ("system", "queued", "text")
    assert reply.contact.wa_id == CITIZEN
    assert replies() == [
        f"You will no longer receive messages from {agency_a.name} on WhatsApp. "
        "Reply START to receive them again."
    ]


def test_a_spanish_keyword_is_confirmed_in_spanish(deliver, agency_a, scope_a):
    deliver(inbound_text(CITIZEN, "baja"))
    assert Consent.objects.get().status == "opted_out"
    assert replies() == [
        f"Ya no recibirá mensajes de {agency_a.name} por WhatsApp. "
        "Responda ALTA para volver a recibirlos."
    ]


def test_an_agencys_own_keyword_opts_out(deliver, agency_a, scope_a):
    agency_a.extra_opt_out_keywords = ["NO MORE ALERTS"]
    agency_a.save()
    deliver(inbound_text(CITIZEN, "no more alerts"))
    assert Consent.objects.get().evidence["keyword"] == "NO MORE ALERTS"


def test_a_sentence_with_stop_in_it_changes_nothing(deliver, scope_a):
    deliver(inbound_text(CITIZEN, "please stop the noise"))
    assert not Consent.objects.exists()
    assert replies() == []


def test_a_template_quick_reply_whose_payload_is_a_keyword_opts_out(deliver, scope_a):
    message = {
        "from": CITIZEN,
        "id": "wamid.HBgLbuttonstop0001",
        "timestamp": str(int(time.time())),
        "type": "button",
        "button": {"payload": "STOP", "text": "Stop these updates"},
        "context": {"from": "15550100001", "id": "wamid.HBgLtemplate"},
    }
    deliver(message)
    consent = Consent.objects.get()
    assert (consent.status, consent.evidence["text"]) == ("opted_out", "STOP")


def test_a_keyword_webhook_delivered_twice_records_one_consent_and_one_reply(deliver, scope_a):
    message = inbound_text(CITIZEN, "STOP")
    deliver(message)
    deliver(message)
    assert Consent.objects.count() == 1
    assert len(replies()) == 1


def test_a_stop_delivered_after_the_window_closed_is_recorded_without_a_reply(deliver, scope_a):
    two_days_ago = int(time.time()) - 48 * 3600
    deliver(inbound_text(CITIZEN, "STOP", timestamp=two_days_ago))
    assert Consent.objects.get().recorded_at == datetime.fromtimestamp(two_days_ago, UTC)
    assert replies() == []
    assert AuditEvent.objects.get(action="message.refused").changes["rule"] == "window_closed"


def test_a_username_user_is_opted_out_without_a_reply(deliver, scope_a):
    user_id = "US.13491208655302741918"
    message = inbound_text("", "STOP", from_user_id=user_id)
    del message["from"]
    deliver(message, contacts=[{"profile": {"name": "Ana"}, "user_id": user_id}])
    assert Consent.objects.get().status == "opted_out"
    assert replies() == []


# --- opting back in -----------------------------------------------------------------------------


def test_start_opts_back_in_where_the_agency_allows_it(deliver, agency_a, scope_a):
    deliver(inbound_text(CITIZEN, "STOP", timestamp=int(time.time()) - 60))
    deliver(inbound_text(CITIZEN, "start"))
    latest = Consent.objects.order_by("-recorded_at").first()
    assert (latest.status, latest.source, latest.topic) == ("opted_in", "keyword", "")
    assert replies()[-1] == (
        f"You will receive messages from {agency_a.name} on WhatsApp again. "
        "Reply STOP to stop them."
    )


def test_alta_opts_back_in_with_a_spanish_confirmation(deliver, agency_a, scope_a):
    deliver(inbound_text(CITIZEN, "ALTA"))
    assert Consent.objects.get().status == "opted_in"
    assert replies() == [
        f"Volverá a recibir mensajes de {agency_a.name} por WhatsApp. "
        "Responda BAJA para dejar de recibirlos."
    ]


def test_start_changes_nothing_where_the_agency_does_not_allow_it(deliver, agency_a, scope_a):
    agency_a.keyword_opt_in_allowed = False
    agency_a.contact_phone = "+1 312 555 0100"
    agency_a.save()
    deliver(inbound_text(CITIZEN, "UNSTOP"))
    assert not Consent.objects.exists()
    assert replies() == [
        f"{agency_a.name} cannot subscribe you again by keyword. "
        "To receive messages again, contact +1 312 555 0100."
    ]


def test_the_opt_out_confirmation_offers_no_keyword_where_opting_in_by_keyword_is_off(
    deliver, agency_a, scope_a
):
    agency_a.keyword_opt_in_allowed = False
    agency_a.save()
    deliver(inbound_text(CITIZEN, "STOP"))
    assert replies() == [f"You will no longer receive messages from {agency_a.name} on WhatsApp."]
