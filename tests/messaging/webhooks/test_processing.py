"""Processing a stored event: routing to agencies, quarantine, malformed payloads, bounded
retries, and the sweeper that makes the table (not the broker) the source of truth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import store_event
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory
from tests.messaging.webhooks.payloads import envelope, messages_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(monkeypatch):
    """Replace the handlers with recorders: these tests are about routing, not handling."""
    calls: list[tuple[str, int, str | None]] = []

    def recorder(change: processing.Change) -> None:
        calls.append((change.field, change.route.agency_id, change.route.phone_number_id))

    table = {"messages": recorder, "account_update": recorder}
    monkeypatch.setattr(processing, "handlers", lambda: table)
    return calls


def _event(event_id: int) -> WebhookEvent:
    return WebhookEvent.objects.get(pk=event_id)


def test_each_change_goes_to_the_agency_that_owns_the_number(ingest, recorded, agency_a, agency_b):
    with agency_scope(agency_a):
        number_a = PhoneNumberFactory(agency=agency_a)
    with agency_scope(agency_b):
        number_b = PhoneNumberFactory(agency=agency_b)
    payload = envelope(
        messages_change(number_a.phone_number_id, messages=[]),
        messages_change(number_b.phone_number_id, messages=[]),
    )
    event = ingest(payload)
    assert recorded == [
        ("messages", agency_a.pk, number_a.phone_number_id),
        ("messages", agency_b.pk, number_b.phone_number_id),
    ]
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.change_count == 2


def test_every_entry_and_every_change_is_processed(ingest, recorded, wa_number):
    change = messages_change(wa_number.phone_number_id, messages=[])
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [change, change]}, {"id": "2", "changes": [change]}],
    }
    ingest(payload)
    assert len(recorded) == 3


def test_a_waba_level_change_is_routed_by_the_entry_id(ingest, recorded, wa_number):
    payload = envelope(
        {"field": "account_update", "value": {"event": "PARTNER_ADDED"}},
        waba_id=wa_number.waba.waba_id,
    )
    ingest(payload)
    assert recorded == [("account_update", wa_number.agency_id, None)]


def test_an_unknown_number_is_quarantined_with_the_reason_and_others_still_apply(
    ingest, recorded, wa_number
):
    payload = envelope(
        messages_change("999000999", messages=[]),
        messages_change(wa_number.phone_number_id, messages=[]),
    )
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert [p["reason"] for p in event.problems] == ["unknown phone_number_id 999000999"]
    assert recorded == [("messages", wa_number.agency_id, wa_number.phone_number_id)]


def test_an_unknown_waba_is_quarantined(ingest, recorded):
    payload = envelope({"field": "account_update", "value": {"event": "X"}}, waba_id="424242")
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["reason"] == "unknown WABA id 424242"


def test_a_field_we_do_not_handle_is_noted_but_not_quarantined(ingest, recorded, wa_number):
    payload = envelope({"field": "calls", "value": {"calls": []}})
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.problems == [
        {
            "kind": "ignored",
            "entry": 0,
            "change": 0,
            "field": "calls",
            "reason": "field not handled",
        }
    ]


def test_a_change_that_breaks_its_handler_is_quarantined_without_stopping_the_others(
    ingest, monkeypatch, wa_number
):
    applied = []

    def handler(change: processing.Change) -> None:
        if change.value.get("broken"):
            raise KeyError("id")
        applied.append(change.value)

    monkeypatch.setattr(processing, "handlers", lambda: {"messages": handler})
    broken = messages_change(wa_number.phone_number_id, messages=[])
    broken["value"]["broken"] = True
    event = ingest(envelope(broken, messages_change(wa_number.phone_number_id, messages=[])))
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["kind"] == "invalid"
    assert "KeyError" in event.problems[0]["reason"]
    assert len(applied) == 1


def test_a_change_without_a_value_object_is_quarantined(ingest, recorded):
    event = ingest({"object": "whatsapp_business_account", "entry": [{"changes": ["nope"]}]})
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["reason"] == "malformed change"


def test_a_body_that_is_not_json_is_kept_with_its_error_and_retried_later(ingest):
    event = ingest(b"{not json")
    assert event.status == WebhookEvent.Status.RETRYING
    assert event.error.startswith("Unreadable payload: not JSON")
    assert event.attempts == 1
    assert event.next_attempt_at > timezone.now()


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e999"])
def test_numbers_json_does_not_allow_are_unreadable(ingest, number):
    event = ingest(b'{"object": "whatsapp_business_account", "entry": [], "x": ' + number + b"}")
    assert event.status == WebhookEvent.Status.RETRYING
    assert "not JSON" in event.error


def test_an_unreadable_body_is_left_for_an_operator_after_bounded_attempts(ingest):
    event = ingest(b"[1, 2, 3]")
    with system_scope():
        for _ in range(processing.MAX_ATTEMPTS - 1):
            processing.process_event(event.pk)
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED
    assert event.attempts == processing.MAX_ATTEMPTS
    assert event.next_attempt_at is None
    assert "not a JSON object" in event.error


def test_an_event_processed_again_is_not_reprocessed(ingest, recorded, wa_number):
    event = ingest(envelope(messages_change(wa_number.phone_number_id, messages=[])))
    assert processing.process_event(event.pk) == "nothing_to_do"
    assert len(recorded) == 1


# --- the sweeper ---------------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(processing, "enqueue", ids.append)
    return ids


def _stored(body: bytes = b"{}", *, age: timedelta) -> int:
    event_id = store_event(body, "sha256=x", "platform")
    WebhookEvent.objects.filter(pk=event_id).update(received_at=timezone.now() - age)
    return event_id


def test_the_sweeper_enqueues_events_nobody_processed(enqueued, settings):
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 30
    stale = _stored(age=timedelta(seconds=31))
    _stored(age=timedelta(seconds=5))  # its task is probably still on the way
    assert processing.sweep() == 1
    assert enqueued == [stale]


def test_the_sweeper_enqueues_retrying_events_once_their_delay_has_passed(enqueued):
    due = _stored(age=timedelta(minutes=5))
    later = _stored(age=timedelta(minutes=5))
    now = timezone.now()
    WebhookEvent.objects.filter(pk=due).update(
        status=WebhookEvent.Status.RETRYING, next_attempt_at=now - timedelta(seconds=1)
    )
    WebhookEvent.objects.filter(pk=later).update(
        status=WebhookEvent.Status.RETRYING, next_attempt_at=now + timedelta(minutes=1)
    )
    processing.sweep()
    assert enqueued == [due]


def test_the_sweeper_leaves_processed_quarantined_and_failed_events_alone(enqueued):
    for status in ("processed", "quarantined", "failed"):
        event_id = _stored(age=timedelta(hours=1))
        WebhookEvent.objects.filter(pk=event_id).update(status=status)
    assert processing.sweep() == 0
