"""``records_verify``: a schema owner's rewrite that ``audit_verify`` misses is caught by the
signed checkpoints, and so are edited messages, leaves, checkpoints and archive objects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.models import Message
from records import checkpoints
from records.archive import archive_store
from records.audit import GENESIS_HASH, Actor, compute_hash, record_event
from records.models import AuditEvent, RecordCheckpoint
from records.signing import write_new_key
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory

ACTOR = Actor.system("test")
SIGNED_AT = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def _verify(capsys, *args: str) -> tuple[bool, str]:
    try:
        call_command("records_verify", *args)
    except CommandError as error:
        assert error.returncode == 1
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


def _sign(agency, at: datetime = SIGNED_AT) -> RecordCheckpoint:
    with time_machine.travel(at, tick=False):
        checkpoint = checkpoints.sign_checkpoint(agency_id=agency.pk)
    assert checkpoint is not None
    return checkpoint


def _owner(owner_cursor, sql: str, params: list | None = None, *, untrigger: str = "") -> None:
    """Run ``sql`` as the schema owner, with ``untrigger``'s append-only trigger disabled."""
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    triggers = {
        "records_auditevent": "audit_event_append_only",
        "records_auditchainhead": "audit_chain_head_guard",
        "records_recordleaf": "records_recordleaf_append_only",
        "records_recordcheckpoint": "records_recordcheckpoint_append_only",
        "messaging_message": "message_content_immutable",  # records migration 0006
    }
    if untrigger:
        owner_cursor.execute(f"ALTER TABLE {untrigger} DISABLE TRIGGER {triggers[untrigger]}")
    try:
        owner_cursor.execute(sql, params)
    finally:
        if untrigger:
            owner_cursor.execute(f"ALTER TABLE {untrigger} ENABLE TRIGGER {triggers[untrigger]}")


def _rewrite_audit_event(owner_cursor, agency, sequence: int, changes: dict) -> None:
    """What a schema owner can do today: edit an event, recompute every later hash and the
    head, so that every link checks out again."""
    with agency_scope(agency):
        events = list(AuditEvent.objects.filter(agency=agency).order_by("sequence"))
    previous = GENESIS_HASH
    for event in events:
        if event.sequence == sequence:
            event.changes = changes
        if event.sequence >= sequence:
            event.prev_hash = previous
            event.hash = compute_hash(event)
            _owner(
                owner_cursor,
                "UPDATE records_auditevent SET changes = %s::jsonb, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [_json(event.changes), event.prev_hash, event.hash, event.pk],
                untrigger="records_auditevent",
            )
        previous = event.hash
    _owner(
        owner_cursor,
        "UPDATE records_auditchainhead SET hash = %s WHERE chain_key = %s",
        [previous, agency.pk],
        untrigger="records_auditchainhead",
    )


def _json(value: dict) -> str:
    import json

    return json.dumps(value)


@pytest.fixture
def recorded(transactional_db, agency_a):
    """Agency A with messages and audit events, checkpointed once."""
    messages = InboundMessageFactory.create_batch(3, agency=agency_a)
    for i in range(3):
        record_event(
            agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={"status": i}
        )
    return messages, _sign(agency_a)


def test_a_clean_agency_verifies_and_exits_zero(recorded, agency_b, capsys):
    InboundMessageFactory(agency=agency_a_messages(recorded)[0].agency)  # waits for the next
    ok, out = _verify(capsys)
    assert ok, out
    assert (
        "OK agency-a: 3 audit events, 1 signed checkpoints, 3 messages and 0 media files "
        "checkpointed, 1 message waiting for the next checkpoint"
    ) in out
    assert "OK agency-b: 0 audit events, 0 signed checkpoints" in out


def agency_a_messages(recorded) -> list[Message]:
    return recorded[0]


def test_a_recomputed_audit_chain_passes_audit_verify_but_not_records_verify(
    recorded, owner_cursor, agency_a, capsys
):
    _rewrite_audit_event(owner_cursor, agency_a, 2, {"status": "closed without review"})

    call_command("audit_verify", "--agency", "agency-a")  # the links alone: no complaint
    assert "OK agency-a: 3 events" in capsys.readouterr().out
    ok, out = _verify(capsys, "--agency", "agency-a")

    assert not ok
    assert (
        "BROKEN agency-a: checkpoint #1 (signed 2027-03-01 12:00:00 UTC): the audit chain was "
        "rewritten: event sequence 3 has hash"
    ) in out


