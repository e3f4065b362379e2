"""The records officer's request pages in a real headless Chromium: list, intake (with its
errors), rules, the request page and a message's review page are free of WCAG 2.1 AA
violations (axe-core); selecting words of a message fills the redaction form, whose
submission redacts exactly them."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from records.foia import calendar, services
from records.foia.models import Redaction, RequestItem
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)
from tests.records.foia.conftest import ACTOR, new_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]


def sign_in_officer(page, make_member) -> None:
    officer = make_member(Role.RECORDS_OFFICER, mfa=False)
    secret = enroll_totp(officer.user)
    sign_in(page, officer.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_request_pages_have_no_wcag_violations(
    page, make_member, agency_a, foia_a, request_a, say, settings, tmp_path
):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    today = services.agency_today(agency_a)
    new_request(agency_a, foia_a, received_on=today - dt.timedelta(days=40))  # overdue
    soon = today
    while (
        calendar.clock(
            received_on=soon,
            response_days=20,
            extension_days=0,
            pauses=(),
            holidays=(),
            today=today,
        ).remaining
        > 2
    ):
        soon -= dt.timedelta(days=1)
    new_request(agency_a, foia_a, received_on=soon)  # due soon
    item_message = say("Call Ana Ruiz at 512-555-0100 about the water main.")
    with agency_scope(request_a.agency_id):
        item = RequestItem.objects.create(
            agency_id=request_a.agency_id, request=request_a, message=item_message
        )
    services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=5, end=13, code="(b)(6)")
    services.extend(request_a, actor=ACTOR, days=3, reason="Unusual circumstances")
    sign_in_officer(page, make_member)
    for path in [
        "/records/requests/",
        "/records/requests/?show=all",
        "/records/requests/new/",
        "/records/requests/rules/",
        f"/records/requests/{request_a.pk}/",
        f"/records/requests/{request_a.pk}/items/{item.pk}/",
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_wcag_violations(page)

    page.goto("/records/requests/")
    expect(page.get_by_text("Overdue").first).to_be_visible()
    expect(page.get_by_text("Due soon").first).to_be_visible()
    assert_no_wcag_violations(page)

    services.decide(request_a, actor=ACTOR, item_ids=[item.pk], decision="responsive")
    services.produce(request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1)
    services.set_status(request_a, actor=ACTOR, status="closed", note="Sent")
    page.goto(f"/records/requests/{request_a.pk}/")
    expect(page.get_by_role("link", name="Download").first).to_be_visible()
    assert_no_wcag_violations(page)

    page.goto("/records/requests/new/")
    page.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("alert").first).to_contain_text("problem")
    assert_no_wcag_violations(page)


def test_selecting_words_fills_the_span_form_and_redacts_exactly_them(
    page, make_member, request_a, say
):
    message = say("👋 My number is 512-555-0100, thanks")
    with agency_scope(request_a.agency_id):
        item = RequestItem.objects.create(
            agency_id=request_a.agency_id, request=request_a, message=message
        )
    sign_in_officer(page, make_member)
    page.goto(f"/records/requests/{request_a.pk}/items/{item.pk}/")
    page.evaluate(
        """() => {
          const node = document.getElementById('foia-text').firstChild;
          const text = node.textContent;
          const at = text.indexOf('512-555-0100');
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 12);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }"""
    )
    expect(page.get_by_label("Start")).to_have_value(
        "15"
    )  # the emoji is one character (two in UTF-16)
    expect(page.get_by_label("End")).to_have_value("27")
    expect(page.locator("#foia-selection-status")).to_contain_text("15 to 27")
    page.get_by_label("Exemption code for the passage").select_option("(b)(6)")
    page.get_by_role("button", name="Redact the selection").click()
    expect(page.get_by_text("[REDACTED (b)(6)]").first).to_be_visible()
    with agency_scope(request_a.agency_id):
        redaction = Redaction.objects.get()
    assert (redaction.start, redaction.end) == (15, 27)
    assert_no_wcag_violations(page)


def test_the_request_page_shows_the_download_once_the_production_is_built(
    page, make_member, request_a, say, settings, tmp_path
):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    with agency_scope(request_a.agency_id):
        RequestItem.objects.create(
            agency_id=request_a.agency_id,
            request=request_a,
            message=say("The water main on Elm St."),
            decision="responsive",
        )
    sign_in_officer(page, make_member)
    page.goto(f"/records/requests/{request_a.pk}/")
    page.get_by_label("Format").select_option("jsonl")
    page.get_by_role("button", name="Build the production").click()
    expect(page.get_by_role("cell", name="Being built (refresh)")).to_be_visible()
    with agency_scope(request_a.agency_id):
        production = request_a.productions.get()
    services.build_production(production.pk)  # what the worker does
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=10_000)
    assert_no_wcag_violations(page)
