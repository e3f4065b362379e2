"""The analytics' tables under row-level security: raw SQL in one agency's scope sees and
writes that agency's rows only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from inbox.analytics.models import AnalyticsCursor, ConversationFact, DailyStat
from inbox.analytics.selectors import analytics_report
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db
TABLES = [model._meta.db_table for model in (AnalyticsCursor, DailyStat, ConversationFact)]


def _populate(agency) -> None:
    conversation = ConversationFactory(agency=agency)
    with agency_scope(agency):
        AnalyticsCursor.objects.create(agency=agency)
        DailyStat.objects.create(agency=agency, day=timezone.localdate(), messages_in=1)
        ConversationFact.objects.create(
            agency=agency,
            conversation=conversation,
            opened_at=timezone.now(),
            opened_day=timezone.localdate(),
        )


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_sees_only_the_agency_s_rows(agency_a, agency_b, table):
    _populate(agency_a)
    _populate(agency_b)

    with agency_scope(agency_a), connection.cursor() as cursor:
        cursor.execute(f'SELECT DISTINCT agency_id FROM "{table}"')  # noqa: S608  (our names)
        assert [row[0] for row in cursor.fetchall()] == [agency_a.pk]


def test_a_counter_row_of_another_agency_is_refused(agency_a, agency_b):
    with (
        agency_scope(agency_a),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            'INSERT INTO "inbox_analytics_dailystat" (agency_id, day, team_key, agent_key, '
            "messages_in, messages_out, delivered, read, failed) "
            "VALUES (%s, CURRENT_DATE, 0, 0, 1, 0, 0, 0, 0)",
            [agency_b.pk],
        )


def test_the_report_of_one_agency_counts_none_of_another_s(agency_a, agency_b):
    _populate(agency_a)
    _populate(agency_b)
    today = timezone.localdate()

    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=today, end=today)
    assert (report.total.opened, report.total.messages_in) == (1, 1)
