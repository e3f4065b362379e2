"""Fixtures for the template manager: an admin actor, the agency's number registered in the
simulator (same token and WABA), the platform's Meta app id for uploads."""

from __future__ import annotations

import pytest

from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory

APP_ID = "1234567890123"


@pytest.fixture
def admin_actor() -> Actor:
    return Actor("user", "1", "admin@example.gov")


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def waba(number):
    return number.waba


@pytest.fixture
def registered_number(number, simulator, settings):
    """The agency's number, known to the simulator with the same token and WABA."""
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    settings.WHATSAPP_APP_ID = APP_ID
    with agency_scope(number.agency_id):
        simulator.register_number(
            number.phone_number_id,
            display_phone_number="15550100001",
            access_token=number.waba.access_token,
            waba_id=number.waba.waba_id,
        )
    return number
