"""The shared parts' endpoints (the agency, members, numbers, audit trail) in the
authorization matrix of ``tests/api/matrix.py``."""

from __future__ import annotations

import pytest

from records.audit import record_event
from tenants.api.scopes import Scope
from tests.api.helpers import ACTOR
from tests.api.matrix import CASES, Endpoint, check
from tests.factories import MembershipFactory, PhoneNumberFactory


def a_member(agency) -> list[int]:
    return [MembershipFactory(agency=agency).pk]


def a_number(agency) -> list[int]:
    return [PhoneNumberFactory(agency=agency).pk]


def an_event(agency) -> list[int]:
    return [record_event(agency_id=agency.pk, actor=ACTOR, action="test.event").pk]


def members(agency) -> list[int]:
    a_member(agency)
    return []


def numbers(agency) -> list[int]:
    a_number(agency)
    return []


def events(agency) -> list[int]:
    an_event(agency)
    return []


ENDPOINTS = [
    Endpoint("api-agency", "GET", None),
    Endpoint("api-credential", "GET", None),
    Endpoint("api-members", "GET", Scope.AUDIT_READ, target=members),
    Endpoint("api-member", "GET", Scope.AUDIT_READ, target=a_member),
    Endpoint("api-phone-numbers", "GET", None, target=numbers),
    Endpoint("api-phone-number", "GET", None, target=a_number),
    Endpoint("api-audit-events", "GET", Scope.AUDIT_READ, target=events),
    Endpoint("api-audit-event", "GET", Scope.AUDIT_READ, target=an_event),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
