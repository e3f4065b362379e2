"""The template loop end to end, as an agency admin lives it: real Chromium against the
running platform (gunicorn on ASGI, a Celery worker for webhooks and the event stream,
Redis), the Cloud API simulator playing Meta. The admin writes a template, meets a
pre-screen finding, submits it with a justification, and watches it become Approved on the
open page — Meta's review webhook, the worker, the event stream and the page, no reload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from templates_mgr.models import BannedTerm, MessageTemplate
from tenants.scoping import agency_scope
from tests.frontend.test_browser import assert_no_wcag_violations
from tests.frontend.test_browser import browser as browser
from tests.processes import django_env, free_port, start_web, start_worker, stop, wait_for
from tests.templates_mgr.pages.browser import admin_with_secret, sign_in_admin
from tests.templates_mgr.pages.factories import draft_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE = 20_000  # ms: what "live" may take on a loaded CI machine
REVIEW_SECONDS = 6.0  # the simulator's review: long enough to watch the page wait for it


@pytest.fixture
def platform(simulator, registered_number) -> Iterator[str]:
    env = django_env(GRAPH_API_BASE_URL=simulator.base_url, GRAPH_API_VERSION="v23.0")
    port = free_port()
    web = start_web(port, env)
    worker = start_worker("agent_replies,webhooks,media,events,default", env, concurrency=2)
    url = f"http://127.0.0.1:{port}"
    simulator.register_number(
        registered_number.phone_number_id, callback_url=f"{url}/webhooks/whatsapp"
    )
    simulator.configure(template_review={"delay": REVIEW_SECONDS})
    yield url
    stop(worker)
    stop(web)


@pytest.fixture(autouse=True)
def _live_timeout() -> Iterator[None]:
    expect.set_options(timeout=LIVE)
    yield
    expect.set_options(timeout=5_000)


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(LIVE)
    return context.new_page()


def test_an_admin_writes_submits_and_watches_a_template_get_approved(
    browser, platform, simulator, registered_number, agency_a, make_member
):
    with agency_scope(agency_a):
        BannedTerm.objects.create(agency=agency_a, term="raffle")
    admin, secret = admin_with_secret(make_member)
    page = new_page(browser, platform)
    sign_in_admin(page, admin, secret)

    page.goto("/templates/")
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name", exact=True).fill("fair_reminder")
    page.get_by_label("Message").fill("Hello {{1}}, the county fair raffle opens on {{2}}.")
    page.get_by_label("Sample for {{1}}").fill("Ana")
    page.get_by_label("Sample for {{2}}").fill("Monday")
    expect(page.locator("[data-template-preview]")).to_contain_text(
        "Hello Ana, the county fair raffle opens on Monday."
    )
    page.get_by_role("button", name="Check and submit").click()

    expect(page.locator("[data-findings]")).to_contain_text("raffle")
    page.get_by_label("Why this template may be sent despite the findings").fill(
        "The county's own fundraiser, approved by counsel."
    )
    page.get_by_role("button", name="Submit to Meta anyway").click()

    status = page.locator("#template-status")
    expect(status).to_contain_text("Pending review")
    expect(page.locator("#live-status")).to_have_text("Live updates on")
    expect(status).to_contain_text("Approved")  # the webhook's change, on the open page
    expect(page.locator("#template-announcer")).to_contain_text("fair_reminder")
    assert_no_wcag_violations(page)

    def approved():
        with agency_scope(agency_a):
            return MessageTemplate.objects.filter(
                name="fair_reminder", status=MessageTemplate.Status.APPROVED
            ).first()

    assert wait_for(approved, timeout=5) is not None
    page.goto("/templates/")
    expect(page.locator("tbody")).to_contain_text("Approved")


def test_the_library_row_turns_approved_live(
    browser, platform, simulator, registered_number, agency_a, make_member
):
    admin, secret = admin_with_secret(make_member)
    template = draft_template(agency_a, registered_number.waba)
    page = new_page(browser, platform)
    sign_in_admin(page, admin, secret)
    page.goto(f"/templates/{template.pk}/submit/")
    page.get_by_role("button", name="Submit to Meta").click()
    expect(page.locator("#template-status")).to_contain_text("Pending review")

    page.goto("/templates/")
    cell = page.locator(f"#tpl-{template.pk}")
    expect(cell).to_contain_text("Pending review")  # as the page was drawn
    expect(page.locator("#live-status")).to_have_text("Live updates on")
    expect(cell).to_contain_text("Approved")  # swapped in from the stream
    assert_no_wcag_violations(page)
