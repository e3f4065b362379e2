"""/api/v1/webhooks/: an integrator subscribes its own URL, gets the secret once, sends a
signed test event that reaches its receiver, reads the delivery log, rotates the secret;
unsafe URLs are refused with the reason."""

from __future__ import annotations

import json

import pytest

from bsp.integrations.verify import SIGNATURE_HEADER, verify
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key
from tests.integrations.conftest import flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agency_a) -> dict[str, str]:
    return bearer(make_key(agency_a, Scope.WEBHOOKS_MANAGE)[1])


def _post(client, url: str, body: dict | None, key: dict):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **key)


def _subscribe(client, key, url: str, events=("message.status",)):
    return _post(client, "/api/v1/webhooks/", {"url": url, "events": list(events)}, key)


def test_subscribing_shows_the_secret_once(client, key, receiver):
    created = _subscribe(client, key, receiver.url)
    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    again = client.get(f"/api/v1/webhooks/{created.json()['id']}/", **key).json()
    assert "secret" not in again
    assert again["secret_hint"] == created.json()["secret"][:10]


def test_a_test_event_reaches_the_receiver_signed_and_is_in_the_log(
    client, key, agency_a, receiver
):
    created = _subscribe(client, key, receiver.url).json()
    queued = _post(client, f"/api/v1/webhooks/{created['id']}/test", None, key)
    assert queued.status_code == 202, queued.json()

    from bsp.integrations.selectors import subscription

    with agency_scope(agency_a):
        sub = subscription(agency_a, created["id"])
    assert sub is not None
    flow(agency_a, sub)

    (delivery,) = receiver.received
    verify(created["secret"], delivery.body, delivery.headers[SIGNATURE_HEADER])
    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries/", **key).json()
    assert [(d["type"], d["status"]) for d in log["results"]] == [("webhook.test", "succeeded")]
    assert log["results"][0]["last_status_code"] == 200


def test_a_private_address_is_refused_with_the_reason(client, key):
    refused = _subscribe(client, key, "https://10.0.0.8/hooks")
    assert (refused.status_code, refused.json()["code"]) == (400, "webhook_refused")


def test_an_unknown_event_is_a_400(client, key, receiver):
    assert _subscribe(client, key, receiver.url, ["message.deleted"]).status_code == 400


def test_rotating_gives_a_new_secret(client, key, receiver):
    created = _subscribe(client, key, receiver.url).json()
    rotated = _post(client, f"/api/v1/webhooks/{created['id']}/rotate-secret", None, key)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]


def test_patch_changes_the_events_and_delete_removes_it(client, key, receiver):
    created = _subscribe(client, key, receiver.url).json()
    url = f"/api/v1/webhooks/{created['id']}/"
    events = ["message.received", "consent.changed"]
    changed = client.patch(
        url, json.dumps({"events": events}), content_type="application/json", **key
    )
    assert sorted(changed.json()["events"]) == sorted(events)
    assert client.delete(url, **key).status_code == 204
    assert client.get(url, **key).status_code == 404


def test_a_disabled_subscription_is_enabled_again(client, key, agency_a, receiver):
    from bsp.integrations import services
    from bsp.integrations.selectors import subscription
    from records.audit import Actor

    created = _subscribe(client, key, receiver.url).json()
    with agency_scope(agency_a):
        sub = subscription(agency_a, created["id"])
        assert sub is not None
        services.disable(actor=Actor.system("test"), subscription=sub, reason="x")
    enabled = _post(client, f"/api/v1/webhooks/{created['id']}/enable", None, key)
    assert (enabled.status_code, enabled.json()["enabled"]) == (200, True)
