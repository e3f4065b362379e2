"""Sign-in while Redis (the cache behind the rate limits) is down: a clear 503, never a 500."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from tenants.permissions import Role
from tests.factories import DEFAULT_PASSWORD, MembershipFactory


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def redis_down():
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}
    with override_settings(CACHES={"default": cache}):
        yield


def test_sign_in_while_redis_is_down_answers_503_sign_in_temporarily_unavailable(
    client, agency_a, redis_down
):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    response = client.post(
        "/accounts/login/", {"login": member.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 503
    assert "Sign-in temporarily unavailable" in response.text


def test_the_503_asks_to_retry_later_and_signs_nobody_in(client, agency_a, redis_down):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    response = client.post(
        "/accounts/login/", {"login": member.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Retry-After"] == "60"
    assert "nobody can sign in until this is fixed" in response.text
    # Unthrottled sign-in would open a password-guessing window: nobody got in.
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_while_redis_is_down_also_answers_503(client, agency_a, redis_down):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    response = client.post("/accounts/login/", {"login": member.user.email, "password": "nope"})
    assert response.status_code == 503


def test_the_sign_in_page_itself_never_answers_500(client, db, redis_down):
    assert client.get("/accounts/login/").status_code == 200  # the form needs no Redis


def test_sign_in_works_again_once_redis_is_back(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    response = client.post(
        "/accounts/login/", {"login": member.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
