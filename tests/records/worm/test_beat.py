"""The beat's run archives conversations past their active period; the stream consumer
notices archived conversations that change, and the next run archives a new version."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from bsp.events.dispatch import dispatch_agency
from records.worm import services, tasks
from records.worm.models import ArchivedObject, ArchiveRefresh
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory
from tests.records.worm.conftest import ACTOR, another_message


def _versions(conversation) -> int:
    with agency_scope(conversation.agency_id):
        return ArchivedObject.objects.filter(
            conversation_id=conversation.pk, kind=ArchivedObject.Kind.CONVERSATION
        ).count()


def _publish(agency_id: int, kind: str, subject: dict) -> None:
    """An event as the messaging and inbox services publish it."""
    with agency_scope(agency_id), transaction.atomic():
        events.publish(agency_id=agency_id, type=kind, subject=subject, payload={})


def _policy(agency, active_days: int = 30) -> None:
    services.set_policy(
        agency.pk,
        mode="compliance",
        active_days=active_days,
        minimum_retention_days=365,
        actor=ACTOR,
    )


def test_only_conversations_past_their_active_period_are_archived(conversation, backend):
    _policy(conversation.agency, active_days=30)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        recent = InboundMessageFactory(agency=conversation.agency).conversation

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        archived = tasks.archive_agency(conversation.agency_id)

    assert archived == 1
    assert _versions(conversation) == 1 and _versions(recent) == 0


def test_the_default_active_period_applies_without_a_policy(conversation, settings, backend):
    settings.RECORDS_WORM_ACTIVE_DAYS = 10

    with time_machine.travel(timezone.now() + timedelta(days=9)):
        assert services.archive_due(conversation.agency_id).archived == []
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert services.archive_due(conversation.agency_id).archived == [conversation.pk]
        assert services.archive_due(conversation.agency_id).archived == []  # idempotent


def test_a_late_status_on_an_archived_conversation_makes_a_new_version_next_run(
    conversation, backend, worm_consumer_registered
):
    _policy(conversation.agency)
    later = timezone.now() + timedelta(days=31)
    dispatch_agency(conversation.agency_id)  # the fixture's own events, before archiving
    with time_machine.travel(later):
        services.archive_due(conversation.agency_id)
        dispatch_agency(conversation.agency_id)  # archive.written: nothing to do
        with agency_scope(conversation.agency_id):
            assert not ArchiveRefresh.objects.exists()
            reply = conversation.messages.filter(direction="out").get()
            reply.error_reason = "Meta reported the message expired"
            reply.save(update_fields=["error_reason"])
        _publish(
            conversation.agency_id,
            types.MESSAGE_STATUS,
            {"message": reply.pk, "conversation": conversation.pk},
        )
        dispatch_agency(conversation.agency_id)
        with agency_scope(conversation.agency_id):
            assert ArchiveRefresh.objects.filter(conversation_id=conversation.pk).exists()

        assert services.archive_due(conversation.agency_id).archived == [conversation.pk]

    assert _versions(conversation) == 2
    with agency_scope(conversation.agency_id):
        assert not ArchiveRefresh.objects.exists()


def test_a_citizen_writing_again_waits_for_the_new_active_period(
    conversation, backend, worm_consumer_registered
):
    _policy(conversation.agency)
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=31)):
        services.archive_due(conversation.agency_id)
        another_message(conversation)  # the citizen's new message (message.received)
        with agency_scope(conversation.agency_id):
            conversation.__class__.objects.filter(pk=conversation.pk).update(
                last_message_at=timezone.now()
            )
        _publish(conversation.agency_id, types.MESSAGE_RECEIVED, {"conversation": conversation.pk})
        dispatch_agency(conversation.agency_id)
        assert services.archive_due(conversation.agency_id).archived == []  # active again
    with time_machine.travel(start + timedelta(days=62)):
        assert services.archive_due(conversation.agency_id).archived == [conversation.pk]
    assert _versions(conversation) == 2


def test_events_of_conversations_never_archived_mark_nothing(agency_a, worm_consumer_registered):
    conversation = ConversationFactory(agency=agency_a)
    _publish(agency_a.pk, types.NOTE_ADDED, {"conversation": conversation.pk, "note": 1})
    dispatch_agency(agency_a.pk)

    with agency_scope(agency_a):
        assert not ArchiveRefresh.objects.exists()


def test_the_beat_entry_fans_out_one_task_per_agency(agency_a, agency_b, monkeypatch):
    queued: list[dict] = []
    monkeypatch.setattr(
        tasks.archive_agency, "apply_async", lambda kwargs, queue: queued.append(kwargs)
    )

    tasks.archive()

    assert queued == [{"agency_id": agency_a.pk}, {"agency_id": agency_b.pk}]


def test_a_full_batch_queues_the_next_one_from_where_it_stopped(agency_a, backend, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    chats = [InboundMessageFactory(agency=agency_a).conversation for _ in range(3)]
    queued: list[dict] = []
    monkeypatch.setattr(
        tasks.archive_agency, "apply_async", lambda kwargs, queue: queued.append(kwargs)
    )

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert tasks.archive_agency(agency_a.pk) == 2
        assert queued == [{"agency_id": agency_a.pk, "after": chats[1].pk}]
        assert tasks.archive_agency(**queued[0]) == 1

    assert [_versions(chat) for chat in chats] == [1, 1, 1]


def test_a_conversation_that_cannot_be_archived_does_not_hold_up_the_others(
    conversation, agency_a, media_root, backend
):
    with agency_scope(agency_a):
        media = conversation.messages.exclude(media=None).get().media
    (media_root / media.storage_key).unlink()  # lost from storage: an alert, not archived
    other = InboundMessageFactory(agency=agency_a).conversation

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        run = services.archive_due(agency_a.pk)

    assert (run.archived, run.failed) == ([other.pk], [conversation.pk])
    assert _versions(conversation) == 0 and _versions(other) == 1
