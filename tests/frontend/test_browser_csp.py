"""The Content-Security-Policy in a real headless Chromium: pages load and work with no
violation reported in the console (an inline script, style or foreign file would be)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from records.audit import Actor, record_event
from tenants.permissions import Role
from tests.factories import DEFAULT_PASSWORD, PhoneNumberFactory, UserFactory
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]  # test_browser's Chromium (one per module) and fresh pages


@pytest.fixture
def violations(page) -> list[str]:
    """Every CSP violation the browser reports in the console, as it happens."""
    reported: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            reported.append(f"{page.url}: {message.text}")

    page.on("console", record)
    return reported


def _sign_in_with_totp(page: Page, email: str, secret: str) -> None:
    sign_in(page, email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()


def test_the_staff_pages_load_without_a_csp_violation(page, violations, make_member, agency_a):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    PhoneNumberFactory(agency=agency_a)
    record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")

    page.goto("/accounts/login/")
    _sign_in_with_totp(page, admin.user.email, secret)
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")
    for path in [
        "/",
        "/members/",
        "/whatsapp/",
        "/audit/?verify=1",
        "/api-keys/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/no-such-page/",
    ]:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
    # The stylesheet applied (not refused): the official banner has its grey background.
    background = page.locator(".usa-banner").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)"
    assert violations == []


def test_totp_enrollment_shows_its_qr_code_under_the_policy(page, violations, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    sign_in(page, admin.user.email)
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert violations == []


def test_the_console_the_admin_and_the_api_docs_load_without_a_csp_violation(
    page, violations, agency_a
):
    operator = UserFactory(is_superuser=True, is_staff=True)
    secret = enroll_totp(operator)
    _sign_in_with_totp(page, operator.email, secret)
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform console")
    page.get_by_role("link", name="Edit Agency A").click()
    expect(page.locator("#agency_form")).to_be_visible()
    page.goto("/admin/messaging/webhookevent/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto("/api/docs/")
    # Swagger UI rendered the schema: its scripts ran and its styles applied.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Civic Relay API")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert violations == []


def test_the_api_docs_and_the_console_pass_axe(page, agency_a):
    operator = UserFactory(is_superuser=True, is_staff=True)
    secret = enroll_totp(operator)
    _sign_in_with_totp(page, operator.email, secret)
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform console")
    assert_no_wcag_violations(page)
    page.goto("/api/docs/")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert_no_wcag_violations(page)
