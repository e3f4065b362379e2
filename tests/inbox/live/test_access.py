"""The check an open stream repeats every ``LIVE_RECHECK_SECONDS``: does the session that
opened it still belong to a member of that agency with ``view_inbox``?"""

from __future__ import annotations

import pytest
from django.test import Client

from inbox.live.access import StreamSlots, still_allowed
from tenants.middleware import SESSION_AGENCY_KEY
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_AGENCY_KEY] = membership.agency_id
    session.save()
    return client


def _check(client: Client, membership) -> str | None:
    return still_allowed(
        session_key=client.session.session_key,
        user_id=membership.user_id,
        agency_id=membership.agency_id,
    )


def test_a_member_still_signed_in_may_go_on(agent):
    assert _check(_signed_in(agent), agent) is None


def test_signing_out_ends_the_stream(agent):
    client = _signed_in(agent)
    key = client.session.session_key
    client.post("/accounts/logout/")
    assert still_allowed(session_key=key, user_id=agent.user_id, agency_id=agent.agency_id) == (
        "signed_out"
    )


def test_a_changed_password_ends_the_stream(agent):
    client = _signed_in(agent)
    agent.user.set_password("an-entirely-new-passphrase-7")
    agent.user.save()
    assert _check(client, agent) == "signed_out"


def test_a_removed_member_loses_the_stream(agent):
    client = _signed_in(agent)
    with agency_scope(agent.agency):
        agent.delete()
    assert _check(client, agent) == "forbidden"


def test_a_role_without_view_inbox_loses_the_stream(agent):
    client = _signed_in(agent)
    with agency_scope(agent.agency):
        agent.role = Role.INTEGRATOR
        agent.save()
    assert _check(client, agent) == "forbidden"


def test_choosing_another_agency_in_the_session_ends_the_stream(agent, agency_b):
    MembershipFactory(agency=agency_b, user=agent.user, role=Role.AGENT)
    client = _signed_in(agent)
    session = client.session
    session[SESSION_AGENCY_KEY] = agency_b.pk
    session.save()
    assert _check(client, agent) == "agency_changed"


def test_a_session_that_never_was_cannot_stream(agent):
    assert still_allowed(session_key=None, user_id=agent.user_id, agency_id=1) == "signed_out"
    assert (
        still_allowed(session_key="not-a-session", user_id=agent.user_id, agency_id=1)
        == "signed_out"
    )


def test_slots_are_capped_per_user_and_come_back_when_released():
    slots = StreamSlots(cap=2)
    first, second = slots.acquire(41), slots.acquire(41)
    assert first and second
    assert slots.acquire(41) is None
    assert slots.acquire(42) is not None  # another user
    slots.release(41, first)
    assert slots.acquire(41) is not None
