"""The integrations tables under row-level security: with agency A's scope set, a raw
SELECT sees A's rows only (until the RLS matrix of tests/tenants populates them too)."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.scoping import agency_scope
from tests.integrations.factories import populate_integrations

TABLES = ["integrations_webhooksubscription", "integrations_delivery", "integrations_webhookcursor"]


@pytest.mark.parametrize("table", TABLES)
def test_a_raw_select_sees_only_the_agencys_rows(table, agency_a, agency_b):
    populate_integrations(agency_a)
    populate_integrations(agency_b)
    with agency_scope(agency_a), connection.cursor() as cursor:
        cursor.execute(f'SELECT agency_id FROM "{table}"')  # noqa: S608 (our table names)
        assert {row[0] for row in cursor.fetchall()} == {agency_a.pk}
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT agency_id FROM "{table}"')  # noqa: S608
        assert cursor.fetchall() == []
