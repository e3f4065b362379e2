"""Every foia table is isolated by agency at the database (row-level security): raw SQL
with no agency set sees nothing, with agency A set only A's rows."""

from __future__ import annotations

import pytest
from django.db import connection

from records.foia import models
from tenants.scoping import agency_scope, no_scope
from tests.factories import InboundMessageFactory
from tests.records.foia.factories import populate_foia

pytestmark = pytest.mark.django_db
TABLES = sorted(
    m._meta.db_table
    for m in (
        models.Jurisdiction,
        models.ExemptionCode,
        models.AgencyHoliday,
        models.RecordsRequest,
        models.ClockEvent,
        models.RequestActivity,
        models.RequestItem,
        models.Redaction,
        models.Production,
    )
)


def agency_ids(table: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT agency_id FROM "{table}"')  # noqa: S608 (our table names)
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def both(agency_a, agency_b):
    for agency in (agency_a, agency_b):
        populate_foia(agency, InboundMessageFactory(agency=agency))


def test_every_foia_table_has_forced_row_level_security(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.polname = 'agency_isolation'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert set(TABLES) <= protected


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_without_an_agency_sees_no_row(both, table):
    with no_scope():
        assert agency_ids(table) == []


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_in_agency_a_sees_only_its_rows(both, agency_a, table):
    with agency_scope(agency_a):
        assert set(agency_ids(table)) == {agency_a.pk}
