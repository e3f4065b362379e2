"""The progress page live, in a real headless Chromium against gunicorn (ASGI) and the
events worker: the campaign's counters change and its ``campaign.progress`` event is
published, as the engine's consumer does; the page's figures follow without a reload.

The events are published by the test (the engine's sending end to end is its own tests'
subject): what the page does with them is what this checks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from django.db import transaction
from playwright.sync_api import Browser, Page, expect

from bsp import events
from bsp.events.types import CAMPAIGN_COMPLETED, CAMPAIGN_PROGRESS, CONVERSATION_STATUS
from messaging.campaigns.models import Campaign, CampaignStats
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.campaigns.pages.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CampaignStatsFactory,
)
from tests.factories import AgencyFactory, MembershipFactory
from tests.frontend.test_browser import assert_no_wcag_violations, browser, sign_in
from tests.processes import django_env, free_port, start_web, start_worker, stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]

COLLECT = """() => {
  window.liveEvents = [];
  document.addEventListener("civic:live", (e) => window.liveEvents.push(e.detail));
}"""
SEEN = "() => window.liveEvents.length"


@pytest.fixture
def agency_a(db):
    """Agency A with an id of its own: Redis channels are shared by every test database."""
    return AgencyFactory(id=10_000_000 + secrets.randbelow(10**9), name="Agency A")


@pytest.fixture
def server() -> Iterator[str]:
    env = django_env(DJANGO_SETTINGS_MODULE="tests.inbox.live.process_settings")
    port = free_port()
    web = start_web(port, env)
    worker = start_worker("events", env)
    yield f"http://127.0.0.1:{port}"
    stop(worker)
    stop(web)


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def sending(agency_a, number, approved) -> Campaign:
    campaign = CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        status=Campaign.Status.SENDING,
        resolved=True,
    )
    CampaignStatsFactory(agency=agency_a, campaign=campaign, recipients=10, queued=10)
    return campaign


def _progress(campaign: Campaign, type: str = CAMPAIGN_PROGRESS, **counters: int) -> None:
    """The counters move and the event says so, in one transaction (as the consumer does)."""
    with agency_scope(campaign.agency_id), transaction.atomic():
        CampaignStats.objects.filter(campaign=campaign).update(**counters)
        events.publish(
            agency_id=campaign.agency_id,
            type=type,
            subject={"campaign": campaign.pk},
            payload=counters,
        )


def test_the_figures_follow_the_campaigns_progress_events(page, agency_a, sending):
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    sign_in(page, supervisor.user.email)
    page.goto(f"/campaigns/{sending.pk}/")
    expect(page.locator("#live-status")).to_have_text("Live updates on")
    expect(page.locator('[data-count="delivered"]')).to_have_text("0")
    assert_no_wcag_violations(page)

    _progress(sending, queued=4, sent=3, delivered=2, read=1)
    expect(page.locator('[data-count="delivered"]')).to_have_text("2")
    expect(page.get_by_text("Read: 1 of 10")).to_be_visible()

    _progress(sending, queued=0, sent=0, delivered=0, read=10)
    expect(page.get_by_text("Read: 10 of 10")).to_be_visible()
    assert_no_wcag_violations(page)


def test_another_campaigns_events_leave_the_figures_alone(
    page, agency_a, number, approved, sending
):
    other = CampaignFactory(agency=agency_a, phone_number=number, template=approved)
    CampaignStatsFactory(agency=agency_a, campaign=other)
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    sign_in(page, supervisor.user.email)
    page.goto(f"/campaigns/{sending.pk}/")
    page.evaluate(COLLECT)
    expect(page.locator("#live-status")).to_have_text("Live updates on")

    # The page's own counters change, but only another campaign's event is published: the
    # page must not refresh for it. A later event of its own brings the figures.
    with agency_scope(agency_a):
        CampaignStats.objects.filter(campaign=sending).update(delivered=7)
    _progress(other, delivered=1)
    # An event that is not a campaign's, naming the campaign (the stream itself keeps
    # delivery statuses for conversation pages: inbox.live.stream.wanted).
    _progress(sending, type=CONVERSATION_STATUS, delivered=7)
    wait_for(lambda: page.evaluate(SEEN) >= 2, timeout=30)
    page.wait_for_timeout(500)  # a refresh it should not have asked for would be back by now
    expect(page.locator('[data-count="delivered"]')).to_have_text("0")
    _progress(sending, delivered=7)
    expect(page.locator('[data-count="delivered"]')).to_have_text("7")


def test_when_the_status_moves_the_recipients_list_follows_without_a_reload(
    page, agency_a, number, approved
):
    """A campaign confirmed on the open page: once it completes, the page lists its
    recipients (the list said they come once it starts) without a reload."""
    campaign = CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        status=Campaign.Status.SCHEDULED,
    )
    CampaignStatsFactory(agency=agency_a, campaign=campaign, recipients=1, queued=0)
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    sign_in(page, supervisor.user.email)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator("#live-status")).to_have_text("Live updates on")
    expect(page.locator("#campaign-recipients")).to_contain_text("listed once the campaign starts")

    with agency_scope(agency_a):
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.COMPLETED)
        CampaignRecipientFactory(
            agency=agency_a, campaign=campaign, wa_id="15125550123", status="queued"
        )
    _progress(campaign, type=CAMPAIGN_COMPLETED, read=1)
    expect(page.locator("#campaign-status")).to_have_text("Completed")
    expect(page.get_by_role("region", name="Recipients table")).to_contain_text("15125550123")
    assert_no_wcag_violations(page)
