"""/api/v1/campaigns/: a campaign created, scheduled, paused, resumed and cancelled by an
integrator through the engine the admin's pages use, with its progress and recipients."""

from __future__ import annotations

import json

import pytest

from bsp.events import dispatch
from messaging.campaigns.models import Campaign
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key
from tests.campaigns.factories import MAPPING, campaign, citizen, started, template
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agency_a) -> dict[str, str]:
    return bearer(make_key(agency_a, Scope.CAMPAIGNS_MANAGE)[1])


def _post(client, url: str, body: dict, key: dict):
    return client.post(url, json.dumps(body), content_type="application/json", **key)


def test_a_campaign_is_created_as_a_draft_with_its_audience(client, key, number, utility):
    body = {
        "name": "Permit notices",
        "phone_number": number.pk,
        "template": utility.pk,
        "audience": {"source": "contacts", "topic": ""},
        "variable_mapping": MAPPING,
    }
    answer = _post(client, "/api/v1/campaigns/", body, key)
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert (created["status"], created["template"], created["phone_number"]) == (
        "draft",
        utility.pk,
        number.pk,
    )
    assert created["variable_mapping"] == MAPPING
    assert created["progress"]["recipients"] == 0


def test_another_agencys_number_is_a_400_naming_the_field(client, key, agency_b, utility):
    other = PhoneNumberFactory(agency=agency_b)
    body = {"name": "x", "phone_number": other.pk, "template": utility.pk}
    answer = _post(client, "/api/v1/campaigns/", body, key)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["pointer"] == "/phone_number"


def test_a_template_of_another_whatsapp_account_is_refused_with_the_field(
    client, key, agency_a, number
):
    elsewhere = template(PhoneNumberFactory(agency=agency_a))
    body = {"name": "x", "phone_number": number.pk, "template": elsewhere.pk}
    answer = _post(client, "/api/v1/campaigns/", body, key)
    assert answer.status_code == 422
    assert answer.json()["code"] == "campaign_refused"
    assert answer.json()["errors"][0]["pointer"] == "/template"


def test_scheduling_for_now_confirms_it(client, key, agency_a, number, utility):
    citizen(agency_a)
    draft = campaign(number, utility)
    answer = _post(client, f"/api/v1/campaigns/{draft.pk}/schedule", {"at": None}, key)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] in ("scheduled", "running")


def test_pause_resume_and_cancel_move_a_running_campaign(client, key, agency_a, number, utility):
    for _ in range(3):
        citizen(agency_a)
    running = started(campaign(number, utility))

    paused = _post(client, f"/api/v1/campaigns/{running.pk}/pause", {}, key)
    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    resumed = _post(client, f"/api/v1/campaigns/{running.pk}/resume", {}, key)
    assert (resumed.status_code, resumed.json()["status"]) == (200, "sending")
    cancelled = _post(client, f"/api/v1/campaigns/{running.pk}/cancel", {}, key)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    with agency_scope(agency_a):
        assert Campaign.objects.get(pk=running.pk).status == "cancelled"


def test_resuming_a_draft_is_refused_with_a_reason(client, key, number, utility):
    draft = campaign(number, utility)
    answer = _post(client, f"/api/v1/campaigns/{draft.pk}/resume", {}, key)
    assert answer.status_code == 422
    assert answer.json()["code"] == "campaign_refused"


def test_the_recipients_show_who_was_skipped_and_why(client, key, agency_a, number, utility):
    citizen(agency_a)
    citizen(agency_a, consents=(("", "opted_out"),))
    running = started(campaign(number, utility))

    page = client.get(f"/api/v1/campaigns/{running.pk}/recipients/", **key).json()
    assert len(page["results"]) == 2
    skipped = [r for r in page["results"] if r["status"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["reason"]
    while dispatch.dispatch_agency(agency_a.pk):  # the stream's consumers count progress
        pass
    detail = client.get(f"/api/v1/campaigns/{running.pk}/", **key).json()
    assert detail["progress"]["recipients"] == 2
    assert detail["progress"]["skipped"] == 1


def test_a_made_up_recipients_cursor_is_a_400(client, key, number, utility):
    draft = campaign(number, utility)
    answer = client.get(f"/api/v1/campaigns/{draft.pk}/recipients/?cursor=abc", **key)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "x", "phone_number": "three"},
        {"name": "x", "phone_number": 2**70},
        {"name": "x" * 500, "phone_number": 1},
        {"name": "x", "phone_number": 1, "audience": "everyone"},
    ],
)
def test_hostile_bodies_are_400s(client, key, body):
    assert _post(client, "/api/v1/campaigns/", body, key).status_code == 400


def test_an_unknown_status_filter_is_a_400(client, key):
    assert client.get("/api/v1/campaigns/?status=nope", **key).status_code == 400
