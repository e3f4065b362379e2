"""The audit trail's filters: an action (exact, or a prefix ``message.*``), the actor's type,
the object, a time range; they combine, and a filter that is not valid is a 400 problem."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from records.audit import Actor, record_event
from tenants.api.scopes import Scope
from tests.api.helpers import bearer, make_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-events/"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
USER = Actor("user", "7", "clerk@example.gov")
WORKER = Actor.worker("messaging.deliver")


@pytest.fixture
def trail(agency_a, agency_b):
    """Five events of agency A an hour apart, and one of agency B (``theirs``)."""
    made = {}
    for hour, (name, actor, action, object_id) in enumerate(
        [
            ("sent", USER, "message.sent", "41"),
            ("status", WORKER, "message.status_changed", "41"),
            ("messages_like", USER, "messages_purged", ""),
            ("assigned", USER, "conversation.assigned", "9"),
            ("export", WORKER, "records.export_built", "pkg-1"),
        ]
    ):
        with time_machine.travel(T0 + dt.timedelta(hours=hour), tick=False):
            made[name] = record_event(
                agency_id=agency_a.pk,
                actor=actor,
                action=action,
                object_type="messaging.message" if action.startswith("message.") else "",
                object_id=object_id,
            ).pk
    theirs = record_event(agency_id=agency_b.pk, actor=USER, action="message.sent", object_id="41")
    return {**made, "theirs": theirs.pk}


@pytest.fixture
def auth(agency_a):
    _, raw = make_key(agency_a, Scope.AUDIT_READ)
    return bearer(raw)


def _ids(client, auth, **params) -> list[int]:
    response = client.get(URL, params, **auth)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_exact_action(client, auth, trail):
    assert _ids(client, auth, action="message.sent") == [trail["sent"]]


def test_a_prefix_takes_the_actions_under_it_and_no_other(client, auth, trail):
    # "messages_purged" starts with "message" but is not under "message.".
    assert _ids(client, auth, action="message.*") == [trail["status"], trail["sent"]]


def test_the_actor_type(client, auth, trail):
    assert _ids(client, auth, actor_type="worker") == [trail["export"], trail["status"]]


def test_the_object(client, auth, trail):
    found = _ids(client, auth, object_type="messaging.message", object_id="41")

    assert found == [trail["status"], trail["sent"]]


def test_a_time_range_includes_since_and_excludes_until(client, auth, trail):
    since = (T0 + dt.timedelta(hours=1)).isoformat()
    until = (T0 + dt.timedelta(hours=3)).isoformat()

    assert _ids(client, auth, since=since, until=until) == [
        trail["messages_like"],
        trail["status"],
    ]


def test_filters_combine(client, auth, trail):
    found = _ids(client, auth, action="message.*", actor_type="user", since=T0.isoformat())

    assert found == [trail["sent"]]


def test_no_filter_is_the_whole_trail_of_the_agency(client, auth, trail):
    found = _ids(client, auth)  # with the credential's own creation, audited too

    assert set(found) >= {pk for name, pk in trail.items() if name != "theirs"}
    assert trail["theirs"] not in found
    assert found == sorted(found, reverse=True)


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"since": "yesterday"}, "/since"),
        ({"until": "2026-02-30T00:00:00Z"}, "/until"),
        ({"until": "9999-12-31T23:59:59-14:00"}, "/until"),  # past the end of time in UTC
        ({"since": "2026-03-02T12:00:00Z", "until": "2026-03-02T09:00:00Z"}, "/until"),
        ({"actor_type": "robot"}, "/actor_type"),
        ({"action": "*"}, "/action"),
        ({"action": "message*"}, "/action"),
        ({"action": ".*"}, "/action"),
        ({"action": "m" * 101}, "/action"),
        ({"object_id": "\x00"}, "/object_id"),
    ],
    ids=str,
)
def test_an_invalid_filter_is_a_400_problem(client, auth, trail, params, pointer):
    response = client.get(URL, params, **auth)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
