"""DLP policy tests: agency A's number and a citizen with the window open, members of each
role, and the policy set through its service (as the policy page does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from bsp.events.models import DomainEvent
from messaging.models import Conversation
from messaging.webhooks.changes import Change, Route
from messaging.webhooks.inbound import handle_messages
from records.audit import Actor
from records.dlp import policy as dlp_policy
from records.dlp import services
from records.models import AuditEvent
from tenants.models import Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, MembershipFactory, PhoneNumberFactory
from tests.inbox.composer.factories import OpenConversationFactory
from tests.messaging.webhooks.payloads import contact, inbound_text, messages_change

CITIZEN = "14155550100"
SSN = "536-22-1234"  # valid area, group and serial: what DLP refuses
CARD = "4111 1111 1111 1111"  # Visa, Luhn-valid
ADMIN = Actor.system("test-admin")


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    dlp_policy.clear_cache()
    yield
    dlp_policy.clear_cache()


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")


@pytest.fixture
def conversation(agency_a, number, citizen) -> Conversation:
    return OpenConversationFactory(agency=agency_a, phone_number=number, contact=citizen)


@pytest.fixture
def member(agency_a) -> Callable[[str], Membership]:
    def make(role: str) -> Membership:
        return MembershipFactory(agency=agency_a, role=role)

    return make


@pytest.fixture
def agent(member) -> Membership:
    return member(Role.AGENT)


@pytest.fixture
def supervisor(member) -> Membership:
    return member(Role.SUPERVISOR)


@pytest.fixture
def set_policy(agency_a) -> Callable[..., Any]:
    def change(**fields: Any) -> Any:
        return services.update_policy(agency=agency_a, actor=ADMIN, **fields)

    return change


def events_of(agency, type_: str) -> list[DomainEvent]:
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type=type_).order_by("pk"))


def audits_of(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def everything_recorded(agency) -> str:
    """Every audit event and domain event of the agency, as text (to search for values)."""
    with agency_scope(agency):
        audit = list(AuditEvent.objects.values())
        stream = list(DomainEvent.objects.values())
    return json.dumps([audit, stream], default=str)


def receive(number, *texts: str, wa_id: str = CITIZEN, timestamp: int | None = None) -> None:
    """Citizen messages through the inbound handler, as the webhook worker runs it."""
    messages = [inbound_text(wa_id, text, timestamp=timestamp) for text in texts]
    value = messages_change(number.phone_number_id, messages=messages, contacts=[contact(wa_id)])[
        "value"
    ]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    with agency_scope(number.agency_id), transaction.atomic():
        handle_messages(Change(0, "messages", value, route, None))
