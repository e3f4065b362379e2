"""Processing a stored event: routing to agencies, quarantine, malformed payloads, bounded
retries, and the sweeper that makes the table (not the broker) the source of truth."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.changes import Change
from messaging.webhooks.receive import store_event
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory
from tests.messaging.webhooks.payloads import encode, envelope, messages_change, status

pytestmark = pytest.mark.django_db


class Recorded(list):
    """The handler calls (field, agency, number), and every status item they got."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[dict] = []


@pytest.fixture
def recorded(monkeypatch):
    """Replace the handlers with recorders: these tests are about routing, not handling."""
    calls = Recorded()

    def recorder(change: Change) -> None:
        calls.append((change.field, change.route.agency_id, change.route.phone_number_id))
        calls.statuses.extend(change.value.get("statuses") or [])

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


def _status_change(number, wamid: str) -> dict:
    return messages_change(
        number.phone_number_id, statuses=[status(wamid, "delivered", "14155550100")]
    )


def test_every_entry_and_every_change_is_processed(ingest, recorded, wa_number):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [_status_change(wa_number, "w1"), _status_change(wa_number, "w2")],
            },
            {"id": "2", "changes": [_status_change(wa_number, "w3")]},
        ],
    }
    event = ingest(payload)
    assert event.change_count == 3
    assert sorted(item["id"] for item in recorded.statuses) == ["w1", "w2", "w3"]


def test_changes_of_one_number_from_many_events_are_applied_in_one_call(recorded, wa_number):
    event_ids = [
        store_event(encode(envelope(_status_change(wa_number, f"w{i}"))), "s", "platform")
        for i in range(3)
    ]
    with system_scope():
        assert processing.drain() == 3
    assert len(recorded) == 1
    assert sorted(item["id"] for item in recorded.statuses) == ["w0", "w1", "w2"]
    assert set(WebhookEvent.objects.filter(pk__in=event_ids).values_list("status", flat=True)) == {
        "processed"
    }


def test_a_malformed_change_in_a_merged_group_is_quarantined_alone(monkeypatch, wa_number):
    applied = []

    def handler(change: Change) -> None:
        if any(item.get("broken") for item in change.value.get("statuses", [])):
            raise KeyError("id")
        applied.extend(change.value["statuses"])

    monkeypatch.setattr(processing, "handlers", lambda: {"messages": handler})
    broken = _status_change(wa_number, "bad")
    broken["value"]["statuses"][0]["broken"] = True
    good = store_event(encode(envelope(_status_change(wa_number, "ok"))), "s", "platform")
    bad = store_event(encode(envelope(broken)), "s", "platform")
    with system_scope():
        processing.drain()
    assert [item["id"] for item in applied] == ["ok"]
    assert _event(good).status == WebhookEvent.Status.PROCESSED
    assert _event(bad).status == WebhookEvent.Status.QUARANTINED
    assert "KeyError" in _event(bad).problems[0]["reason"]


def test_a_database_failure_puts_the_whole_batch_back_for_a_retry(monkeypatch, wa_number):
    def handler(change: Change) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(processing, "handlers", lambda: {"messages": handler})
    event_ids = [
        store_event(encode(envelope(_status_change(wa_number, f"w{i}"))), "s", "platform")
        for i in range(2)
    ]
    with system_scope():
        processing.drain()
    for event_id in event_ids:
        event = _event(event_id)
        assert event.status == WebhookEvent.Status.RETRYING
        assert event.attempts == 1
        assert "server closed the connection" in event.error


