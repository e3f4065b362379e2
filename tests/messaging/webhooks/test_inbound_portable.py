"""The batch and window scenarios of test_inbound_batches.py and
test_inbound_conversations.py again, through the portable path that SQLite (`make demo`)
takes: the windows move in an UPDATE of CASE expressions instead of PostgreSQL's unnest.
Here it runs on PostgreSQL with the PostgreSQL-only statement switched off; the demo smoke
test runs it on SQLite."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsp.events import services as event_services
from messaging.models import Conversation
from messaging.webhooks.inbound import contacts as inbound_contacts
from tests.messaging.webhooks import test_inbound_batches
from tests.messaging.webhooks.test_inbound_batches import (  # noqa: F401  (collected here again)
    a_change,
    citizens,
    handle,
    test_a_batch_never_moves_a_window_backwards,
    test_a_change_of_fifty_messages_takes_as_many_queries_as_one_of_five,
    test_a_citizen_writing_several_times_has_one_contact_and_the_window_of_the_latest,
    test_fifty_messages_from_fifty_known_citizens_take_a_fixed_number_of_queries,
    test_fifty_messages_from_fifty_new_citizens_take_a_fixed_number_of_queries,
    test_messages_already_stored_are_skipped_and_the_others_stored,
    texts,
)
from tests.messaging.webhooks.test_inbound_conversations import (  # noqa: F401
    test_a_late_old_message_does_not_shrink_the_window,
    test_a_message_opens_the_window_for_24_hours_from_its_own_timestamp,
    test_a_message_reopens_a_resolved_conversation,
    test_a_message_timestamped_in_the_future_opens_the_window_from_now,
    test_a_newer_message_extends_an_open_window,
    test_a_redelivered_message_does_not_reopen_a_resolved_conversation,
    test_every_message_of_a_batch_is_stored_with_its_own_contact,
)


@pytest.fixture(autouse=True)
def portable_path(monkeypatch):
    """What `inbound` sees of the database: anything but PostgreSQL."""
    monkeypatch.setattr(inbound_contacts, "connection", SimpleNamespace(vendor="sqlite"))
    monkeypatch.setattr(event_services, "on_postgresql", lambda: False)  # the events too
    # Two statements more than PostgreSQL's path: the counter and the events are separate
    # INSERTs, and the windows are read before they move (no UPDATE … RETURNING of both).
    monkeypatch.setattr(test_inbound_batches, "MAX_QUERIES", test_inbound_batches.MAX_QUERIES + 2)


def test_the_portable_path_uses_no_postgresql_only_sql(wa_number, scope_a):
    with CaptureQueriesContext(connection) as queries:
        handle(a_change(wa_number, texts(citizens(3))))
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "unnest" not in sql and "FOR UPDATE" not in sql
    assert set(Conversation.objects.values_list("status", flat=True)) == {"open"}
