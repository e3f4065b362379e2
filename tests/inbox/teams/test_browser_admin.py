"""The inbox's admin pages in a real headless Chromium: axe-core finds no WCAG 2.1 AA
violation on any of them, forms with errors included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tenants.permissions import Role
from tests.factories import PhoneNumberFactory
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)
from tests.inbox.teams.factories import (
    BusinessHoursFactory,
    CannedResponseFactory,
    LabelFactory,
    TeamFactory,
    TeamMemberFactory,
    TeamPhoneNumberFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]  # test_browser's Chromium (one per module) and fresh pages


def test_every_inbox_admin_page_passes_axe_without_a_csp_violation(page, make_member, agency_a):
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    agent = make_member(Role.AGENT)
    number = PhoneNumberFactory(agency=agency_a)
    BusinessHoursFactory(agency=agency_a, phone_number=number)
    team = TeamFactory(agency=agency_a, name="Benefits", description="SNAP and WIC")
    TeamMemberFactory(agency=agency_a, team=team, user=agent.user)
    TeamPhoneNumberFactory(agency=agency_a, team=team, phone_number=number)
    canned = CannedResponseFactory(agency=agency_a, shortcut="greeting", title="Greeting")
    label = LabelFactory(agency=agency_a, name="Urgent")

    sign_in(page, admin.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")

    for path in [
        "/inbox/admin/",
        "/inbox/admin/teams/",
        "/inbox/admin/teams/new/",
        f"/inbox/admin/teams/{team.pk}/",
        f"/inbox/admin/teams/{team.pk}/delete/",
        "/inbox/admin/agents/",
        "/inbox/admin/canned-responses/",
        f"/inbox/admin/canned-responses/{canned.pk}/",
        "/inbox/admin/labels/",
        f"/inbox/admin/labels/{label.pk}/",
        "/inbox/admin/business-hours/",
        f"/inbox/admin/business-hours/{number.pk}/",
        "/inbox/admin/agency/",
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_wcag_violations(page)

    # Forms answered with errors.
    page.goto("/inbox/admin/canned-responses/new/")
    page.get_by_label("Shortcut").fill("greeting")
    page.get_by_label("Title").fill("Another greeting")
    page.get_by_label("Text").fill("Hi!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("already used by “Greeting”")
    assert_no_wcag_violations(page)

    page.goto(f"/inbox/admin/business-hours/{number.pk}/")
    page.get_by_label("Tuesday closes").fill("")
    page.get_by_role("button", name="Save the hours").click()
    expect(page.get_by_role("alert")).to_contain_text("Give both times for Tuesday")
    assert_no_wcag_violations(page)

    # A change goes through, and the list says so.
    page.goto("/inbox/admin/labels/")
    page.get_by_label("Name").fill("Follow-up")
    page.get_by_role("button", name="Create the label").click()
    expect(page.get_by_role("status")).to_contain_text("“Follow-up” was created")
    assert_no_wcag_violations(page)
    assert csp_violations == []


def test_the_admin_pages_reflow_at_320_css_pixels(page, make_member, agency_a):
    supervisor = make_member(Role.SUPERVISOR)
    TeamFactory(agency=agency_a, name="Benefits")
    CannedResponseFactory(agency=agency_a)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, supervisor.user.email)
    for path in ["/inbox/admin/teams/", "/inbox/admin/agents/", "/inbox/admin/canned-responses/"]:
        page.goto(path)
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert_no_wcag_violations(page)
