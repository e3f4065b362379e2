"""API keys: shown once, stored hashed, revocable; and the role table applies to them."""

from __future__ import annotations

from records.audit import Actor
from tenants import services
from tenants.selectors import sha256_hex

ACTOR = Actor.system("test")


def _key(agency) -> tuple:
    return services.create_api_credential(actor=ACTOR, agency=agency, created_by=None, name="crm")


def test_a_valid_key_reads_its_agency(client, agency_a):
    _, raw_key = _key(agency_a)
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 200
    assert response.json()["slug"] == "agency-a"


def test_only_the_hash_of_the_key_is_stored(agency_a):
    credential, raw_key = _key(agency_a)
    assert credential.key_hash == sha256_hex(raw_key)
    assert raw_key not in credential.key_hash


def test_a_revoked_key_is_rejected_with_401(client, agency_a):
    credential, raw_key = _key(agency_a)
    services.revoke_api_credential(actor=ACTOR, agency=agency_a, credential=credential)
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_tampered_key_is_rejected(client, agency_a):
    _, raw_key = _key(agency_a)
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {raw_key}x")
    assert response.status_code == 401


def test_an_integrator_key_cannot_read_the_audit_trail(client, agency_a):
    _, raw_key = _key(agency_a)
    response = client.get("/api/v1/audit-events/", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_a_key_of_a_suspended_agency_still_reads_but_cannot_write(client, agency_a):
    """Records stay accessible while suspended; writes are refused (tests/api/test_suspension)."""
    _, raw_key = _key(agency_a)
    services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    assert client.get("/api/v1/agency", **auth).json()["status"] == "suspended"
    response = client.post("/api/v1/agency", {}, **auth)
    assert response.status_code == 403
    assert response.json()["code"] == "agency_suspended"


def test_anonymous_requests_are_refused(client, db):
    assert client.get("/api/v1/agency").status_code in (401, 403)
