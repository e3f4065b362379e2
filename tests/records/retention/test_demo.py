"""The demo's file plan, hold and eligibility report (records.retention.demo.seed)."""

from __future__ import annotations

import pytest

from records.holds.models import LegalHold
from records.retention import demo
from records.retention.models import DispositionReport, RecordCategory
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_file_plan_an_open_hold_and_a_report(agency_a):
    PhoneNumberFactory(agency=agency_a)
    demo.seed(agency_a)
    demo.seed(agency_a)  # idempotent
    with agency_scope(agency_a):
        authorities = set(RecordCategory.objects.values_list("authority", flat=True))
        assert "GRS 6.1 item 011" in authorities
        assert RecordCategory.objects.count() == len(demo.FILE_PLAN)
        assert LegalHold.objects.get().matter_id == "LIT-2026-014"
        report = DispositionReport.objects.get()
        assert report.status == "pending"
        assert report.items.filter(record_type="conversation", status="eligible").count() == 1
