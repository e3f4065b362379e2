"""Fixtures of the public-records request tests: agency A's records officer, the example
jurisdictions (federal FOIA first), messages with text, and a request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from messaging.models import Message
from records.audit import Actor
from records.foia import services
from records.foia.models import Jurisdiction, RecordsRequest
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    admin_client,
    agent_a,
    agent_client,
    client_for,
    make_member,
)

ACTOR = Actor("user", "7", "officer@example.gov")


@pytest.fixture
def officer(make_member):  # noqa: F811
    return make_member(Role.RECORDS_OFFICER)


@pytest.fixture
def officer_client(client_for, officer):  # noqa: F811
    return client_for(officer)


def federal(agency) -> Jurisdiction:
    services.ensure_example_jurisdictions(agency, actor=ACTOR)
    with agency_scope(agency):
        return Jurisdiction.objects.get(name="Federal FOIA")


@pytest.fixture
def foia_a(agency_a) -> Jurisdiction:
    return federal(agency_a)


@pytest.fixture
def conversation_a(agency_a):
    return ConversationFactory(agency=agency_a)


@pytest.fixture
def say(agency_a, conversation_a) -> Callable[..., Message]:
    """An inbound text message of agency A's conversation."""

    def make(body: str, conversation: Any = None, **kwargs: Any) -> Message:
        return InboundMessageFactory(
            agency=(conversation or conversation_a).agency,
            conversation=conversation or conversation_a,
            content={"type": "text", "text": {"body": body}},
            **kwargs,
        )

    return make


def new_request(
    agency, jurisdiction: Jurisdiction, received_on: dt.date | None = None, **kwargs: Any
) -> RecordsRequest:
    values: dict[str, Any] = {
        "requester_name": "Pat Reporter",
        "requester_contact": "pat@news.example",
        "received_on": received_on or services.agency_today(agency),
        "description": "Messages about the water main break.",
        "jurisdiction": jurisdiction,
    }
    values.update(kwargs)
    return services.create_request(agency, actor=ACTOR, **values)


@pytest.fixture
def request_a(agency_a, foia_a) -> RecordsRequest:
    return new_request(agency_a, foia_a)
