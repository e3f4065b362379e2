"""The records officers' archive page: each version with its lock and hold, read-only."""

from __future__ import annotations

import pytest

from records.models import AuditEvent
from records.worm import selectors, services
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory


def test_the_officer_sees_each_version_with_its_lock_and_hold(
    conversation, backend, officer_client
):
    row = services.archive_conversation(conversation.pk)

    response = officer_client.get("/records/archive/")

    assert response.status_code == 200
    html = response.content.decode()
    assert row.key in html
    assert "Compliance until" in html
    assert "Archive policy (platform defaults)" in html
    assert row.sha256[:16] in html


def test_one_conversations_versions(conversation, agency_a, backend, officer_client):
    services.archive_conversation(conversation.pk)
    other = InboundMessageFactory(agency=agency_a).conversation
    services.archive_conversation(other.pk)

    response = officer_client.get(f"/records/archive/?conversation={other.pk}")

    html = response.content.decode()
    assert f"conversation-{other.pk}/" in html
    assert f"conversation-{conversation.pk}/" not in html


@pytest.mark.parametrize("value", ["abc", "-1", "1' OR 1=1", "9" * 40, "\uff11\uff12"])
def test_a_conversation_number_that_is_not_one_is_a_400_not_a_500(value, officer_client):
    response = officer_client.get("/records/archive/", {"conversation": value})

    assert response.status_code == 400
    assert "Enter a conversation number" in response.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.AGENCY_ADMIN, Role.SUPERVISOR])
def test_members_without_manage_records_get_a_403(client_for, make_member, role):
    assert client_for(make_member(role)).get("/records/archive/").status_code == 403


def test_another_agencys_archive_is_not_listed(
    conversation, agency_b, backend, client_for, make_member
):
    services.archive_conversation(conversation.pk)
    officer_b = make_member(Role.RECORDS_OFFICER, agency=agency_b)

    html = client_for(officer_b).get("/records/archive/").content.decode()

    assert "Nothing has been archived yet." in html


def test_the_officer_sets_the_agencys_policy(officer_client, agency_a):
    response = officer_client.post(
        "/records/archive/policy/",
        {"mode": "governance", "active_days": "14", "minimum_retention_days": "365"},
    )

    assert response.status_code == 302
    with agency_scope(agency_a):
        policy = selectors.policy(agency_a.pk)
        (event,) = AuditEvent.objects.filter(action="archive.policy_changed")
    assert (policy.mode, policy.active_days, policy.minimum_retention_days, policy.own) == (
        "governance",
        14,
        365,
        True,
    )
    assert event.changes["mode"] == "governance"
    page = officer_client.get("/records/archive/").content.decode()
    assert "Archive policy</h2>" in page and "<strong>Governance</strong>" in page


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "none", "active_days": "14", "minimum_retention_days": "365"},
        {"mode": "compliance", "active_days": "-1", "minimum_retention_days": "365"},
        {"mode": "compliance", "active_days": "14", "minimum_retention_days": "0"},
        {"mode": "compliance", "active_days": "9" * 30, "minimum_retention_days": "x"},
        {},
    ],
)
def test_a_policy_that_is_not_one_is_a_400_and_nothing_changes(officer_client, agency_a, data):
    response = officer_client.post("/records/archive/policy/", data)

    assert response.status_code == 400
    assert "There" in response.content.decode() and "with what you entered" in (
        response.content.decode()
    )
    with agency_scope(agency_a):
        assert not selectors.policy(agency_a.pk).own


@pytest.mark.parametrize("role", [Role.AGENT, Role.AGENCY_ADMIN])
def test_members_without_manage_records_cannot_set_the_policy(client_for, make_member, role):
    client = client_for(make_member(role))
    assert client.get("/records/archive/policy/").status_code == 403
    assert client.post("/records/archive/policy/", {"mode": "governance"}).status_code == 403
