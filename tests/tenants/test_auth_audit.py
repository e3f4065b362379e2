"""Failed second factors and rate-limited sign-in attempts are audited, like failed passwords."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.core.cache import cache

from records.models import AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope, system_scope
from tests.factories import DEFAULT_PASSWORD, MembershipFactory

WRONG_CODE = "000000"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # allauth's rate-limit counters live in the cache (Redis here)
    yield
    cache.clear()


@pytest.fixture
def totp_secret() -> str:
    return generate_totp_secret()


@pytest.fixture
def admin(agency_a, totp_secret):
    membership = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    TOTP.activate(membership.user, totp_secret)
    return membership


def _password_step(client, email: str, password: str = DEFAULT_PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def _code_step(client, code: str):
    return client.post("/accounts/2fa/authenticate/", {"code": code})


def _platform_events(action: str) -> list[AuditEvent]:
    with system_scope():
        return list(AuditEvent.objects.filter(agency=None, action=action).order_by("sequence"))


def test_a_wrong_second_factor_is_audited_on_the_members_agency(client, admin, agency_a):
    _password_step(client, admin.user.email)
    _code_step(client, WRONG_CODE)
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="auth.mfa_failed")
    assert (event.actor_type, event.actor_label) == ("user", admin.user.email)
    assert event.object_id == str(admin.user.pk)
    assert event.changes == {"type": "totp", "reauthentication": False}


def test_a_right_second_factor_is_not_audited_as_failed(client, admin, agency_a, totp_secret):
    _password_step(client, admin.user.email)
    code = format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30))
    assert _code_step(client, code).status_code == 302
    with agency_scope(agency_a):
        assert not AuditEvent.objects.filter(action="auth.mfa_failed").exists()


def test_a_throttled_password_attempt_is_audited(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    for _ in range(6):  # 5 failures per account per 5 minutes, then throttled
        _password_step(client, member.user.email, "wrong-password")
    (event,) = _platform_events("auth.login_throttled")
    assert event.changes == {
        "attempted": member.user.email,
        "limit": "account",
        "step": "password",
    }
    assert event.ip_address == "127.0.0.1"


def test_a_throttled_second_factor_is_audited(client, admin):
    _password_step(client, admin.user.email)
    for _ in range(6):
        _code_step(client, WRONG_CODE)
    (event,) = _platform_events("auth.login_throttled")
    assert event.changes == {
        "attempted": admin.user.email,
        "limit": "account",
        "step": "second_factor",
    }


def test_sign_ins_refused_by_the_per_ip_limit_are_audited(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    responses = [_password_step(client, f"guess{i}@example.gov", "x") for i in range(3)]
    assert responses[-1].status_code == 429
    (event,) = _platform_events("auth.login_throttled")
    assert event.changes == {"attempted": "guess2@example.gov", "limit": "ip", "step": "password"}
