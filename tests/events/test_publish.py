"""publish() / publish_many(): the outbox written in the change's own transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from bsp import events
from bsp.events import types
from bsp.events.models import DomainEvent
from bsp.events.selectors import events_after
from tenants.scoping import agency_scope, system_scope

pytestmark = pytest.mark.django_db(transaction=True)


def _stream(agency_id: int) -> list[tuple[int, str, dict]]:
    with system_scope():
        rows = DomainEvent.objects.filter(agency_id=agency_id).order_by("sequence")
        return [(e.sequence, e.type, e.subject) for e in rows]


def test_events_get_gap_free_sequences_per_agency_in_publish_order(agency_a, agency_b):
    with agency_scope(agency_a), transaction.atomic():
        events.publish(agency_id=agency_a.pk, type=types.MESSAGE_RECEIVED, subject={"message": 1})
        events.publish_many(
            agency_a.pk,
            [
                events.Event(types.MESSAGE_STATUS, {"message": 1}, {"status": "read"}),
                (types.CONSENT_CHANGED, {"contact": 2}, {"status": "opted_out"}),
            ],
        )
    with agency_scope(agency_b), transaction.atomic():
        events.publish(agency_id=agency_b.pk, type=types.MESSAGE_RECEIVED, subject={"message": 9})

    assert _stream(agency_a.pk) == [
        (1, "message.received", {"message": 1}),
        (2, "message.status", {"message": 1}),
        (3, "consent.changed", {"contact": 2}),
    ]
    assert _stream(agency_b.pk) == [(1, "message.received", {"message": 9})]


def test_a_rollback_publishes_nothing_and_leaves_no_gap(agency_a):
    with agency_scope(agency_a):
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish(agency_id=agency_a.pk, type=types.MESSAGE_RECEIVED, subject={"m": 1})
            raise RuntimeError("the change failed")
        with transaction.atomic():
            events.publish(agency_id=agency_a.pk, type=types.MESSAGE_RECEIVED, subject={"m": 2})

    assert _stream(agency_a.pk) == [(1, "message.received", {"m": 2})]


def test_publishing_outside_a_transaction_is_refused(agency_a):
    with agency_scope(agency_a), pytest.raises(events.OutsideTransaction):
        events.publish(agency_id=agency_a.pk, type=types.MESSAGE_RECEIVED, subject={"m": 1})

    assert _stream(agency_a.pk) == []


def test_readers_without_redis_poll_the_table_after_the_last_sequence_they_saw(agency_a):
    with agency_scope(agency_a), transaction.atomic():
        events.publish_many(
            agency_a.pk, [(types.MESSAGE_RECEIVED, {"message": n}, {}) for n in range(1, 6)]
        )

    with agency_scope(agency_a):
        first = events_after(agency_a.pk, 0, limit=3)
        rest = events_after(agency_a.pk, first[-1]["sequence"], limit=3)

    assert [e["subject"]["message"] for e in first] == [1, 2, 3]
    assert [(e["sequence"], e["type"]) for e in rest] == [
        (4, "message.received"),
        (5, "message.received"),
    ]
