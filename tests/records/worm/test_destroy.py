"""Disposition of the archive: every version deleted, or nothing when a hold or a lock says no."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from bsp.events import types
from bsp.events.models import DomainEvent
from records.archive import LockViolation, worm_store
from records.worm import canonical, services
from records.worm.models import ArchivedObject
from records.worm.verification import verify_archive
from tenants.scoping import agency_scope
from tests.records.worm.conftest import ACTOR, another_message

ARCHIVED = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def _rows(conversation) -> list[ArchivedObject]:
    with agency_scope(conversation.agency_id):
        return list(ArchivedObject.objects.filter(conversation_id=conversation.pk).order_by("id"))


def _stored(conversation) -> list:
    prefix = canonical.conversation_prefix(conversation.agency_id, conversation.pk)
    return worm_store().versions(prefix)


@pytest.fixture
def archived_twice(conversation, backend):
    """Two versions and a photo, retained 30 days from 10 January 2027."""
    with time_machine.travel(ARCHIVED, tick=False):
        services.set_policy(
            conversation.agency_id,
            mode="compliance",
            active_days=30,
            minimum_retention_days=30,
            actor=ACTOR,
        )
        services.archive_conversation(conversation.pk)
        another_message(conversation)
        services.archive_conversation(conversation.pk)
    return conversation


def test_before_retain_until_destruction_is_refused_and_nothing_is_deleted(archived_twice):
    with (
        time_machine.travel(ARCHIVED + timedelta(days=29), tick=False),
        pytest.raises(services.ArchiveLocked, match="retained \\(compliance\\) until 2027-02-09"),
    ):
        services.destroy_archived(archived_twice.pk)

    assert len(_stored(archived_twice)) == 3
    assert all(row.destroyed_at is None for row in _rows(archived_twice))


def test_after_retain_until_every_version_is_deleted_and_the_rows_stay(
    archived_twice, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(ARCHIVED + timedelta(days=31), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        destroyed = services.destroy_archived(archived_twice.pk)

    assert destroyed == 3
    assert _stored(archived_twice) == []
    rows = _rows(archived_twice)
    assert len(rows) == 3 and all(row.destroyed_at is not None for row in rows)
    with agency_scope(archived_twice.agency_id):
        (event,) = DomainEvent.objects.filter(type=types.ARCHIVE_DESTROYED)
    assert event.payload == {"versions": 3}


def test_a_destroyed_archive_verifies_and_destroying_again_deletes_nothing(
    archived_twice, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(ARCHIVED + timedelta(days=31), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.destroy_archived(archived_twice.pk)
        assert services.destroy_archived(archived_twice.pk) == 0

    assert verify_archive(archived_twice.agency_id) == []


def test_a_disposition_that_rolls_back_destroys_nothing(archived_twice):
    class Failed(Exception):
        pass

    with (
        time_machine.travel(ARCHIVED + timedelta(days=31), tick=False),
        pytest.raises(Failed),
        transaction.atomic(),
    ):
        services.destroy_archived(archived_twice.pk)
        raise Failed  # e.g. deleting the messages failed

    assert len(_stored(archived_twice)) == 3
    assert all(row.destroyed_at is None for row in _rows(archived_twice))


def test_a_deletion_that_failed_after_the_commit_is_retried_and_reported_meanwhile(
    archived_twice, monkeypatch, django_capture_on_commit_callbacks
):

    later = ARCHIVED + timedelta(days=31)
    with time_machine.travel(later, tick=False):
        broken = type(worm_store())
        monkeypatch.setattr(broken, "delete", lambda self, key, version_id: 1 / 0)
        with django_capture_on_commit_callbacks(execute=True):
            services.destroy_archived(archived_twice.pk)
        assert len(_stored(archived_twice)) == 3
        assert (
            "was destroyed but is still in the store" in verify_archive(archived_twice.agency_id)[0]
        )
        monkeypatch.undo()

        assert services.purge_destroyed(archived_twice.agency_id) == 3

    assert _stored(archived_twice) == []
    assert verify_archive(archived_twice.agency_id) == []


def test_the_store_itself_refuses_to_delete_a_retained_version(archived_twice):
    row = _rows(archived_twice)[0]

    with (
        time_machine.travel(ARCHIVED + timedelta(days=1), tick=False),
        pytest.raises(LockViolation, match="cannot be deleted: it is retained"),
    ):
        worm_store().delete(row.key, row.version_id)


def test_the_s3_server_refuses_a_compliance_delete_too(conversation, lock_bucket):
    row = services.archive_conversation(conversation.pk)

    with pytest.raises(lock_bucket.client.exceptions.ClientError, match="AccessDenied"):
        lock_bucket.client.delete_object(
            Bucket=lock_bucket.name, Key=row.key, VersionId=row.version_id
        )


def test_the_s3_server_refuses_a_governance_delete_without_the_bypass(conversation, lock_bucket):
    services.set_policy(
        conversation.agency_id,
        mode="governance",
        active_days=30,
        minimum_retention_days=30,
        actor=ACTOR,
    )
    row = services.archive_conversation(conversation.pk)

    with pytest.raises(lock_bucket.client.exceptions.ClientError, match="AccessDenied"):
        lock_bucket.client.delete_object(
            Bucket=lock_bucket.name, Key=row.key, VersionId=row.version_id
        )


def test_the_s3_server_refuses_to_delete_a_held_version_even_with_the_bypass(
    conversation, lock_bucket
):
    services.set_policy(
        conversation.agency_id,
        mode="governance",
        active_days=30,
        minimum_retention_days=1,
        actor=ACTOR,
    )
    row = services.archive_conversation(conversation.pk)
    worm_store().set_legal_hold(row.key, row.version_id, True)

    with pytest.raises(lock_bucket.client.exceptions.ClientError, match="AccessDenied"):
        lock_bucket.client.delete_object(
            Bucket=lock_bucket.name,
            Key=row.key,
            VersionId=row.version_id,
            BypassGovernanceRetention=True,
        )