def test_a_claimed_event_is_not_claimed_twice(wa_number):
    store_event(encode(envelope(_status_change(wa_number, "w"))), "s", "platform")
    assert len(processing.claim_batch(10)) == 1
    assert processing.claim_batch(10) == []


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

    def handler(change: Change) -> None:
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


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"entry": [' * 5_000 + b"]}" * 5_000, "nested too deeply"),
        (b"\xff\xfe{}", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"entry"', "not a JSON object"),
        (b'{"object": "page", "entry": []}', "unexpected object 'page'"),
        (b'{"entry": []}', "unexpected object 'None'"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "`entry` is not a list"),
    ],
)
def test_a_body_that_cannot_be_parsed_fails_at_once_with_its_reason(ingest, body, reason):
    """It never will parse: retrying would only keep it in the way."""
    event = ingest(body)
    assert event.status == WebhookEvent.Status.FAILED
    assert event.error.startswith("Unreadable payload")
    assert reason in event.error
    assert event.attempts == 1
    assert event.next_attempt_at is None


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e999"])
def test_numbers_json_does_not_allow_are_unreadable(ingest, number):
    event = ingest(b'{"object": "whatsapp_business_account", "entry": [], "x": ' + number + b"}")
    assert event.status == WebhookEvent.Status.FAILED
    assert "not JSON" in event.error


def test_a_poison_body_does_not_hold_up_the_other_events_of_its_batch(recorded, wa_number):
    poison = store_event(b"[" * 100_000, "s", "platform")
    good = store_event(encode(envelope(_status_change(wa_number, "w1"))), "s", "platform")
    with system_scope():
        processing.drain()
    assert _event(poison).status == WebhookEvent.Status.FAILED
    assert _event(good).status == WebhookEvent.Status.PROCESSED
    assert [item["id"] for item in recorded.statuses] == ["w1"]


def _failing_handler(monkeypatch, applied: list, exc: Exception) -> None:
    """The messages handler fails on a change marked ``explode`` and applies the others,
    writing a row so that what it did is visible in the database."""

    def handler(change: Change) -> None:
        for item in change.value.get("statuses", []):
            WebhookEvent.objects.filter(pk=change.event_id).update(change_count=99)
            if item.get("explode"):
                raise exc
        applied.extend(item["id"] for item in change.value["statuses"])

    monkeypatch.setattr(processing, "handlers", lambda: {"messages": handler})


def _exploding(number, wamid: str) -> bytes:
    change = _status_change(number, wamid)
    change["value"]["statuses"][0]["explode"] = True
    return encode(envelope(change))


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("a bug"),
        RecursionError("maximum recursion depth exceeded"),
        IntegrityError("duplicate key value violates unique constraint"),
        OperationalError("deadlock detected"),
    ],
    ids=type,
)
def test_any_exception_in_one_change_is_contained_to_its_event(monkeypatch, wa_number, exc):
    applied: list[str] = []
    _failing_handler(monkeypatch, applied, exc)
    before = store_event(encode(envelope(_status_change(wa_number, "w1"))), "s", "platform")
    hostile = store_event(_exploding(wa_number, "bad"), "s", "platform")
    after = store_event(encode(envelope(_status_change(wa_number, "w2"))), "s", "platform")
    with system_scope():
        assert processing.drain() == 3
    assert sorted(applied) == ["w1", "w2"]  # in the same pass
    assert {_event(pk).status for pk in (before, after)} == {WebhookEvent.Status.PROCESSED}
    failed = _event(hostile)
    assert failed.status == WebhookEvent.Status.RETRYING
    assert failed.error.startswith(type(exc).__name__)
    # Only the failing change's savepoint was rolled back: its own write is undone.
    assert failed.change_count == 0


def test_an_event_that_keeps_failing_is_left_for_an_operator_after_bounded_attempts(
    monkeypatch, wa_number, woken
):
    _failing_handler(monkeypatch, [], RuntimeError("a bug"))
    event_id = store_event(_exploding(wa_number, "bad"), "s", "platform")
    with system_scope():
        processing.process_event(event_id)
        for _ in range(processing.MAX_ATTEMPTS - 1):
            assert _event(event_id).status == WebhookEvent.Status.RETRYING
            WebhookEvent.objects.filter(pk=event_id).update(next_attempt_at=timezone.now())
            processing.sweep()  # hands it back once its delay has passed
            processing.process_event(event_id)
    event = _event(event_id)
    assert event.status == WebhookEvent.Status.FAILED
    assert event.attempts == processing.MAX_ATTEMPTS
    assert event.next_attempt_at is None
    assert "RuntimeError: a bug" in event.error


def test_an_event_processed_again_is_not_reprocessed(ingest, recorded, wa_number):
    event = ingest(envelope(messages_change(wa_number.phone_number_id, messages=[])))
    assert processing.process_event(event.pk) == "nothing_to_do"
    assert len(recorded) == 1


