"""The authorization matrix, shared by every app's API tests.

Each app lists its endpoints in ``tests/<area>/test_api_matrix.py`` as ``ENDPOINTS`` and
runs the four cases on each::

    ENDPOINTS = [
        Endpoint("api-contacts", "GET", Scope.CONTACTS_READ),
        Endpoint("api-contact", "GET", Scope.CONTACTS_READ, target=a_contact),
        Endpoint("api-contacts", "POST", Scope.CONTACTS_WRITE, body=new_contact, expect=201),
    ]

    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
    @pytest.mark.parametrize("case", CASES)
    def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
        check(client, agency_a, agency_b, endpoint, case)

The cases, each against objects of agency A:

- ``no_credential``: 401 (or 403 where no sign-in is offered);
- ``wrong_agency``: a credential of agency B holding every scope: an object of A is not
  found (404); a list answers with B's own rows and none of A's (``endpoint.wrong_agency``
  overrides the expected status, e.g. 400 for a body naming A's conversation);
- ``missing_scope``: a credential of A with every scope but the one needed: 403
  ``insufficient_scope``; an endpoint any credential may call answers as with the scope;
- ``right_scope``: a credential of A with only the scope needed: ``endpoint.expect``.

``target(agency)`` creates what the URL names and returns its URL arguments (for a list:
creates a row or two of A and returns ``[]``); ``body(agency, args)`` the JSON body (both
run with agency A's scope active). A POST that creates runs once per case, so give each
case's body what it needs to succeed (a fresh ``Idempotency-Key`` is not needed). ``tests/api/
test_matrix_complete.py`` checks that every operation of the schema is listed somewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key

CASES = ["no_credential", "wrong_agency", "missing_scope", "right_scope"]

Target = Callable[[Any], list[Any]]
Body = Callable[[Any, list[Any]], Any]


def no_args(agency: Any) -> list[Any]:
    return []


def no_body(agency: Any, args: list[Any]) -> Any:
    return None


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL name
    method: str  # GET, POST, PATCH, PUT, DELETE
    scope: Scope | None  # None: any credential of the agency
    target: Target = no_args
    body: Body = no_body
    expect: int = 200
    wrong_agency: int | None = None  # None: 404 with URL arguments, else `expect`
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.name}"

    def expected_for_other_agency(self, args: list[Any]) -> int:
        if self.wrong_agency is not None:
            return self.wrong_agency
        return 404 if args else self.expect


def call(client: Any, endpoint: Endpoint, url: str, body: Any, auth: dict[str, str]) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in endpoint.headers.items()}
    method = getattr(client, endpoint.method.lower())
    if body is None:
        return method(url, **auth, **extra)
    return method(url, json.dumps(body), content_type="application/json", **auth, **extra)


def _prepared(agency: Any, endpoint: Endpoint) -> tuple[str, list[Any], Any]:
    with agency_scope(agency):
        args = endpoint.target(agency)
        body = endpoint.body(agency, args)
    return reverse(endpoint.name, args=args), args, body


def _ids(payload: Any) -> set[Any]:
    rows = payload.get("results", []) if isinstance(payload, dict) else []
    return {row.get("id") for row in rows if isinstance(row, dict)}


def check(client: Any, agency_a: Any, agency_b: Any, endpoint: Endpoint, case: str) -> None:
    url, args, body = _prepared(agency_a, endpoint)
    if case == "no_credential":
        response = call(client, endpoint, url, body, {})
        assert response.status_code in (401, 403), response.content
        return
    if case == "wrong_agency":
        _, raw = make_key(agency_b, *Scope)
        response = call(client, endpoint, url, body, bearer(raw))
        assert response.status_code == endpoint.expected_for_other_agency(args), response.content
        if endpoint.method == "GET" and response.status_code == 200:
            _, raw_a = make_key(agency_a, *Scope)
            own = call(client, endpoint, url, body, bearer(raw_a)).json()
            assert not (_ids(response.json()) & _ids(own)), "B's credential saw A's rows"
        return
    if case == "missing_scope":
        others = [s for s in Scope if s != endpoint.scope] if endpoint.scope else list(Scope)
        _, raw = make_key(agency_a, *others)
        response = call(client, endpoint, url, body, bearer(raw))
        if endpoint.scope is None:
            assert response.status_code == endpoint.expect, response.content
        else:
            assert response.status_code == 403, response.content
            assert response.json()["code"] == "insufficient_scope"
        return
    assert case == "right_scope", case
    _, raw = make_key(agency_a, *([endpoint.scope] if endpoint.scope else []))
    response = call(client, endpoint, url, body, bearer(raw))
    assert response.status_code == endpoint.expect, response.content
