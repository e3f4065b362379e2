"""The consumer's cost and robustness: a fixed number of queries per batch however many
events it holds, and an event it cannot apply never blocks the agency's stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bsp import events
from bsp.events import types
from bsp.events.models import DomainEvent
from bsp.events.selectors import as_message
from inbox.analytics.models import AnalyticsCursor, ConversationFact, DailyStat
from inbox.analytics.services import analytics_consumer
from messaging.models import Message
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


def _busy(agency, conversations: int) -> list[str]:
    """Per conversation: created, a citizen's message, a staff reply, its delivery and a
    resolution, published as the producers do; the batch as the dispatcher hands it over."""
    with agency_scope(agency), transaction.atomic():
        batch: list[events.Event] = []
        for _ in range(conversations):
            conversation = ConversationFactory(agency=agency)
            reply = InboundMessageFactory(
                agency=agency,
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                status=Message.Status.DELIVERED,
                sender_type=Message.SenderType.AUTOMATION,
                received_at=None,
            )
            subject = {"conversation": conversation.pk, "contact": conversation.contact_id}
            batch += [
                events.Event(types.CONVERSATION_CREATED, subject),
                events.Event(
                    types.MESSAGE_RECEIVED,
                    {**subject, "message": 0},
                    {"type": "text", "sender_type": "contact", "received_at": AT},
                ),
                events.Event(
                    types.MESSAGE_QUEUED,
                    {**subject, "message": reply.pk},
                    {"type": "text", "sender_type": "automation", "sender_user": None},
                ),
                events.Event(
                    types.MESSAGE_STATUS,
                    {**subject, "message": reply.pk},
                    {"status": "delivered", "previous": "sent", "at": AT},
                ),
                events.Event(types.NOTE_ADDED, subject, {}),
                events.Event(
                    types.CONVERSATION_STATUS, subject, {"status": "resolved", "previous": "open"}
                ),
            ]
        events.publish_many(agency.pk, batch)
        rows = DomainEvent.objects.order_by("sequence").values(
            "sequence", "type", "subject", "payload", "created_at"
        )
        return [json.dumps(as_message(agency.pk, row), default=str) for row in rows]


def _queries(agency, messages: list[str]) -> int:
    with agency_scope(agency), CaptureQueriesContext(connection) as queries:
        analytics_consumer(agency.pk, messages)
    return len(queries.captured_queries)


def test_a_batch_costs_the_same_queries_however_many_events(agency_a, agency_b):
    small, large = _busy(agency_a, 2), _busy(agency_b, 60)

    assert _queries(agency_a, small) == _queries(agency_b, large)
    with agency_scope(agency_b):
        assert ConversationFact.objects.count() == 60
        assert sum(DailyStat.objects.values_list("delivered", flat=True)) == 60


def test_a_batch_with_nothing_to_count_moves_the_cursor_only(agency_a):
    conversation = ConversationFactory(agency=agency_a)
    with agency_scope(agency_a), transaction.atomic():
        for labels in (["roads"], ["parks"]):
            events.publish(
                agency_id=agency_a.pk,
                type=types.CONVERSATION_LABELS,
                subject={"conversation": conversation.pk},
                payload={"labels": labels},
            )
        rows = DomainEvent.objects.order_by("sequence").values()
        first, second = (json.dumps(as_message(agency_a.pk, row), default=str) for row in rows)
    _queries(agency_a, [first])  # the agency's first batch creates the cursor

    # Its savepoint, the locked cursor, the cursor moved, the savepoint released.
    assert _queries(agency_a, [second]) == 4
    with agency_scope(agency_a):
        assert AnalyticsCursor.objects.get().last_sequence == 2
        assert not DailyStat.objects.exists()


def test_an_event_about_a_conversation_that_is_gone_is_skipped(agency_a):
    real = ConversationFactory(agency=agency_a)
    batch = [
        {
            "sequence": n + 1,
            "type": types.MESSAGE_RECEIVED,
            "subject": {"conversation": pk, "message": 0},
            "payload": {"type": "text", "sender_type": "contact", "received_at": AT.isoformat()},
            "created_at": AT.isoformat(),
        }
        for n, pk in enumerate([987654321, real.pk])
    ]

    with agency_scope(agency_a), transaction.atomic():
        analytics_consumer(agency_a.pk, [json.dumps(event) for event in batch])
        assert [f.conversation_id for f in ConversationFact.objects.all()] == [real.pk]
        assert AnalyticsCursor.objects.get().last_sequence == 2


@pytest.mark.parametrize(
    "event",
    [
        {"type": types.MESSAGE_STATUS, "subject": {"conversation": "x"}, "payload": None},
        {"type": types.MESSAGE_QUEUED, "subject": {}, "payload": {"sender_user": [1]}},
        {"type": types.CONVERSATION_STATUS, "subject": {"conversation": True}, "payload": {}},
        {"type": types.MESSAGE_RECEIVED, "subject": {"conversation": 1}, "created_at": "soon"},
    ],
)
def test_a_malformed_event_is_skipped_and_the_cursor_moves(agency_a, event, caplog):
    with agency_scope(agency_a), transaction.atomic():
        analytics_consumer(agency_a.pk, [json.dumps({"sequence": 7, **event})])
        assert AnalyticsCursor.objects.get().last_sequence == 7
