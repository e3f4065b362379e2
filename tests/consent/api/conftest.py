"""Fixtures of the contacts and consent API's tests: keys of agency A, and a JSON client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bsp.events.models import DomainEvent
from records.models import AuditEvent
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key


@pytest.fixture
def reader(agency_a) -> dict[str, str]:
    """The Authorization header of a key of agency A that reads contacts."""
    _, raw = make_key(agency_a, Scope.CONTACTS_READ)
    return bearer(raw)


@pytest.fixture
def writer(agency_a) -> dict[str, str]:
    """A key of agency A that reads and changes contacts (named "crm")."""
    _, raw = make_key(agency_a, Scope.CONTACTS_READ, Scope.CONTACTS_WRITE)
    return bearer(raw)


def send_json(client, method: str, url: str, body: Any, auth: dict[str, str], **extra: Any):
    raw = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type="application/json", **auth, **extra)


def events_of(agency, type_: str) -> list[DomainEvent]:
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type=type_).order_by("sequence"))


def audit_of(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("sequence"))
