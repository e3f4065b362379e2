"""Hostile and malformed requests to the conversation actions: a 4xx problem each time,
never a 500, and the conversation unchanged."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from messaging.models import Conversation
from tenants.scoping import agency_scope

pytestmark = pytest.mark.django_db

ACTIONS = [
    ("post", "api-conversation-assign"),
    ("post", "api-conversation-status"),
    ("put", "api-conversation-labels"),
    ("post", "api-conversation-notes"),
]
HUGE = 2**80


def _send(client, auth, method, name, pk, raw: str, content_type="application/json"):
    url = reverse(name, args=[pk])
    return getattr(client, method)(url, raw, content_type=content_type, **auth)


def _unchanged(conversation) -> None:
    with agency_scope(conversation.agency_id):
        row = Conversation.objects.get(pk=conversation.pk)
    assert (row.status, row.assignee_id, row.team_id) == ("open", None, None)


@pytest.mark.parametrize(("method", "name"), ACTIONS)
@pytest.mark.parametrize("raw", ['{"status": ', "[]", '"text"', "null", "\x00\x01", "{" * 5000])
def test_a_body_that_is_not_a_json_object_is_a_400(
    client, agent_key, conversation, method, name, raw
):
    response = _send(client, agent_key, method, name, conversation.pk, raw)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    _unchanged(conversation)


@pytest.mark.parametrize(("method", "name"), ACTIONS)
def test_a_form_body_is_a_415(client, agent_key, conversation, method, name):
    response = _send(
        client, agent_key, method, name, conversation.pk, "a=1", "application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    _unchanged(conversation)


@pytest.mark.parametrize(
    ("name", "body", "pointer"),
    [
        ("api-conversation-assign", {}, "/assignee"),
        ("api-conversation-assign", {"assignee": "sam"}, "/assignee"),
        ("api-conversation-assign", {"assignee": True}, "/assignee"),
        ("api-conversation-assign", {"assignee": HUGE}, "/assignee"),
        ("api-conversation-assign", {"assignee": -1}, "/assignee"),
        ("api-conversation-assign", {"assignee": 1.5}, "/assignee"),
        ("api-conversation-assign", {"assignee": None, "team": {"id": 1}}, "/team"),
        ("api-conversation-assign", {"assignee": None, "team": HUGE}, "/team"),
        ("api-conversation-status", {}, "/status"),
        ("api-conversation-status", {"status": ["resolved"]}, "/status"),
        ("api-conversation-status", {"status": "snoozed", "snooze_until": "soon"}, "/snooze_until"),
        (
            "api-conversation-status",
            {"status": "snoozed", "snooze_until": "99999-01-01T00:00:00Z"},
            "/snooze_until",
        ),
        ("api-conversation-status", {"status": "snoozed", "snooze_until": 1e300}, "/snooze_until"),
    ],
    ids=str,
)
def test_a_field_of_the_wrong_type_or_range_is_a_400_naming_it(
    client, agent_key, conversation, name, body, pointer
):
    response = _send(client, agent_key, "post", name, conversation.pk, json.dumps(body))
    assert response.status_code == 400, response.content
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    _unchanged(conversation)


@pytest.mark.parametrize(
    ("labels", "pointer"),
    [
        ("permits", "/labels"),
        ([True], "/labels/0"),
        ([None], "/labels/0"),
        ([{"name": "permits"}], "/labels/0"),
        ([HUGE], "/labels/0"),
        (["x" * 51], "/labels/0"),
        ([""], "/labels/0"),
        (list(range(1, 52)), "/labels"),
    ],
    ids=str,
)
def test_labels_of_the_wrong_shape_are_a_400(client, agent_key, conversation, labels, pointer):
    body = json.dumps({"labels": labels})
    response = _send(client, agent_key, "put", "api-conversation-labels", conversation.pk, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize(("method", "name"), ACTIONS)
@pytest.mark.parametrize("pk", [0, 2**63, 2**70])
def test_an_action_on_an_id_beyond_any_row_is_a_404(client, agent_key, method, name, pk):
    response = _send(client, agent_key, method, name, pk, json.dumps({"status": "resolved"}))
    assert response.status_code == 404


def test_a_huge_page_size_is_capped_not_refused(client, reader, conversation):
    response = client.get(reverse("api-conversations"), {"page_size": 10**12}, **reader)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [conversation.pk]
