"""Fixtures of the team tests: agency A's number, its staff with roles, citizens who write
in through the real webhook path, and the event stream delivered to the consumers."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import User

from bsp.events.dispatch import dispatch_pending
from inbox import services
from inbox.models import Team
from messaging.models import Conversation, Message
from messaging.webhooks import processing, signature
from messaging.webhooks.receive import store_event
from records.audit import Actor
from tenants.models import Agency, PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope, system_scope
from tests.factories import MembershipFactory, PhoneNumberFactory
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    admin_client,
    agent_a,
    agent_client,
    client_for,
    make_member,
)
from tests.inbox.teams.factories import TeamFactory, TeamMemberFactory, TeamPhoneNumberFactory
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    inbound_text,
    messages_change,
)

_citizens = count(1)


@pytest.fixture(autouse=True)
def _fresh_caches():
    processing.forget_cached_routes()
    signature.forget_cached_secrets()
    yield
    processing.forget_cached_routes()
    signature.forget_cached_secrets()


@pytest.fixture
def number(agency_a) -> PhoneNumber:
    return PhoneNumberFactory(agency=agency_a)


def new_citizen() -> str:
    return f"1415555{next(_citizens):04d}"


def write_in(
    number: PhoneNumber, wa_id: str | None = None, body: str = "Hello", **extra: Any
) -> Message:
    """A citizen's message arrives through the webhook path (stored and processed as the
    endpoint and the worker do); the stored message."""
    wa_id = wa_id or new_citizen()
    text = inbound_text(wa_id, body, **extra)
    change = messages_change(number.phone_number_id, messages=[text], contacts=[contact(wa_id)])
    event_id = store_event(encode(envelope(change)), "sha256=test", "platform")
    with system_scope():
        processing.process_event(event_id)
        return Message.objects.get(wamid=text["id"])


def deliver_events() -> int:
    """Run the dispatcher: the consumers get every pending event (and what they publish in
    turn, until nothing is left)."""
    delivered = 0
    while passed := dispatch_pending():
        delivered += passed
    return delivered


@pytest.fixture
def agent_in(agency_a) -> Callable[..., User]:
    """A staff member of agency A in ``team`` with an availability and a capacity."""

    def make(
        team: Team,
        *,
        role: str = Role.AGENT,
        availability: str = "available",
        capacity: int = 2,
        agency: Agency | None = None,
    ) -> User:
        agency = agency or agency_a
        user = MembershipFactory(agency=agency, role=role).user
        TeamMemberFactory(agency=agency, team=team, user=user)
        with agency_scope(agency):
            services.set_availability(
                actor=Actor.system("test"),
                agency=agency,
                user=user,
                availability=availability,
                capacity=capacity,
            )
        return user

    return make


@pytest.fixture
def team(agency_a, number) -> Team:
    """A round-robin team that receives agency A's number."""
    found = TeamFactory(agency=agency_a, name="Benefits")
    TeamPhoneNumberFactory(agency=agency_a, team=found, phone_number=number)
    return found


def conversation_of(message: Message) -> Conversation:
    with agency_scope(message.agency_id):
        return Conversation.objects.get(pk=message.conversation_id)
