"""One row of every integrations table, for the row-level security matrix
(tests/tenants/test_row_level_security.py calls ``populate_integrations``)."""

from __future__ import annotations

from bsp.integrations.models import Delivery, WebhookCursor, WebhookSubscription
from tenants.scoping import agency_scope


def populate_integrations(agency) -> None:
    with agency_scope(agency):
        sub = WebhookSubscription.objects.create(
            agency=agency,
            url="https://hooks.example.gov/in",
            events=["message.status"],
            secret="whsec_test",
        )
        Delivery.objects.create(
            agency=agency, subscription=sub, event_id="evt_1", type="message.status", body="{}"
        )
        WebhookCursor.objects.create(agency=agency)
