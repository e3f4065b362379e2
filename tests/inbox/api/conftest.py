"""Fixtures of the conversations API's tests: keys of agency A, its members, conversations
in a state, and the stream's events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bsp.events.models import DomainEvent
from tenants.api.scopes import Scope
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key
from tests.factories import MembershipFactory
from tests.frontend.conftest import client_for  # noqa: F401 (fixture)
from tests.inbox.factories import ActiveConversationFactory


@pytest.fixture
def reader(agency_a) -> dict[str, str]:
    """The Authorization header of a key of agency A that may read conversations."""
    _, raw = make_key(agency_a, Scope.MESSAGES_READ)
    return bearer(raw)


@pytest.fixture
def agent_key(agency_a) -> dict[str, str]:
    """A key of agency A that reads and acts on conversations (named "crm")."""
    _, raw = make_key(agency_a, Scope.MESSAGES_READ, Scope.MESSAGES_SEND)
    return bearer(raw)


@pytest.fixture
def member(agency_a) -> Callable[..., Any]:
    def make(role: str = Role.AGENT, agency=None, **user: Any):
        membership = MembershipFactory(agency=agency or agency_a, role=role)
        for field, value in user.items():
            setattr(membership.user, field, value)
        membership.user.save()
        return membership.user

    return make


@pytest.fixture
def conversation(agency_a):
    return ActiveConversationFactory(agency=agency_a)


def events_of(agency, type_: str) -> list[DomainEvent]:
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type=type_).order_by("sequence"))
