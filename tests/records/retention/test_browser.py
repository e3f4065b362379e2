"""The records officers' pages in a real headless Chromium: legal holds (placing one with
the live count), the file plan, an eligibility report and its approval, certificates; axe
finds no WCAG 2.1 AA violation on any of them, at 1280 and 320 CSS pixels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect

from records.holds.services import place_hold
from records.retention import disposition
from records.retention.services import approve_report, compute_eligibility
from records.selection import Selection
from tenants.permissions import Role
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)
from tests.records.holds.helpers import OFFICER, conversation, say
from tests.records.retention.plan import category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]

SIZES = [{"width": 1280, "height": 900}, {"width": 320, "height": 640}]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from records.retention import tasks

    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


def _sign_in_officer(page: Page, make_member) -> None:
    officer = make_member(Role.RECORDS_OFFICER, mfa=False)
    secret = enroll_totp(officer.user)
    sign_in(page, officer.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _fits(page: Page) -> None:
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), page.url


@pytest.mark.parametrize("size", SIZES, ids=["1280px", "320px"])
def test_records_officer_pages_have_no_violations(page, make_member, agency_a, size):
    page.set_viewport_size(size)
    category(agency_a, name="Citizen conversations")
    chat = conversation(agency_a)
    say(chat, "My basement flooded", at=datetime(2026, 3, 1, tzinfo=UTC))
    held_chat = conversation(agency_a)
    say(held_chat, "Claim number 42", at=datetime(2026, 3, 1, tzinfo=UTC))
    hold = place_hold(
        agency_a.pk,
        matter_id="LIT-2026-014",
        reason="Flood damage claims",
        owner_id=None,
        selection=Selection(conversation_id=held_chat.pk),
        actor=OFFICER,
    )
    with time_machine.travel(datetime(2028, 2, 1, tzinfo=UTC), tick=False):
        pending = compute_eligibility(agency_a.pk)
    assert pending is not None
    _sign_in_officer(page, make_member)

    for url in ("/records/holds/", f"/records/holds/{hold.pk}/", "/records/retention/"):
        page.goto(url)
        assert_no_wcag_violations(page)
        if size["width"] == 320:
            _fits(page)

    page.goto("/records/holds/new/")
    page.get_by_label("Words in the messages").fill("flooded")
    expect(page.locator("#hold-preview")).to_contain_text("1 message in 1 conversation")
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Place the hold").click()  # no matter: refused
    expect(page.get_by_role("alert")).to_contain_text("Matter id")
    assert_no_wcag_violations(page)

    page.goto("/records/retention/categories/new/")
    page.get_by_label("Name").fill("Notes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Disposition authority")
    assert_no_wcag_violations(page)

    page.goto(f"/records/retention/reports/{pending.pk}/")
    expect(page.get_by_text("Blocked by a legal hold").first).to_be_visible()
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Approve the disposition").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box")
    assert_no_wcag_violations(page)

    approve_report(agency_a.pk, pending.pk, actor=OFFICER)
    with time_machine.travel(datetime(2028, 2, 2, tzinfo=UTC), tick=False):
        certificate = disposition.execute_report(pending.pk)
    assert certificate is not None
    for url in (
        "/records/retention/reports/",
        "/records/retention/certificates/",
        f"/records/retention/certificates/{certificate.pk}/",
    ):
        page.goto(url)
        assert_no_wcag_violations(page)
        if size["width"] == 320:
            _fits(page)
