"""Archiving a conversation: one deterministic, locked object per version, its media files
as objects of their own, written to the local disk or an Object Lock bucket."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from bsp.events import types
from bsp.events.models import DomainEvent
from records.archive import lock_time, worm_store
from records.audit import Actor
from records.worm import canonical, services
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope
from tests.records.worm.conftest import PICTURE, another_message

ACTOR = Actor.system("test")


def _rows(conversation) -> list[ArchivedObject]:
    with agency_scope(conversation.agency_id):
        return list(ArchivedObject.objects.filter(conversation_id=conversation.pk).order_by("id"))


def _document(row: ArchivedObject) -> dict:
    data = worm_store().get(row.key, row.version_id)
    assert data is not None
    return json.loads(data)


def test_the_archived_object_holds_the_whole_conversation(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    document = _document(row)
    assert document["schema"] == "civic-relay.worm/conversation/1"
    assert document["conversation"]["id"] == conversation.pk
    assert document["conversation"]["status"] == "resolved"
    assert [m["direction"] for m in document["messages"]] == ["in", "in", "out"]
    reply = document["messages"][2]
    assert reply["sender_user"] == "clerk@example.gov"
    assert reply["read_at"] and reply["delivered_at"] and reply["wamid"] == "wamid.reply0001"
    assert [n["body"] for n in document["notes"]] == ["Crew notified."]
    assert [t["action"] for t in document["transitions"]] == ["conversation.status"]
    assert document["transitions"][0]["changes"]["status"] == "resolved"
    (media,) = document["media"]
    assert media["sha256"] == hashlib.sha256(PICTURE).hexdigest()
    assert media["archive_key"].endswith(f"/media/{media['id']}-{media['sha256']}")


def test_the_media_file_is_an_object_of_its_own_with_its_sha256(conversation, backend):
    services.archive_conversation(conversation.pk)

    (media,) = [row for row in _rows(conversation) if row.kind == ArchivedObject.Kind.MEDIA]
    assert media.sha256 == hashlib.sha256(PICTURE).hexdigest()
    assert media.size == len(PICTURE)
    assert worm_store().get(media.key, media.version_id) == PICTURE


def test_the_object_is_canonical_json_with_its_sha256_on_the_row(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    data = worm_store().get(row.key, row.version_id)
    assert data is not None
    assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
    assert data == canonical.canonical_json(json.loads(data))
    assert (
        row.key
        == f"worm/agency-{conversation.agency_id}/conversation-{conversation.pk}/conversation.json"
    )


def test_archiving_again_without_a_change_writes_nothing(conversation, backend):
    first = services.archive_conversation(conversation.pk)

    again = services.archive_conversation(conversation.pk)

    assert again.pk == first.pk
    assert len(_rows(conversation)) == 2  # the conversation and its photo
    assert (
        len(
            worm_store().versions(
                canonical.conversation_prefix(conversation.agency_id, conversation.pk)
            )
        )
        == 2
    )


def test_a_conversation_that_changed_gets_a_new_version_and_the_old_one_stays(
    conversation, backend
):
    first = services.archive_conversation(conversation.pk)
    another_message(conversation)

    second = services.archive_conversation(conversation.pk)

    assert second.pk != first.pk and second.key == first.key
    assert second.version_id != first.version_id
    assert len(_document(second)["messages"]) == 4
    assert len(_document(first)["messages"]) == 3  # the earlier version is still there
    media = [row for row in _rows(conversation) if row.kind == ArchivedObject.Kind.MEDIA]
    assert len(media) == 1  # the unchanged photo is not written twice


def test_without_a_file_plan_date_the_version_is_retained_the_policys_minimum(
    conversation, backend
):
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        services.set_policy(
            conversation.agency_id,
            mode="compliance",
            active_days=30,
            minimum_retention_days=400,
            actor=ACTOR,
        )
        row = services.archive_conversation(conversation.pk)

    assert row.mode == "compliance"
    assert row.retain_until == now + timedelta(days=400)


def test_the_file_plans_destruction_date_is_the_retention(conversation, backend, monkeypatch):
    floor = timezone.now() + timedelta(days=7 * 365, seconds=0.4)
    monkeypatch.setattr(services, "retention_floor", lambda conversation_id: floor)

    row = services.archive_conversation(conversation.pk)

    assert row.retain_until == lock_time(floor)  # whole seconds, rounded up
    assert worm_store().lock(row.key, row.version_id).retain_until == lock_time(floor)


def test_the_s3_object_is_written_with_object_lock(conversation, lock_bucket):
    row = services.archive_conversation(conversation.pk)

    head = lock_bucket.head(row.key, row.version_id)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == row.retain_until
    assert head["ObjectLockLegalHoldStatus"] == "OFF"
    assert head["Metadata"]["sha256"] == row.sha256
    assert row.store == f"s3://{lock_bucket.name}"


def test_a_governance_agency_writes_governance_locks(conversation, lock_bucket):
    services.set_policy(
        conversation.agency_id,
        mode="governance",
        active_days=30,
        minimum_retention_days=365,
        actor=ACTOR,
    )

    row = services.archive_conversation(conversation.pk)

    assert row.mode == "governance"
    assert lock_bucket.head(row.key, row.version_id)["ObjectLockMode"] == "GOVERNANCE"


def test_archiving_publishes_one_event_in_the_same_transaction(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    with agency_scope(conversation.agency_id):
        written = list(DomainEvent.objects.filter(type=types.ARCHIVE_WRITTEN))
    assert len(written) == 1
    assert written[0].subject == {"conversation": conversation.pk, "archived_object": row.pk}
    assert written[0].payload["sha256"] == row.sha256


def test_a_media_file_altered_in_storage_is_not_archived_as_the_record(
    conversation, media_root, backend
):
    with agency_scope(conversation.agency_id):
        media = conversation.messages.exclude(media=None).get().media
    (media_root / media.storage_key).write_bytes(b"another picture")

    with pytest.raises(services.ArchiveError, match="no longer matches its SHA-256"):
        services.archive_conversation(conversation.pk)
    assert _rows(conversation) == []


def test_a_bucket_without_object_lock_is_refused_with_a_clear_error(
    conversation, lock_bucket, settings
):
    from django.core.exceptions import ImproperlyConfigured

    plain = f"{lock_bucket.name}-plain"
    lock_bucket.client.create_bucket(Bucket=plain)
    settings.RECORDS_WORM_BUCKET = plain

    with pytest.raises(ImproperlyConfigured, match="needs a bucket created with Object Lock"):
        services.archive_conversation(conversation.pk)
    assert _rows(conversation) == []


def test_a_version_a_rolled_back_run_left_in_the_store_is_adopted_not_written_again(
    conversation, backend
):
    from django.db import transaction

    from records.worm.verification import verify_archive

    class Crashed(Exception):
        pass

    with pytest.raises(Crashed), transaction.atomic():
        services.archive_conversation(conversation.pk)
        raise Crashed  # after the store's write, before the commit
    prefix = canonical.conversation_prefix(conversation.agency_id, conversation.pk)
    assert len(worm_store().versions(prefix)) == 2 and _rows(conversation) == []
    assert len(verify_archive(conversation.agency_id)) == 2  # reported as extra meanwhile

    row = services.archive_conversation(conversation.pk)

    assert len(worm_store().versions(prefix)) == 2  # adopted, not written again
    assert {(r.key, r.version_id) for r in _rows(conversation)} == {
        (v.key, v.version_id) for v in worm_store().versions(prefix)
    }
    assert row.sha256 == _rows(conversation)[-1].sha256
    assert verify_archive(conversation.agency_id) == []


def test_a_conversation_archived_after_its_destruction_date_is_locked_a_day(
    conversation, lock_bucket, monkeypatch
):
    now = timezone.now()
    monkeypatch.setattr(services, "retention_floor", lambda c: now - timedelta(days=40))

    with time_machine.travel(now, tick=False):
        row = services.archive_conversation(conversation.pk)

    assert row.retain_until == lock_time(now + services.MINIMUM_LOCK)
    assert lock_bucket.head(row.key, row.version_id)["ObjectLockRetainUntilDate"] > now
