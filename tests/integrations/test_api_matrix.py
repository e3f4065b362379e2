"""The webhook subscriptions API in the authorization matrix (tests/api/matrix.py)."""

from __future__ import annotations

import pytest

from bsp.integrations import services
from records.audit import Actor
from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check

S = Scope.WEBHOOKS_MANAGE
URL = "http://127.0.0.1:9/hooks"  # allowed by the tests' settings; never called here


def a_subscription(agency) -> list[int]:
    sub, _ = services.create_subscription(
        actor=Actor.system("test"), agency=agency, url=URL, events=["message.status"]
    )
    return [sub.pk]


def subscriptions(agency) -> list[int]:
    a_subscription(agency)
    return []


ENDPOINTS = [
    Endpoint("api-webhooks", "GET", S, target=subscriptions),
    Endpoint(
        "api-webhooks",
        "POST",
        S,
        body=lambda a, x: {"url": URL, "events": ["message.status"]},
        expect=201,
    ),
    Endpoint("api-webhook", "GET", S, target=a_subscription),
    Endpoint("api-webhook", "PATCH", S, target=a_subscription, body=lambda a, x: {}),
    Endpoint("api-webhook", "DELETE", S, target=a_subscription, expect=204),
    Endpoint("api-webhook-rotate", "POST", S, target=a_subscription),
    Endpoint("api-webhook-enable", "POST", S, target=a_subscription),
    Endpoint("api-webhook-test", "POST", S, target=a_subscription, expect=202),
    Endpoint("api-webhook-deliveries", "GET", S, target=a_subscription),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
