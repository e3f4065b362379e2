"""Fixtures for the composer: agency A's number known to the simulator, an agent signed in,
and a citizen's conversation with the window open or closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from messaging.models import Conversation, Message
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, InboundMessageFactory, MembershipFactory
from tests.inbox.composer.factories import ClosedConversationFactory, OpenConversationFactory
from tests.messaging.conftest import CITIZEN, number, registered_number

__all__ = ["CITIZEN", "number", "registered_number"]


@pytest.fixture
def agent(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.AGENT)


@pytest.fixture
def agent_client(agent) -> Client:
    signed_in = Client()
    signed_in.force_login(agent.user)
    return signed_in


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")


@pytest.fixture
def open_conversation(agency_a, registered_number, citizen) -> Conversation:
    conversation = OpenConversationFactory(
        agency=agency_a, phone_number=registered_number, contact=citizen
    )
    InboundMessageFactory(agency=agency_a, conversation=conversation)
    return conversation


@pytest.fixture
def closed_conversation(agency_a, registered_number, citizen) -> Conversation:
    return ClosedConversationFactory(
        agency=agency_a, phone_number=registered_number, contact=citizen
    )


@pytest.fixture
def window_open_in_simulator(simulator, registered_number: PhoneNumber) -> None:
    simulator.open_window(registered_number.phone_number_id, CITIZEN)


def outbound(agency_id: int) -> list[Message]:
    with agency_scope(agency_id):
        return list(
            Message.objects.filter(direction=Message.Direction.OUTBOUND)
            .select_related("media")
            .order_by("pk")
        )


def uploads(server: Any) -> int:
    """How many files the simulator was given (its state, read in this process)."""
    return len(server.app.state.sim.state.media)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
