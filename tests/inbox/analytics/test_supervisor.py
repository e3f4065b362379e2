"""``/inbox/supervisor/``: queues per team, agents' load, and bulk reassignment through
``inbox.services.assign`` (one event and one audit record per conversation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bsp.events.models import DomainEvent
from inbox.models import AgentStatus
from messaging.models import Conversation
from records.models import AuditEvent
from tenants.models import Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.inbox.factories import ActiveConversationFactory, TeamFactory

pytestmark = pytest.mark.django_db


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def waiting(agency, minutes: int, **fields) -> Conversation:
    since = timezone.now() - timedelta(minutes=minutes)
    return ActiveConversationFactory(agency=agency, waiting_since=since, **fields)


def test_queues_count_open_pending_and_unassigned_and_the_longest_wait(
    agency_a, supervisor_a, agent_one
):
    roads = TeamFactory(agency=agency_a, name="Roads")
    waiting(agency_a, 45, team=roads)
    waiting(agency_a, 5, team=roads)
    waiting(agency_a, 90, team=roads, assignee=agent_one.user)  # assigned: not the longest
    waiting(agency_a, 10, team=roads, status=Conversation.Status.PENDING)
    waiting(agency_a, 600, team=roads, status=Conversation.Status.RESOLVED)
    waiting(agency_a, 3)  # no team

    response = signed_in(supervisor_a).get("/inbox/supervisor/")

    assert response.status_code == 200
    queues = {queue.name: (queue, wait) for queue, wait in response.context["queues"]}
    queue, wait = queues["Roads"]
    assert (queue.open, queue.pending, queue.unassigned) == (3, 1, 3)
    assert timedelta(minutes=45) <= wait < timedelta(minutes=46)
    assert queues["No team"][0].unassigned == 1
    assert "45 min" in response.content.decode()


def test_agents_show_their_load_against_capacity_and_availability(
    agency_a, supervisor_a, agent_one, agent_two
):
    with agency_scope(agency_a):
        AgentStatus.objects.create(
            agency=agency_a, user=agent_one.user, availability="available", capacity=2
        )
    waiting(agency_a, 5, assignee=agent_one.user)
    waiting(agency_a, 6, assignee=agent_one.user, status=Conversation.Status.PENDING)
    waiting(agency_a, 7, assignee=agent_one.user, status=Conversation.Status.SNOOZED)

    response = signed_in(supervisor_a).get("/inbox/supervisor/")

    agents = {agent.user_id: agent for agent in response.context["agents"]}
    one, two = agents[agent_one.user_id], agents[agent_two.user_id]
    assert (one.available, one.active, one.capacity, one.at_capacity) == (True, 2, 2, True)
    assert (two.available, two.active) == (False, 0)
    assert "Full" in response.content.decode()


def test_bulk_reassign_hands_each_conversation_to_the_agent_through_the_service(
    agency_a, supervisor_a, agent_one, agent_two
):
    parks = TeamFactory(agency=agency_a, name="Parks")
    chosen = [waiting(agency_a, 30), waiting(agency_a, 20, assignee=agent_one.user)]
    untouched = waiting(agency_a, 10)

    response = signed_in(supervisor_a).post(
        "/inbox/supervisor/",
        {
            "conversations": [str(c.pk) for c in chosen],
            "to_agent": str(agent_two.user_id),
            "to_team": str(parks.pk),
        },
    )

    assert response.status_code == 302
    with agency_scope(agency_a):
        rows = {c.pk: c for c in Conversation.objects.all()}
        events = DomainEvent.objects.filter(type="conversation.assigned")
        audits = AuditEvent.objects.filter(action="conversation.assigned")
        assert {(rows[c.pk].assignee_id, rows[c.pk].team_id) for c in chosen} == {
            (agent_two.user_id, parks.pk)
        }
        assert rows[untouched.pk].assignee_id is None
        assert sorted(e.subject["conversation"] for e in events) == sorted(c.pk for c in chosen)
        assert {e.payload["reason"] for e in events} == {"bulk"}
        assert audits.count() == 2
        assert {a.actor_id for a in audits} == {str(supervisor_a.user_id)}


def test_bulk_reassign_to_a_team_keeps_each_agent(agency_a, supervisor_a, agent_one):
    roads = TeamFactory(agency=agency_a, name="Roads")
    held = waiting(agency_a, 30, assignee=agent_one.user)

    signed_in(supervisor_a).post(
        "/inbox/supervisor/reassign/", {"conversations": [str(held.pk)], "to_team": str(roads.pk)}
    )

    with agency_scope(agency_a):
        held.refresh_from_db()
    assert (held.assignee_id, held.team_id) == (agent_one.user_id, roads.pk)


def test_bulk_reassign_without_a_target_or_a_selection_changes_nothing(agency_a, supervisor_a):
    conversation = waiting(agency_a, 30)
    client = signed_in(supervisor_a)

    nothing = client.post("/inbox/supervisor/", {"conversations": [str(conversation.pk)]})
    none_chosen = client.post("/inbox/supervisor/", {"to_agent": "unassign"}, follow=True)

    assert nothing.status_code == 302
    assert "Select the conversations" in none_chosen.content.decode()
    with agency_scope(agency_a):
        assert not DomainEvent.objects.filter(type="conversation.assigned").exists()


@pytest.mark.parametrize("field", ["conversations", "to_agent", "to_team"])
def test_another_agency_s_ids_are_not_found(agency_a, agency_b, supervisor_a, agent_one, field):
    mine = waiting(agency_a, 30)
    ids = {
        "conversations": str(waiting(agency_b, 30).pk),
        "to_agent": str(MembershipFactory(agency=agency_b, role=Role.AGENT).user_id),
        "to_team": str(TeamFactory(agency=agency_b).pk),
    }
    data = {"conversations": [str(mine.pk)], "to_agent": str(agent_one.user_id)}
    data[field] = [str(mine.pk), ids[field]] if field == "conversations" else ids[field]

    response = signed_in(supervisor_a).post("/inbox/supervisor/", data)

    assert response.status_code == 404
    with agency_scope(agency_a):
        assert not DomainEvent.objects.filter(type="conversation.assigned").exists()


@pytest.mark.parametrize("value", ["abc", "-1", "1" * 40, "\x00"])
def test_hostile_ids_are_not_found(agency_a, supervisor_a, value):
    response = signed_in(supervisor_a).post(
        "/inbox/supervisor/", {"conversations": [value], "to_agent": "unassign"}
    )
    assert response.status_code == 404


def test_an_agent_may_not_supervise(agency_a, agent_one):
    client = signed_in(agent_one)
    conversation = waiting(agency_a, 5)

    assert client.get("/inbox/supervisor/").status_code == 403
    assert client.get("/inbox/supervisor/panels/queues/").status_code == 403
    posted = client.post(
        "/inbox/supervisor/reassign/",
        {"conversations": [str(conversation.pk)], "to_agent": str(agent_one.user_id)},
    )
    assert posted.status_code == 403


@pytest.mark.parametrize("panel", ["queues", "agents", "conversations"])
def test_each_panel_reloads_on_its_own(agency_a, supervisor_a, panel):
    waiting(agency_a, 5)

    response = signed_in(supervisor_a).get(f"/inbox/supervisor/panels/{panel}/")

    assert response.status_code == 200
    assert f'id="panel-{panel}"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_an_unknown_panel_is_not_found(supervisor_a):
    assert signed_in(supervisor_a).get("/inbox/supervisor/panels/nope/").status_code == 404


def test_the_page_costs_the_same_queries_however_many_conversations_and_agents(
    agency_a, supervisor_a
):
    client = signed_in(supervisor_a)
    waiting(agency_a, 5)
    with CaptureQueriesContext(connection) as few:
        client.get("/inbox/supervisor/", {"assignee": "any"})
    for n in range(3):
        team = TeamFactory(agency=agency_a)
        agent = MembershipFactory(agency=agency_a, role=Role.AGENT).user
        for minutes in range(4):
            waiting(agency_a, minutes + n, team=team, assignee=agent if minutes % 2 else None)

    with CaptureQueriesContext(connection) as many:
        client.get("/inbox/supervisor/", {"assignee": "any"})

    assert len(many.captured_queries) == len(few.captured_queries)
    assert not [q for q in many.captured_queries if "messaging_message" in q["sql"]]


def test_a_suspended_agency_s_conversations_are_not_reassigned(agency_a, supervisor_a, agent_one):
    conversation = waiting(agency_a, 5)
    agency_a.status = agency_a.Status.SUSPENDED
    agency_a.save(update_fields=["status"])

    response = signed_in(supervisor_a).post(
        "/inbox/supervisor/",
        {"conversations": [str(conversation.pk)], "to_agent": str(agent_one.user_id)},
    )

    assert response.status_code == 403
    with agency_scope(agency_a):
        assert Conversation.objects.get(pk=conversation.pk).assignee_id is None
