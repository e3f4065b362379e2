"""The authorization matrix: every endpoint by who asks, with the expected status."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from records.audit import record_event
from tenants import services
from tenants.api.scopes import Scope
from tests.api.helpers import ACTOR, bearer, get_token, make_key
from tests.factories import MembershipFactory, PhoneNumberFactory

# endpoint name, needs an object id, the scope a credential needs (None: any credential)
ENDPOINTS = [
    ("api-agency", None, None),
    ("api-credential", None, None),
    ("api-members", None, Scope.AUDIT_READ),
    ("api-member", "member", Scope.AUDIT_READ),
    ("api-phone-numbers", None, None),
    ("api-phone-number", "number", None),
    ("api-audit-events", None, Scope.AUDIT_READ),
    ("api-audit-event", "event", Scope.AUDIT_READ),
]
OTHER_SCOPE = Scope.WEBHOOKS_MANAGE


def _objects(agency) -> dict[str, int]:
    return {
        "member": MembershipFactory(agency=agency).pk,
        "number": PhoneNumberFactory(agency=agency).pk,
        "event": record_event(agency_id=agency.pk, actor=ACTOR, action="test.event").pk,
    }


def _url(name: str, what: str | None, objects: dict[str, int]) -> str:
    return reverse(name, args=[objects[what]]) if what else reverse(name)


def _status(client, url: str, auth: dict) -> int:
    return client.get(url, **auth).status_code


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_no_credential_is_refused_with_401_or_403(client, agency_a, name, what, scope):
    url = _url(name, what, _objects(agency_a))
    assert _status(client, url, {}) in (401, 403)


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_another_agencys_credential_never_sees_the_object(
    client, agency_a, agency_b, name, what, scope
):
    url = _url(name, what, _objects(agency_a))
    _, raw = make_key(agency_b, *Scope)
    status = _status(client, url, bearer(raw))
    # Lists and the agency answer with agency B's own data; A's objects are simply not found.
    assert status == (404 if what else 200)


def test_another_agencys_credential_lists_only_its_own_agency(client, agency_a, agency_b):
    _objects(agency_a)
    _, raw = make_key(agency_b, *Scope)
    assert client.get(reverse("api-agency"), **bearer(raw)).json()["slug"] == "agency-b"
    for name in ("api-phone-numbers", "api-members", "api-audit-events"):
        rows = client.get(reverse(name), **bearer(raw)).json()["results"]
        assert all(row["id"] not in _objects(agency_a).values() for row in rows), name
    numbers = client.get(reverse("api-phone-numbers"), **bearer(raw)).json()["results"]
    assert numbers == []


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_a_credential_missing_the_scope_gets_403_insufficient_scope(
    client, agency_a, name, what, scope
):
    url = _url(name, what, _objects(agency_a))
    _, raw = make_key(agency_a, OTHER_SCOPE)
    response = client.get(url, **bearer(raw))
    if scope is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"
        assert f'scope="{scope}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_a_credential_with_the_scope_gets_200(client, agency_a, name, what, scope):
    url = _url(name, what, _objects(agency_a))
    _, raw = make_key(agency_a, *([scope] if scope else []))
    assert _status(client, url, bearer(raw)) == 200


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_a_revoked_credential_gets_401(client, agency_a, name, what, scope):
    url = _url(name, what, _objects(agency_a))
    credential, raw = make_key(agency_a, *Scope)
    services.revoke_api_credential(actor=ACTOR, agency=agency_a, credential=credential)
    response = client.get(url, **bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(("name", "what", "scope"), ENDPOINTS)
def test_an_oauth_token_with_the_scope_gets_200_and_an_expired_one_401(
    client, agency_a, name, what, scope
):
    url = _url(name, what, _objects(agency_a))
    credential, raw = make_key(agency_a, *Scope)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = get_token(client, credential, raw).json()["access_token"]
        assert _status(client, url, bearer(token)) == 200
        clock.shift(601)
        assert _status(client, url, bearer(token)) == 401


@pytest.mark.parametrize(("name", "what", "scope"), [e for e in ENDPOINTS if e[2]])
def test_a_token_narrowed_to_other_scopes_gets_403_though_its_key_holds_the_scope(
    client, agency_a, name, what, scope
):
    url = _url(name, what, _objects(agency_a))
    credential, raw = make_key(agency_a, *Scope)
    token = get_token(client, credential, raw, scope=str(OTHER_SCOPE)).json()["access_token"]
    response = client.get(url, **bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_every_api_view_declares_a_scope_or_is_listed_here():
    """A new endpoint without ``required_scope`` refuses every credential: fail closed."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("api/v1/"):
                yield p.name

    names = set(walk(get_resolver().url_patterns))
    assert names - {"api-oauth-token"} >= {name for name, _, _ in ENDPOINTS}
