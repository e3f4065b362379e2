"""Inbound media: a citizen's file is downloaded from Meta (the simulator), checked against the
type's limits, stored with its SHA-256 (local disk or S3), retried while Meta is unreachable."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from messaging import tasks
from messaging.models import MediaObject
from messaging.webhooks import media
from messaging.whatsapp import CloudAPIClient
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory

CITIZEN = "14155550100"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"a pothole on Main St " * 300
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def citizen_sends(simulator, number, kind: str, content: bytes, mime: str) -> dict[str, Any]:
    """The citizen sends a file; returns the media block of Meta's webhook message."""
    spec = {"mime_type": mime, "content_base64": base64.b64encode(content).decode()}
    message = simulator.trigger_inbound(number.phone_number_id, CITIZEN, type=kind, **{kind: spec})
    return message[kind]


def media_row(number, announced: dict[str, Any], kind: str = "image", **fields) -> MediaObject:
    """The row inbound processing creates from the webhook's media block."""
    # Meta's webhooks announce the SHA-256 in base64 (cloud-api.md §5.5); the simulator in hex.
    sha256_b64 = base64.b64encode(bytes.fromhex(announced["sha256"])).decode()
    values = {
        "meta_media_id": announced["id"],
        "kind": kind,
        "mime_type": announced["mime_type"],
        "meta_sha256": sha256_b64,
        **fields,
    }
    with agency_scope(number.agency_id):
        return MediaObject.objects.create(agency_id=number.agency_id, phone_number=number, **values)


def download(row: MediaObject) -> str:
    with agency_scope(row.agency_id):
        return media.download(row.pk)


def reload(row: MediaObject) -> MediaObject:
    with agency_scope(row.agency_id):
        return MediaObject.objects.get(pk=row.pk)


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def photo(simulator, registered_number) -> MediaObject:
    return media_row(
        registered_number, citizen_sends(simulator, registered_number, "image", PHOTO, "image/jpeg")
    )


# --- stored -------------------------------------------------------------------------------------


def test_an_image_is_stored_on_local_disk_with_its_sha256_and_size(photo, media_root):
    assert download(photo) == "stored"

    row = reload(photo)
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert (row.status, row.attempts) == ("stored", 1)
    assert (row.sha256, row.size_bytes) == (digest, len(PHOTO))
    assert row.stored_at is not None
    month = row.created_at.strftime("%Y/%m")
    assert row.storage_key == f"agencies/{row.agency_id}/media/{month}/{digest}.jpg"
    assert (media_root / row.storage_key).read_bytes() == PHOTO


def test_an_image_is_stored_in_the_s3_bucket(photo, s3_settings, settings):
    assert download(photo) == "stored"

    row = reload(photo)
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    stored = s3.get_object(Bucket=s3_settings, Key=row.storage_key)["Body"].read()
    assert stored == PHOTO
    assert row.sha256 == hashlib.sha256(stored).hexdigest()


def test_a_voice_note_with_a_codec_parameter_is_stored_as_ogg(simulator, registered_number):
    voice = b"OggS\x00\x02" + b"opus frames " * 100
    announced = citizen_sends(
        simulator, registered_number, "audio", voice, "audio/ogg; codecs=opus"
    )
    row = media_row(registered_number, announced, kind="audio")

    assert download(row) == "stored"
    assert reload(row).storage_key.endswith(".ogg")


def test_the_same_file_sent_twice_to_an_agency_is_stored_once(
    simulator, registered_number, media_root
):
    first = media_row(
        registered_number, citizen_sends(simulator, registered_number, "image", PHOTO, "image/jpeg")
    )
    second = media_row(
        registered_number, citizen_sends(simulator, registered_number, "image", PHOTO, "image/jpeg")
    )

    assert (download(first), download(second)) == ("stored", "stored")
    assert reload(first).storage_key == reload(second).storage_key
    assert len(stored_files(media_root)) == 1


