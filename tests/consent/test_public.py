"""The hosted opt-in page: public, records consent with evidence, protected against
automated abuse (signed token with a minimum fill time and an expiry, honeypot, limits per
IP, agency and phone), and never tells whether a number is subscribed."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
import time_machine
from django.test import Client

from messaging.consent import public
from messaging.models import Consent
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db
PAGE = "/optin/agency-a/alerts/"


@pytest.fixture
def topic(agency_a, number):
    return TopicFactory(
        agency=agency_a,
        slug="alerts",
        name="Emergency alerts",
        name_es="Alertas de emergencia",
        wording="I agree to receive emergency alerts from Agency A on WhatsApp.",
        wording_es="Acepto recibir alertas de emergencia de Agency A por WhatsApp.",
        keywords=["ALERTS"],
    )


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def _submit(client: Client, data: dict, *, wait: float = 5, lang: str = "en", **extra):
    """Load the form, then send it ``wait`` seconds later (the clock moved, not slept)."""
    token = _token(client.get(PAGE, {"lang": lang}))
    with time_machine.travel(time.time() + wait, tick=True):
        return client.post(PAGE, {"token": token, "lang": lang, **data}, **extra)


def _consents(agency):
    with agency_scope(agency):
        return list(Consent.objects.all())


def test_the_page_is_public_and_shows_the_wording_and_a_whatsapp_link(client, topic):
    response = client.get(PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert topic.wording in body
    assert "https://wa.me/12025550100?text=ALERTS" in body
    assert '<html lang="en">' in body


def test_the_page_in_spanish(client, topic):
    body = client.get(PAGE, {"lang": "es"}).content.decode()
    assert '<html lang="es">' in body
    assert topic.wording_es in body


def test_an_unpublished_topic_or_unknown_agency_is_not_found(client, topic):
    topic.page_enabled = False
    with agency_scope(topic.agency):
        topic.save()
    assert client.get(PAGE).status_code == 404
    assert client.get("/optin/nobody/alerts/").status_code == 404


def test_a_sign_up_records_the_opt_in_with_its_evidence(client, topic, agency_a):
    response = _submit(
        client, {"phone": "(202) 555-0123", "agree": "on"}, HTTP_USER_AGENT="Firefox/140"
    )
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    [consent] = _consents(agency_a)
    assert (consent.status, consent.source, consent.topic) == ("opted_in", "web_form", "alerts")
    assert consent.evidence["wording"] == topic.wording
    assert consent.evidence["wording_sha256"] == hashlib.sha256(topic.wording.encode()).hexdigest()
    assert consent.evidence["user_agent"] == "Firefox/140"
    assert consent.evidence["ip_address"] == "127.0.0.1"
    with agency_scope(agency_a):
        assert consent.contact.wa_id == "12025550123"


def test_a_spanish_sign_up_keeps_the_spanish_wording(client, topic, agency_a):
    _submit(client, {"phone": "(202) 555-0123", "agree": "on"}, lang="es")
    [consent] = _consents(agency_a)
    assert consent.evidence["wording"] == topic.wording_es
    assert consent.evidence["language"] == "es"


def test_without_the_checkbox_nothing_is_recorded_and_the_error_is_tied_to_it(
    client, topic, agency_a
):
    response = _submit(client, {"phone": "(202) 555-0123"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Check the box" in body
    assert 'aria-describedby="optin-wording id_agree_error"' in body
    assert _consents(agency_a) == []


def test_an_invalid_number_is_refused(client, topic, agency_a):
    response = _submit(client, {"phone": "12", "agree": "on"})
    assert response.status_code == 400
    assert "valid phone number" in response.content.decode()


def test_a_form_sent_too_fast_is_refused(client, topic, agency_a):
    response = _submit(client, {"phone": "(202) 555-0123", "agree": "on"}, wait=0)
    assert response.status_code == 400
    assert _consents(agency_a) == []


def test_an_expired_form_is_refused(client, topic, agency_a):
    response = _submit(
        client, {"phone": "(202) 555-0123", "agree": "on"}, wait=public.TOKEN_MAX_AGE + 60
    )
    assert response.status_code == 400
    assert "open too long" in response.content.decode()
    assert _consents(agency_a) == []


def test_a_forged_token_is_refused(client, topic, agency_a):
    response = client.post(PAGE, {"token": "forged", "phone": "(202) 555-0123", "agree": "on"})
    assert response.status_code == 400
    assert _consents(agency_a) == []


def test_a_bot_filling_the_honeypot_is_thanked_and_nothing_is_recorded(client, topic, agency_a):
    response = _submit(client, {"phone": "(202) 555-0123", "agree": "on", "website": "x"})
    assert "Thank you" in response.content.decode()
    assert _consents(agency_a) == []


def test_the_page_never_tells_whether_a_number_is_subscribed(client, topic, agency_a):
    known = ContactFactory(agency=agency_a, wa_id="12025550188")
    ConsentFactory(agency=agency_a, contact=known, topic="alerts")
    new = _submit(Client(), {"phone": "(202) 555-0123", "agree": "on"})
    subscribed = _submit(Client(), {"phone": "(202) 555-0188", "agree": "on"})
    assert new.status_code == subscribed.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(new) == strip(subscribed)


def test_too_many_posts_from_one_ip_get_429(client, topic, agency_a, monkeypatch):
    monkeypatch.setattr(public, "PER_IP", (2, 600))
    for _ in range(2):
        assert client.post(PAGE, {"token": "x"}).status_code == 400
    response = client.post(PAGE, {"token": "x"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


def test_the_agency_wide_limit_gets_429_from_any_ip(client, topic, monkeypatch):
    monkeypatch.setattr(public, "PER_AGENCY", (1, 600))
    client.post(PAGE, {"token": "x"}, REMOTE_ADDR="10.0.0.1")
    assert client.post(PAGE, {"token": "x"}, REMOTE_ADDR="10.0.0.2").status_code == 429


def test_one_number_signed_up_again_and_again_is_recorded_only_up_to_its_limit(
    client, topic, agency_a, monkeypatch
):
    monkeypatch.setattr(public, "PER_PHONE", (2, 86400))
    for _ in range(4):
        response = _submit(Client(), {"phone": "(202) 555-0123", "agree": "on"})
        assert response.status_code == 200
    assert len(_consents(agency_a)) == 2


def test_the_qr_code_opens_whatsapp(client, topic):
    response = client.get(PAGE + "qr.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"https://wa.me/12025550100?text=ALERTS" in response.content