def test_a_rewrite_after_several_checkpoints_names_the_first_one_it_breaks(
    recorded, owner_cursor, agency_a, capsys
):
    for day in (1, 2):
        record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})
        _sign(agency_a, SIGNED_AT + timedelta(days=day))
    _rewrite_audit_event(owner_cursor, agency_a, 4, {"forged": True})  # after checkpoint #1

    ok, out = _verify(capsys, "--agency", "agency-a")

    assert not ok
    assert "checkpoint #2 (signed 2027-03-02 12:00:00 UTC): the audit chain was rewritten" in out


def test_an_edited_message_text_is_detected(recorded, owner_cursor, capsys):
    message = agency_a_messages(recorded)[1]
    _owner(
        owner_cursor,
        "UPDATE messaging_message SET content = jsonb_set(content, '{text,body}', '\"Bye\"') "
        "WHERE id = %s",
        [message.pk],
        untrigger="messaging_message",
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert (
        f"BROKEN agency-a: message id={message.pk} no longer matches its leaf #1 "
        "(checkpoint #1 (signed 2027-03-01 12:00:00 UTC))"
    ) in out


def test_an_edited_message_with_its_leaf_recomputed_breaks_the_signed_root(
    recorded, owner_cursor, capsys
):
    from records.leaves import MESSAGE_FIELDS, message_leaf_hash

    message = agency_a_messages(recorded)[1]
    _owner(
        owner_cursor,
        "UPDATE messaging_message SET content = jsonb_set(content, '{text,body}', '\"Bye\"') "
        "WHERE id = %s",
        [message.pk],
        untrigger="messaging_message",
    )
    with agency_scope(message.agency_id):
        row = Message.objects.filter(pk=message.pk).values(*MESSAGE_FIELDS).get()
    _owner(
        owner_cursor,
        "UPDATE records_recordleaf SET leaf_hash = %s WHERE record_id = %s",
        [message_leaf_hash(row), message.pk],
        untrigger="records_recordleaf",
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert "checkpoint #1 (signed 2027-03-01 12:00:00 UTC): the leaves no longer" in out


def test_a_deleted_message_is_detected(recorded, owner_cursor, capsys):
    message = agency_a_messages(recorded)[0]
    _owner(owner_cursor, "DELETE FROM messaging_message WHERE id = %s", [message.pk])
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"message id={message.pk} (leaf #0) is missing" in out


def test_a_checkpoint_row_changed_to_match_a_rewrite_no_longer_matches_its_signature(
    recorded, owner_cursor, agency_a, capsys
):
    _rewrite_audit_event(owner_cursor, agency_a, 2, {"status": "x"})
    with agency_scope(agency_a):
        new_head = AuditEvent.objects.get(agency=agency_a, sequence=3).hash
    _owner(
        owner_cursor,
        "UPDATE records_recordcheckpoint SET audit_hash = %s",
        [new_head],
        untrigger="records_recordcheckpoint",
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert "checkpoint #1 (signed 2027-03-01 12:00:00 UTC): the row does not match" in out


def test_a_checkpoint_re_signed_with_a_key_of_the_attackers_is_refused(
    recorded, owner_cursor, agency_a, capsys, settings, tmp_path
):
    checkpoint = recorded[1]
    honest_key = settings.RECORDS_SIGNING_KEY_FILE
    settings.RECORDS_SIGNING_KEY_FILE = str(tmp_path / "attacker.pem")
    write_new_key(tmp_path / "attacker.pem")
    from records.signing import sign_note

    forged, forged_key = sign_note(checkpoints.Statement.of(checkpoint).text())
    settings.RECORDS_SIGNING_KEY_FILE = honest_key
    _owner(
        owner_cursor,
        "UPDATE records_recordcheckpoint SET statement = %s, key_id = %s",
        [forged, forged_key],
        untrigger="records_recordcheckpoint",
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"signed with key {forged_key}, which is not configured" in out


def test_a_tampered_archive_object_is_detected(recorded, capsys, settings):
    checkpoint = recorded[1]
    from pathlib import Path

    path = Path(settings.RECORDS_ARCHIVE_DIR) / checkpoint.archive_key
    path.write_text(checkpoint.statement.replace("checkpoint 1", "checkpoint 9"))
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"the archive object {checkpoint.archive_key} differs from the database" in out


def test_a_checkpoint_missing_from_the_archive_is_detected(recorded, capsys, settings):
    from pathlib import Path

    (Path(settings.RECORDS_ARCHIVE_DIR) / recorded[1].archive_key).unlink()
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert "checkpoint #1 (signed 2027-03-01 12:00:00 UTC) is missing from the archive" in out


def test_deleting_the_newest_checkpoint_rows_is_revealed_by_the_archive(
    recorded, owner_cursor, agency_a, capsys
):
    record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})
    second = _sign(agency_a, SIGNED_AT + timedelta(days=1))
    _owner(
        owner_cursor,
        "DELETE FROM records_recordcheckpoint WHERE id = %s",
        [second.pk],
        untrigger="records_recordcheckpoint",
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"the archive store holds {second.archive_key}, which has no checkpoint" in out


def test_a_message_inserted_behind_the_checkpoints_is_detected(transactional_db, agency_a, capsys):
    _first, hidden, _last = InboundMessageFactory.create_batch(3, agency=agency_a)
    with agency_scope(agency_a):
        row = Message.objects.filter(pk=hidden.pk).values().get()
        Message.objects.filter(pk=hidden.pk).delete()
    _sign(agency_a)
    record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})
    _sign(agency_a, SIGNED_AT + timedelta(days=1))
    with agency_scope(agency_a):
        Message.objects.create(**row)  # backdated: its id is below what was checkpointed
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"message id={hidden.pk} is in no checkpoint although later messages are" in out


def test_a_broken_audit_link_is_reported_first(recorded, owner_cursor, capsys):
    _owner(
        owner_cursor,
        "UPDATE records_auditevent SET action = 'case.deleted' WHERE sequence = 2",
        untrigger="records_auditevent",
    )
    ok, out = _verify(capsys)
    assert not ok
    assert "BROKEN agency-a: audit chain: content does not match its hash at sequence 2" in out


def test_one_agencys_tampering_does_not_break_another_agencys_verification(
    recorded, owner_cursor, agency_b, capsys
):
    InboundMessageFactory(agency=agency_b)
    _sign(agency_b)
    message = agency_a_messages(recorded)[0]
    _owner(
        owner_cursor,
        "UPDATE messaging_message SET content = '{}'::jsonb WHERE id = %s",
        [message.pk],
        untrigger="messaging_message",
    )
    ok, out = _verify(capsys)
    assert not ok
    assert "BROKEN agency-a" in out
    assert "OK agency-b: 0 audit events, 1 signed checkpoints, 1 messages and 0 media files" in out


def test_an_unknown_agency_is_an_error(db):
    with pytest.raises(CommandError, match="No agency"):
        call_command("records_verify", "--agency", "nope")


@pytest.fixture
def s3_archive(s3_settings, settings):
    settings.RECORDS_ARCHIVE_BACKEND = "s3"
    settings.RECORDS_ARCHIVE_BUCKET = s3_settings
    return boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_checkpoints_are_archived_to_s3_and_verify_there(
    s3_archive, s3_settings, transactional_db, agency_a, capsys
):
    InboundMessageFactory(agency=agency_a)
    checkpoint = _sign(agency_a)
    body = s3_archive.get_object(Bucket=s3_settings, Key=checkpoint.archive_key)["Body"].read()
    assert body == checkpoint.statement.encode()
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert ok, out


def test_a_tampered_s3_archive_object_is_detected(
    s3_archive, s3_settings, transactional_db, agency_a, capsys
):
    InboundMessageFactory(agency=agency_a)
    checkpoint = _sign(agency_a)
    s3_archive.put_object(Bucket=s3_settings, Key=checkpoint.archive_key, Body=b"forged")
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"the archive object {checkpoint.archive_key} differs from the database" in out


def test_with_object_lock_the_original_survives_an_overwrite_that_verify_reports(
    s3_archive, settings, transactional_db, agency_a, capsys
):
    bucket = f"civic-lock-{uuid.uuid4().hex[:12]}"
    s3_archive.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3_archive.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    settings.RECORDS_ARCHIVE_BUCKET = bucket
    checkpoint = _sign(agency_a)
    s3_archive.put_object(Bucket=bucket, Key=checkpoint.archive_key, Body=b"forged")

    ok, out = _verify(capsys, "--agency", "agency-a")

    assert not ok and "differs from the database" in out
    versions = s3_archive.list_object_versions(Bucket=bucket, Prefix=checkpoint.archive_key)
    bodies = [
        s3_archive.get_object(Bucket=bucket, Key=checkpoint.archive_key, VersionId=v["VersionId"])[
            "Body"
        ].read()
        for v in versions["Versions"]
    ]
    assert checkpoint.statement.encode() in bodies  # the signed original is still there


def test_the_archive_store_follows_the_setting(settings, s3_archive):
    from records.archive import S3Archive

    assert isinstance(archive_store(), S3Archive)


def _stored_media(agency, data: bytes = b"\x89PNG scan of a permit"):
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from messaging.models import MediaObject
    from tests.factories import PhoneNumberFactory

    number = PhoneNumberFactory(agency=agency)
    digest = hashlib.sha256(data).hexdigest()
    key = default_storage.save(f"agencies/{agency.pk}/media/{digest}.png", ContentFile(data))
    with agency_scope(agency):
        return MediaObject.objects.create(
            agency=agency,
            phone_number=number,
            meta_media_id=f"m-{uuid.uuid4().hex[:8]}",
            kind="image",
            mime_type="image/png",
            status=MediaObject.Status.STORED,
            storage_key=key,
            size_bytes=len(data),
            sha256=digest,
            stored_at=timezone.now(),
        )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_stored_media_files_are_checkpointed_and_verify(
    media_root, transactional_db, agency_a, capsys
):
    InboundMessageFactory(agency=agency_a)
    media = _stored_media(agency_a)
    checkpoint = _sign(agency_a)
    assert checkpoint.leaf_count == 2
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert ok, out
    assert "1 messages and 1 media files checkpointed" in out
    assert media.sha256


def test_an_edited_media_file_is_detected(media_root, transactional_db, agency_a, capsys):
    media = _stored_media(agency_a)
    _sign(agency_a)
    (media_root / media.storage_key).write_bytes(b"\x89PNG another picture")

    ok, out = _verify(capsys, "--agency", "agency-a")

    assert not ok
    assert (
        f"media file id={media.pk}: the stored file {media.storage_key} no longer matches its "
        "SHA-256 (checkpoint #1 (signed 2027-03-01 12:00:00 UTC))"
    ) in out
    assert _verify(capsys, "--agency", "agency-a", "--skip-media-files")[0]  # rows still match


def test_a_deleted_media_file_is_detected(media_root, transactional_db, agency_a, capsys):
    media = _stored_media(agency_a)
    _sign(agency_a)
    (media_root / media.storage_key).unlink()
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"media file id={media.pk}: its file {media.storage_key} is missing" in out


def test_a_media_row_pointed_at_another_file_is_detected(
    media_root, owner_cursor, transactional_db, agency_a, capsys
):
    media = _stored_media(agency_a)
    _sign(agency_a)
    other = _stored_media(agency_a, b"\x89PNG a substitute")
    _owner(
        owner_cursor,
        "UPDATE messaging_mediaobject SET storage_key = %s, sha256 = %s WHERE id = %s",
        [other.storage_key, other.sha256, media.pk],
    )
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert f"media file id={media.pk} no longer matches its leaf #0" in out


def test_a_media_file_stored_late_is_checkpointed_by_the_next_run(
    media_root, transactional_db, agency_a, capsys
):
    from messaging.models import MediaObject

    media = _stored_media(agency_a)
    with agency_scope(agency_a):  # still downloading when the first checkpoint runs
        MediaObject.objects.filter(pk=media.pk).update(status=MediaObject.Status.PENDING)
    first = _sign(agency_a)
    with agency_scope(agency_a):
        MediaObject.objects.filter(pk=media.pk).update(
            status=MediaObject.Status.STORED, stored_at=SIGNED_AT + timedelta(minutes=5)
        )
    second = _sign(agency_a, SIGNED_AT + timedelta(minutes=10))
    assert (first.leaf_count, second.leaf_count) == (0, 1)
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert ok, out


def test_leaves_left_without_any_checkpoint_are_reported(recorded, owner_cursor, capsys, settings):
    import shutil

    _owner(
        owner_cursor, "DELETE FROM records_recordcheckpoint", untrigger="records_recordcheckpoint"
    )
    shutil.rmtree(settings.RECORDS_ARCHIVE_DIR)  # and the local archive with them
    ok, out = _verify(capsys, "--agency", "agency-a")
    assert not ok
    assert "BROKEN agency-a: 3 leaves are in no checkpoint" in out