# --- the sweeper ---------------------------------------------------------------------------


@pytest.fixture
def woken(monkeypatch):
    calls: list[bool] = []
    monkeypatch.setattr(processing, "wake_drainer", lambda force=False: calls.append(force))
    return calls


def _stored(body: bytes = b"{}", *, age: timedelta) -> int:
    event_id = store_event(body, "sha256=x", "platform")
    WebhookEvent.objects.filter(pk=event_id).update(received_at=timezone.now() - age)
    return event_id


def test_the_sweeper_wakes_a_drainer_for_events_nobody_processed(woken, settings):
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 30
    _stored(age=timedelta(seconds=31))
    _stored(age=timedelta(seconds=5))  # its drainer is probably on the way
    assert processing.sweep() == 1
    assert woken == [True]


def test_the_sweeper_stays_quiet_when_nothing_waits_too_long(woken, settings):
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 30
    _stored(age=timedelta(seconds=5))
    assert processing.sweep() == 0
    assert woken == []


def test_the_sweeper_hands_back_retrying_events_once_their_delay_has_passed(woken):
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
    assert _event(due).status == WebhookEvent.Status.RECEIVED
    assert _event(later).status == WebhookEvent.Status.RETRYING


def test_the_sweeper_hands_back_events_whose_drainer_died(woken):
    abandoned = _stored(age=timedelta(minutes=10))
    busy = _stored(age=timedelta(minutes=10))
    now = timezone.now()
    WebhookEvent.objects.filter(pk=abandoned).update(
        status=WebhookEvent.Status.PROCESSING, next_attempt_at=now - timedelta(seconds=1)
    )
    WebhookEvent.objects.filter(pk=busy).update(
        status=WebhookEvent.Status.PROCESSING, next_attempt_at=now + timedelta(minutes=4)
    )
    processing.sweep()
    assert _event(abandoned).status == WebhookEvent.Status.RECEIVED
    assert _event(busy).status == WebhookEvent.Status.PROCESSING


def test_the_sweeper_leaves_processed_quarantined_and_failed_events_alone(woken):
    for settled in ("processed", "quarantined", "failed"):
        event_id = _stored(age=timedelta(hours=1))
        WebhookEvent.objects.filter(pk=event_id).update(status=settled)
    assert processing.sweep() == 0
    assert woken == []


@pytest.mark.parametrize(
    "hostile",
    [
        envelope({"field": "calls\u0000", "value": {}}),
        envelope({"field": "calls\ud800", "value": {}}),
        envelope(messages_change("123\u0000", messages=[])),
        envelope(messages_change("123\udfff", messages=[])),
        envelope({"field": "account_update", "value": {"event": "X"}}, waba_id="1\u0000"),
        envelope({"field": "account_update", "value": {"event": "X"}}, waba_id="9" * 5000),
        {"object": "whatsapp_business_account\u0000", "entry": []},
        {"object": "\ud800", "entry": []},
    ],
    ids=range(8),
)
def test_values_postgresql_cannot_store_are_recorded_without_jamming_the_batch(
    recorded, wa_number, hostile
):
    """A NUL or a lone surrogate quoted in a reason would make the event unrecordable."""
    bad = store_event(json.dumps(hostile).encode(), "s", "platform")
    good = store_event(encode(envelope(_status_change(wa_number, "w1"))), "s", "platform")
    with system_scope():
        processing.drain()
    assert _event(good).status == WebhookEvent.Status.PROCESSED
    assert _event(bad).status in {"processed", "quarantined", "failed"}  # recorded, not retried
    assert [item["id"] for item in recorded.statuses] == ["w1"]


def test_a_body_of_countless_broken_entries_is_recorded_with_a_bounded_list(ingest):
    body = b'{"object": "whatsapp_business_account", "entry": [' + b"7," * 200_000 + b"7]}"
    event = ingest(body)
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert len(event.problems) == processing.MAX_PROBLEMS + 1
    unlisted = 200_001 - processing.MAX_PROBLEMS
    assert event.problems[-1]["reason"] == f"{unlisted} more problems, not listed"
