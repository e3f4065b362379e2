"""A conversation's page: the thread, the side panel's actions, isolation, query counts."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bsp.events.models import DomainEvent
from inbox.models import ConversationLabel, Note, Notification
from messaging.models import Consent, Conversation
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.inbox.factories import (
    ActiveConversationFactory,
    LabelFactory,
    TeamFactory,
    citizen_message,
)


def page_of(client, conversation, **params):
    return client.get(f"/inbox/c/{conversation.pk}/", params)


def test_the_page_shows_the_citizens_messages_oldest_first(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a, contact__profile_name="Ana")
    now = timezone.now()
    first = citizen_message(conversation, "First question", received_at=now - timedelta(hours=1))
    second = citizen_message(conversation, "Second question", received_at=now)
    html = page_of(agent_client, conversation).content.decode()
    assert html.index(f'id="message-{first.pk}"') < html.index(f'id="message-{second.pk}"')
    assert "<h1" in html and "Ana" in html


def test_opening_the_conversation_marks_it_read(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a, unread_count=3)
    citizen_message(conversation, "Hello?")
    page_of(agent_client, conversation)
    with agency_scope(agency_a):
        conversation.refresh_from_db()
        read = DomainEvent.objects.filter(type="conversation.read").count()
    assert (conversation.unread_count, read) == (0, 1)


def test_a_records_officer_reads_without_marking_read_or_a_composer(
    client_for, make_member, agency_a
):
    conversation = ActiveConversationFactory(agency=agency_a, unread_count=1)
    officer = client_for(make_member(Role.RECORDS_OFFICER))
    html = page_of(officer, conversation).content.decode()
    with agency_scope(agency_a):
        conversation.refresh_from_db()
    assert conversation.unread_count == 1
    assert "can read conversations but not reply" in html


def test_another_agencys_conversation_is_not_found(agent_client, agency_b):
    theirs = ActiveConversationFactory(agency=agency_b)
    assert page_of(agent_client, theirs).status_code == 404
    assert agent_client.post(f"/inbox/c/{theirs.pk}/notes/", {"body": "x"}).status_code == 404


def test_earlier_messages_come_in_pages(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    now = timezone.now()
    made = [
        citizen_message(conversation, f"m{i}", received_at=now - timedelta(minutes=100 - i))
        for i in range(60)
    ]
    response = page_of(agent_client, conversation)
    assert response.context["earlier"] is True
    oldest = response.context["oldest"]
    earlier = agent_client.get(f"/inbox/c/{conversation.pk}/earlier/", {"before": oldest})
    html = earlier.content.decode()
    assert f'id="message-{made[0].pk}"' in html
    assert f'id="message-{made[-1].pk}"' not in html


def test_one_message_fragment_for_live_updates(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    message = citizen_message(conversation, "Is the pool open?")
    response = agent_client.get(f"/inbox/c/{conversation.pk}/m/{message.pk}/")
    assert response.status_code == 200
    assert f'id="message-{message.pk}"' in response.content.decode()
    other = ActiveConversationFactory(agency=agency_a)
    assert agent_client.get(f"/inbox/c/{other.pk}/m/{message.pk}/").status_code == 404


def test_the_thread_costs_the_same_queries_for_5_or_40_messages(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    for i in range(5):
        citizen_message(conversation, f"question {i}")
    with CaptureQueriesContext(connection) as few:
        page_of(agent_client, conversation)
    for i in range(35):
        citizen_message(conversation, f"more {i}")
    with CaptureQueriesContext(connection) as many:
        page_of(agent_client, conversation)
    assert len(many) <= len(few) + 1  # the first visit also marked the conversation read


def test_an_agent_takes_the_conversation(agent_client, agent_a, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    response = agent_client.post(f"/inbox/c/{conversation.pk}/assign/", {"to": "me"})
    assert response.status_code == 302
    with agency_scope(agency_a):
        conversation.refresh_from_db()
    assert conversation.assignee == agent_a.user


def test_an_agent_cannot_assign_to_someone_else(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    colleague = MembershipFactory(agency=agency_a)
    agent_client.post(f"/inbox/c/{conversation.pk}/assign/", {"assignee": colleague.user.pk})
    with agency_scope(agency_a):
        conversation.refresh_from_db()
    assert conversation.assignee is None


def test_a_supervisor_assigns_to_an_agent_and_a_team_with_htmx(client_for, make_member, agency_a):
    supervisor = client_for(make_member(Role.SUPERVISOR))
    agent = make_member(Role.AGENT)
    team = TeamFactory(agency=agency_a)
    conversation = ActiveConversationFactory(agency=agency_a)
    response = supervisor.post(
        f"/inbox/c/{conversation.pk}/assign/",
        {"assignee": agent.user.pk, "team": team.pk},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="side-panel"' in response.content.decode()
    with agency_scope(agency_a):
        conversation.refresh_from_db()
        notified = Notification.objects.filter(user=agent.user).count()
    assert (conversation.assignee_id, conversation.team_id, notified) == (agent.user.pk, team.pk, 1)


def test_another_agencys_team_is_not_a_choice(client_for, make_member, agency_a, agency_b):
    supervisor = client_for(make_member(Role.SUPERVISOR))
    theirs = TeamFactory(agency=agency_b)
    conversation = ActiveConversationFactory(agency=agency_a)
    supervisor.post(f"/inbox/c/{conversation.pk}/assign/", {"team": theirs.pk})
    with agency_scope(agency_a):
        conversation.refresh_from_db()
    assert conversation.team is None


def test_snoozing_from_the_page(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    later = (timezone.localtime(timezone.now()) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    agent_client.post(
        f"/inbox/c/{conversation.pk}/status/", {"status": "snoozed", "snooze_until": later}
    )
    with agency_scope(agency_a):
        conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.SNOOZED
    assert conversation.snoozed_until is not None


def test_snoozing_without_a_time_is_explained(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    response = agent_client.post(
        f"/inbox/c/{conversation.pk}/status/", {"status": "snoozed"}, follow=True
    )
    assert "Choose when the conversation should reopen" in response.content.decode()


def test_labels_and_a_note_from_the_page(agent_client, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    label = LabelFactory(agency=agency_a, name="permits")
    agent_client.post(f"/inbox/c/{conversation.pk}/labels/", {"labels": [label.pk]})
    agent_client.post(f"/inbox/c/{conversation.pk}/notes/", {"body": "Called back <b>twice</b>"})
    html = page_of(agent_client, conversation).content.decode()
    with agency_scope(agency_a):
        assert ConversationLabel.objects.filter(conversation=conversation).count() == 1
        assert Note.objects.filter(conversation=conversation).count() == 1
    assert "Called back &lt;b&gt;twice&lt;/b&gt;" in html


def test_staff_record_an_opt_out_with_themselves_as_the_source(agent_client, agent_a, agency_a):
    conversation = ActiveConversationFactory(agency=agency_a)
    agent_client.post(
        f"/inbox/c/{conversation.pk}/consent/",
        {"status": "opted_out", "topic": "", "evidence": "Asked on the phone line"},
    )
    with agency_scope(agency_a):
        consent = Consent.objects.get(contact=conversation.contact)
        changed = DomainEvent.objects.filter(type="consent.changed").count()
    assert (consent.status, consent.source, consent.recorded_by) == (
        "opted_out",
        "staff",
        agent_a.user,
    )
    assert consent.evidence["note"] == "Asked on the phone line"
    assert changed == 1


def test_a_note_an_integrators_key_wrote_names_the_key(agent_client, agency_a):
    from inbox import services
    from records.audit import Actor
    from records.models import AuditEvent

    conversation = ActiveConversationFactory(agency=agency_a)
    key = Actor(AuditEvent.ActorType.API, "7", "CRM sync")
    with agency_scope(agency_a):
        services.add_note(actor=key, author=None, conversation=conversation, body="From the CRM")
    html = page_of(agent_client, conversation).content.decode()
    assert "API key “CRM sync”" in html
    assert "A former member" not in html