def test_the_same_file_sent_to_two_agencies_is_stored_under_each_agencys_prefix(
    simulator, registered_number, agency_b, media_root
):
    number_b = PhoneNumberFactory(agency=agency_b)
    with agency_scope(agency_b):
        simulator.register_number(
            number_b.phone_number_id,
            display_phone_number="15550100002",
            access_token=number_b.bearer_token(),
            waba_id=number_b.waba.waba_id,
        )
    row_a = media_row(
        registered_number, citizen_sends(simulator, registered_number, "image", PHOTO, "image/jpeg")
    )
    row_b = media_row(number_b, citizen_sends(simulator, number_b, "image", PHOTO, "image/jpeg"))

    assert (download(row_a), download(row_b)) == ("stored", "stored")
    key_a, key_b = reload(row_a).storage_key, reload(row_b).storage_key
    assert key_a.startswith(f"agencies/{registered_number.agency_id}/")
    assert key_b.startswith(f"agencies/{agency_b.pk}/")
    assert len(stored_files(media_root)) == 2


def test_a_different_file_already_under_the_key_is_not_overwritten(photo, media_root):
    digest = hashlib.sha256(PHOTO).hexdigest()
    squatter = media_root / media.storage_key(photo, digest, "image/jpeg")
    squatter.parent.mkdir(parents=True)
    squatter.write_bytes(b"something else entirely")

    assert download(photo) == "stored"

    assert squatter.read_bytes() == b"something else entirely"
    row = reload(photo)
    assert row.storage_key != str(squatter.relative_to(media_root))
    assert (media_root / row.storage_key).read_bytes() == PHOTO


# --- rejected and failed ------------------------------------------------------------------------


def test_a_sticker_over_500_kb_is_rejected_and_nothing_is_stored(
    simulator, registered_number, media_root
):
    sticker = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * (500 * 1024)
    announced = citizen_sends(simulator, registered_number, "sticker", sticker, "image/webp")
    row = media_row(registered_number, announced, kind="sticker")

    assert download(row) == "rejected"

    row = reload(row)
    assert row.status == "rejected"
    assert row.error == (
        f"The file is {len(sticker):,} bytes; WhatsApp allows sticker files up to 500 KB."
    )
    assert (row.storage_key, row.sha256, row.size_bytes) == ("", "", None)
    assert stored_files(media_root) == []


def test_an_image_type_whatsapp_does_not_accept_is_rejected(
    simulator, registered_number, media_root
):
    announced = citizen_sends(simulator, registered_number, "image", b"GIF89a" * 10, "image/gif")
    row = media_row(registered_number, announced)

    assert download(row) == "rejected"

    assert reload(row).error == "WhatsApp does not accept image/gif files for image messages."
    assert stored_files(media_root) == []


def test_an_unknown_media_id_fails_at_once(registered_number, media_root):
    row = media_row(
        registered_number,
        {"id": "990000000000001", "mime_type": "image/jpeg", "sha256": "00" * 32},
    )

    assert download(row) == "failed"

    row = reload(row)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "unknown or expired" in row.error
    assert stored_files(media_root) == []


def test_a_file_that_does_not_match_metas_checksum_fails_as_corrupted(
    simulator, registered_number, media_root
):
    announced = citizen_sends(simulator, registered_number, "image", PHOTO, "image/jpeg")
    other = base64.b64encode(hashlib.sha256(b"what Meta says it sent").digest()).decode()
    row = media_row(registered_number, announced, meta_sha256=other)

    assert download(row) == "failed"

    row = reload(row)
    assert row.status == "failed"
    assert "corrupted" in row.error
    assert stored_files(media_root) == []


# --- retries ------------------------------------------------------------------------------------


def test_an_unreachable_meta_is_retried_and_the_next_attempt_stores_the_file(
    photo, settings, simulator
):
    settings.GRAPH_API_BASE_URL = UNREACHABLE
    with pytest.raises(media.RetryDownload) as retry:
        download(photo)
    assert retry.value.retry_after
    row = reload(photo)
    assert (row.status, row.attempts, row.error) == ("pending", 1, "Could not reach Meta.")

    settings.GRAPH_API_BASE_URL = simulator.base_url
    assert download(photo) == "stored"
    row = reload(photo)
    assert (row.status, row.attempts, row.error) == ("stored", 2, "")


