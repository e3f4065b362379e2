"""Schemathesis against the committed schema (docs/openapi.yaml): every operation called
with generated requests — valid and invalid bodies, parameters and headers — through the
whole application (middleware, authentication, RLS), by a credential holding every scope.

Zero server errors, and every answer conforms to the schema: its status is documented, its
content type is, and its body validates. Bounded: ``MAX_EXAMPLES`` per operation (raise it
with ``SCHEMATHESIS_MAX_EXAMPLES`` and ``SCHEMATHESIS_RANDOM=1`` for a longer hunt), a time
limit per operation.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key
from tests.factories import MembershipFactory, PhoneNumberFactory

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(COMMITTED)
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]


@pytest.fixture
def application():
    """The WSGI application, called in-process inside the test's transaction: as Django's
    test client does, the connection is not closed at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credential_headers(agency_a) -> dict[str, str]:
    """A credential of agency A with every scope, and a few of A's rows to find."""
    MembershipFactory(agency=agency_a)
    PhoneNumberFactory(agency=agency_a)
    credential, raw = make_key(agency_a, *Scope)
    credential.rate_limit_per_second = 10_000  # the fuzzer, not the limiter, is under test
    credential.rate_limit_burst = 10_000
    with agency_scope(agency_a):
        credential.save(update_fields=["rate_limit_per_second", "rate_limit_burst"])
    return {"Authorization": bearer(raw)["HTTP_AUTHORIZATION"]}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,  # no example database in the tree: each run starts fresh
    # The same examples every run (CI cannot turn red by luck); SCHEMATHESIS_RANDOM=1 hunts.
    derandomize=not os.environ.get("SCHEMATHESIS_RANDOM"),
)
def test_every_operation_answers_as_documented(case, application, credential_headers):
    headers = {**(case.headers or {}), **credential_headers}
    case.call_and_validate(app=application, headers=headers, checks=CHECKS)
