"""live.js in a real headless Chromium against gunicorn (ASGI) and a real events worker:
an event published in a transaction becomes a ``civic:live`` DOM event on the inbox page,
and the status line says, in words, that live updates are on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from playwright.sync_api import Browser, Page, expect

from bsp import events
from bsp.events.types import MESSAGE_RECEIVED
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.test_browser import assert_no_wcag_violations, browser, sign_in
from tests.processes import django_env, free_port, start_web, start_worker, stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["browser"]  # the module-scoped Chromium fixture

COLLECT = """() => {
  window.liveEvents = [];
  document.addEventListener("civic:live", (e) => window.liveEvents.push(e.detail));
}"""


@pytest.fixture
def server():
    env = django_env(DJANGO_SETTINGS_MODULE="tests.inbox.live.process_settings")
    port = free_port()
    web = start_web(port, env)
    worker = start_worker("events", env)
    yield f"http://127.0.0.1:{port}"
    stop(worker)
    stop(web)


@pytest.fixture
def page(browser: Browser, server) -> Iterator[Page]:
    context = browser.new_context(base_url=server)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _publish(agency, message: int) -> None:
    with agency_scope(agency), transaction.atomic():
        events.publish(
            agency_id=agency.pk,
            type=MESSAGE_RECEIVED,
            subject={"message": message, "conversation": 5},
            payload={"wamid": f"wamid.browser-{message}", "type": "text"},
        )


def test_a_published_event_reaches_the_inbox_page_as_a_civic_live_event(page, agency_a):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    sign_in(page, agent.user.email)
    page.goto("/inbox/")
    if not page.locator('script[src*="inbox/live"]').count():
        page.add_script_tag(url="/static/inbox/live.js")
    page.evaluate(COLLECT)
    expect(page.locator("#live-status")).to_have_text("Live updates on")
    assert_no_wcag_violations(page)

    _publish(agency_a, 41)
    # Polled from here: wait_for_function's string predicate would be eval'd in the page,
    # which its CSP refuses.
    wait_for(lambda: page.evaluate("() => window.liveEvents.length"), timeout=30)
    [event] = page.evaluate("() => window.liveEvents")
    assert event["type"] == "message.received"
    assert event["subject"] == {"message": 41, "conversation": 5}
    assert event["sequence"] == 1
    assert event["agency"] == agency_a.pk
