"""Inbound media is captured when the message arrives; a file that cannot be fetched (after
its retries) is an alert: a ``media.missing`` event on the stream, a flag on the message and
a count for operators (issue 12 §1). Meta is the simulator, over HTTP."""

from __future__ import annotations

import base64
import time

import pytest
from django.db import transaction

from bsp.events.models import DomainEvent
from messaging import tasks
from messaging.models import MediaObject, Message
from messaging.webhooks import inbound, media
from messaging.webhooks.changes import Change, Route
from records.capture import alerts
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory
from tests.messaging.webhooks.payloads import contact, messages_change, wamid

CITIZEN = "14155550100"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"a broken streetlight " * 200
UNKNOWN_MEDIA_ID = "990000000000001"  # the simulator never issued it: Graph error 100
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def number(agency_a, simulator, settings):
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    number = PhoneNumberFactory(agency=agency_a)
    with agency_scope(agency_a):
        simulator.register_number(
            number.phone_number_id,
            display_phone_number="15550100001",
            access_token=number.waba.access_token,
            waba_id=number.waba.waba_id,
        )
    return number


@pytest.fixture
def published_downloads():
    """The kwargs of every download task published (to the real broker)."""
    from celery.signals import before_task_publish

    seen: list[dict] = []

    def keep(sender=None, body=None, **_):
        if sender == "messaging.download_inbound_media":
            seen.append(body[1])

    before_task_publish.connect(keep, weak=False)
    yield seen
    before_task_publish.disconnect(keep)


def receive_image(number, media_id: str, sha256: str = "") -> Message:
    """The webhook of a citizen's photo, processed as the worker does; the stored row."""
    message = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": sha256},
    }
    value = messages_change(
        number.phone_number_id, messages=[message], contacts=[contact(CITIZEN, "Ana")]
    )["value"]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    with agency_scope(number.agency_id), transaction.atomic():
        inbound.handle_messages(Change(0, "messages", value, route, None))
    with agency_scope(number.agency_id):
        return Message.objects.select_related("media").get(wamid=message["id"])


def alerts_for(agency_id: int) -> list[DomainEvent]:
    with agency_scope(agency_id):
        return list(DomainEvent.objects.filter(agency_id=agency_id, type=alerts.MEDIA_MISSING))


def media_pk(message: Message) -> int:
    assert message.media_id is not None
    return message.media_id


def run_download(message: Message) -> None:
    """The task, as a worker runs it (in the agency's scope, by ids)."""
    tasks.download_inbound_media.run(media_id=media_pk(message), agency_id=message.agency_id)


def reload(message: Message) -> Message:
    with agency_scope(message.agency_id):
        return Message.objects.select_related("media").get(pk=message.pk)


def test_an_inbound_photo_is_downloaded_by_a_task_enqueued_at_capture(
    number, simulator, django_capture_on_commit_callbacks
):
    sent = simulator.trigger_inbound(
        number.phone_number_id,
        CITIZEN,
        type="image",
        image={"mime_type": "image/jpeg", "content_base64": base64.b64encode(PHOTO).decode()},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = receive_image(number, sent["image"]["id"], sent["image"]["sha256"])
    assert row.media.status == MediaObject.Status.PENDING
    # The download task is enqueued once the row is committed (the task is run below).
    assert [c for c in callbacks if "_schedule_download" in c.__qualname__]

    run_download(row)

    row = reload(row)
    assert row.media.status == MediaObject.Status.STORED
    assert not alerts.message_media_missing(row)
    assert alerts_for(row.agency_id) == []


def test_a_media_id_the_simulator_refuses_is_an_alert_not_a_silent_gap(number):
    row = receive_image(number, UNKNOWN_MEDIA_ID)

    run_download(row)

    row = reload(row)
    assert row.media.status == MediaObject.Status.FAILED
    assert "unknown or expired" in row.media.error
    assert alerts.message_media_missing(row)
    [event] = alerts_for(row.agency_id)
    assert event.subject == {
        "media": row.media_id,
        "message": row.pk,
        "conversation": row.conversation_id,
    }
    assert event.payload["status"] == "failed"
    assert event.payload["kind"] == "image"
    assert event.payload["wamid"] == row.wamid


def test_a_download_that_fails_on_every_retry_raises_the_alert_on_the_last(
    number, settings, simulator
):
    row = receive_image(number, UNKNOWN_MEDIA_ID)
    settings.GRAPH_API_BASE_URL = UNREACHABLE
    for _ in range(media.MAX_ATTEMPTS - 1):
        with agency_scope(row.agency_id), pytest.raises(media.RetryDownload):
            media.download(media_pk(row))
        assert alerts_for(row.agency_id) == []  # retrying is not yet a loss
    with agency_scope(row.agency_id):
        assert media.download(media_pk(row)) == "failed"

    row = reload(row)
    assert row.media.attempts == media.MAX_ATTEMPTS
    assert "Gave up after" in row.media.error
    assert [e.payload["status"] for e in alerts_for(row.agency_id)] == ["failed"]


def test_a_second_run_of_the_task_raises_no_second_alert(number):
    row = receive_image(number, UNKNOWN_MEDIA_ID)
    for _ in range(2):
        run_download(row)
    assert len(alerts_for(row.agency_id)) == 1


def test_operators_see_the_count_of_missing_media_per_agency(number, agency_b):
    receive_image(number, "990000000000002")  # still waiting for its download
    missing = receive_image(number, UNKNOWN_MEDIA_ID)
    run_download(missing)

    with system_scope():
        assert alerts.missing_media_counts() == {number.agency_id: {"missing": 1, "pending": 1}}
    with agency_scope(agency_b):
        assert alerts.missing_media_counts() == {}


# --- the sweeper --------------------------------------------------------------------------------


def test_media_whose_download_task_was_lost_is_enqueued_again_and_then_captured(
    number, simulator, published_downloads, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from records.capture import sweep

    sent = simulator.trigger_inbound(
        number.phone_number_id,
        CITIZEN,
        type="image",
        image={"mime_type": "image/jpeg", "content_base64": base64.b64encode(PHOTO).decode()},
    )
    # The test's transaction never commits: the download task enqueued at capture is lost.
    row = receive_image(number, sent["image"]["id"], sent["image"]["sha256"])
    with system_scope():
        assert sweep.sweep_pending_media() == 0  # too recent: its task may still be coming
    later = timezone.now() + sweep.STUCK_AFTER + timedelta(minutes=1)
    enqueued = django_capture_on_commit_callbacks(execute=True)
    with time_machine.travel(later), system_scope(), enqueued:
        assert sweep.sweep_pending_media() == 1
    assert published_downloads == [{"media_id": row.media_id, "agency_id": row.agency_id}]

    run_download(row)  # what the re-enqueued task does
    assert reload(row).media.status == MediaObject.Status.STORED
    with time_machine.travel(later), system_scope():
        assert sweep.sweep_pending_media() == 0
