"""The file plan, disposition and certificate pages: records officers only; the file plan's
rules next to their fields; approve and reject; certificates; never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from records.retention import disposition
from records.retention.models import DispositionReport, RecordCategory
from records.retention.services import approve_report, compute_eligibility
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, say
from tests.records.retention.plan import category

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Citizen conversations",
    "kind": "conversations",
    "authority": "GRS 6.1 item 011",
    "cutoff": "calendar_year",
    "retain_years": "7",
    "retain_months": "0",
    "retain_days": "0",
    "action": "destroy",
}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from records.retention import tasks

    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


@pytest.fixture
def officer(make_member, client_for):
    return client_for(make_member(Role.RECORDS_OFFICER))


def due_report(agency) -> DispositionReport:
    category(agency)
    say(conversation(agency), at=datetime(2026, 3, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2028, 2, 1, tzinfo=UTC), tick=False):
        report = compute_eligibility(agency.pk)
    assert report is not None
    return report


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN])
def test_other_roles_get_403(make_member, client_for, role):
    client = client_for(make_member(role))
    for name in ("plan", "category_new", "reports", "certificates"):
        assert client.get(reverse(f"records_retention:{name}")).status_code == 403


def test_adding_a_category(officer, agency_a):
    response = officer.post(reverse("records_retention:category_new"), VALID)
    assert response.status_code == 302
    with agency_scope(agency_a):
        saved = RecordCategory.objects.get()
    assert (saved.authority, saved.retain_years) == ("GRS 6.1 item 011", 7)
    page = officer.get(reverse("records_retention:plan")).content.decode()
    assert "GRS 6.1 item 011" in page and "7 years" in page


def test_a_category_without_authority_is_refused_next_to_the_field(officer):
    response = officer.post(reverse("records_retention:category_new"), VALID | {"authority": " "})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_authority"' in page and "usa-form-group--error" in page
    assert "GRS 6.1 item 011" in page  # the error says what an authority looks like


def test_destroying_audit_events_is_refused_next_to_the_action(officer):
    response = officer.post(
        reverse("records_retention:category_new"), VALID | {"kind": "audit_events"}
    )
    assert "never destroyed by the platform" in response.content.decode()


@pytest.mark.parametrize(
    "changes",
    [
        {"retain_years": "-1"},
        {"retain_years": "99999999999999999999"},
        {"kind": "everything"},
        {"phone_number": "0"},
        {"team": "x"},
        {"cutoff": ""},
    ],
)
def test_hostile_input_is_refused_in_words(officer, changes):
    response = officer.post(reverse("records_retention:category_new"), VALID | changes)
    assert response.status_code == 200
    assert "usa-alert--error" in response.content.decode()


def test_editing_and_removing_a_category(officer, agency_a):
    saved = category(agency_a)
    url = reverse("records_retention:category_edit", args=[saved.pk])
    assert "GRS 6.1 item 011" in officer.get(url).content.decode()
    officer.post(url, VALID | {"retain_years": "3"})
    with agency_scope(agency_a):
        saved.refresh_from_db()
    assert saved.retain_years == 3
    officer.post(reverse("records_retention:category_delete", args=[saved.pk]))
    with agency_scope(agency_a):
        assert not RecordCategory.objects.exists()


def test_the_fiscal_year_is_saved(officer, agency_a):
    officer.post(reverse("records_retention:fiscal_year"), {"month": "7"})
    from records.retention.selectors import file_plan

    with agency_scope(agency_a):
        assert file_plan(agency_a.pk).fiscal_year_start_month == 7
    assert (
        officer.post(reverse("records_retention:fiscal_year"), {"month": "13"}).status_code == 200
    )


def test_approving_a_report_needs_the_confirmation(officer, agency_a):
    report = due_report(agency_a)
    url = reverse("records_retention:approve", args=[report.pk])
    assert "Tick the box to approve" in officer.post(url, {}).content.decode()
    assert officer.post(url, {"confirm": "on"}).status_code == 302
    with agency_scope(agency_a):
        report.refresh_from_db()
    assert report.status == "approved"
    page = officer.get(reverse("records_retention:report", args=[report.pk])).content.decode()
    assert "Approve the disposition" not in page


def test_rejecting_a_report_needs_a_reason(officer, agency_a):
    report = due_report(agency_a)
    url = reverse("records_retention:reject", args=[report.pk])
    assert "This field is required" in officer.post(url, {"reason": ""}).content.decode()
    officer.post(url, {"reason": "Program audit pending"})
    with agency_scope(agency_a):
        report.refresh_from_db()
    assert report.status == "rejected"


def test_the_certificate_pages(officer, agency_a):
    report = due_report(agency_a)
    approve_report(agency_a.pk, report.pk, actor=OFFICER)
    with time_machine.travel(datetime(2028, 2, 2, tzinfo=UTC), tick=False):
        certificate = disposition.execute_report(report.pk)
    assert certificate is not None
    listing = officer.get(reverse("records_retention:certificates")).content.decode()
    assert "No. 1" in listing
    page = officer.get(reverse("records_retention:certificate", args=[certificate.pk]))
    assert certificate.leaf_sha256 in page.content.decode()


def test_another_agencys_rows_are_404(officer, agency_b):
    report = due_report(agency_b)
    assert officer.get(reverse("records_retention:report", args=[report.pk])).status_code == 404
    with agency_scope(agency_b):
        other = RecordCategory.objects.get()
    url = reverse("records_retention:category_edit", args=[other.pk])
    assert officer.get(url).status_code == 404
