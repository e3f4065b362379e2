"""Fixtures of the campaign pages: agency A's number with an approved template, opted-in
citizens, an agency admin (runs campaigns) and a supervisor (views them) signed in."""

from __future__ import annotations

import pytest
from django.test import Client

from messaging.models import Contact
from templates_mgr.models import MessageTemplate
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Role
from tests.factories import (
    ConsentFactory,
    ContactFactory,
    MembershipFactory,
    PhoneNumberFactory,
    TemplateFactory,
)
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    admin_client,
    client_for,
    make_member,
)

BODY = "Hello {{1}}, your appointment is on {{2}}."


@pytest.fixture
def number(agency_a) -> PhoneNumber:
    return PhoneNumberFactory(agency=agency_a, display_phone_number="+1 512 555 0100")


@pytest.fixture
def approved(agency_a, number) -> MessageTemplate:
    """An approved utility template of the number's WhatsApp account, with samples."""
    return TemplateFactory(
        agency=agency_a,
        waba=number.waba,
        name="appointment_reminder",
        components=[
            {
                "type": "BODY",
                "text": BODY,
                "example": {"body_text": [["Maria", "March 3"]]},
            }
        ],
    )


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def supervisor_a(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)


@pytest.fixture
def supervisor_client(supervisor_a) -> Client:
    return signed_in(supervisor_a)


@pytest.fixture
def agent_client(agency_a) -> Client:
    return signed_in(MembershipFactory(agency=agency_a, role=Role.AGENT))


def opted_in(agency, count: int, **attributes: str) -> list[Contact]:
    """``count`` citizens of ``agency`` who opted in (no topic), outside the US +1 range."""
    contacts = []
    for i in range(count):
        contact = ContactFactory(
            agency=agency,
            wa_id=f"5255500{len(attributes)}{i:04d}",
            phone_e164=f"+5255500{len(attributes)}{i:04d}",
            profile_name=f"Citizen {i}",
            attributes={"first_name": f"Name{i}", **attributes},
        )
        ConsentFactory(agency=agency, contact=contact)
        contacts.append(contact)
    return contacts
