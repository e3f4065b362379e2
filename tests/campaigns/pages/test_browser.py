"""The campaign pages in a real headless Chromium: an admin sets a campaign up step by step
and confirms it, axe-core finds no WCAG 2.1 AA violation at 1280 and 320 CSS pixels, and
no page breaks the Content-Security-Policy (no inline script or style)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from messaging.campaigns.models import Campaign, SkipReason
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.campaigns.pages.conftest import opted_in
from tests.campaigns.pages.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CampaignStatsFactory,
)
from tests.factories import MembershipFactory
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


@pytest.fixture(autouse=True)
def _no_event_stream(page: Page) -> None:
    """The progress page's EventSource is refused: the live server is WSGI, where the async
    stream would hold a thread past the test (test_browser_live.py runs the real one)."""
    page.route("**/inbox/stream/**", lambda route: route.abort())


@pytest.fixture
def csp_violations(page: Page) -> Iterator[list[str]]:
    reported: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            reported.append(f"{page.url}: {message.text}")

    page.on("console", record)
    yield reported


def _sign_in_admin(page: Page, make_member) -> None:
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    sign_in(page, admin.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")


def _fits(page: Page) -> None:
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), page.url


def test_an_admin_sets_up_and_confirms_a_campaign_step_by_step(
    page, make_member, agency_a, number, approved, csp_violations
):
    opted_in(agency_a, 2)
    _sign_in_admin(page, make_member)

    page.goto("/campaigns/")
    assert_no_wcag_violations(page)
    page.get_by_role("link", name="New campaign").click()
    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("1")
    assert_no_wcag_violations(page)
    page.get_by_label("Campaign name").fill("Flu clinic")
    page.get_by_label("Send from").select_option(label="+1 512 555 0100 (Agency A)")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("2")
    expect(page.locator("[data-template-preview]")).to_contain_text("Maria")
    assert_no_wcag_violations(page)
    page.locator(f"label[for='template-{approved.pk}']").click()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("3")
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Save and continue").click()  # opted-in contacts

    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("4")
    page.get_by_label("{{1}}: value from").select_option("attribute")
    page.get_by_label("{{1}}: attribute, column or text").fill("first_name")
    page.get_by_label("{{2}}: value from").select_option("fixed")
    page.get_by_label("{{2}}: attribute, column or text").fill("March 3")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator("#recipient-previews + *")).to_be_visible()
    expect(page.get_by_role("region", name="What a few recipients will see")).to_contain_text(
        "Name0"
    )
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("5")
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Review").click()

    expect(page.locator(".usa-step-indicator__current-step")).to_have_text("6")
    expect(page.get_by_role("region", name="Will receive it")).to_contain_text("2")
    expect(page.get_by_role("region", name="Estimated Meta cost")).to_contain_text("USD")
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Confirm: send to 2 now").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Flu clinic")
    expect(page.get_by_role("status").first).to_contain_text("is confirmed")
    assert_no_wcag_violations(page)
    with agency_scope(agency_a):
        assert Campaign.objects.get().status != Campaign.Status.DRAFT
    assert csp_violations == []


def test_form_errors_are_announced_and_tied_to_their_fields(page, make_member, agency_a, number):
    _sign_in_admin(page, make_member)
    page.goto("/campaigns/new/")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    name = page.get_by_label("Campaign name")
    expect(name).to_have_attribute("aria-invalid", "true")
    assert "id_name_error" in (name.get_attribute("aria-describedby") or "")
    assert_no_wcag_violations(page)


def _campaign_in_every_state(agency, number, approved) -> Campaign:
    campaign = CampaignFactory(
        agency=agency,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        status=Campaign.Status.SENDING,
        resolved=True,
    )
    CampaignStatsFactory(
        agency=agency,
        campaign=campaign,
        recipients=5,
        sent=1,
        delivered=1,
        read=1,
        skipped=2,
        skipped_by_reason={SkipReason.OPTED_OUT: 1, SkipReason.US_MARKETING: 1},
    )
    for reason in (SkipReason.OPTED_OUT, SkipReason.US_MARKETING):
        CampaignRecipientFactory(
            agency=agency, campaign=campaign, status="skipped", skip_reason=reason
        )
    return campaign


@pytest.mark.parametrize("width", [1280, 320])
def test_the_campaign_pages_pass_axe_and_reflow(
    page, make_member, agency_a, number, approved, width, csp_violations
):
    opted_in(agency_a, 1)
    campaign = _campaign_in_every_state(agency_a, number, approved)
    draft = CampaignFactory(
        agency=agency_a,
        name="Draft",
        phone_number=number,
        template=approved,
        variable_mapping={
            "var_1": {"source": "attribute", "value": "first_name"},
            "var_2": {"source": "fixed", "value": "March 3"},
        },
    )
    page.set_viewport_size({"width": width, "height": 800})
    _sign_in_admin(page, make_member)
    for path in [
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{draft.pk}/template/",
        f"/campaigns/{draft.pk}/audience/",
        f"/campaigns/{draft.pk}/variables/",
        f"/campaigns/{draft.pk}/schedule/",
        f"/campaigns/{draft.pk}/review/",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/cancel/",
        "/campaigns/pricing/",
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if width == 320:
            _fits(page)
        assert_no_wcag_violations(page)
    assert csp_violations == []


def test_an_admin_pauses_and_cancels_from_the_progress_page(
    page, make_member, agency_a, number, approved
):
    campaign = _campaign_in_every_state(agency_a, number, approved)
    _sign_in_admin(page, make_member)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-status")).to_have_text("Paused")
    assert_no_wcag_violations(page)
    page.get_by_role("link", name="Cancel the campaign…").click()
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Yes, cancel the campaign").click()
    expect(page.locator("#campaign-status")).to_have_text("Cancelled")


def test_a_supervisor_follows_a_campaign_without_its_controls(page, agency_a, number, approved):
    campaign = _campaign_in_every_state(agency_a, number, approved)
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    sign_in(page, supervisor.user.email)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator("#campaign-status")).to_have_text("Sending")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    page.get_by_label("Status").select_option("skipped")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("region", name="Recipients table")).to_contain_text("Opted out")
    assert_no_wcag_violations(page)
