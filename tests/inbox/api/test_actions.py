"""The agent's actions through the API (assign, status, labels): each goes through
inbox.services, publishes its domain event and is audited as the credential; refusals are
422 problems with the inbox's code, ids outside the agency 400."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import ConversationLabel, Notification
from messaging.models import Conversation
from records.models import AuditEvent
from tenants import services as tenant_services
from tenants.api.scopes import Scope
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.api.helpers import ACTOR, bearer, make_key
from tests.factories import MembershipFactory
from tests.inbox.api.conftest import events_of
from tests.inbox.factories import ActiveConversationFactory, LabelFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _post(client, auth, name, pk, body):
    return client.post(reverse(name, args=[pk]), body, content_type="application/json", **auth)


def _put_labels(client, auth, pk, labels):
    return client.put(
        reverse("api-conversation-labels", args=[pk]),
        {"labels": labels},
        content_type="application/json",
        **auth,
    )


def _fresh(conversation) -> Conversation:
    with agency_scope(conversation.agency_id):
        return Conversation.objects.get(pk=conversation.pk)


# --- Assign ------------------------------------------------------------------------------


def test_assigning_publishes_the_event_and_answers_the_conversation(
    client, agency_a, agent_key, conversation, member
):
    agent, team = member(), TeamFactory(agency=agency_a)
    response = _post(
        client,
        agent_key,
        "api-conversation-assign",
        conversation.pk,
        {"assignee": agent.pk, "team": team.pk},
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == agent.pk
    assert response.json()["team"]["id"] == team.pk
    [event] = events_of(agency_a, "conversation.assigned")
    assert event.subject == {"conversation": conversation.pk, "contact": conversation.contact_id}
    assert event.payload["assignee"] == agent.pk
    assert event.payload["team"] == team.pk
    assert event.payload["by"] is None
    assert event.payload["reason"] == "api"


def test_the_audit_record_names_the_credential(client, agency_a, conversation, member):
    credential, raw = make_key(agency_a, Scope.MESSAGES_SEND)
    agent = member()
    _post(client, bearer(raw), "api-conversation-assign", conversation.pk, {"assignee": agent.pk})
    with agency_scope(agency_a):
        record = AuditEvent.objects.get(action="conversation.assigned")
    assert (record.actor_type, record.actor_id) == ("api", str(credential.pk))


def test_the_assignee_is_told_which_key_assigned_them(
    client, agency_a, agent_key, conversation, member
):
    agent = member()
    _post(client, agent_key, "api-conversation-assign", conversation.pk, {"assignee": agent.pk})
    with agency_scope(agency_a):
        [notification] = Notification.objects.filter(user=agent)
    assert notification.kind == Notification.Kind.ASSIGNED
    assert "(API key “crm”)" in notification.text


def test_null_unassigns_and_a_team_left_out_stays(client, agency_a, agent_key, member):
    team = TeamFactory(agency=agency_a)
    conversation = ActiveConversationFactory(agency=agency_a, assignee=member(), team=team)
    response = _post(
        client, agent_key, "api-conversation-assign", conversation.pk, {"assignee": None}
    )
    assert response.status_code == 200
    fresh = _fresh(conversation)
    assert fresh.assignee_id is None
    assert fresh.team_id == team.pk


def test_a_null_team_takes_the_conversation_off_its_team(client, agency_a, agent_key):
    conversation = ActiveConversationFactory(agency=agency_a, team=TeamFactory(agency=agency_a))
    body = {"assignee": None, "team": None}
    assert (
        _post(client, agent_key, "api-conversation-assign", conversation.pk, body).status_code
        == 200
    )
    assert _fresh(conversation).team_id is None


def test_assigning_to_someone_who_cannot_answer_is_a_422(
    client, agency_a, agent_key, conversation, member
):
    officer = member(Role.RECORDS_OFFICER)
    response = _post(
        client, agent_key, "api-conversation-assign", conversation.pk, {"assignee": officer.pk}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "assignee_cannot_reply"
    assert _fresh(conversation).assignee_id is None
    assert events_of(agency_a, "conversation.assigned") == []


def test_a_member_of_another_agency_is_a_400(client, agency_b, agent_key, conversation, member):
    stranger = member(agency=agency_b)
    response = _post(
        client, agent_key, "api-conversation-assign", conversation.pk, {"assignee": stranger.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/assignee"


def test_a_team_of_another_agency_is_a_400(client, agency_b, agent_key, conversation):
    theirs = TeamFactory(agency=agency_b)
    body = {"assignee": None, "team": theirs.pk}
    response = _post(client, agent_key, "api-conversation-assign", conversation.pk, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/team"


def test_an_agent_signed_in_may_take_it_but_not_hand_it_to_someone_else(
    agency_a, conversation, member, client_for
):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    other = member()
    session = client_for(agent)
    refused = _post(session, {}, "api-conversation-assign", conversation.pk, {"assignee": other.pk})
    assert refused.status_code == 422
    assert refused.json()["code"] == "assign_not_allowed"
    taken = _post(
        session, {}, "api-conversation-assign", conversation.pk, {"assignee": agent.user_id}
    )
    assert taken.status_code == 200
    [event] = events_of(agency_a, "conversation.assigned")
    assert event.payload["by"] == agent.user_id


# --- Status ------------------------------------------------------------------------------


def test_resolving_publishes_the_status_event(client, agency_a, agent_key, conversation):
    response = _post(
        client, agent_key, "api-conversation-status", conversation.pk, {"status": "resolved"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] is not None
    [event] = events_of(agency_a, "conversation.status")
    assert (event.payload["status"], event.payload["previous"]) == ("resolved", "open")
    assert event.payload["reason"] == "api"


def test_snoozing_until_a_time_in_the_future(client, agency_a, agent_key, conversation):
    until = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    body = {"status": "snoozed", "snooze_until": until.isoformat()}
    response = _post(client, agent_key, "api-conversation-status", conversation.pk, body)
    assert response.status_code == 200
    fresh = _fresh(conversation)
    assert (fresh.status, fresh.snoozed_until) == ("snoozed", until)


@pytest.mark.parametrize("snooze_until", [None, "2020-01-01T00:00:00Z"])
def test_snoozing_without_a_future_time_is_a_422(
    client, agency_a, agent_key, conversation, snooze_until
):
    body = {"status": "snoozed", "snooze_until": snooze_until}
    response = _post(client, agent_key, "api-conversation-status", conversation.pk, body)
    assert response.status_code == 422
    assert response.json()["code"] == "snooze_not_in_future"
    assert _fresh(conversation).status == "open"


def test_an_unknown_status_is_a_400(client, agent_key, conversation):
    response = _post(
        client, agent_key, "api-conversation-status", conversation.pk, {"status": "closed"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/status"


def test_a_suspended_agency_changes_nothing(client, agency_a, agent_key, conversation):
    tenant_services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")
    response = _post(
        client, agent_key, "api-conversation-status", conversation.pk, {"status": "resolved"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "agency_suspended"
    assert _fresh(conversation).status == "open"


# --- Labels ------------------------------------------------------------------------------


def test_labels_are_set_by_name_or_id_and_publish_the_event(
    client, agency_a, agent_key, conversation
):
    permits = LabelFactory(agency=agency_a, name="permits")
    urgent = LabelFactory(agency=agency_a, name="urgent")
    response = _put_labels(client, agent_key, conversation.pk, ["urgent", permits.pk])
    assert response.status_code == 200, response.content
    assert response.json()["labels"] == ["permits", "urgent"]
    [event] = events_of(agency_a, "conversation.labels")
    assert event.payload["labels"] == ["permits", "urgent"]
    assert event.payload["added"] == sorted([permits.pk, urgent.pk])


def test_an_empty_list_removes_every_label(client, agency_a, agent_key, conversation):
    LabelFactory(agency=agency_a, name="permits")
    _put_labels(client, agent_key, conversation.pk, ["permits"])
    response = _put_labels(client, agent_key, conversation.pk, [])
    assert response.json()["labels"] == []
    with agency_scope(agency_a):
        assert not ConversationLabel.objects.filter(conversation=conversation).exists()
    assert len(events_of(agency_a, "conversation.labels")) == 2


def test_the_same_labels_again_publish_nothing(client, agency_a, agent_key, conversation):
    LabelFactory(agency=agency_a, name="permits")
    _put_labels(client, agent_key, conversation.pk, ["permits"])
    _put_labels(client, agent_key, conversation.pk, ["permits", "permits"])
    assert len(events_of(agency_a, "conversation.labels")) == 1


def test_an_unknown_label_or_another_agencys_is_a_400_naming_it(
    client, agency_a, agency_b, agent_key, conversation
):
    LabelFactory(agency=agency_a, name="permits")
    theirs = LabelFactory(agency=agency_b, name="secret")
    for labels, pointer in ((["permits", "nope"], "/labels/1"), ([theirs.pk], "/labels/0")):
        response = _put_labels(client, agent_key, conversation.pk, labels)
        assert response.status_code == 400
        assert response.json()["errors"][0]["pointer"] == pointer
    assert events_of(agency_a, "conversation.labels") == []
