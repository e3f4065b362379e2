"""The webhook pages: agency admins subscribe, see the secret once, read the delivery log,
rotate, test, disable, enable and delete; others get 403, another agency's ids 404, and
hostile input never a 500."""

from __future__ import annotations

import pytest

from bsp.integrations.models import WebhookSubscription
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.frontend.conftest import admin_a, client_for, make_member  # noqa: F401

pytestmark = [pytest.mark.urls("tests.integrations.urls"), pytest.mark.django_db]


@pytest.fixture
def admin(client_for, admin_a):  # noqa: F811
    return client_for(admin_a)


def _create(client, url: str, events=("consent.changed",)):
    return client.post(
        "/integrations/webhooks/", {"url": url, "events": list(events), "description": "CRM"}
    )


def _only(agency) -> WebhookSubscription:
    with agency_scope(agency):
        return WebhookSubscription.objects.get()


def test_an_admin_subscribes_a_url_and_sees_its_secret_once(admin, agency_a):
    response = _create(admin, "http://127.0.0.1:9/hooks")
    assert response.status_code == 200
    sub = _only(agency_a)
    assert sub.secret in response.content.decode()
    page = admin.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert sub.secret not in page
    assert sub.secret_hint in page
    assert "No deliveries yet" in page


def test_a_private_url_is_refused_with_a_message(admin, agency_a, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = _create(admin, "http://10.0.0.1/hooks")
    assert response.status_code == 200
    assert "public address" in response.content.decode()
    with agency_scope(agency_a):
        assert not WebhookSubscription.objects.exists()


def test_rotating_shows_the_new_secret_once(admin, agency_a):
    _create(admin, "http://127.0.0.1:9/hooks")
    old = _only(agency_a)
    response = admin.post(f"/integrations/webhooks/{old.pk}/rotate/")
    new = _only(agency_a)
    assert new.secret != old.secret
    assert new.secret in response.content.decode()


def test_a_test_event_appears_in_the_log(admin, agency_a):
    _create(admin, "http://127.0.0.1:9/hooks")
    sub = _only(agency_a)
    response = admin.post(f"/integrations/webhooks/{sub.pk}/test/", follow=True)
    assert "webhook.test" in response.content.decode()


def test_disable_enable_and_delete(admin, agency_a):
    _create(admin, "http://127.0.0.1:9/hooks")
    sub = _only(agency_a)
    admin.post(f"/integrations/webhooks/{sub.pk}/disable/", {"reason": "Maintenance"})
    assert _only(agency_a).disabled_reason == "Maintenance"
    admin.post(f"/integrations/webhooks/{sub.pk}/enable/")
    assert _only(agency_a).enabled
    response = admin.post(f"/integrations/webhooks/{sub.pk}/delete/")
    assert response.status_code == 302
    with agency_scope(agency_a):
        assert not WebhookSubscription.objects.exists()


def test_editing_changes_the_events(admin, agency_a):
    _create(admin, "http://127.0.0.1:9/hooks")
    sub = _only(agency_a)
    response = admin.post(
        f"/integrations/webhooks/{sub.pk}/edit/",
        {"url": "http://127.0.0.1:9/other", "events": ["message.status", "campaign.completed"]},
    )
    assert response.status_code == 302
    assert _only(agency_a).events == ["campaign.completed", "message.status"]


def test_an_agent_is_refused(client_for, make_member):  # noqa: F811
    agent = client_for(make_member(Role.AGENT))
    assert agent.get("/integrations/webhooks/").status_code == 403


def test_another_agencys_subscription_is_a_404(admin, agency_b, client_for, make_member):  # noqa: F811
    other = client_for(make_member(Role.AGENCY_ADMIN, agency=agency_b))
    _create(other, "http://127.0.0.1:9/theirs")
    theirs = _only(agency_b)
    assert admin.get(f"/integrations/webhooks/{theirs.pk}/").status_code == 404
    assert admin.post(f"/integrations/webhooks/{theirs.pk}/delete/").status_code == 404
    assert "theirs" not in admin.get("/integrations/webhooks/").content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"url": "x" * 5000, "events": ["consent.changed"]},
        {"url": "http://127.0.0.1:9/", "events": ["nope", "<script>"]},
        {"url": "http://[::1", "events": ["consent.changed"]},
        {"url": "http://\x00/", "events": ["consent.changed"]},
        {"url": "http://é.example/ü", "events": ["consent.changed"]},
        {"url": "", "events": []},
        {"url": ["a", "b"], "events": "consent.changed", "description": "d" * 1000},
    ],
)
def test_hostile_form_input_never_500s(admin, data):
    assert _create_raw(admin, data).status_code == 200


def _create_raw(client, data):
    return client.post("/integrations/webhooks/", data)


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/webhooks/1/explode/",
        "/integrations/webhooks/999999/rotate/",
        "/integrations/webhooks/99999999999999999999/",
    ],
)
def test_hostile_paths_are_404s(admin, path):
    assert admin.post(path).status_code == 404


def test_a_hostile_log_filter_is_ignored(admin, agency_a):
    _create(admin, "http://127.0.0.1:9/hooks")
    sub = _only(agency_a)
    for status in ("'; drop table x", "pending" * 100, "\x00"):
        assert admin.get(f"/integrations/webhooks/{sub.pk}/", {"status": status}).status_code == 200
