"""Idempotency-Key on POSTs: same key + same body replays, another body is 409, and of
concurrent duplicates exactly one runs."""

from __future__ import annotations

import json
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.api import urls as test_urls
from tests.api.helpers import bearer, make_key

pytestmark = pytest.mark.urls("tests.api.urls")
URL = "/api/v1/test/notes/"


def _post(client, raw, body, key="k-1"):
    headers = bearer(raw)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def _notes(agency) -> int:
    with agency_scope(agency):
        return AuditEvent.objects.filter(action="test.note").count()


def test_the_same_key_and_body_returns_the_original_answer_without_running_again(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    first = _post(client, raw, {"text": "hello"})
    again = _post(client, raw, {"text": "hello"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _notes(agency_a) == 1


def test_the_same_key_with_another_body_is_409_idempotency_key_reused(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    _post(client, raw, {"text": "hello"})
    response = _post(client, raw, {"text": "other"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert _notes(agency_a) == 1


def test_without_the_header_every_post_runs(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    _post(client, raw, {"text": "a"}, key=None)
    _post(client, raw, {"text": "a"}, key=None)
    assert _notes(agency_a) == 2


def test_keys_belong_to_their_credential(client, agency_a):
    _, raw_1 = make_key(agency_a, "audit:read")
    _, raw_2 = make_key(agency_a, "audit:read")
    _post(client, raw_1, {"text": "a"})
    assert "Idempotent-Replayed" not in _post(client, raw_2, {"text": "a"})
    assert _notes(agency_a) == 2


def test_a_refused_request_is_not_stored_and_may_be_retried(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    assert _post(client, raw, {"text": ""}).status_code == 400
    assert _post(client, raw, {"text": "fixed"}).status_code == 201


def test_an_invalid_key_is_400(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    response = _post(client, raw, {"text": "a"}, key="x" * 256)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


def test_a_key_expires_after_24_hours(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _post(client, raw, {"text": "a"})
        clock.shift(24 * 3600 + 1)
        assert "Idempotent-Replayed" not in _post(client, raw, {"text": "a"})
    assert _notes(agency_a) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once_and_both_get_the_same_answer(agency_a):
    _, raw = make_key(agency_a, "audit:read")
    test_urls.CALLS.clear()
    results = []

    def send():
        try:
            response = _post(Client(), raw, {"text": "race", "slow": 0.5}, key="race-1")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(test_urls.CALLS) == 1
    assert [status for status, _ in results] == [201, 201]
    assert results[0][1] == results[1][1]


def test_beat_purges_keys_older_than_24_hours(client, agency_a):
    from tenants.api.tasks import purge_expired_api_state_task

    _, raw = make_key(agency_a, "audit:read")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _post(client, raw, {"text": "a"})
        assert purge_expired_api_state_task() == (0, 0)
        clock.shift(24 * 3600 + 1)
        assert purge_expired_api_state_task() == (0, 1)


def test_staff_sessions_have_their_own_keys_too(agency_a):
    from allauth.mfa.models import Authenticator

    from tenants.permissions import Role
    from tests.factories import MembershipFactory

    member = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    Authenticator.objects.create(user=member.user, type=Authenticator.Type.TOTP, data={})
    staff = Client(enforce_csrf_checks=False)
    staff.force_login(member.user)
    body = json.dumps({"text": "from the browser"})
    first = staff.post(URL, body, "application/json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = staff.post(URL, body, "application/json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert _notes(agency_a) == 1
