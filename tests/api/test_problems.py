"""Every API error is an RFC 9457 problem; hostile input never answers 500."""

from __future__ import annotations

import pytest

from tenants.api.exceptions import exception_handler
from tests.api.helpers import bearer, make_key

pytestmark = pytest.mark.urls("tests.api.urls")
URL = "/api/v1/test/notes/"
MEMBERS = {"type", "title", "status", "detail", "code", "instance"}


def test_an_unknown_key_is_a_401_problem(client, db):
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION="Bearer cr_nope_nope")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= MEMBERS
    assert body["type"] == "urn:civic-relay:problem:invalid_token"
    assert body["status"] == 401
    assert body["instance"] == "/api/v1/agency"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_field_errors_carry_json_pointers(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    response = client.post(URL, {"text": "x" * 101}, content_type="application/json", **bearer(raw))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["pointer"] == "/text"
    assert body["errors"][0]["code"] == "max_length"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('{"text": {"nested": [1]}}', "application/json"),
        ('{"text": "a", "slow": "soon"}', "application/json"),
        ("\xff\xfe", "application/json"),
        ("text=a", "text/plain"),
    ],
)
def test_hostile_bodies_are_4xx_problems(client, agency_a, body, content_type):
    _, raw = make_key(agency_a, "audit:read")
    response = client.post(URL, body, content_type=content_type, **bearer(raw))
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_huge_body_is_413(client, agency_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, raw = make_key(agency_a, "audit:read")
    body = '{"text": "' + "a" * 5000 + '"}'
    response = client.post(
        URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k", **bearer(raw)
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_huge_body_without_idempotency_is_413_too(client, agency_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, raw = make_key(agency_a, "audit:read")
    body = '{"text": "' + "a" * 5000 + '"}'
    response = client.post(URL, body, content_type="application/json", **bearer(raw))
    assert response.status_code == 413


def test_a_wrong_id_type_is_404_not_500(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    assert client.get("/api/v1/audit-events/abc/", **bearer(raw)).status_code == 404
    assert client.get("/api/v1/audit-events/99999999999999999999/", **bearer(raw)).status_code in (
        404,
    )


class _SendRefused(Exception):
    """Shaped like messaging.policy.SendRefused (duck-typed by the handler)."""

    def __init__(self) -> None:
        super().__init__("The 24-hour window is closed.")
        self.rule = "window_closed"
        self.message = "The 24-hour window is closed."
        self.details = {"closed_at": "2026-12-01T10:00:00Z"}


def test_a_policy_refusal_carries_its_rule_as_the_code():
    response = exception_handler(_SendRefused(), {})
    assert response.status_code == 422
    assert response.data["code"] == "window_closed"
    assert response.data["type"] == "urn:civic-relay:problem:window_closed"
    assert response.data["detail"] == "The 24-hour window is closed."
    assert response.data["context"] == {"closed_at": "2026-12-01T10:00:00Z"}


def test_the_real_send_refused_is_recognised():
    from messaging.policy import Rule, SendRefused

    response = exception_handler(SendRefused(Rule.TIER_LIMIT, "Tier reached.", limit=250), {})
    assert response.data["code"] == "tier_limit"
    assert response.data["context"] == {"limit": 250}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cr_a\x00b_c",
        "Bearer crt_\x00",
        "Bearer cr_" + "a" * 10_000 + "_x",
        "Bearer crt_" + "a" * 10_000,
        "Bearer cr_é_ü",
        "Bearer ",
    ],
)
def test_malformed_bearer_credentials_are_401_not_500(client, db, header):
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


@pytest.mark.parametrize("secret", ["cr_%00x_y", "cr_a_%00", "%00", "cr_" + "a" * 5000 + "_x"])
def test_malformed_oauth_secrets_are_invalid_client_not_500(client, db, secret):
    body = f"grant_type=client_credentials&client_id=cr_a&client_secret={secret}"
    response = client.post(
        "/api/v1/oauth/token/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401


def test_a_nul_in_the_idempotency_key_is_400(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    response = client.post(
        URL,
        {"text": "a"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="a\x00b",
        **bearer(raw),
    )
    assert response.status_code == 400


def test_a_method_the_endpoint_does_not_have_is_405_not_403(client, agency_a):
    from tests.api.helpers import bearer, make_key

    _, raw = make_key(agency_a, "audit:read")
    response = client.delete("/api/v1/audit-events/", **bearer(raw))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_a_nul_character_in_a_filter_is_a_400_not_a_500(client, agency_a):
    from tests.api.helpers import bearer, make_key

    _, raw = make_key(agency_a, "templates:manage")
    response = client.get("/api/v1/templates/?name=a%00b", **bearer(raw))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
