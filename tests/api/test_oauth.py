"""OAuth 2.0 client credentials: the key buys a short-lived token carrying its scopes."""

from __future__ import annotations

from urllib.parse import urlencode

import time_machine
from django.utils import timezone

from records.models import AuditEvent
from tenants import services
from tenants.models import ApiAccessToken
from tenants.scoping import agency_scope
from tenants.selectors import sha256_hex
from tests.api.helpers import ACTOR, FORM, basic, bearer, get_token, make_key

TOKEN_URL = "/api/v1/oauth/token/"


def test_a_key_gets_a_bearer_token_with_its_scopes_that_expires_in_ten_minutes(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read", "audit:read")
    response = get_token(client, credential, raw)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "audit:read messages:read"
    assert body["access_token"].startswith("crt_")
    assert response["Cache-Control"] == "no-store"


def test_the_token_authenticates_as_the_credential(client, agency_a):
    credential, raw = make_key(agency_a, "audit:read", kind="test")
    token = get_token(client, credential, raw).json()["access_token"]
    me = client.get("/api/v1/credential", **bearer(token)).json()
    assert me["prefix"] == credential.prefix
    assert me["kind"] == "test"
    assert me["scopes"] == ["audit:read"]
    assert me["token_expires_at"] is not None


def test_a_requested_subset_of_scopes_is_all_the_token_carries(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read", "audit:read")
    body = get_token(client, credential, raw, scope="messages:read").json()
    assert body["scope"] == "messages:read"
    me = client.get("/api/v1/credential", **bearer(body["access_token"])).json()
    assert me["scopes"] == ["messages:read"]


def test_asking_for_a_scope_the_key_lacks_is_invalid_scope(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    response = get_token(client, credential, raw, scope="audit:read")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_an_unknown_scope_is_invalid_scope(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    response = get_token(client, credential, raw, scope="everything")
    assert response.json()["error"] == "invalid_scope"


def test_a_wrong_secret_is_invalid_client_401(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    response = get_token(client, credential, raw + "x")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_another_keys_prefix_with_this_secret_is_invalid_client(client, agency_a, agency_b):
    _, raw = make_key(agency_a, "messages:read")
    other, _ = make_key(agency_b, "messages:read")
    response = get_token(client, other, raw)
    assert response.status_code == 401


def test_credentials_in_the_body_work_too(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    data = {
        "grant_type": "client_credentials",
        "client_id": f"cr_{credential.prefix}",
        "client_secret": raw,
    }
    response = client.post(TOKEN_URL, urlencode(data), content_type=FORM)
    assert response.status_code == 200


def test_other_grant_types_are_unsupported(client, agency_a):
    credential, raw = make_key(agency_a)
    response = client.post(
        TOKEN_URL,
        urlencode({"grant_type": "password"}),
        content_type=FORM,
        **basic(f"cr_{credential.prefix}", raw),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_garbled_basic_header_is_invalid_client_not_500(client, db):
    response = client.post(
        TOKEN_URL,
        urlencode({"grant_type": "client_credentials"}),
        content_type=FORM,
        HTTP_AUTHORIZATION="Basic %%%not-base64",
    )
    assert response.status_code == 401


def test_a_json_array_body_is_refused_not_500(client, db):
    response = client.post(TOKEN_URL, "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_only_the_hash_of_the_token_is_stored(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    token = get_token(client, credential, raw).json()["access_token"]
    with agency_scope(agency_a):
        stored = ApiAccessToken.objects.get()
    assert stored.token_hash == sha256_hex(token)


def test_revoking_the_key_ends_its_tokens_at_once(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    token = get_token(client, credential, raw).json()["access_token"]
    services.revoke_api_credential(actor=ACTOR, agency=agency_a, credential=credential)
    assert client.get("/api/v1/agency", **bearer(token)).status_code == 401


def test_an_expired_token_is_401_invalid_token(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = get_token(client, credential, raw).json()["access_token"]
        clock.shift(599)
        assert client.get("/api/v1/agency", **bearer(token)).status_code == 200
        clock.shift(2)
        response = client.get("/api/v1/agency", **bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_the_lifetime_is_a_setting(client, agency_a, settings):
    settings.API_ACCESS_TOKEN_SECONDS = 60
    credential, raw = make_key(agency_a, "messages:read")
    assert get_token(client, credential, raw).json()["expires_in"] == 60


def test_issuing_a_token_is_audited_like_a_sign_in(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    get_token(client, credential, raw)
    with agency_scope(agency_a):
        event = AuditEvent.objects.filter(action="api_credential.token_issued").get()
    assert event.actor_type == "api"
    assert event.actor_id == str(credential.pk)


def test_a_token_sees_only_its_own_agency(client, agency_a, agency_b):
    credential, raw = make_key(agency_b, "audit:read")
    token = get_token(client, credential, raw).json()["access_token"]
    assert client.get("/api/v1/agency", **bearer(token)).json()["slug"] == "agency-b"


def test_expired_tokens_are_purged(client, agency_a):
    credential, raw = make_key(agency_a, "messages:read")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        get_token(client, credential, raw)
        clock.shift(601)
        assert services.purge_expired_api_state() == (1, 0)
