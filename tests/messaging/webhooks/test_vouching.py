"""What a secret vouches for. The platform's app secret vouches for every WABA; an agency's
own app secret (``waba:<id>``) proves that agency sent the body and nothing more: what it
says about another WABA, or another WABA's number, is quarantined, never routed."""

from __future__ import annotations

import pytest

from messaging.models import Message, WebhookEvent
from messaging.webhooks import processing, signature
from tenants.models import PhoneNumber
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory, WabaFactory
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    inbound_text,
    messages_change,
    signed_headers,
)

pytestmark = pytest.mark.django_db

CITIZEN = "14155550123"
B_SECRET = "agency-b-own-app-secret"


@pytest.fixture
def number_a(agency_a):
    with agency_scope(agency_a):
        return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def number_b(agency_b):
    """Agency B brings its own Meta app: its WABA has the app's secret."""
    with agency_scope(agency_b):
        waba = WabaFactory(agency=agency_b, app_secret=B_SECRET)
        number = PhoneNumberFactory(agency=agency_b, waba=waba)
    signature.forget_cached_secrets()
    return number


def _inbound_for(number, text: str) -> dict:
    return messages_change(
        number.phone_number_id,
        messages=[inbound_text(CITIZEN, text)],
        contacts=[contact(CITIZEN)],
    )


def _post_and_process(client, payload: dict, secret: str) -> WebhookEvent:
    body = encode(payload)
    response = client.generic(
        "POST", "/webhooks/whatsapp", body, content_type="application/json",
        **signed_headers(body, secret),
    )  # fmt: skip
    assert response.status_code == 200
    with system_scope():
        event = WebhookEvent.objects.get()
        processing.process_event(event.pk)
        event.refresh_from_db()
    return event


def _texts(agency) -> list[str]:
    with agency_scope(agency):
        return [m.content["text"]["body"] for m in Message.objects.order_by("pk")]


def test_an_agencys_own_secret_cannot_put_messages_on_another_agencys_number(
    client, agency_a, number_a, number_b
):
    payload = envelope(_inbound_for(number_a, "forged"), waba_id=number_b.waba.waba_id)
    event = _post_and_process(client, payload, B_SECRET)
    assert event.verified_with == f"waba:{number_b.waba.waba_id}"
    assert _texts(agency_a) == []
    assert event.status == WebhookEvent.Status.QUARANTINED
    [problem] = event.problems
    assert problem["kind"] == "unauthorized"
    assert f"does not vouch for WABA {number_a.waba.waba_id}" in problem["reason"]


def test_an_own_secret_cannot_speak_for_another_entry_in_the_same_body(
    client, agency_a, agency_b, number_a, number_b
):
    """Signed with B's secret, naming B's WABA first (so it verifies) and A's second."""
    payload = envelope(_inbound_for(number_b, "mine"), waba_id=number_b.waba.waba_id)
    payload["entry"].append(
        envelope(_inbound_for(number_a, "forged"), waba_id=number_a.waba.waba_id)["entry"][0]
    )
    event = _post_and_process(client, payload, B_SECRET)
    assert _texts(agency_b) == ["mine"]
    assert _texts(agency_a) == []
    assert [problem["kind"] for problem in event.problems] == ["unauthorized"]


def test_an_own_secret_cannot_send_account_events_for_another_waba(
    client, agency_a, number_a, number_b
):
    payload = envelope(
        {"field": "account_update", "value": {"event": "ACCOUNT_DELETED"}},
        waba_id=number_b.waba.waba_id,
    )
    payload["entry"].append(
        {
            "id": number_a.waba.waba_id,
            "changes": [{"field": "account_update", "value": {"event": "ACCOUNT_DELETED"}}],
        }
    )
    event = _post_and_process(client, payload, B_SECRET)
    assert [(p["entry"], p["kind"]) for p in event.problems] == [(1, "unauthorized")]
    with agency_scope(agency_a):
        number_a.refresh_from_db()
    with agency_scope(number_b.agency_id):
        number_b.refresh_from_db()
    assert number_a.status != PhoneNumber.Status.DISCONNECTED
    assert number_b.status == PhoneNumber.Status.DISCONNECTED  # its own: applied


def test_an_own_secret_vouches_for_its_own_numbers(client, agency_b, number_b):
    payload = envelope(_inbound_for(number_b, "hello"), waba_id=number_b.waba.waba_id)
    event = _post_and_process(client, payload, B_SECRET)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert _texts(agency_b) == ["hello"]


def test_the_platform_secret_vouches_for_every_waba(client, agency_a, agency_b, number_a, number_b):
    payload = envelope(_inbound_for(number_a, "to a"), _inbound_for(number_b, "to b"))
    event = _post_and_process(client, payload, "test-app-secret")
    assert event.status == WebhookEvent.Status.PROCESSED
    assert _texts(agency_a) == ["to a"]
    assert _texts(agency_b) == ["to b"]
