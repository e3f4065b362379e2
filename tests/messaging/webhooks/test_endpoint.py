"""The callback URL: Meta's handshake, signatures, size limit, durable before acknowledged."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from messaging.models import WebhookEvent
from messaging.webhooks.receive import rejected_signature_count
from tenants.scoping import agency_scope
from tests.factories import WabaFactory
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    inbound_text,
    messages_change,
    signed_headers,
)

URL = "/webhooks/whatsapp"


def _payload() -> bytes:
    message = inbound_text("14155550100", "Where is my permit? \u00e4 / \U0001f600")
    change = messages_change("5550000", messages=[message], contacts=[contact("14155550100")])
    return encode(envelope(change))


def _post(client: Client, body: bytes, **headers: Any):
    return client.generic("POST", URL, body, content_type="application/json", **headers)


def _stored() -> list[WebhookEvent]:
    return list(WebhookEvent.objects.order_by("pk"))


# --- GET: the verification handshake -------------------------------------------------------


def test_handshake_echoes_the_challenge_as_plain_text(client):
    response = client.get(
        URL,
        {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158"},
    )
    assert response.status_code == 200
    assert response.content == b"1158"
    assert response["Content-Type"].startswith("text/plain")


def test_handshake_with_a_wrong_token_is_forbidden(client):
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158"}
    )
    assert response.status_code == 403
    assert b"1158" not in response.content


def test_handshake_without_subscribe_mode_is_forbidden(client):
    response = client.get(URL, {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token"})
    assert response.status_code == 403


def test_handshake_is_refused_when_no_verify_token_is_configured(client, settings):
    settings.WHATSAPP_VERIFY_TOKEN = ""
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": ""})
    assert response.status_code == 403


# --- POST: signatures --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_post_is_stored_verbatim_and_acknowledged(client):
    body = _payload()
    response = _post(client, body, **signed_headers(body))
    assert response.status_code == 200
    [event] = _stored()
    assert bytes(event.body) == body  # the exact bytes Meta signed, escapes and all
    assert event.status == WebhookEvent.Status.RECEIVED  # processing is the workers' job
    assert event.verified_with == "platform"
    assert event.signature == signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]


@pytest.mark.django_db
def test_a_post_without_a_signature_is_rejected_and_not_stored(client):
    before = rejected_signature_count()
    response = _post(client, _payload())
    assert response.status_code == 401
    assert _stored() == []
    assert rejected_signature_count() == before + 1


@pytest.mark.django_db
def test_a_post_signed_with_another_secret_is_rejected(client):
    body = _payload()
    response = _post(client, body, **signed_headers(body, secret="not-our-secret"))
    assert response.status_code == 401
    assert _stored() == []


@pytest.mark.django_db
def test_a_signature_over_reserialised_json_does_not_verify(client):
    """Meta signs the escaped bytes; the same JSON written differently is another body."""
    body = _payload()
    headers = signed_headers(body)
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert reserialised != body
    assert _post(client, reserialised, **headers).status_code == 401


@pytest.mark.django_db
def test_an_agency_with_its_own_meta_app_is_verified_with_its_app_secret(client, agency_a):
    with agency_scope(agency_a):
        waba = WabaFactory(agency=agency_a, app_secret="agency-own-app-secret")
    body = encode(envelope(messages_change("5550000", messages=[]), waba_id=waba.waba_id))
    response = _post(client, body, **signed_headers(body, secret="agency-own-app-secret"))
    assert response.status_code == 200
    assert _stored()[0].verified_with == f"waba:{waba.waba_id}"


@pytest.mark.django_db
def test_an_own_app_secret_only_verifies_bodies_naming_that_waba(client, agency_a):
    with agency_scope(agency_a):
        WabaFactory(agency=agency_a, app_secret="agency-own-app-secret")
    body = encode(envelope(messages_change("5550000", messages=[]), waba_id="999"))
    response = _post(client, body, **signed_headers(body, secret="agency-own-app-secret"))
    assert response.status_code == 401


# --- POST: limits and methods ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_three_megabyte_payload_is_accepted(client):
    padding = "x" * (3 * 1024 * 1024)
    body = encode(envelope(messages_change("5550000", messages=[inbound_text("1", padding)])))
    response = _post(client, body, **signed_headers(body))
    assert response.status_code == 200
    assert len(bytes(_stored()[0].body)) == len(body)


@pytest.mark.django_db
def test_a_payload_above_the_limit_is_refused_with_413(client, settings):
    settings.WHATSAPP_WEBHOOK_MAX_BYTES = 1024
    body = encode(envelope(messages_change("5550000", messages=[inbound_text("1", "y" * 2000)])))
    response = _post(client, body, **signed_headers(body))
    assert response.status_code == 413
    assert _stored() == []


def test_other_methods_are_not_allowed(client):
    response = client.put(URL, b"{}")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


@pytest.mark.django_db
def test_an_odd_but_signed_body_is_stored_for_processing(client):
    body = b"this is not JSON"
    response = _post(client, body, **signed_headers(body))
    assert response.status_code == 200
    assert bytes(_stored()[0].body) == body


# --- durability -------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_when_the_database_is_down_the_answer_is_503_and_metas_retry_is_accepted(client):
    body = _payload()
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())  # nothing listens there
    try:
        response = _post(client, body, **signed_headers(body))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert response.status_code == 503
    assert response["Retry-After"]

    retry = _post(client, body, **signed_headers(body))  # Meta retries the same bytes
    assert retry.status_code == 200
    assert [bytes(event.body) for event in _stored()] == [body]
