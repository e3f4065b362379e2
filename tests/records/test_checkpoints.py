"""Signed checkpoints: what they commit to, when they are written, where they are archived."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from messaging.models import Message
from records import checkpoints, merkle
from records.archive import LocalArchive, archive_store
from records.audit import Actor, record_event
from records.leaves import MESSAGE_FIELDS, message_leaf_data, message_leaf_hash
from records.models import RecordCheckpoint, RecordLeaf
from records.signing import open_note
from records.tasks import sign_agency_checkpoint
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory

ACTOR = Actor.system("test")


def _checkpoints(agency) -> list[RecordCheckpoint]:
    with agency_scope(agency):
        return list(RecordCheckpoint.objects.filter(agency=agency).order_by("number"))


def _leaves(agency) -> list[RecordLeaf]:
    with agency_scope(agency):
        return list(RecordLeaf.objects.filter(agency=agency).order_by("index"))


def _row(message: Message) -> dict:
    with agency_scope(message.agency_id):
        return Message.objects.filter(pk=message.pk).values(*MESSAGE_FIELDS).get()


def test_a_checkpoint_signs_the_audit_head_and_the_root_of_the_agencys_messages(
    agency_a, django_capture_on_commit_callbacks
):
    messages = InboundMessageFactory.create_batch(3, agency=agency_a)
    event = record_event(agency_id=agency_a.pk, actor=ACTOR, action="test.changed")

    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoints.sign_checkpoint(agency_id=agency_a.pk)

    assert checkpoint is not None
    assert (checkpoint.number, checkpoint.audit_sequence, checkpoint.audit_hash) == (
        1,
        event.sequence,
        event.hash,
    )
    leaves = _leaves(agency_a)
    assert [leaf.record_id for leaf in leaves] == [m.pk for m in messages]
    hashes = [merkle.leaf_hash(message_leaf_data(_row(m))) for m in messages]
    assert checkpoint.leaf_count == 3
    assert checkpoint.leaf_root == merkle.tree_hash(hashes).hex()
    text = open_note(checkpoint.statement, checkpoint.key_id)
    assert text.splitlines()[:5] == [
        f"civic-relay.records/agency/{agency_a.pk}",
        "3",
        base64.b64encode(merkle.tree_hash(hashes)).decode(),
        "checkpoint 1",
        f"audit {event.sequence} {event.hash}",
    ]


def test_the_statement_is_written_to_the_archive_store_after_the_commit(
    agency_a, django_capture_on_commit_callbacks
):
    InboundMessageFactory(agency=agency_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkpoint = checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert checkpoint is not None
    assert archive_store().get(checkpoint.archive_key) is None  # not before the commit
    for callback in callbacks:
        callback()
    assert archive_store().get(checkpoint.archive_key) == checkpoint.statement.encode()


def test_a_checkpoint_missing_from_the_archive_is_written_by_the_next_run(
    agency_a, django_capture_on_commit_callbacks
):
    InboundMessageFactory(agency=agency_a)
    with django_capture_on_commit_callbacks(execute=False):
        first = checkpoints.sign_checkpoint(agency_id=agency_a.pk)  # the worker died here
    assert first is not None
    checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert archive_store().get(first.archive_key) == first.statement.encode()


def test_nothing_new_means_no_new_checkpoint(agency_a, django_capture_on_commit_callbacks):
    InboundMessageFactory(agency=agency_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert checkpoints.sign_checkpoint(agency_id=agency_a.pk) is not None
        assert checkpoints.sign_checkpoint(agency_id=agency_a.pk) is None
    assert len(_checkpoints(agency_a)) == 1


def test_an_empty_agency_gets_a_first_checkpoint_of_the_empty_tree(agency_a):
    checkpoint = checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert checkpoint is not None
    assert (checkpoint.leaf_count, checkpoint.leaf_root) == (0, merkle.EMPTY_ROOT.hex())


def test_a_later_checkpoint_extends_the_tree_and_follows_the_audit_chain(
    agency_a, django_capture_on_commit_callbacks
):
    first_batch = InboundMessageFactory.create_batch(2, agency=agency_a)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    later = InboundMessageFactory.create_batch(3, agency=agency_a)
    event = record_event(agency_id=agency_a.pk, actor=ACTOR, action="test.changed")
    with django_capture_on_commit_callbacks(execute=True):
        second = checkpoints.sign_checkpoint(agency_id=agency_a.pk)

    assert second is not None
    assert (second.number, second.leaf_count, second.audit_sequence) == (2, 5, event.sequence)
    hashes = [merkle.leaf_hash(message_leaf_data(_row(m))) for m in [*first_batch, *later]]
    assert second.leaf_root == merkle.tree_hash(hashes).hex()
    assert [leaf.index for leaf in _leaves(agency_a)] == [0, 1, 2, 3, 4]


def test_a_message_that_commits_after_a_checkpoint_of_larger_ids_gets_a_later_leaf(
    agency_a, django_capture_on_commit_callbacks
):
    # The smaller id was allocated first but its transaction committed late: simulate
    # by creating it, then hiding it from the first checkpoint's scan.
    late, early = InboundMessageFactory.create_batch(2, agency=agency_a)
    with agency_scope(agency_a):
        row = Message.objects.filter(pk=late.pk).values().get()
        Message.objects.filter(pk=late.pk).delete()
    with django_capture_on_commit_callbacks(execute=True):
        checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    with agency_scope(agency_a):
        Message.objects.create(**row)  # now it commits
    with django_capture_on_commit_callbacks(execute=True):
        second = checkpoints.sign_checkpoint(agency_id=agency_a.pk)

    assert second is not None
    assert [leaf.record_id for leaf in _leaves(agency_a)] == [early.pk, late.pk]


def test_each_agency_has_its_own_tree(agency_a, agency_b, django_capture_on_commit_callbacks):
    InboundMessageFactory.create_batch(2, agency=agency_a)
    mine = InboundMessageFactory(agency=agency_b)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoints.sign_checkpoint(agency_id=agency_b.pk)
    assert checkpoint is not None and checkpoint.leaf_count == 1
    assert [leaf.record_id for leaf in _leaves(agency_b)] == [mine.pk]
    assert checkpoint.leaf_root == merkle.leaf_hash(message_leaf_data(_row(mine))).hex()


def test_an_edit_recorded_beside_the_original_leaves_its_leaf_valid(agency_a):
    message = InboundMessageFactory(agency=agency_a)
    before = message_leaf_hash(_row(message))
    with agency_scope(agency_a):
        message.content_history = [
            {
                "content": {"type": "text", "text": {"body": "Hello again"}},
                "at": "2026-12-01T10:00:00.000000+00:00",
                "edit_wamid": "wamid.edit1",
            }
        ]
        message.save(update_fields=["content_history"])
    assert message_leaf_hash(_row(message)) == before


def test_a_legacy_edited_row_commits_to_its_original_version():
    original = {"type": "text", "text": {"body": "Hello"}}
    row = dict.fromkeys(MESSAGE_FIELDS) | {"direction": "in", "content": original}
    legacy = row | {
        "content": {"type": "text", "text": {"body": "Edited"}},
        "content_history": [{"content": original, "at": "x", "replaced_at": "y"}],
    }
    assert message_leaf_data(legacy) == message_leaf_data(row)


def test_status_changes_do_not_change_a_leaf(agency_a):
    message = InboundMessageFactory(agency=agency_a)
    before = message_leaf_hash(_row(message))
    with agency_scope(agency_a):
        Message.objects.filter(pk=message.pk).update(status="read", pricing={"billable": False})
    assert message_leaf_hash(_row(message)) == before


def test_the_checkpoint_records_when_it_was_signed(agency_a, django_capture_on_commit_callbacks):
    moment = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert checkpoint is not None and checkpoint.created_at == moment
    assert "time 2027-01-04T09:30:00.000000+00:00" in checkpoint.statement


def test_the_task_checkpoints_one_agency_by_id(agency_a, django_capture_on_commit_callbacks):
    InboundMessageFactory(agency=agency_a)
    with django_capture_on_commit_callbacks(execute=True):
        sign_agency_checkpoint(agency_id=agency_a.pk)
        sign_agency_checkpoint(agency_id=agency_a.pk)  # again: nothing new
    assert [c.number for c in _checkpoints(agency_a)] == [1]


def test_the_task_ignores_an_agency_that_is_gone(db):
    sign_agency_checkpoint(agency_id=987654)


def test_concurrent_signers_of_one_agency_do_not_fork_it(transactional_db, agency_a):
    import threading

    from django.db import connection

    InboundMessageFactory.create_batch(5, agency=agency_a)
    errors: list[BaseException] = []

    def sign() -> None:
        try:
            checkpoints.sign_checkpoint(agency_id=agency_a.pk)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [c.number for c in _checkpoints(agency_a)] == [1]
    assert len(_leaves(agency_a)) == 5


@pytest.mark.parametrize("model", [RecordLeaf, RecordCheckpoint])
def test_the_app_role_may_neither_update_nor_delete_leaves_and_checkpoints(agency_a, model):
    from django.db import DatabaseError

    InboundMessageFactory(agency=agency_a)
    checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    with agency_scope(agency_a):
        assert model.objects.filter(agency=agency_a).exists()
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            model.objects.filter(agency=agency_a).update(agency=agency_a)
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            model.objects.filter(agency=agency_a).delete()


@pytest.mark.parametrize("table", ["records_recordleaf", "records_recordcheckpoint"])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET agency_id = agency_id", "DELETE FROM {table}"]
)
def test_the_trigger_refuses_changes_to_leaves_and_checkpoints_even_from_the_owner(
    transactional_db, agency_a, owner_cursor, table, statement
):
    import psycopg

    InboundMessageFactory(agency=agency_a)
    checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        owner_cursor.execute(statement.format(table=table))


def test_the_local_archive_never_replaces_an_object(tmp_path):
    from records.archive import ArchiveConflict

    store = LocalArchive(tmp_path)
    store.put("checkpoints/agency-1/000000000001.txt", b"one")
    store.put("checkpoints/agency-1/000000000001.txt", b"one")  # the same bytes: fine
    with pytest.raises(ArchiveConflict):
        store.put("checkpoints/agency-1/000000000001.txt", b"two")
    assert store.get("checkpoints/agency-1/000000000001.txt") == b"one"
    assert store.keys("checkpoints/agency-1/") == ["checkpoints/agency-1/000000000001.txt"]
    with pytest.raises(ValueError, match="outside"):
        store.put("../escape.txt", b"x")


def test_a_checkpoint_publishes_one_event_and_a_skipped_run_none(agency_a):
    from bsp.events import types
    from bsp.events.models import DomainEvent

    InboundMessageFactory(agency=agency_a)
    checkpoint = checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert checkpoints.sign_checkpoint(agency_id=agency_a.pk) is None
    with agency_scope(agency_a):
        published = list(
            DomainEvent.objects.filter(type=types.RECORDS_CHECKPOINT_SIGNED).values_list(
                "subject", "payload"
            )
        )
    assert checkpoint is not None
    assert published == [({"checkpoint": checkpoint.pk}, {"number": 1, "leaf_count": 1})]
