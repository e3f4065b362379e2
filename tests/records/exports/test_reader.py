"""The streaming reader: chunked keyset queries in id or thread order, never the whole
selection at once; change notices folded into their originals; the selection's filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import Message
from records.exports import reader
from records.exports.redaction import Redactions
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory
from tests.records.exports.conftest import T0

pytestmark = pytest.mark.django_db


def test_rows_come_in_chunks_in_id_order(record, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK", 2)

    with agency_scope(record.agency), CaptureQueriesContext(connection) as queries:
        ids = [row.id for row in reader.rows(record.agency.pk, Selection())]

    assert ids == sorted(m.pk for m in record.messages.values())
    selects = [q["sql"] for q in queries if "messaging_message" in q["sql"]]
    assert len(selects) == 4  # 6 rows, 2 a chunk, and the last empty-handed one
    assert all("LIMIT 2" in sql for sql in selects)


def test_thread_order_is_conversation_then_time(record, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK", 2)
    late_first = InboundMessageFactory(agency=record.agency, conversation=record.conversation)
    with agency_scope(record.agency):
        Message.objects.filter(pk=late_first.pk).update(created_at=T0 - dt.timedelta(days=1))
        ids = [row.id for row in reader.rows(record.agency.pk, Selection(), "thread")]

    assert ids[0] == late_first.pk
    assert ids[1:] == sorted(m.pk for m in record.messages.values())


def test_edit_and_revoke_notices_are_folded_into_their_originals(record):
    InboundMessageFactory(
        agency=record.agency,
        conversation=record.conversation,
        type="edit",
        content={"type": "edit", "edit": {"message": {"type": "text", "text": {"body": "x"}}}},
    )
    with agency_scope(record.agency):
        items = list(reader.items(record.agency.pk, Selection()))

    assert "edit" not in {item.type for item in items}
    edited = next(i for i in items if i.wamid == "wamid.edited")
    assert edited.text == "Thanks a lot, From now on I drive"
    assert edited.edits == [("2026-03-02T14:06:00+00:00", "Thanks a lot")]


def test_a_redacted_message_keeps_no_raw_content_nor_earlier_versions(record):
    edited = record.messages["edited"]
    from records.exports.redaction import Span

    redactions = Redactions(text={edited.pk: (Span(0, 6, "(b)(6)"),)})
    with agency_scope(record.agency):
        item = next(
            i
            for i in reader.items(record.agency.pk, Selection(), redactions=redactions)
            if i.id == edited.pk
        )

    assert item.text == "[REDACTED (b)(6)] a lot, From now on I drive"
    assert item.content is None
    assert item.edits == [] and item.edits_withheld


def test_the_selection_narrows(record):
    with agency_scope(record.agency):
        by_day = list(reader.rows(record.agency.pk, Selection(since=T0 + dt.timedelta(hours=1))))
        by_text = list(reader.rows(record.agency.pk, Selection(query="licence")))

    assert [r.wamid for r in by_day] == ["wamid.deleted"]
    assert [r.wamid for r in by_text] == ["wamid.photo"]


def test_hostile_content_reads_as_empty_text(record):
    hostile = InboundMessageFactory(
        agency=record.agency,
        conversation=record.conversation,
        type="template",
        content={"type": "template", "template": {"components": [{"parameters": "nope"}, 3]}},
    )
    with agency_scope(record.agency):
        item = next(i for i in reader.items(record.agency.pk, Selection()) if i.id == hostile.pk)

    assert item.text == "Template"
