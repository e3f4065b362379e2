"""Deliveries are signed: the reference verifier accepts them, and refuses a tampered body,
a wrong secret, an old timestamp or a malformed header."""

from __future__ import annotations

import time

import pytest

from bsp.events import types
from bsp.integrations.verify import SignatureError, sign, verify
from tests.integrations.conftest import flow, publish

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_delivery_is_verified_by_the_reference_verifier(agency_a, subscribe, receiver):
    sub, secret = subscribe(receiver.url, ["message.received"])
    publish(agency_a, types.MESSAGE_RECEIVED, {"message": 7, "conversation": 3}, {"type": "text"})
    flow(agency_a, sub)

    (hit,) = receiver.received
    assert verify(secret, hit.body, hit.headers["Civic-Relay-Signature"]) > 0
    assert hit.headers["Civic-Relay-Event-Id"] == hit.json["id"]
    assert hit.json["type"] == "message.received"
    assert hit.json["agency"] == agency_a.pk
    assert hit.json["data"] == {
        "subject": {"message": 7, "conversation": 3},
        "payload": {"type": "text"},
    }
    assert "secret" not in hit.body.decode()


def test_a_tampered_body_is_rejected():
    header = sign("whsec_x", b'{"a":1}', int(time.time()))
    with pytest.raises(SignatureError, match="mismatch"):
        verify("whsec_x", b'{"a":2}', header)


def test_another_secret_is_rejected():
    header = sign("whsec_x", b"{}", int(time.time()))
    with pytest.raises(SignatureError, match="mismatch"):
        verify("whsec_y", b"{}", header)


def test_a_timestamp_older_than_five_minutes_is_rejected():
    signed_at = int(time.time()) - 301
    with pytest.raises(SignatureError, match="replay window"):
        verify("whsec_x", b"{}", sign("whsec_x", b"{}", signed_at))


def test_a_timestamp_within_the_window_is_accepted():
    signed_at = int(time.time()) - 299
    assert verify("whsec_x", b"{}", sign("whsec_x", b"{}", signed_at)) == signed_at


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1", "garbage"])
def test_a_malformed_header_is_rejected(header):
    with pytest.raises(SignatureError):
        verify("whsec_x", b"{}", header)


def test_a_rotated_secret_signs_the_next_delivery(agency_a, subscribe, receiver):
    from bsp.integrations import services
    from records.audit import Actor

    sub, old = subscribe(receiver.url, ["consent.changed"])
    new = services.rotate_secret(actor=Actor.system("tests"), subscription=sub)
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {"status": "opted_out"})
    flow(agency_a, sub)

    (hit,) = receiver.received
    assert verify(new, hit.body, hit.headers["Civic-Relay-Signature"])
    with pytest.raises(SignatureError):
        verify(old, hit.body, hit.headers["Civic-Relay-Signature"])
