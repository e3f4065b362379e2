"""The status scenarios of test_statuses.py again, through the portable path that SQLite
(`make demo`) takes: the same events give the same rows. Here it runs on PostgreSQL with the
PostgreSQL-only statements switched off; the demo smoke test runs it on SQLite. Left out:
the query count of a large batch, which only the batched SQL promises."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsp.events import services as event_services
from messaging.webhooks import statuses
from tests.messaging.webhooks.payloads import status
from tests.messaging.webhooks.test_statuses import (  # noqa: F401  (collected here again)
    CITIZEN,
    PRICING,
    citizen,
    conversation,
    reload,
    sent_message,
    statuses_of,
    test_a_failure_after_sent_fails_the_message_and_keeps_the_sent_time,
    test_a_failure_without_an_error_object_still_fails_the_message,
    test_a_generic_failure_keeps_meta_words_and_touches_nothing_else,
    test_a_later_duplicate_of_a_status_keeps_the_first_time,
    test_a_later_status_keeps_the_conversation_expiry_of_the_first,
    test_a_message_that_already_has_a_wamid_is_not_reassigned,
    test_a_parked_failure_applies_with_its_side_effects,
    test_a_played_voice_message_counts_as_read,
    test_a_queued_message_named_by_opaque_data_is_not_claimed,
    test_a_redelivered_failure_does_not_close_a_window_reopened_since,
    test_a_status_clears_the_outcome_unknown_verdict_of_the_reconciler,
    test_a_status_for_an_unknown_wamid_is_parked_once,
    test_a_status_from_another_number_leaves_its_namesake_alone,
    test_a_status_naming_an_inbound_message_leaves_it_alone,
    test_a_status_proves_a_send_whose_worker_died_after_the_http_call,
    test_a_status_with_foreign_opaque_data_stays_parked,
    test_concurrent_workers_merge_into_the_latest_row_not_a_stale_read,
    test_delivered_records_the_time_and_implies_sent,
    test_delivery_on_another_device_wins_over_a_failure_which_stays_recorded,
    test_every_arrival_order_ends_read_with_every_time,
    test_every_status_of_a_message_in_one_batch_in_reverse_order,
    test_failure_190_disconnects_the_number_and_alerts_the_admins,
    test_failure_131026_marks_the_contact_unreachable,
    test_failure_131047_keeps_the_reason_and_closes_the_conversation_window,
    test_failure_131047_leaves_a_window_the_citizen_reopened_after_it,
    test_odd_items_are_skipped_and_the_others_applied,
    test_opaque_data_naming_a_message_of_another_number_does_nothing_to_it,
    test_opaque_data_naming_another_agencys_message_does_nothing_to_it,
    test_parked_statuses_apply_when_the_send_records_the_wamid,
    test_read_records_the_time,
    test_read_without_delivered_implies_delivery_at_the_read_time,
    test_sent_arriving_after_the_failure_does_not_undo_it,
    test_sent_records_the_time_and_keeps_meta_conversation_and_pricing,
    test_statuses_that_are_not_a_list_quarantine_the_change,
    test_the_periodic_job_applies_parked_statuses_whose_wamid_exists,
    test_the_periodic_job_drops_statuses_parked_for_more_than_7_days,
    test_the_same_status_twice_changes_nothing_the_second_time,
    unrecorded,
)


@pytest.fixture(autouse=True)
def portable_path(monkeypatch):
    """What `statuses` sees of the database: anything but PostgreSQL."""
    monkeypatch.setattr(statuses, "connection", SimpleNamespace(vendor="sqlite"))
    monkeypatch.setattr(event_services, "on_postgresql", lambda: False)  # the events too


def test_the_portable_path_uses_no_postgresql_only_sql(
    ingest,
    wa_number,
    sent_message,  # noqa: F811  (the fixture imported above)
):
    with CaptureQueriesContext(connection) as queries:
        ingest(statuses_of(wa_number, status(sent_message.wamid, "read", CITIZEN, pricing=PRICING)))
    # Claiming the event (messaging_webhookevent) is PostgreSQL-aware Django; the statuses are
    # what this path is about.
    sql = " ".join(
        query["sql"]
        for query in queries.captured_queries
        if "messaging_webhookevent" not in query["sql"]
    )
    assert "unnest" not in sql and "FOR UPDATE" not in sql
    message = reload(sent_message)
    assert (message.status, message.pricing) == ("read", PRICING)
