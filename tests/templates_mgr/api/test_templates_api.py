"""/api/v1/templates/: an integrator writes a draft, submits it to the Cloud API (the
simulator), and reads Meta's verdict once the sync brings it; refusals name their fields."""

from __future__ import annotations

import json

import pytest

from templates_mgr import services
from templates_mgr.models import MessageTemplate
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope, system_scope
from tests.api.helpers import bearer, make_key
from tests.campaigns.factories import campaign, template
from tests.templates_mgr.factories import utility_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agency_a) -> dict[str, str]:
    return bearer(make_key(agency_a, Scope.TEMPLATES_MANAGE)[1])


def _send(client, method: str, url: str, body: dict, key: dict):
    call = getattr(client, method)
    return call(url, json.dumps(body), content_type="application/json", **key)


def _draft_body(**changes) -> dict:
    draft = utility_draft()
    body = {
        "name": draft.name,
        "language": draft.language,
        "category": draft.category,
        "components": [dict(c) for c in draft.components],
    }
    return {**body, **changes}


def test_a_draft_is_saved_and_listed(client, key, registered_number):
    created = _send(client, "post", "/api/v1/templates/", _draft_body(), key)
    assert created.status_code == 201, created.json()
    assert (created.json()["status"], created.json()["waba_id"]) == (
        "DRAFT",
        registered_number.waba.waba_id,
    )
    listed = client.get("/api/v1/templates/?status=draft", **key).json()["results"]
    assert [t["id"] for t in listed] == [created.json()["id"]]


def test_a_name_the_account_has_in_that_language_is_refused(client, key, registered_number):
    _send(client, "post", "/api/v1/templates/", _draft_body(), key)
    again = _send(client, "post", "/api/v1/templates/", _draft_body(), key)
    assert (again.status_code, again.json()["code"]) == (422, "template_refused")


def test_submitted_it_is_pending_then_approved_by_meta_through_the_sync(
    client, key, agency_a, registered_number, simulator
):
    created = _send(client, "post", "/api/v1/templates/", _draft_body(), key).json()

    submitted = _send(client, "post", f"/api/v1/templates/{created['id']}/submit", {}, key)
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "PENDING"
    simulator.set_template_status(submitted.json()["meta_template_id"], "APPROVED")
    with system_scope():  # the periodic sync, as beat runs it
        services.sync_templates(registered_number.waba_id)

    detail = client.get(f"/api/v1/templates/{created['id']}/", **key).json()
    assert detail["status"] == "APPROVED"


def test_a_draft_breaking_metas_rules_is_not_submitted_and_names_the_field(
    client, key, registered_number
):
    body = _draft_body(components=[{"type": "BODY", "text": "Hello {{1}}"}])  # no sample
    created = _send(client, "post", "/api/v1/templates/", body, key).json()
    refused = _send(client, "post", f"/api/v1/templates/{created['id']}/submit", {}, key)
    assert (refused.status_code, refused.json()["code"]) == (400, "template_invalid")
    assert {e["pointer"] for e in refused.json()["errors"]} >= {"/body/example"}


def test_the_pre_screen_blocks_until_a_justification_is_given(
    client, key, registered_number, simulator
):
    components = [
        {
            "type": "BODY",
            "text": "Win the lottery jackpot, {{1}}!",
            "example": {"body_text": [["Ana"]]},
        }
    ]
    created = _send(client, "post", "/api/v1/templates/", _draft_body(components=components), key)
    url = f"/api/v1/templates/{created.json()['id']}/submit"
    blocked = _send(client, "post", url, {}, key)
    assert (blocked.status_code, blocked.json()["code"]) == (422, "prescreen_blocked")
    assert blocked.json()["context"]["findings"]
    justified = _send(client, "post", url, {"justification": "State lottery notice"}, key)
    assert justified.json()["status"] == "PENDING"


def test_a_new_version_of_a_draft_replaces_its_components(client, key, registered_number):
    created = _send(client, "post", "/api/v1/templates/", _draft_body(), key).json()
    components = [{"type": "BODY", "text": "Your permit is ready."}]
    changed = _send(
        client, "patch", f"/api/v1/templates/{created['id']}/", {"components": components}, key
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["components"] == components


def test_deleting_a_template_a_campaign_uses_needs_confirmation(client, key, agency_a, number):
    used = template(number)
    campaign(number, used)
    refused = client.delete(f"/api/v1/templates/{used.pk}/", **key)
    assert (refused.status_code, refused.json()["code"]) == (409, "template_in_use")
    assert refused.json()["context"]["campaigns"][0]["name"] == "Permit notices"


def test_a_draft_never_submitted_is_simply_removed(client, key, agency_a, registered_number):
    created = _send(client, "post", "/api/v1/templates/", _draft_body(), key).json()
    assert client.delete(f"/api/v1/templates/{created['id']}/", **key).status_code == 204
    with agency_scope(agency_a):
        assert not MessageTemplate.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Has Spaces"},
        {"name": ""},
        {"category": "SPAM"},
        {"components": []},
        {"components": "body"},
        {"components": [1, 2]},
        {"language": "english!"},
        {"waba_id": "not-ours"},
    ],
)
def test_hostile_drafts_are_400s(client, key, registered_number, changes):
    answer = _send(client, "post", "/api/v1/templates/", _draft_body(**changes), key)
    assert answer.status_code == 400, answer.json()