def test_an_expired_download_link_is_retried_with_a_fresh_one(photo, simulator):
    simulator.configure(limits={"media_url_ttl": -60})  # Meta's URLs live 5 minutes
    with pytest.raises(media.RetryDownload):
        download(photo)
    assert reload(photo).status == "pending"

    simulator.configure(limits={"media_url_ttl": 300})
    assert download(photo) == "stored"
    assert reload(photo).attempts == 2


def test_a_failure_on_the_last_attempt_marks_the_media_failed_with_the_reason(photo, settings):
    with agency_scope(photo.agency_id):
        MediaObject.objects.filter(pk=photo.pk).update(attempts=media.MAX_ATTEMPTS - 1)
    settings.GRAPH_API_BASE_URL = UNREACHABLE

    assert download(photo) == "failed"

    row = reload(photo)
    assert (row.status, row.attempts) == ("failed", media.MAX_ATTEMPTS)
    assert (
        row.error
        == f"Gave up after {media.MAX_ATTEMPTS} attempts. Last error: Could not reach Meta."
    )


# --- idempotency --------------------------------------------------------------------------------


def test_downloading_twice_stores_one_file_and_asks_meta_once(photo, registered_number, media_root):
    assert download(photo) == "stored"
    # Meta forgets the file: a second download that asked Meta again would fail.
    CloudAPIClient(
        registered_number.phone_number_id, registered_number.bearer_token()
    ).delete_media(photo.meta_media_id)

    assert download(photo) == "already_stored"

    assert reload(photo).attempts == 1
    assert len(stored_files(media_root)) == 1


def test_a_rejected_file_is_not_downloaded_again(photo):
    with agency_scope(photo.agency_id):
        MediaObject.objects.filter(pk=photo.pk).update(status="rejected", error="too large")

    assert download(photo) == "already_rejected"
    assert reload(photo).attempts == 0


def test_while_one_worker_downloads_another_neither_downloads_nor_counts_an_attempt(
    photo, media_root
):
    with media.download_lease(photo.pk) as held:
        assert held
        with pytest.raises(media.RetryDownload):
            download(photo)

    row = reload(photo)
    assert (row.status, row.attempts) == ("pending", 0)
    assert stored_files(media_root) == []


def test_a_deleted_media_row_is_not_an_error(photo):
    with agency_scope(photo.agency_id):
        MediaObject.objects.filter(pk=photo.pk).delete()

    assert download(photo) == "missing"


# --- the task -----------------------------------------------------------------------------------


@pytest.fixture
def media_queue():
    from messaging.delivery import redis_client

    redis = redis_client()
    redis.delete("media")
    yield redis
    redis.delete("media")


def test_scheduling_enqueues_the_task_on_the_media_queue_after_commit(
    photo, media_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        media.schedule_download(photo)
    assert media_queue.llen("media") == 0  # nothing before the row is committed

    callbacks[0]()

    [raw] = media_queue.lrange("media", 0, -1)
    message = json.loads(raw)
    _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert message["headers"]["task"] == "messaging.download_inbound_media"
    assert kwargs == {"media_id": photo.pk, "agency_id": photo.agency_id}


def test_the_task_stores_the_file(photo):
    tasks.download_inbound_media.apply(
        kwargs={"media_id": photo.pk, "agency_id": photo.agency_id}
    ).get()

    assert reload(photo).status == "stored"


def test_the_task_retries_through_celery_until_the_attempts_run_out(photo, settings):
    settings.GRAPH_API_BASE_URL = UNREACHABLE

    # apply() runs each Celery retry at once instead of after its countdown.
    tasks.download_inbound_media.apply(kwargs={"media_id": photo.pk, "agency_id": photo.agency_id})

    row = reload(photo)
    assert (row.status, row.attempts) == ("failed", media.MAX_ATTEMPTS)
