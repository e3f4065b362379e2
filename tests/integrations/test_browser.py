"""The webhook pages in a real headless Chromium, checked with axe (WCAG 2.1 AA): an agency
admin subscribes a URL (the secret shown once), sends a test event that a real receiver
gets, and reads the delivery log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bsp.integrations import delivery
from bsp.integrations.models import WebhookSubscription
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in, totp_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.integrations.urls"),
]
__all__ = ["browser", "page"]


def test_an_admin_subscribes_tests_and_reads_the_log(page: Page, agency_a, receiver):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN).user
    secret = enroll_totp(admin)
    sign_in(page, admin.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto("/integrations/webhooks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Create the subscription").click()  # nothing filled in
    expect(page.locator(".usa-error-message").first).to_be_visible()
    assert_no_wcag_violations(page)

    page.get_by_label("Target URL").fill(receiver.url)
    page.locator("label", has_text="A conversation was resolved").click()
    page.get_by_role("button", name="Create the subscription").click()
    expect(page.get_by_label("Signing secret")).to_be_visible()
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("region", name="Deliveries")).to_contain_text("webhook.test")
    with agency_scope(agency_a):
        sub = WebhookSubscription.objects.get()
    delivery.deliver_pass(agency_a.pk, sub.pk)
    assert receiver.types() == ["webhook.test"]
    page.reload()
    expect(page.get_by_role("region", name="Deliveries")).to_contain_text("Delivered")
    assert_no_wcag_violations(page)

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the subscription")
    assert_no_wcag_violations(page)
