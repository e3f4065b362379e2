"""The inbox under the DLP policy: agency A's conversation with a citizen (window open),
members of each role signed in (MFA enrolled where the role needs it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from messaging.models import Conversation, Message
from records.dlp import policy as dlp_policy
from tenants.models import Membership
from tenants.permissions import ROLES_REQUIRING_MFA
from tests.factories import (
    ContactFactory,
    InboundMessageFactory,
    MembershipFactory,
    PhoneNumberFactory,
)
from tests.frontend.conftest import enroll_totp
from tests.inbox.composer.factories import OpenConversationFactory

CITIZEN = "14155550100"
SSN = "536-22-1234"


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    dlp_policy.clear_cache()
    yield
    dlp_policy.clear_cache()


@pytest.fixture
def conversation(agency_a) -> Conversation:
    number = PhoneNumberFactory(agency=agency_a)
    citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    return OpenConversationFactory(agency=agency_a, phone_number=number, contact=citizen)


@pytest.fixture
def said(agency_a, conversation) -> Callable[[str], Message]:
    """A citizen's text in the conversation."""

    def make(body: str) -> Message:
        return InboundMessageFactory(
            agency=agency_a,
            conversation=conversation,
            phone_number=conversation.phone_number,
            contact=conversation.contact,
            content={"type": "text", "text": {"body": body}},
        )

    return make


@pytest.fixture
def signed_in(agency_a) -> Callable[[str], tuple[Client, Membership]]:
    def make(role: str) -> tuple[Client, Membership]:
        membership = MembershipFactory(agency=agency_a, role=role)
        if role in ROLES_REQUIRING_MFA:
            enroll_totp(membership.user)
        client = Client()
        client.force_login(membership.user)
        return client, membership

    return make
