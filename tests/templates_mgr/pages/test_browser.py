"""The template pages in a real headless Chromium: an admin writes a template and watches
the preview and the sample fields follow the typing, sees violations tied to their fields,
sees a pre-screen finding and submits with a justification (to the simulator); every page
without WCAG 2.1 AA violations, at desktop width and at 320 CSS pixels."""

from __future__ import annotations

import pytest
from playwright.sync_api import FloatRect, Page, expect

from templates_mgr.models import BannedTerm, MessageTemplate
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in
from tests.templates_mgr.pages.browser import admin_with_secret, sign_in_admin
from tests.templates_mgr.pages.factories import approved_pair, draft_template, rejected_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]


@pytest.fixture
def admin(make_member):
    return admin_with_secret(make_member)


def _new_template(page: Page, waba) -> None:
    page.goto("/templates/")
    page.get_by_role("link", name="New template").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New template")


def test_an_admin_writes_a_template_and_the_preview_and_samples_follow(page: Page, admin, waba):
    sign_in_admin(page, *admin)
    _new_template(page, waba)
    assert_no_wcag_violations(page)

    page.get_by_label("Name", exact=True).fill("permit_ready")
    page.get_by_label("Message").fill("Hello {{1}}, your permit {{2}} is ready.")
    expect(page.get_by_label("Sample for {{2}}")).to_be_visible()  # drawn as typed
    page.get_by_label("Sample for {{1}}").fill("Ana")
    page.get_by_label("Sample for {{2}}").fill("P-7")
    page.get_by_role("textbox", name="Footer").fill("City of Springfield")

    preview = page.locator("[data-template-preview]")
    expect(preview).to_contain_text("Hello Ana, your permit P-7 is ready.")
    expect(preview).to_contain_text("City of Springfield")
    assert_no_wcag_violations(page)

    page.get_by_role("combobox", name="Header (optional)").select_option("IMAGE")
    expect(page.get_by_label("Header text")).to_be_hidden()
    expect(page.locator('[data-part="IMAGE VIDEO DOCUMENT"]')).to_be_visible()
    expect(page.get_by_role("button", name="Upload the sample")).to_be_visible()
    page.get_by_role("combobox", name="Header (optional)").select_option("TEXT")
    page.get_by_label("Header text").fill("Permit {{1}}")
    page.get_by_label("Sample for the header's variable").fill("P-7")
    expect(preview).to_contain_text("Permit P-7")

    page.get_by_role("button", name="Add a button").click()
    expect(page.get_by_label("Kind")).to_be_focused()
    page.get_by_label("Kind").select_option("URL")
    expect(page.get_by_label("Phone number")).to_be_hidden()
    page.get_by_label("Label").fill("Track it")
    page.get_by_label("Link", exact=True).fill("https://permits.example.gov/t/{{1}}")
    page.get_by_label("Sample", exact=True).fill("P-7")
    expect(preview).to_contain_text("https://permits.example.gov/t/P-7")
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("permit_ready")
    with agency_scope(waba.agency_id):
        saved = MessageTemplate.objects.get()
    assert saved.components[-1]["buttons"][0]["example"] == ["P-7"]
    assert_no_wcag_violations(page)


def test_violations_are_summarised_focused_and_tied_to_their_fields(page: Page, admin, waba):
    sign_in_admin(page, *admin)
    _new_template(page, waba)
    page.get_by_label("Name", exact=True).fill("Permit Ready")
    page.get_by_label("Message").fill("{{1}} is ready")

    page.get_by_role("button", name="Check and submit").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("things to fix")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    assert "id_name-error" in (name.get_attribute("aria-describedby") or "")
    summary.get_by_role("link").first.click()
    expect(name).to_be_focused()
    assert_no_wcag_violations(page)


def test_a_pre_screen_finding_is_shown_and_a_justification_submits_it(
    page: Page, admin, agency_a, registered_number, simulator
):
    body = [
        {
            "type": "BODY",
            "text": "Hello {{1}}, the county raffle opens Monday.",
            "example": {"body_text": [["Ana"]]},
        }
    ]
    with agency_scope(agency_a):
        BannedTerm.objects.create(agency=agency_a, term="raffle")
    template = draft_template(agency_a, registered_number.waba, components=body)
    sign_in_admin(page, *admin)
    page.goto(f"/templates/{template.pk}/")
    page.get_by_role("link", name="Check and submit").click()

    expect(page.locator("[data-findings]")).to_contain_text("Banned by your agency")
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Submit to Meta anyway").click()
    expect(page.get_by_role("alert")).to_contain_text("Explain why")
    assert_no_wcag_violations(page)
    page.get_by_label("Why this template may be sent despite the findings").fill(
        "The fundraiser is the county's own, approved by counsel."
    )
    page.get_by_role("button", name="Submit to Meta anyway").click()

    expect(page.get_by_role("status")).to_contain_text("was sent to Meta for review")
    expect(page.locator("#template-status")).to_contain_text("Pending review")
    assert [t["name"] for t in simulator._call("GET", "/_sim/templates")["data"]] == [
        "permit_ready"
    ]


def test_the_read_pages_have_no_violations_for_a_supervisor_at_320_px(
    page: Page, make_member, agency_a, number
):
    english, _ = approved_pair(agency_a, number.waba)
    rejected = rejected_template(agency_a, number.waba, name="tax_notice")
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, make_member(Role.SUPERVISOR).user.email)
    for path in ["/templates/", f"/templates/{english.pk}/", f"/templates/{rejected.pk}/"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert_no_wcag_violations(page)


def test_the_admin_pages_have_no_violations_at_320_px(page: Page, admin, agency_a, number):
    english, _ = approved_pair(agency_a, number.waba)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in_admin(page, *admin)
    for path in [
        "/templates/",
        f"/templates/accounts/{number.waba_id}/new/",
        f"/templates/{english.pk}/edit/",
        f"/templates/{english.pk}/translate/",
        f"/templates/{english.pk}/delete/",
        "/templates/banned-terms/",
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), path
        assert_no_wcag_violations(page)


def _box(page: Page, selector: str) -> FloatRect:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("width", [1280, 320])
def test_the_library_sits_in_the_page_grid_with_its_filters_in_line(
    page: Page, make_member, agency_a, number, width
):
    approved_pair(agency_a, number.waba)
    rejected_template(agency_a, number.waba, name="tax_notice")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, make_member(Role.SUPERVISOR).user.email)
    page.goto("/templates/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Message templates")

    # In the same grid container as every other page: its edge is the header's.
    expect(page.locator("main > .grid-container [data-template-library]")).to_have_count(1)
    heading, logo = _box(page, "h1"), _box(page, ".usa-logo")
    assert abs(heading["x"] - logo["x"]) <= 1
    # The search field is a form field like the selects beside it, not USWDS's search bar.
    search, status = _box(page, "#filter-q"), _box(page, "#filter-status")
    assert search["height"] == status["height"]
    if width >= 640:  # tablet and up: one row of fields
        assert search["y"] == status["y"]
    else:  # stacked: one column
        assert (search["x"], search["width"]) == (status["x"], status["width"])
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert_no_wcag_violations(page)
