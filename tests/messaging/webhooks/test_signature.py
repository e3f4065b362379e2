"""Unauthenticated input never answers 500: the signature check reads the body (to find
which agency's own app secret to try) and must survive any body at all."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import WebhookEvent
from messaging.webhooks import signature
from tenants.scoping import agency_scope
from tests.factories import WabaFactory
from tests.messaging.webhooks.payloads import encode, envelope, signed_headers

pytestmark = pytest.mark.django_db

URL = "/webhooks/whatsapp"
HOSTILE_BODIES = [
    b"[" * 200_000,
    b'{"entry": ' * 50_000,
    b'{"entry": [' + b"[" * 100_000 + b"]}",
    b'{"entry": [{"id": ' + b"[" * 100_000 + b"}]}",
    b'{"entry": "not a list"}',
    b'{"entry": {"id": "1"}}',
    b'{"entry": [{"id": {"nested": true}}, null, 7]}',
    b'{"entry": [{"id": 1' + b"0" * 5000 + b"}]}",  # an int Python refuses to print
    b"\xff\xfe\x00garbage",
    b"",
    b"null",
    b"NaN",
]


@pytest.fixture
def own_app_secret(agency_a):
    """An agency with its own Meta app: the signature check then looks into the body."""
    with agency_scope(agency_a):
        WabaFactory(agency=agency_a, waba_id="7001", app_secret="agency-own-app-secret")
    signature.forget_cached_secrets()


def _post(client, body: bytes, header: str):
    return client.generic(
        "POST", URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=header
    )


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda body: repr(body[:24]))
def test_a_hostile_body_with_a_wrong_signature_is_401(client, own_app_secret, body):
    response = _post(client, body, "sha256=" + "0" * 64)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda body: repr(body[:24]))
def test_a_hostile_body_signed_by_the_platform_is_stored(client, own_app_secret, body):
    response = _post(client, body, signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"])
    assert response.status_code == 200


PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
headers = st.one_of(
    st.just(""),
    st.text(max_size=80),
    st.text(max_size=70).map(lambda text: "sha256=" + text),
    st.from_regex(r"\Asha256=[0-9a-fA-F]{64}\Z"),
)
bodies = st.one_of(
    st.binary(max_size=500),
    st.integers(1, 3000).map(lambda depth: b'{"entry": [' * depth),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(["entry", "id", "changes", "x"]), children, max_size=3
            )
        ),
        max_leaves=12,
        # Any JSON value, not only objects: hostile on purpose.
    ).map(lambda value: encode({"entry": value}) if isinstance(value, list) else encode(value)),  # type: ignore[arg-type]
)


@PROPERTY_SETTINGS
@given(body=bodies, header=headers)
def test_the_signature_check_never_raises(own_app_secret, body, header):
    assert signature.verify(body, header) is None  # none of these is signed with a secret


@PROPERTY_SETTINGS
@given(body=bodies, header=headers)
def test_a_wrong_signature_is_401_whatever_the_body(client, own_app_secret, body, header):
    assert _post(client, body, header).status_code == 401


def test_the_agency_secret_still_verifies_a_body_naming_its_waba(client, own_app_secret):
    body = encode(envelope(waba_id="7001"))
    response = _post(client, body, signed_headers(body, "agency-own-app-secret")[
        "HTTP_X_HUB_SIGNATURE_256"
    ])  # fmt: skip
    assert response.status_code == 200
    assert WebhookEvent.objects.get().verified_with == "waba:7001"


def test_each_named_wabas_secret_is_tried_once(own_app_secret, monkeypatch):
    tried: list[str] = []
    real = signature._matches

    def counting(body: bytes, header: str, app_secret: str) -> bool:
        tried.append(app_secret)
        return real(body, header, app_secret)

    monkeypatch.setattr(signature, "_matches", counting)
    body = encode({"entry": [{"id": "7001"}] * 50})
    assert signature.verify(body, "sha256=" + "0" * 64) is None
    assert tried.count("agency-own-app-secret") == 1
