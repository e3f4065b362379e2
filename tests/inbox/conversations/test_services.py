"""The inbox's writes: each change publishes one event, staff are notified, rules hold."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bsp.events.models import DomainEvent
from inbox import services
from inbox.models import ConversationLabel, Notification
from messaging.models import Conversation
from records.audit import Actor
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tenants.services import AgencySuspended
from tests.factories import MembershipFactory
from tests.inbox.factories import ActiveConversationFactory, LabelFactory

ACTOR = Actor.system("test")


def events_of(agency, type_):
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type=type_).order_by("sequence"))


@pytest.fixture
def conversation(agency_a):
    return ActiveConversationFactory(agency=agency_a)


@pytest.fixture
def agent(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENT).user


@pytest.fixture
def supervisor(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.SUPERVISOR).user


def test_assigning_publishes_one_event_and_notifies_the_assignee(
    agency_a, conversation, agent, supervisor
):
    with agency_scope(agency_a):
        services.assign(actor=ACTOR, by=supervisor, conversation=conversation, assignee=agent)
        notes = list(Notification.objects.filter(user=agent))
    [event] = events_of(agency_a, "conversation.assigned")
    assert event.payload["assignee"] == agent.pk
    assert event.payload["previous_assignee"] is None
    assert event.payload["by"] == supervisor.pk
    assert [n.kind for n in notes] == [Notification.Kind.ASSIGNED]


def test_assigning_oneself_notifies_nobody(agency_a, conversation, agent):
    with agency_scope(agency_a):
        services.assign(actor=ACTOR, by=agent, conversation=conversation, assignee=agent)
        assert not Notification.objects.exists()


def test_assigning_to_the_current_assignee_again_publishes_nothing(agency_a, conversation, agent):
    with agency_scope(agency_a):
        services.assign(actor=ACTOR, by=agent, conversation=conversation, assignee=agent)
        services.assign(actor=ACTOR, by=agent, conversation=conversation, assignee=agent)
    assert len(events_of(agency_a, "conversation.assigned")) == 1


def test_a_records_officer_cannot_be_assigned_a_conversation(agency_a, conversation, supervisor):
    officer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER).user
    with agency_scope(agency_a), pytest.raises(services.InboxError, match="cannot answer"):
        services.assign(actor=ACTOR, by=supervisor, conversation=conversation, assignee=officer)


def test_someone_of_another_agency_cannot_be_assigned(agency_a, agency_b, conversation, supervisor):
    outsider = MembershipFactory(agency=agency_b, role=Role.AGENT).user
    with agency_scope(agency_a), pytest.raises(services.InboxError):
        services.assign(actor=ACTOR, by=supervisor, conversation=conversation, assignee=outsider)


def test_a_suspended_agency_cannot_assign(agency_a, conversation, agent):
    agency_a.status = agency_a.Status.SUSPENDED
    agency_a.save()
    conversation.agency.refresh_from_db()
    with agency_scope(agency_a), pytest.raises(AgencySuspended):
        services.assign(actor=ACTOR, by=agent, conversation=conversation, assignee=agent)


def test_resolving_records_when_and_stops_the_waiting_clock(agency_a, conversation, agent):
    with agency_scope(agency_a):
        services.set_status(
            actor=ACTOR, by=agent, conversation=conversation, status=Conversation.Status.RESOLVED
        )
        conversation.refresh_from_db()
    assert conversation.resolved_at is not None
    assert conversation.waiting_since is None
    [event] = events_of(agency_a, "conversation.status")
    assert (event.payload["status"], event.payload["previous"]) == ("resolved", "open")


def test_snoozing_needs_a_time_in_the_future(agency_a, conversation, agent):
    past = timezone.now() - timedelta(minutes=5)
    with agency_scope(agency_a), pytest.raises(services.InboxError, match="future"):
        services.set_status(
            actor=ACTOR,
            by=agent,
            conversation=conversation,
            status=Conversation.Status.SNOOZED,
            snooze_until=past,
        )


def test_a_snoozed_conversation_reopens_when_its_time_comes(agency_a, conversation, agent):
    until = timezone.now() + timedelta(hours=2)
    with agency_scope(agency_a):
        services.set_status(
            actor=ACTOR,
            by=agent,
            conversation=conversation,
            status=Conversation.Status.SNOOZED,
            snooze_until=until,
        )
        assert services.wake_snoozed() == 0
        with time_machine.travel(until + timedelta(seconds=1)):
            assert services.wake_snoozed() == 1
        conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.snoozed_until is None
    woken = events_of(agency_a, "conversation.status")[-1]
    assert (woken.payload["previous"], woken.payload["reason"]) == ("snoozed", "snooze_ended")


def test_labels_are_set_as_a_whole_and_publish_what_changed(agency_a, conversation):
    urgent, benefits = (
        LabelFactory(agency=agency_a, name="urgent"),
        LabelFactory(agency=agency_a, name="benefits"),
    )
    with agency_scope(agency_a):
        services.set_labels(actor=ACTOR, conversation=conversation, labels=[urgent, benefits])
        services.set_labels(actor=ACTOR, conversation=conversation, labels=[benefits])
        services.set_labels(actor=ACTOR, conversation=conversation, labels=[benefits])
        kept = list(ConversationLabel.objects.values_list("label__name", flat=True))
    first, second = events_of(agency_a, "conversation.labels")
    assert kept == ["benefits"]
    assert first.payload["labels"] == ["benefits", "urgent"]
    assert second.payload == {"labels": ["benefits"], "added": [], "removed": [urgent.pk]}


def test_a_note_notifies_the_colleagues_it_mentions_and_nobody_else(agency_a, conversation, agent):
    jane = MembershipFactory(agency=agency_a, user__email="jane.doe@county.gov").user
    MembershipFactory(agency=agency_a, user__email="sam@county.gov")
    with agency_scope(agency_a):
        note = services.add_note(
            actor=ACTOR,
            author=agent,
            conversation=conversation,
            body="@jane.doe can you check the permit? cc @nobody and mail@jane.doe",
        )
        notified = list(Notification.objects.values_list("user_id", "kind", "note_id"))
    assert notified == [(jane.pk, Notification.Kind.MENTION, note.pk)]
    [event] = events_of(agency_a, "note.added")
    assert event.payload["mentions"] == [jane.pk]


def test_a_member_of_another_agency_is_never_mentioned(agency_a, agency_b, conversation, agent):
    MembershipFactory(agency=agency_b, user__email="jane@county.gov")
    with agency_scope(agency_a):
        services.add_note(actor=ACTOR, author=agent, conversation=conversation, body="@jane hi")
        assert not Notification.objects.exists()


def test_an_empty_note_is_refused(agency_a, conversation, agent):
    with agency_scope(agency_a), pytest.raises(services.InboxError):
        services.add_note(actor=ACTOR, author=agent, conversation=conversation, body="   ")


def test_opening_an_unread_conversation_zeroes_its_count_once(agency_a, conversation, agent):
    from tests.inbox.factories import citizen_message

    citizen_message(conversation, "Is the pool open?")
    with agency_scope(agency_a):
        assert services.mark_read(by=agent, conversation=conversation) is not None
        assert services.mark_read(by=agent, conversation=conversation) is None
        conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert len(events_of(agency_a, "conversation.read")) == 1


def test_an_agent_cannot_hand_a_conversation_to_someone_else_through_the_service(
    agency_a, conversation, agent
):
    colleague = MembershipFactory(agency=agency_a, role=Role.AGENT).user
    with agency_scope(agency_a), pytest.raises(services.InboxError, match="Only supervisors"):
        services.assign(actor=ACTOR, by=agent, conversation=conversation, assignee=colleague)
