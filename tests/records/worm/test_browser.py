"""The archive page in a real headless Chromium: free of WCAG 2.1 AA violations (axe-core),
with versions listed, with one conversation's, and with the error of a wrong number."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from records.worm import services
from tenants.permissions import Role
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]


def test_the_archive_page_has_no_wcag_violations(page, make_member, conversation, settings):
    settings.RECORDS_WORM_BACKEND = "local"
    services.archive_conversation(conversation.pk)
    officer = make_member(Role.RECORDS_OFFICER, mfa=False)
    secret = enroll_totp(officer.user)
    sign_in(page, officer.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    for path in [
        "/records/archive/",
        f"/records/archive/?conversation={conversation.pk}",
        "/records/archive/?conversation=999999",
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name="WORM archive")).to_be_visible()
        assert_no_wcag_violations(page)

    page.get_by_label("Conversation number").fill("not a number")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a conversation number")
    assert_no_wcag_violations(page)

    page.goto("/records/archive/")
    page.get_by_role("link", name="Change the archive policy").click()
    expect(page.get_by_role("heading", level=1, name="Archive policy")).to_be_visible()
    assert_no_wcag_violations(page)
    page.get_by_label("Minimum retention, in days, while the file plan gives no date").fill("0")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("alert").first).to_contain_text("problem")
    assert_no_wcag_violations(page)
    page.get_by_label("Minimum retention, in days, while the file plan gives no date").fill("365")
    page.get_by_label("Lock mode of new versions").select_option("governance")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("status").first).to_contain_text("archive policy is saved")
    assert_no_wcag_violations(page)
