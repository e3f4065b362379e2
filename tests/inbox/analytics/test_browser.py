"""The analytics and supervisor pages in real headless Chromium: zero axe violations (with
figures, charts and an empty period), no sideways scrolling at 320 px, no CSP violation,
the panels refreshing on a live event, and a bulk reassignment by keyboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from inbox.analytics.models import ConversationFact, DailyStat
from inbox.analytics.selectors import local_today
from messaging.models import Conversation
from tenants.models import Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in
from tests.inbox.factories import ActiveConversationFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]  # test_browser's Chromium (one per module) and fresh pages


@pytest.fixture
def violations(page: Page) -> list[str]:
    reported: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            reported.append(f"{page.url}: {message.text}")

    page.on("console", record)
    return reported


@pytest.fixture(autouse=True)
def _no_event_stream(page: Page) -> None:
    """The pages' EventSource is refused: the live server is WSGI, where the async stream
    would hold a thread past the test. The live test plays the events itself."""
    page.route("**/inbox/stream/**", lambda route: route.abort())


@pytest.fixture
def supervisor(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.SUPERVISOR, user__first_name="Sam")


def _a_busy_week(agency, agent_id: int) -> None:
    team = TeamFactory(agency=agency, name="Roads")
    today = local_today(agency)
    with agency_scope(agency):
        conversation = ActiveConversationFactory(agency=agency, team=team)
        for n in range(7):
            day = today - timedelta(days=n)
            DailyStat.objects.create(
                agency=agency,
                day=day,
                team_key=team.pk,
                agent_key=agent_id,
                messages_in=10 + n,
                messages_out=8 + n,
                delivered=7 + n,
                read=5,
                failed=1,
            )
            if n == 3:
                continue  # a day without conversations: the lines break there
            opened = timezone.now() - timedelta(days=n, hours=1)
            ConversationFact.objects.create(
                agency=agency,
                conversation=conversation,
                episode=n + 1,
                current=n == 0,
                opened_at=opened,
                opened_day=day,
                team_key=team.pk,
                agent_key=agent_id,
                first_response_seconds=60 * (n + 1),
                first_responder_key=agent_id,
                resolved_at=opened + timedelta(minutes=30),
                resolved_day=day,
                resolution_seconds=1800 + 60 * n,
            )


def test_the_analytics_page_has_no_violations_with_figures_and_without(
    page, violations, agency_a, supervisor
):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT, user__first_name="Ana")
    _a_busy_week(agency_a, agent.user_id)
    sign_in(page, supervisor.user.email)

    page.goto("/inbox/analytics/?range=7")
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    expect(
        page.get_by_role("img", name="Conversations opened and resolved, by day")
    ).to_be_visible()
    assert_no_wcag_violations(page)
    page.goto("/inbox/analytics/?range=custom&start=2020-01-01&end=2020-01-03")
    assert_no_wcag_violations(page)
    page.goto("/inbox/analytics/?range=custom&start=2020-01-03&end=2020-01-01")  # an error
    expect(page.get_by_role("alert")).to_contain_text("must end on or after")
    assert_no_wcag_violations(page)
    assert violations == []


def test_the_supervisor_page_has_no_violations(page, violations, agency_a, supervisor):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT, user__first_name="Ana")
    team = TeamFactory(agency=agency_a, name="Roads")
    ActiveConversationFactory(agency=agency_a, team=team)
    ActiveConversationFactory(agency=agency_a, assignee=agent.user)
    sign_in(page, supervisor.user.email)

    page.goto("/inbox/supervisor/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervisor")
    assert_no_wcag_violations(page)
    assert violations == []


@pytest.mark.parametrize("path", ["/inbox/analytics/?range=30", "/inbox/supervisor/"])
def test_the_pages_reflow_at_320_css_pixels(page, agency_a, supervisor, path):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    _a_busy_week(agency_a, agent.user_id)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, supervisor.user.email)

    page.goto(path)

    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert_no_wcag_violations(page)


def test_the_panels_refresh_on_a_live_event(page, agency_a, supervisor):
    TeamFactory(agency=agency_a, name="Roads")
    sign_in(page, supervisor.user.email)
    page.goto("/inbox/supervisor/")
    queues = page.locator("#panel-queues")
    expect(queues).not_to_contain_text("No team")
    ActiveConversationFactory(agency=agency_a)  # a citizen wrote in, to no team

    live = "e => document.dispatchEvent(new CustomEvent('civic:live', {detail: e}))"
    page.evaluate(live, {"type": "message.status", "subject": {}, "payload": {}})
    page.wait_for_timeout(300)
    expect(queues).not_to_contain_text("No team")  # a delivery status changes no panel

    page.evaluate(live, {"type": "message.received", "subject": {}, "payload": {}})

    expect(queues).to_contain_text("No team")


def test_a_supervisor_reassigns_by_keyboard(page, agency_a, supervisor):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT, user__first_name="Ana")
    conversation = ActiveConversationFactory(agency=agency_a)
    sign_in(page, supervisor.user.email)
    page.goto("/inbox/supervisor/")

    page.get_by_label(f"Select the conversation with {conversation.contact}").focus()
    page.keyboard.press("Space")
    page.get_by_label("To agent").select_option(label="Ana")
    page.get_by_role("button", name="Reassign").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="Reassigned")).to_contain_text(
        "Reassigned 1 conversation."
    )
    with agency_scope(agency_a):
        assert Conversation.objects.get(pk=conversation.pk).assignee_id == agent.user_id
