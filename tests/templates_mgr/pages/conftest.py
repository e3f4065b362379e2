"""Fixtures of the template manager's pages: agency A's WABA (its number known to the
simulator when a test submits or uploads), an agency admin who manages templates and a
supervisor who only reads them, each with a signed-in client."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import Membership, WhatsAppBusinessAccount
from tenants.permissions import Role
from tests.factories import PhoneNumberFactory
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    admin_client,
    client_for,
    make_member,
)


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def waba(number) -> WhatsAppBusinessAccount:
    return number.waba


@pytest.fixture
def registered_number(number, simulator, settings):
    """The agency's number and WABA, known to the simulator with the same token."""
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    settings.WHATSAPP_APP_ID = "1234567890123"  # uploads go to the app (resumable upload)
    simulator.register_number(
        number.phone_number_id,
        display_phone_number="15550100001",
        access_token=number.waba.access_token,
        waba_id=number.waba.waba_id,
    )
    return number


@pytest.fixture
def supervisor(make_member) -> Membership:  # noqa: F811
    return make_member(Role.SUPERVISOR)


@pytest.fixture
def supervisor_client(client_for, supervisor) -> Client:  # noqa: F811
    return client_for(supervisor)


@pytest.fixture
def agent_client(client_for, make_member) -> Client:  # noqa: F811
    return client_for(make_member(Role.AGENT))
