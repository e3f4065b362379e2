"""The conversations API in the authorization matrix of ``tests/api/matrix.py``: reads
need messages:read, the agent's actions messages:send."""

from __future__ import annotations

from typing import Any

import pytest

from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.inbox.factories import ActiveConversationFactory, LabelFactory


def a_conversation(agency) -> list[int]:
    return [ActiveConversationFactory(agency=agency).pk]


def conversations(agency) -> list[int]:
    a_conversation(agency)
    a_conversation(agency)
    return []


def unassign(agency, args: list[Any]) -> dict[str, Any]:
    return {"assignee": None, "team": None}


def resolve(agency, args: list[Any]) -> dict[str, Any]:
    return {"status": "resolved"}


def labels(agency, args: list[Any]) -> dict[str, Any]:
    return {"labels": [LabelFactory(agency=agency).name]}


def note(agency, args: list[Any]) -> dict[str, Any]:
    return {"body": "Called back about the permit."}


ENDPOINTS = [
    Endpoint("api-conversations", "GET", Scope.MESSAGES_READ, target=conversations),
    Endpoint("api-conversation", "GET", Scope.MESSAGES_READ, target=a_conversation),
    Endpoint(
        "api-conversation-assign", "POST", Scope.MESSAGES_SEND, target=a_conversation, body=unassign
    ),
    Endpoint(
        "api-conversation-status", "POST", Scope.MESSAGES_SEND, target=a_conversation, body=resolve
    ),
    Endpoint(
        "api-conversation-labels", "PUT", Scope.MESSAGES_SEND, target=a_conversation, body=labels
    ),
    Endpoint("api-conversation-notes", "GET", Scope.MESSAGES_READ, target=a_conversation),
    Endpoint(
        "api-conversation-notes",
        "POST",
        Scope.MESSAGES_SEND,
        target=a_conversation,
        body=note,
        expect=201,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
