"""The staff UI in a real headless Chromium: sign-in, MFA enrollment, and axe-core checks.

Chromium is Debian's package (``apt-get install -y chromium``): browsers cannot be downloaded
by Playwright on our machines. One browser per module; a fresh context per test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from records.audit import Actor, record_event
from tenants.permissions import Role
from tests.factories import DEFAULT_PASSWORD, InvitationFactory, PhoneNumberFactory
from tests.frontend.conftest import enroll_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are still synchronous, so Django's async-safety guard would refuse them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
    _wait_for_requests_in_flight(live_server)


def _wait_for_requests_in_flight(live_server, timeout: float = 10.0) -> None:
    """A request the page started (an htmx refresh after a live event, say) may still be
    running in the live server's thread when the test ends; the database flush that follows
    would then deadlock with its queries. Closing the context ends the page's connections,
    so each request thread finishes soon after: wait for them."""
    threads = list(getattr(live_server.thread.httpd, "_threads", None) or [])
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def assert_no_wcag_violations(page: Page) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_an_agency_admin_signs_in_enrolls_totp_and_lands_on_the_dashboard(page, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    sign_in(page, admin.user.email)
    if "/reauthenticate/" in page.url:  # allauth confirms the password before adding MFA
        assert_no_wcag_violations(page)
        page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    assert_no_wcag_violations(page)

    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    assert_no_wcag_violations(page)

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")


def test_the_main_pages_have_no_wcag_aa_violations(page, make_member, agency_a):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    make_member(Role.AGENT)
    PhoneNumberFactory(agency=agency_a)
    InvitationFactory(agency=agency_a)
    record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")

    page.goto("/accounts/login/")
    assert_no_wcag_violations(page)
    sign_in(page, admin.user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    assert_no_wcag_violations(page)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")

    for path in [
        "/",
        "/members/",
        "/whatsapp/",
        "/audit/",
        "/api-keys/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/logout/",
    ]:
        page.goto(path)
        assert_no_wcag_violations(page)


def test_a_failed_sign_in_is_announced_without_violations(page, db):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("nobody@example.gov")
    page.get_by_label("Password", exact=True).fill("wrong-password-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    assert_no_wcag_violations(page)


def test_pages_reflow_at_320_css_pixels_without_violations(page, make_member, agency_a):
    PhoneNumberFactory(agency=agency_a)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, make_member(Role.SUPERVISOR).user.email)
    for path in ["/members/", "/whatsapp/"]:
        page.goto(path)
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert_no_wcag_violations(page)
