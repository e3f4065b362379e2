"""Fixtures for the staff UI: members of agency A with each role, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from tenants.models import Membership
from tenants.permissions import ROLES_REQUIRING_MFA, Role
from tests.factories import MembershipFactory


def enroll_totp(user: AbstractBaseUser) -> str:
    """Give ``user`` an authenticator app, as allauth's activation does; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.fixture
def make_member(agency_a) -> Callable[..., Membership]:
    """A member of agency A (or ``agency``); roles that require MFA come enrolled."""

    def make(role: str = Role.AGENT, agency=None, *, mfa: bool | None = None) -> Membership:
        membership = MembershipFactory(agency=agency or agency_a, role=role)
        needs_mfa = role in ROLES_REQUIRING_MFA if mfa is None else mfa
        if needs_mfa:
            enroll_totp(membership.user)
        return membership

    return make


@pytest.fixture
def admin_a(make_member) -> Membership:
    return make_member(Role.AGENCY_ADMIN)


@pytest.fixture
def agent_a(make_member) -> Membership:
    return make_member(Role.AGENT)


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    def signed_in(membership: Membership) -> Client:
        client = Client()
        client.force_login(membership.user)
        return client

    return signed_in


@pytest.fixture
def admin_client(client_for, admin_a) -> Client:
    return client_for(admin_a)


@pytest.fixture
def agent_client(client_for, agent_a) -> Client:
    return client_for(agent_a)
