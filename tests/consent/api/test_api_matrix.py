"""The contacts and consent API in the authorization matrix of ``tests/api/matrix.py``:
reads need contacts:read, changes contacts:write."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory

# 415-555-01xx numbers are valid for libphonenumber: a new one for each created contact.
NUMBERS = itertools.count(150)


def a_contact(agency) -> list[int]:
    return [ContactFactory(agency=agency).pk]


def a_contact_with_history(agency) -> list[int]:
    return [ConsentFactory(agency=agency).contact_id]


def contacts(agency) -> list[int]:
    a_contact(agency)
    a_contact(agency)
    return []


def topics(agency) -> list[int]:
    TopicFactory(agency=agency)
    return []


def new_contact(agency, args: list[Any]) -> dict[str, Any]:
    return {"phone": f"+1415555{next(NUMBERS):04d}", "name": "Maria Lopez"}


def rename(agency, args: list[Any]) -> dict[str, Any]:
    return {"name": "María López"}


def opt_out(agency, args: list[Any]) -> dict[str, Any]:
    return {"status": "opted_out", "evidence": "Asked by phone"}


W = Scope.CONTACTS_WRITE
ENDPOINTS = [
    Endpoint("api-contacts", "GET", Scope.CONTACTS_READ, target=contacts),
    Endpoint("api-contacts", "POST", W, body=new_contact, expect=201),
    Endpoint("api-contact", "GET", Scope.CONTACTS_READ, target=a_contact),
    Endpoint("api-contact", "PATCH", W, target=a_contact, body=rename),
    Endpoint("api-contact", "DELETE", W, target=a_contact, expect=204),
    Endpoint("api-contact-consent", "GET", Scope.CONTACTS_READ, target=a_contact_with_history),
    Endpoint("api-contact-consent", "POST", W, target=a_contact, body=opt_out, expect=201),
    Endpoint("api-consent-topics", "GET", Scope.CONTACTS_READ, target=topics),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
