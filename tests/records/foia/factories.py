"""One row of every foia table for an agency: for the row-level security matrix
(tests/tenants/test_row_level_security.py calls ``populate_foia``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from records.foia.models import (
    AgencyHoliday,
    ClockEvent,
    ExemptionCode,
    Jurisdiction,
    Production,
    RecordsRequest,
    Redaction,
    RequestActivity,
    RequestItem,
)
from tenants.scoping import agency_scope


def populate_foia(agency, message) -> None:
    with agency_scope(agency):
        jurisdiction = Jurisdiction.objects.create(agency=agency, name="FOIA", response_days=20)
        ExemptionCode.objects.create(
            agency=agency, jurisdiction=jurisdiction, code="(b)(6)", label="Personal privacy"
        )
        AgencyHoliday.objects.create(agency=agency, date=dt.date(2026, 7, 3), name="Independence")
        request = RecordsRequest.objects.create(
            agency=agency,
            number="2026-0001",
            requester_name="R",
            requester_contact="r@example.org",
            received_on=dt.date(2026, 6, 1),
            description="d",
            jurisdiction=jurisdiction,
            status_changed_at=timezone.now(),
            bates_prefix="REQ-",
        )
        ClockEvent.objects.create(
            agency=agency, request=request, kind="extension", on=dt.date(2026, 6, 2), reason="r"
        )
        RequestActivity.objects.create(
            agency=agency, request=request, action="created", detail="d", at=timezone.now()
        )
        item = RequestItem.objects.create(agency=agency, request=request, message=message)
        Redaction.objects.create(
            agency=agency, request=request, item=item, kind="text", start=0, end=1, code="(b)(6)"
        )
        Production.objects.create(
            agency=agency,
            request=request,
            fmt="jsonl",
            bates_prefix="REQ-",
            bates_start=1,
            path="x",
        )
