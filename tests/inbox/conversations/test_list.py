"""The conversation list: filters, counts, search, keyset pages, isolation, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import selectors
from inbox.models import ConversationLabel
from messaging.models import Conversation
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, MembershipFactory
from tests.inbox.factories import (
    ActiveConversationFactory,
    LabelFactory,
    TeamFactory,
    citizen_message,
)


def rows(client, **params):
    response = client.get("/inbox/", params)
    assert response.status_code == 200
    return [row.conversation.pk for row in response.context["page"].rows]


def test_the_list_shows_each_conversation_with_its_preview_and_unread_count(agent_client, agency_a):
    conversation = ActiveConversationFactory(
        agency=agency_a, contact__profile_name="Ana Pérez", unread_count=2
    )
    response = agent_client.get("/inbox/")
    html = response.content.decode()
    assert f'id="conversation-{conversation.pk}"' in html
    assert "Ana Pérez" in html
    assert "Hello, is the pool open today?" in html
    assert "2 unread" in html


def test_mine_and_unassigned_split_the_open_conversations(agent_client, agent_a, agency_a):
    mine = ActiveConversationFactory(agency=agency_a, assignee=agent_a.user)
    nobodys = ActiveConversationFactory(agency=agency_a)
    colleague = MembershipFactory(agency=agency_a).user
    theirs = ActiveConversationFactory(agency=agency_a, assignee=colleague)
    assert rows(agent_client, view="mine") == [mine.pk]
    assert rows(agent_client, view="unassigned") == [nobodys.pk]
    assert set(rows(agent_client, view="all")) == {mine.pk, nobodys.pk, theirs.pk}


def test_counts_follow_the_other_filters(agent_client, agent_a, agency_a):
    ActiveConversationFactory(agency=agency_a, assignee=agent_a.user)
    ActiveConversationFactory(agency=agency_a)
    ActiveConversationFactory(agency=agency_a, status=Conversation.Status.RESOLVED)
    counts = agent_client.get("/inbox/").context["counts"]
    assert counts.views == {"mine": 1, "unassigned": 1, "all": 2}
    assert counts.statuses == {"open": 2, "pending": 0, "snoozed": 0, "resolved": 1}


def test_the_status_filter_shows_resolved_conversations(agent_client, agency_a):
    ActiveConversationFactory(agency=agency_a)
    resolved = ActiveConversationFactory(agency=agency_a, status=Conversation.Status.RESOLVED)
    assert rows(agent_client, status="resolved") == [resolved.pk]


def test_team_label_and_number_filters(agent_client, agency_a):
    team = TeamFactory(agency=agency_a)
    label = LabelFactory(agency=agency_a)
    in_team = ActiveConversationFactory(agency=agency_a, team=team)
    labelled = ActiveConversationFactory(agency=agency_a)
    with agency_scope(agency_a):
        ConversationLabel.objects.create(agency=agency_a, conversation=labelled, label=label)
    assert rows(agent_client, team=team.pk) == [in_team.pk]
    assert rows(agent_client, label=label.pk) == [labelled.pk]
    assert rows(agent_client, phone_number=labelled.phone_number_id) == [labelled.pk]


def test_longest_waiting_first(agent_client, agency_a):
    now = timezone.now()
    recent = ActiveConversationFactory(agency=agency_a, waiting_since=now - timedelta(minutes=5))
    oldest = ActiveConversationFactory(agency=agency_a, waiting_since=now - timedelta(hours=3))
    ActiveConversationFactory(agency=agency_a, waiting_since=None)  # answered: not waiting
    assert rows(agent_client, sort="waiting") == [oldest.pk, recent.pk]


def test_search_finds_a_name_a_phone_number_and_words_of_a_message(agent_client, agency_a):
    by_name = ActiveConversationFactory(agency=agency_a, contact__profile_name="Rosa Parks")
    by_phone = ActiveConversationFactory(
        agency=agency_a, contact=ContactFactory(agency=agency_a, wa_id="15125550199")
    )
    by_text = ActiveConversationFactory(agency=agency_a)
    citizen_message(by_text, "My pothole on Elm Street is still there")
    assert rows(agent_client, q="rosa") == [by_name.pk]
    assert rows(agent_client, q="555-0199") == [by_phone.pk]
    assert rows(agent_client, q="pothole") == [by_text.pk]


def test_search_never_finds_another_agencys_conversations(agent_client, agency_a, agency_b):
    theirs = ActiveConversationFactory(agency=agency_b, contact__profile_name="Rosa Parks")
    citizen_message(theirs, "pothole")
    assert rows(agent_client, q="rosa") == []
    assert rows(agent_client, q="pothole") == []


def test_pages_follow_each_other_without_overlap(agent_client, agency_a):
    now = timezone.now()
    made = [
        ActiveConversationFactory(agency=agency_a, last_message_at=now - timedelta(minutes=i))
        for i in range(selectors.PAGE_SIZE + 5)
    ]
    first = agent_client.get("/inbox/").context["page"]
    second = agent_client.get("/inbox/", {"after": first.next_cursor}).context["page"]
    seen = [r.conversation.pk for r in first.rows] + [r.conversation.pk for r in second.rows]
    assert seen == [c.pk for c in made]
    assert second.next_cursor is None


@pytest.mark.parametrize(
    "params",
    [
        {"after": "not-a-cursor"},
        {"after": "%%%"},
        {"team": "abc", "label": "-1", "phone_number": "9" * 40},
        {"status": "<script>", "view": "../../etc", "sort": "drop table"},
        {"q": "'; DROP TABLE messaging_message; --"},
        {"q": "x" * 5000},
    ],
)
def test_hostile_filters_fall_back_to_defaults_never_a_500(agent_client, agency_a, params):
    ActiveConversationFactory(agency=agency_a)
    assert agent_client.get("/inbox/", params).status_code == 200


def test_undecodable_bytes_in_the_query_string_are_no_500(agent_client, agency_a):
    ActiveConversationFactory(agency=agency_a)
    assert agent_client.get("/inbox/?q=%ED%A0%80%00%FF&after=%C0").status_code == 200


def test_the_list_costs_the_same_queries_for_5_or_30_conversations(agent_client, agency_a):
    label = LabelFactory(agency=agency_a)
    team = TeamFactory(agency=agency_a)

    def make(n):
        for _ in range(n):
            c = ActiveConversationFactory(agency=agency_a, team=team)
            with agency_scope(agency_a):
                ConversationLabel.objects.create(agency=agency_a, conversation=c, label=label)

    make(5)
    with CaptureQueriesContext(connection) as few:
        agent_client.get("/inbox/")
    make(25)
    with CaptureQueriesContext(connection) as many:
        agent_client.get("/inbox/")
    assert len(many) == len(few)


def test_the_list_never_reads_the_messages_table_unless_searching_text(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    citizen_message(conversation, "hello")
    with CaptureQueriesContext(connection) as queries:
        agent_client.get("/inbox/", {"view": "unassigned", "sort": "waiting"})
    assert not [q["sql"] for q in queries if "messaging_message" in q["sql"]]


def test_a_htmx_refresh_returns_only_the_list(agent_client, agency_a):
    ActiveConversationFactory(agency=agency_a)
    response = agent_client.get("/inbox/", {"fragment": "list"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<section") or 'id="conversation-list"' in html[:300]
    assert "<html" not in html


def test_records_officers_read_the_inbox_integrators_do_not(client_for, make_member, agency_a):
    ActiveConversationFactory(agency=agency_a)
    assert client_for(make_member("records_officer")).get("/inbox/").status_code == 200
    assert client_for(make_member("integrator")).get("/inbox/").status_code == 403
