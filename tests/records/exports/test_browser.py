"""The export pages in a real headless Chromium, checked with axe (WCAG 2.1 AA): a records
officer fills the form, starts the export and downloads the package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bsp.celery import app as celery_app
from tenants.permissions import Role
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]


@pytest.fixture
def eager() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def test_an_officer_exports_a_conversation_and_downloads_it(page: Page, record, eager, tmp_path):
    from tests.factories import MembershipFactory

    officer = MembershipFactory(agency=record.agency, role=Role.RECORDS_OFFICER).user
    secret = enroll_totp(officer)
    sign_in(page, officer.email)
    expect(page.get_by_label("Code", exact=True)).to_be_visible()
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto("/records/exports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Start the export").click()  # nothing chosen: every message
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export #")
    expect(page.get_by_role("link", name="Download the package")).to_be_visible()
    assert_no_wcag_violations(page)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download the package").click()
    target = tmp_path / "package.zip"
    downloaded.value.save_as(target)
    assert target.stat().st_size > 0

    page.goto("/records/exports/")
    page.get_by_label("From (optional)").fill("2026-03-05")
    page.get_by_label("Up to (optional)").fill("2026-03-01")
    page.get_by_role("button", name="Start the export").click()
    expect(
        page.get_by_role("link", name="Up to (optional): The last day is before")
    ).to_be_visible()
    assert_no_wcag_violations(page)
