"""Fixtures for sending: an agency whose number is registered in the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Conversation
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory, PhoneNumberFactory

CITIZEN = "14155550100"  # valid for libphonenumber (555-01xx in 415 is)


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a)


@pytest.fixture
def registered_number(number, simulator, settings):
    """The agency's number, known to the simulator with the same token and WABA."""
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    with agency_scope(number.agency_id):
        simulator.register_number(
            number.phone_number_id,
            display_phone_number="15550100001",
            access_token=number.bearer_token(),
            waba_id=number.waba.waba_id,
        )
    return number


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")


@pytest.fixture
def open_conversation(agency_a, number, citizen) -> Conversation:
    """The citizen wrote 1 hour ago: the customer-service window is open."""
    now = timezone.now()
    return ConversationFactory(
        agency=agency_a,
        phone_number=number,
        contact=citizen,
        last_inbound_at=now - timedelta(hours=1),
        window_expires_at=now + timedelta(hours=23),
    )
