"""Deleting a held record is refused everywhere: at the database (a trigger, whatever the
code path), by the services (HeldRecordError naming the matter), and it passes again once
every hold on it is released."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from inbox.models import Note
from messaging.models import Conversation, MediaObject, Message
from records.holds import HeldRecordError
from records.holds.services import (
    ensure_conversation_deletable,
    ensure_media_deletable,
    ensure_messages_deletable,
    ensure_note_deletable,
    held_error,
    place_hold,
    release_hold,
)
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, note, say

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(agency_a) -> Conversation:
    return conversation(agency_a)


@pytest.fixture
def held_chat(chat):
    message = say(chat, "Photo of the damage")
    with agency_scope(chat.agency_id):
        media = MediaObject.objects.create(
            agency_id=chat.agency_id,
            phone_number_id=chat.phone_number_id,
            meta_media_id="m-1",
            kind="image",
        )
        Message.objects.filter(pk=message.pk).update(media=media)
    staff_note = note(chat)
    hold = place_hold(
        chat.agency_id,
        matter_id="LIT-2026-014",
        reason="Flood litigation",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    return chat, message, media, staff_note, hold


def refused(agency_id: int, delete) -> str:
    with agency_scope(agency_id), pytest.raises(IntegrityError) as caught, transaction.atomic():
        delete()
    error = held_error(caught.value)
    assert error is not None, caught.value
    return str(error)


def test_the_database_refuses_deleting_a_held_message_naming_the_matter(held_chat):
    chat, message, *_ = held_chat
    text = refused(chat.agency_id, lambda: Message.objects.filter(pk=message.pk).delete())
    assert f"messaging_message id={message.pk} is under legal hold (matter LIT-2026-014)" in text


def test_raw_sql_cannot_delete_a_held_message_either(held_chat):
    chat, message, *_ = held_chat

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM messaging_message WHERE id = %s", [message.pk])

    assert "LIT-2026-014" in refused(chat.agency_id, delete)


def test_the_database_refuses_deleting_a_held_conversation_its_notes_and_its_files(held_chat):
    chat, _message, media, staff_note, _ = held_chat
    sql = {
        "messaging_conversation": chat.pk,
        "inbox_note": staff_note.pk,
        "messaging_mediaobject": media.pk,
    }
    for table, pk in sql.items():

        def delete(table=table, pk=pk) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608

        assert f"{table} id={pk} is under legal hold" in refused(chat.agency_id, delete)


def test_the_services_refuse_with_a_clear_error_naming_the_matter(held_chat):
    chat, message, media, staff_note, _ = held_chat
    with agency_scope(chat.agency_id):
        with pytest.raises(
            HeldRecordError, match=r"Conversation \d+ is under legal hold \(matter LIT-2026-014\)"
        ) as caught:
            ensure_conversation_deletable(chat.pk)
        assert caught.value.matters == ("LIT-2026-014",)
        with pytest.raises(HeldRecordError, match="LIT-2026-014"):
            ensure_messages_deletable([message.pk])
        with pytest.raises(HeldRecordError, match="Media file"):
            ensure_media_deletable(media.pk)
        with pytest.raises(HeldRecordError, match="Note"):
            ensure_note_deletable(chat.pk, staff_note.pk)


def test_two_holds_are_both_named(held_chat):
    chat, message, *_ = held_chat
    place_hold(
        chat.agency_id,
        matter_id="FOIA-2026-0031",
        reason="Public records request",
        owner_id=None,
        selection=Selection(message_ids=(message.pk,)),
        actor=OFFICER,
    )
    with agency_scope(chat.agency_id), pytest.raises(HeldRecordError) as caught:
        ensure_messages_deletable([message.pk])
    assert "matters FOIA-2026-0031, LIT-2026-014" in str(caught.value)


def test_once_released_the_records_can_be_deleted_again(held_chat):
    chat, message, media, staff_note, hold = held_chat
    release_hold(hold.pk, reason="Settled", actor=OFFICER)
    with agency_scope(chat.agency_id), transaction.atomic():
        ensure_conversation_deletable(chat.pk)
        Note.objects.filter(pk=staff_note.pk).delete()
        Message.objects.filter(pk=message.pk).delete()
        MediaObject.objects.filter(pk=media.pk).delete()
        Conversation.objects.filter(pk=chat.pk).delete()
        assert not Conversation.objects.filter(pk=chat.pk).exists()


def test_records_no_hold_covers_are_deleted_as_before(agency_a, held_chat):
    other = say(conversation(agency_a))
    with agency_scope(agency_a), transaction.atomic():
        ensure_messages_deletable([other.pk])
        assert Message.objects.filter(pk=other.pk).delete()[0] == 1
