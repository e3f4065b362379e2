"""Automatic assignment through the real event stream: citizens write in through the
webhook path, the dispatcher delivers the events to the inbox's consumer, and the round
robin hands conversations to the team's available agents up to their capacity."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from inbox import services
from inbox.models import AgentStatus, Team
from messaging.models import Conversation
from records.audit import Actor
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory, PhoneNumberFactory
from tests.inbox.teams.conftest import conversation_of, deliver_events, new_citizen, write_in
from tests.inbox.teams.factories import TeamFactory, TeamMemberFactory, TeamPhoneNumberFactory

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def _resolve(conversation: Conversation) -> None:
    with agency_scope(conversation.agency_id):
        services.set_status(actor=SYSTEM, by=None, conversation=conversation, status="resolved")


def _loads(agency_id: int) -> Counter[int | None]:
    with agency_scope(agency_id):
        return Counter(
            Conversation.objects.filter(status__in=services.ACTIVE).values_list(
                "assignee_id", flat=True
            )
        )


def test_three_agents_of_capacity_two_take_six_conversations_and_the_seventh_waits(
    team, number, agent_in
):
    agents = [agent_in(team, capacity=2) for _ in range(3)]
    messages = [write_in(number) for _ in range(7)]
    deliver_events()

    assigned = [conversation_of(m).assignee_id for m in messages]
    assert assigned[:6] == [a.pk for a in agents] * 2  # round robin, in turn
    assert assigned[6] is None
    assert conversation_of(messages[6]).team_id == team.pk  # waiting in the team's queue


def test_an_agent_who_resolves_a_conversation_gets_the_longest_waiting_one(team, number, agent_in):
    first, second = agent_in(team, capacity=1), agent_in(team, capacity=1)
    start = timezone.now()
    with time_machine.travel(start):
        held_by_first = write_in(number)
    with time_machine.travel(start + timedelta(minutes=1)):
        write_in(number)  # to the second agent
    with time_machine.travel(start + timedelta(minutes=2)):
        oldest_waiting = write_in(number)
    with time_machine.travel(start + timedelta(minutes=3)):
        newest_waiting = write_in(number)
    deliver_events()
    assert conversation_of(oldest_waiting).assignee_id is None

    _resolve(conversation_of(held_by_first))
    deliver_events()

    assert conversation_of(oldest_waiting).assignee_id == first.pk
    assert conversation_of(newest_waiting).assignee_id is None
    assert _loads(team.agency_id) == {first.pk: 1, second.pk: 1, None: 1}


def test_away_agents_get_no_conversations(team, number, agent_in):
    available = agent_in(team, capacity=5)
    agent_in(team, availability="away", capacity=5)
    messages = [write_in(number) for _ in range(3)]
    deliver_events()

    assert {conversation_of(m).assignee_id for m in messages} == {available.pk}


def test_an_agent_who_becomes_available_receives_the_backlog(team, number, agent_in):
    agent = agent_in(team, availability="away", capacity=2)
    messages = [write_in(number) for _ in range(3)]
    deliver_events()
    assert {conversation_of(m).assignee_id for m in messages} == {None}

    with agency_scope(team.agency_id):
        services.set_availability(
            actor=SYSTEM, agency=team.agency, user=agent, availability="available"
        )
    deliver_events()

    assert [conversation_of(m).assignee_id for m in messages] == [agent.pk, agent.pk, None]


def test_more_capacity_hands_the_agent_more_of_the_backlog(team, number, agent_in):
    agent = agent_in(team, capacity=1)
    messages = [write_in(number) for _ in range(3)]
    deliver_events()

    with agency_scope(team.agency_id):
        services.set_availability(
            actor=SYSTEM, agency=team.agency, user=agent, availability="available", capacity=3
        )
    deliver_events()

    assert {conversation_of(m).assignee_id for m in messages} == {agent.pk}


def test_a_new_agent_is_next_in_the_round_robin(team, number, agent_in):
    veteran = agent_in(team, capacity=10)
    write_in(number)
    deliver_events()
    newcomer = agent_in(team, capacity=10)

    message = write_in(number)
    deliver_events()

    assert conversation_of(message).assignee_id == newcomer.pk
    assert veteran.pk != newcomer.pk


def test_conversations_go_to_the_team_of_their_phone_number(agency_a, team, number, agent_in):
    other_number = PhoneNumberFactory(agency=agency_a)
    permits = TeamFactory(agency=agency_a, name="Permits")
    TeamPhoneNumberFactory(agency=agency_a, team=permits, phone_number=other_number)
    benefits_agent = agent_in(team, capacity=5)
    permits_agent = agent_in(permits, capacity=5)

    on_benefits, on_permits = write_in(number), write_in(other_number)
    deliver_events()

    assert (conversation_of(on_benefits).team_id, conversation_of(on_benefits).assignee_id) == (
        team.pk,
        benefits_agent.pk,
    )
    assert (conversation_of(on_permits).team_id, conversation_of(on_permits).assignee_id) == (
        permits.pk,
        permits_agent.pk,
    )


def test_a_number_without_a_team_leaves_the_conversation_unrouted(agency_a, team, agent_in):
    agent_in(team, capacity=5)
    message = write_in(PhoneNumberFactory(agency=agency_a))
    deliver_events()

    assert (conversation_of(message).team_id, conversation_of(message).assignee_id) == (None, None)


def test_a_team_without_automatic_assignment_only_queues(team, number, agent_in):
    with agency_scope(team.agency_id):
        Team.objects.filter(pk=team.pk).update(auto_assign=False)
    agent_in(team, capacity=5)
    message = write_in(number)
    deliver_events()

    assert (conversation_of(message).team_id, conversation_of(message).assignee_id) == (
        team.pk,
        None,
    )


def test_a_member_whose_role_cannot_reply_gets_nothing_from_the_round_robin(agency_a, team, number):
    officer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER).user
    TeamMemberFactory(agency=agency_a, team=team, user=officer)
    with agency_scope(agency_a):
        AgentStatus.objects.create(
            agency=agency_a, user=officer, availability="available", capacity=5
        )
    message = write_in(number)
    deliver_events()

    assert conversation_of(message).assignee_id is None


def test_a_member_whose_role_cannot_reply_cannot_be_assigned_by_hand(agency_a, number):
    officer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER).user
    conversation = conversation_of(write_in(number))

    with agency_scope(agency_a), pytest.raises(services.InboxError, match="cannot answer"):
        services.assign(actor=SYSTEM, by=None, conversation=conversation, assignee=officer)


def test_a_reassigned_conversation_frees_its_previous_agent_for_the_backlog(team, number, agent_in):
    first = agent_in(team, capacity=1)
    held, waiting = write_in(number), write_in(number)
    deliver_events()
    colleague = MembershipFactory(agency=team.agency, role=Role.SUPERVISOR).user

    with agency_scope(team.agency_id):
        services.assign(
            actor=SYSTEM, by=None, conversation=conversation_of(held), assignee=colleague
        )
    deliver_events()

    assert conversation_of(waiting).assignee_id == first.pk


def test_a_redelivered_conversation_created_event_assigns_nothing_twice(team, number, agent_in):
    agent_in(team, capacity=5)
    message = write_in(number)
    deliver_events()
    with agency_scope(team.agency_id):
        again = services.route_new_conversation(message.conversation_id)

    assert again is not None
    assert _loads(team.agency_id) == {again.assignee_id: 1}


def test_a_citizen_reopening_a_conversation_nobody_holds_puts_it_back_in_the_queue(
    team, number, agent_in
):
    citizen = new_citizen()
    conversation = conversation_of(write_in(number, citizen))
    deliver_events()  # no agent yet: it waits in the queue
    _resolve(conversation)
    deliver_events()
    agent = agent_in(team, capacity=5)
    deliver_events()
    assert conversation_of_pk(conversation).assignee_id is None  # resolved: not in the backlog

    write_in(number, citizen, body="One more question")
    deliver_events()

    reopened = conversation_of_pk(conversation)
    assert (reopened.status, reopened.assignee_id) == ("open", agent.pk)


def conversation_of_pk(conversation: Conversation) -> Conversation:
    with agency_scope(conversation.agency_id):
        return Conversation.objects.get(pk=conversation.pk)


def test_a_new_conversation_does_not_jump_the_queue(team, number, agent_in):
    with agency_scope(team.agency_id):
        Team.objects.filter(pk=team.pk).update(auto_assign=False)
    waiting = write_in(number)
    deliver_events()
    agent = agent_in(team, capacity=1)
    with agency_scope(team.agency_id):  # switched on behind the stream's back: no event
        Team.objects.filter(pk=team.pk).update(auto_assign=True)

    newcomer = write_in(number)
    deliver_events()

    assert conversation_of(waiting).assignee_id == agent.pk
    assert (conversation_of(newcomer).team_id, conversation_of(newcomer).assignee_id) == (
        team.pk,
        None,
    )
