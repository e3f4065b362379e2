"""Sign-in: email + password, throttled failures, inactivity expiry, strong passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from tenants.permissions import Role
from tests.factories import DEFAULT_PASSWORD, MembershipFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # allauth keeps its rate-limit counters in the cache (Redis here)
    yield
    cache.clear()


def _login(client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_staff_sign_in_with_email_and_password(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    response = _login(client, member.user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


THROTTLED = "Too many failed login attempts"


def test_repeated_failed_sign_ins_for_one_account_are_throttled(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    pages = [_login(client, member.user.email, "wrong-password").content.decode() for _ in range(6)]
    assert THROTTLED not in pages[0]
    assert THROTTLED in pages[-1]
    # even the right password is refused while throttled
    response = _login(client, member.user.email, DEFAULT_PASSWORD)
    assert THROTTLED in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_failed_sign_in_is_audited_on_the_platform_chain(client, db):
    from records.models import AuditEvent
    from tenants.scoping import system_scope

    _login(client, "nobody@example.gov", "wrong-password")
    with system_scope():
        event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.agency_id is None
    assert event.changes == {"attempted": "nobody@example.gov"}


def test_a_session_expires_after_30_minutes_of_inactivity(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    client.force_login(member.user)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert client.get("/").status_code == 200  # activity refreshes the session
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get("/").status_code == 200  # 25 minutes since last activity
    with time_machine.travel(start + timedelta(minutes=76), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("password", ["short-1A!", "password12345", "123456789012345"])
def test_weak_passwords_are_rejected(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_open_sign_up_is_closed_staff_join_by_invitation(client, db):
    from django.contrib.auth import get_user_model

    response = client.post(
        "/accounts/signup/",
        {
            "email": "walk-in@example.gov",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert "Sign Up Closed" in response.content.decode()
    assert not get_user_model().objects.filter(email="walk-in@example.gov").exists()
