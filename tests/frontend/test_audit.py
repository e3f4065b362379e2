"""Audit log pages: the agency's own events, newest first, in its time zone, chain verified."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.urls import reverse

from records.audit import Actor, ChainReport, record_event
from records.models import AuditEvent
from tenants.models import Agency


def _event(agency: Agency, action: str = "test.done", **changes: object) -> AuditEvent:
    return record_event(
        agency_id=agency.pk,
        actor=Actor("user", "1", "clerk@example.gov"),
        action=action,
        changes=changes,
    )


def test_the_log_lists_events_newest_first(admin_client, agency_a):
    _event(agency_a, "first.thing")
    _event(agency_a, "second.thing")
    page = admin_client.get(reverse("frontend:audit")).text
    assert page.index("second.thing") < page.index("first.thing")


def test_the_log_shows_only_the_current_agencys_events(admin_client, agency_b):
    _event(agency_b, "agency_b.secret")
    assert "agency_b.secret" not in admin_client.get(reverse("frontend:audit")).text


def test_the_log_reports_an_intact_chain_with_its_count(admin_client, agency_a):
    _event(agency_a)
    page = admin_client.get(reverse("frontend:audit"), {"verify": 1}).text
    assert "Chain intact (" in page


def test_the_chain_is_verified_only_when_asked_for(admin_client, agency_a):
    _event(agency_a)
    page = admin_client.get(reverse("frontend:audit")).text
    assert "Chain intact (" not in page
    assert "Verify the chain now" in page


def test_a_broken_chain_names_the_first_broken_event(agency_a, scope_a):
    event = _event(agency_a)
    report = ChainReport(agency_a.pk, 0, event, "content does not match its hash")
    html = render_to_string("frontend/audit/chain_status.html", {"chain": report})
    assert f"Chain broken at event #{event.sequence}" in html
    assert "content does not match its hash" in html


def test_times_are_shown_in_the_agencys_time_zone(admin_client, agency_a):
    event = _event(agency_a)
    local = event.created_at.astimezone(ZoneInfo("America/Chicago"))
    page = admin_client.get(reverse("frontend:audit")).text
    assert datetime.strftime(local, "%H:%M:%S") in page
    assert "Times are in America/Chicago" in page


def test_the_log_is_paginated(admin_client, agency_a):
    for _ in range(51):
        _event(agency_a)
    page = admin_client.get(reverse("frontend:audit")).text
    assert "Page 1 of 2" in page
    assert "Page 2 of 2" in admin_client.get(reverse("frontend:audit"), {"page": 2}).text


def test_the_event_page_shows_changes_as_old_and_new(admin_client, agency_a):
    event = _event(agency_a, "membership.role_changed", role=["agent", "supervisor"])
    page = admin_client.get(reverse("frontend:audit_event", args=[event.pk])).text
    assert "agent → supervisor" in page
    assert event.hash in page
