"""Fixity: verify_archive re-reads every version; records_verify reports the first problem."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from records.archive import Lock, worm_store
from records.worm import services
from records.worm.verification import verify_archive


def _verify_command(capsys) -> tuple[bool, str]:
    try:
        call_command("records_verify", "--agency", "agency-a")
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


def _local_path(settings, key: str, version_id: str) -> Path:
    return Path(settings.RECORDS_ARCHIVE_DIR) / "worm" / key / version_id


def test_an_intact_archive_verifies(conversation, backend):
    services.archive_conversation(conversation.pk)

    assert verify_archive(conversation.agency_id) == []


def test_an_altered_local_object_is_detected(conversation, settings, capsys):
    settings.RECORDS_WORM_BACKEND = "local"
    row = services.archive_conversation(conversation.pk)
    path = _local_path(settings, row.key, row.version_id)
    path.write_bytes(path.read_bytes().replace(b"Crew notified.", b"Nothing to see"))

    (problem,) = verify_archive(conversation.agency_id)
    assert problem.startswith(f"archive object {row.key} (version {row.version_id}")
    assert "was altered" in problem
    ok, out = _verify_command(capsys)
    assert not ok
    assert f"BROKEN agency-a: WORM archive: archive object {row.key}" in out


def test_an_altered_s3_object_is_detected_as_a_new_version_of_the_key(
    conversation, lock_bucket, capsys
):
    row = services.archive_conversation(conversation.pk)
    # Object Lock keeps the original; the forgery is a new, unlisted version of the key.
    lock_bucket.client.put_object(Bucket=lock_bucket.name, Key=row.key, Body=b"{}")

    (problem,) = verify_archive(conversation.agency_id)
    assert problem.startswith(f"the archive store holds {row.key} (version ")
    assert worm_store().get(row.key, row.version_id) is not None  # the original survives
    ok, out = _verify_command(capsys)
    assert not ok and "WORM archive: the archive store holds" in out


def test_a_missing_local_object_is_detected(conversation, settings, capsys):
    settings.RECORDS_WORM_BACKEND = "local"
    row = services.archive_conversation(conversation.pk)
    _local_path(settings, row.key, row.version_id).unlink()

    assert verify_archive(conversation.agency_id) == [
        f"archive object {row.key} (version {row.version_id}, conversation {conversation.pk}) "
        "is missing from the store"
    ]
    assert not _verify_command(capsys)[0]


def test_a_missing_s3_version_is_detected(conversation, lock_bucket):
    services.set_policy(
        conversation.agency_id,
        mode="governance",
        active_days=30,
        minimum_retention_days=1,
        actor=services.WORKER,
    )
    row = services.archive_conversation(conversation.pk)
    # Someone with the governance bypass permission deletes the version.
    lock_bucket.client.delete_object(
        Bucket=lock_bucket.name,
        Key=row.key,
        VersionId=row.version_id,
        BypassGovernanceRetention=True,
    )

    (problem,) = verify_archive(conversation.agency_id)
    assert problem.endswith("is missing from the store") and row.key in problem


def test_an_object_written_behind_the_platforms_back_is_reported(conversation, backend):
    services.archive_conversation(conversation.pk)
    key = f"worm/agency-{conversation.agency_id}/conversation-999999/conversation.json"
    worm_store().put(key, b"{}", Lock("governance", conversation.created_at, False), "text/plain")

    (problem,) = verify_archive(conversation.agency_id)
    assert problem.startswith(f"the archive store holds {key}")


def test_retention_shortened_in_the_store_is_reported(conversation, lock_bucket):
    row = services.archive_conversation(conversation.pk)
    lock_bucket.client.put_object_retention(  # moto allows it; AWS compliance would not
        Bucket=lock_bucket.name,
        Key=row.key,
        VersionId=row.version_id,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": row.retain_until - timedelta(days=9)},
    )

    (problem,) = verify_archive(conversation.agency_id)
    assert "retention was shortened" in problem


def test_a_lock_file_edited_on_the_local_disk_is_reported(conversation, settings):
    settings.RECORDS_WORM_BACKEND = "local"
    row = services.archive_conversation(conversation.pk)
    lock_file = _local_path(settings, row.key, row.version_id).with_name(f"{row.version_id}.lock")
    lock_file.write_text(lock_file.read_text().replace('"legal_hold": false', '"legal_hold": true'))

    (problem,) = verify_archive(conversation.agency_id)
    assert "its legal hold should be off in the store" in problem


def test_one_agencys_archive_problem_is_not_another_agencys(conversation, agency_b, backend):
    row = services.archive_conversation(conversation.pk)
    worm_store().put(
        row.key.replace(f"agency-{conversation.agency_id}", f"agency-{agency_b.pk}"),
        b"{}",
        Lock("governance", conversation.created_at, False),
        "text/plain",
    )

    assert verify_archive(conversation.agency_id) == []
    assert len(verify_archive(agency_b.pk)) == 1


def test_without_reading_an_edit_of_the_same_size_passes_but_a_missing_object_does_not(
    conversation, settings, capsys
):
    settings.RECORDS_WORM_BACKEND = "local"
    row = services.archive_conversation(conversation.pk)
    path = _local_path(settings, row.key, row.version_id)
    path.write_bytes(path.read_bytes().replace(b"Crew notified.", b"Crew informed."))

    assert verify_archive(conversation.agency_id, read=False) == []
    assert "was altered" in verify_archive(conversation.agency_id)[0]

    path.unlink()
    assert "is missing from the store" in verify_archive(conversation.agency_id, read=False)[0]
    with pytest.raises(CommandError):
        call_command("records_verify", "--agency", "agency-a", "--skip-media-files")
    assert "is missing from the store" in capsys.readouterr().out


def test_versions_in_another_store_than_the_configured_one_are_reported(
    conversation, settings, lock_bucket
):
    settings.RECORDS_WORM_BACKEND = "local"
    services.archive_conversation(conversation.pk)
    settings.RECORDS_WORM_BACKEND = "s3"

    (problem,) = verify_archive(conversation.agency_id)
    assert problem.startswith("archived object versions are in local, not in the configured")
