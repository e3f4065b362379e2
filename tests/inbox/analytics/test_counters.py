"""The consumer's fact rows, from a scripted day of real events: what is counted, on which
day (the agency's), for which team and agent, and each event once however often it is
delivered."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bsp.events.models import DomainEvent, EventCursor
from bsp.events.selectors import as_message
from inbox.analytics.models import NONE, AnalyticsCursor
from inbox.analytics.selectors import analytics_report
from inbox.analytics.services import analytics_consumer
from tenants.scoping import agency_scope, system_scope
from tests.inbox.factories import TeamFactory

pytestmark = pytest.mark.django_db

# 15 January 2026 in Chicago (UTC-6): 09:00 there is 15:00 UTC.
DAY = date(2026, 1, 15)
NINE = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return NINE + timedelta(minutes=n)


@pytest.mark.parametrize("eager", [False, True], ids=["dispatched-once", "dispatched-each-step"])
def test_a_scripted_day_counts_messages_deliveries_and_conversations(
    inbox, agent_one, agent_two, eager
):
    inbox.eager = eager
    first = inbox.citizen_writes("14155550101", minutes(0))
    reply = inbox.staff_replies(first, agent_one.user, minutes(5))
    inbox.meta_reports(reply, "delivered", minutes(6))
    inbox.meta_reports(reply, "read", minutes(10))
    second = inbox.citizen_writes("14155550102", minutes(20))
    inbox.staff_replies(second, None, minutes(21), sender="automation")  # not a response
    late = inbox.staff_replies(second, agent_two.user, minutes(30))
    inbox.meta_reports(late, "failed", minutes(31))
    inbox.resolve(first, minutes(60))
    inbox.dispatch()

    day = DAY.isoformat()
    assert inbox.stats() == {
        (day, NONE, NONE): {"messages_in": 2, "messages_out": 1},
        (day, NONE, agent_one.user_id): {"messages_out": 1, "delivered": 1, "read": 1},
        (day, NONE, agent_two.user_id): {"messages_out": 1, "failed": 1},
    }
    facts = {fact.conversation_id: fact for fact in inbox.facts()}
    assert facts[first.pk].opened_day == DAY
    assert facts[first.pk].first_response_seconds == 5 * 60
    assert facts[first.pk].first_responder_key == agent_one.user_id
    assert facts[first.pk].resolution_seconds == 60 * 60
    assert facts[second.pk].first_response_seconds == 10 * 60  # the automation's did not count
    assert facts[second.pk].first_responder_key == agent_two.user_id
    assert facts[second.pk].resolved_at is None


def test_a_read_report_before_the_delivered_one_counts_the_message_delivered_once(inbox, agent_one):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    reply = inbox.staff_replies(conversation, agent_one.user, minutes(1))
    inbox.meta_reports(reply, "read", minutes(2))
    inbox.meta_reports(reply, "delivered", minutes(3))  # late: no transition
    inbox.dispatch()

    row = inbox.stats()[(DAY.isoformat(), NONE, agent_one.user_id)]
    assert row == {"messages_out": 1, "delivered": 1, "read": 1}


def test_events_delivered_twice_are_counted_once(inbox, agent_one, agency_a):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    reply = inbox.staff_replies(conversation, agent_one.user, minutes(5))
    inbox.meta_reports(reply, "delivered", minutes(6))
    inbox.resolve(conversation, minutes(30))
    inbox.dispatch()
    before = (inbox.stats(), [vars(f) | {"_state": None} for f in inbox.facts()])

    with system_scope():  # the dispatcher died before its commit: all of it again
        EventCursor.objects.filter(agency_id=agency_a.pk).update(dispatched_through=0)
    inbox.dispatch()
    with agency_scope(agency_a):  # and a consumer handed the same batch twice in a row
        rows = DomainEvent.objects.order_by("sequence").values(
            "sequence", "type", "subject", "payload", "created_at"
        )
        batch = [json.dumps(as_message(agency_a.pk, row), default=str) for row in rows]
        analytics_consumer(agency_a.pk, batch)
        assert AnalyticsCursor.objects.get().last_sequence == len(batch)

    assert (inbox.stats(), [vars(f) | {"_state": None} for f in inbox.facts()]) == before


def test_days_are_the_agency_s_days(inbox, agency_a):
    # 23:30 in Chicago on the 14th is 05:30 UTC on the 15th; 00:30 on the 15th is 06:30.
    inbox.citizen_writes("14155550101", datetime(2026, 1, 15, 5, 30, tzinfo=UTC))
    inbox.citizen_writes("14155550102", datetime(2026, 1, 15, 6, 30, tzinfo=UTC))
    inbox.dispatch()

    assert inbox.stats() == {
        ("2026-01-14", NONE, NONE): {"messages_in": 1},
        ("2026-01-15", NONE, NONE): {"messages_in": 1},
    }
    assert sorted(fact.opened_day.isoformat() for fact in inbox.facts()) == [
        "2026-01-14",
        "2026-01-15",
    ]


def test_a_resolved_conversation_written_to_again_is_opened_again(inbox, agent_one):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    inbox.staff_replies(conversation, agent_one.user, minutes(2))
    inbox.resolve(conversation, minutes(10))
    inbox.citizen_writes("14155550101", minutes(120), text="One more question")
    inbox.staff_replies(conversation, agent_one.user, minutes(125))
    inbox.dispatch()

    facts = inbox.facts()
    assert [(f.episode, f.current) for f in facts] == [(1, False), (2, True)]
    assert [f.first_response_seconds for f in facts] == [120, 300]
    assert [f.resolution_seconds for f in facts] == [600, None]


def test_a_reopened_conversation_is_a_new_episode_and_a_snooze_is_not(inbox, supervisor_a):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    inbox.set_status(conversation, "snoozed", minutes(1), until=minutes(3))
    inbox.set_status(conversation, "open", minutes(3))
    inbox.resolve(conversation, minutes(5))
    inbox.set_status(conversation, "open", minutes(50))
    inbox.set_status(conversation, "pending", minutes(55))
    inbox.dispatch()

    facts = inbox.facts()
    assert [(f.opened_at, f.resolved_at) for f in facts] == [
        (minutes(0), minutes(5)),
        (minutes(50), None),
    ]


@pytest.mark.parametrize("eager", [False, True], ids=["dispatched-once", "dispatched-each-step"])
def test_teams_and_agents_follow_the_assignment(inbox, agency_a, agent_one, agent_two, eager):
    inbox.eager = eager
    roads, parks = TeamFactory(agency=agency_a, name="Roads"), TeamFactory(agency=agency_a)
    first = inbox.citizen_writes("14155550101", minutes(0))
    inbox.assign(first, minutes(1), to=agent_one.user, team=roads)
    inbox.citizen_writes("14155550101", minutes(2), text="Still there?")
    inbox.staff_replies(first, agent_one.user, minutes(3))
    second = inbox.citizen_writes("14155550102", minutes(4))
    inbox.assign(second, minutes(5), to=agent_one.user, team=parks)
    inbox.assign(second, minutes(6), to=agent_two.user)  # handed over
    inbox.staff_replies(second, agent_two.user, minutes(8))
    inbox.resolve(second, minutes(20))
    inbox.assign(second, minutes(21), to=agent_one.user)  # after resolution: not counted
    inbox.dispatch()

    day = DAY.isoformat()
    assert inbox.stats() == {
        (day, NONE, NONE): {"messages_in": 2},  # before anyone had them
        (day, roads.pk, agent_one.user_id): {"messages_in": 1, "messages_out": 1},
        (day, parks.pk, agent_two.user_id): {"messages_out": 1},
    }
    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=DAY, end=DAY)
    teams = {row.name: row.figures for row in report.by_team}
    agents = {row.key: row.figures for row in report.by_agent}
    assert (teams["Roads"].opened, teams["Roads"].resolved) == (1, 0)
    assert (teams[parks.name].opened, teams[parks.name].resolved) == (1, 1)
    assert teams[parks.name].resolutions == [16 * 60]
    assert (agents[agent_one.user_id].opened, agents[agent_one.user_id].resolved) == (1, 0)
    assert agents[agent_one.user_id].first_responses == [3 * 60]
    assert (agents[agent_two.user_id].opened, agents[agent_two.user_id].resolved) == (1, 1)
    assert agents[agent_two.user_id].first_responses == [4 * 60]


def test_events_the_analytics_do_not_count_only_move_its_cursor(inbox, agency_a, supervisor_a):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    inbox.dispatch()
    with agency_scope(agency_a):
        from inbox import services as inbox_services
        from records.audit import Actor

        inbox_services.add_note(
            actor=Actor.system("test"),
            author=supervisor_a.user,
            conversation=conversation,
            body="Called back.",
        )
    inbox.dispatch()

    with agency_scope(agency_a):
        last = DomainEvent.objects.order_by("-sequence").values_list("sequence", flat=True)[0]
        assert AnalyticsCursor.objects.get().last_sequence == last


def test_an_integrator_s_reply_is_a_first_response_of_no_agent(inbox):
    conversation = inbox.citizen_writes("14155550101", minutes(0))
    inbox.staff_replies(conversation, None, minutes(1), sender="campaign")
    inbox.staff_replies(conversation, None, minutes(7), sender="api")
    inbox.dispatch()

    (fact,) = inbox.facts()
    assert (fact.first_response_seconds, fact.first_responder_key) == (7 * 60, NONE)
