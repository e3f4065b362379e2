"""The composer in a real headless Chromium: keyboard only, a saved reply by its shortcut,
the template preview, zero axe violations with the window open and closed, 320 px wide."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from messaging.models import Message
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import (
    ContactFactory,
    InboundMessageFactory,
    MembershipFactory,
    PhoneNumberFactory,
)
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in
from tests.inbox.composer.factories import (
    CannedResponseFactory,
    CaseUpdateTemplateFactory,
    ClosedConversationFactory,
    OpenConversationFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]


@pytest.fixture
def agent_email(agency_a) -> str:
    return MembershipFactory(agency=agency_a, role=Role.AGENT).user.email


def _tab_to(page: Page, predicate: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``predicate`` (a JS expression on el)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => !!el && ({predicate}))(document.activeElement)"):
            return
    pytest.fail(f"never reached {predicate} with Tab")


def test_an_agent_replies_with_a_saved_reply_using_only_the_keyboard(
    page: Page, agency_a, agent_email
):
    conversation = OpenConversationFactory(agency=agency_a)
    CannedResponseFactory(
        agency=agency_a,
        shortcut="hours",
        title="Opening hours",
        body="We are open 9 to 5, Monday to Friday.",
    )
    CannedResponseFactory(agency=agency_a, shortcut="holiday", title="Holiday closure")
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/composer/")
    expect(page.get_by_text("Window open:")).to_be_visible()
    assert_no_wcag_violations(page)

    _tab_to(page, "el.matches('[data-composer-text]')")
    page.keyboard.type("Hello! /hou")
    listbox = page.get_by_role("listbox", name="Saved replies")
    expect(listbox.get_by_role("option")).to_have_count(1)
    textarea = page.get_by_label("Message")
    active = textarea.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_contain_text("/hours")
    assert_no_wcag_violations(page)  # with the listbox open
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(textarea).to_have_value("Hello! We are open 9 to 5, Monday to Friday.")

    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Send'")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Message queued for sending.")
    expect(
        page.get_by_label("Message")
    ).to_be_focused()  # the fresh composer keeps the agent typing
    expect(page.get_by_label("Message")).to_have_value("")
    with agency_scope(agency_a):
        (sent,) = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    assert sent.content["text"]["body"] == "Hello! We are open 9 to 5, Monday to Friday."
    assert_no_wcag_violations(page)


def test_escape_closes_the_saved_replies_and_keeps_the_text(page: Page, agency_a, agent_email):
    conversation = OpenConversationFactory(agency=agency_a)
    CannedResponseFactory(agency=agency_a, shortcut="hours")
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/composer/")

    page.get_by_label("Message").focus()
    page.keyboard.type("/h")
    listbox = page.get_by_role("listbox", name="Saved replies")
    expect(listbox.get_by_role("option")).to_have_count(1)
    page.keyboard.press("Escape")

    expect(listbox).to_be_hidden()
    expect(page.get_by_label("Message")).to_have_value("/h")


def test_a_closed_window_offers_a_template_with_a_live_preview_without_violations(
    page: Page, agency_a, agent_email
):
    number = PhoneNumberFactory(agency=agency_a)
    conversation = ClosedConversationFactory(
        agency=agency_a, phone_number=number, contact=ContactFactory(agency=agency_a)
    )
    template = CaseUpdateTemplateFactory(agency=agency_a, waba=number.waba)
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/composer/")
    expect(page.get_by_text("Window closed:")).to_be_visible()
    assert_no_wcag_violations(page)

    page.get_by_label("Template").select_option(str(template.pk))
    page.get_by_role("button", name="Use this template").click()
    page.get_by_label("{{1}}", exact=True).fill("Ana <b>")

    preview = page.locator("[data-template-preview]")
    expect(preview).to_contain_text("Hello Ana <b>, your case {{2}} was updated.")
    assert_no_wcag_violations(page)

    page.get_by_label("{{2}}", exact=True).fill("B-7")
    page.get_by_label("Header {{1}}").fill("B-7")
    page.get_by_label("Button “Track it”: end of the link").fill("B-7")
    page.get_by_role("button", name="Send template").click()
    expect(page.get_by_role("alert")).to_contain_text("has not agreed to receive messages")
    expect(page.get_by_label("{{1}}", exact=True)).to_have_value("Ana <b>")  # kept
    assert_no_wcag_violations(page)


def test_the_composer_fits_320_css_pixels(page: Page, agency_a, agent_email):
    conversation = OpenConversationFactory(agency=agency_a)
    CannedResponseFactory(agency=agency_a, shortcut="a" * 40, title="x" * 100)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/composer/")

    expect(page.get_by_label("Message")).to_be_visible()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert_no_wcag_violations(page)


def test_the_composer_on_the_thread_page_has_no_violations(page: Page, agency_a, agent_email):
    conversation = OpenConversationFactory(agency=agency_a)
    InboundMessageFactory(agency=agency_a, conversation=conversation)
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/")

    expect(page.get_by_text("Window open:")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("Thank you, we will look into it.")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    expect(page.locator("#thread-messages")).to_contain_text("Thank you, we will look into it.")
    assert page.locator("#thread-messages article[id^='message-']").count() == 2
    assert_no_wcag_violations(page)
    page.goto("about:blank")  # close the live stream before the test database goes


def test_a_reply_button_of_the_thread_starts_a_reply_to_its_message(
    page: Page, agency_a, agent_email
):
    conversation = OpenConversationFactory(agency=agency_a)
    quoted = InboundMessageFactory(agency=agency_a, conversation=conversation)
    sign_in(page, agent_email)
    page.goto(f"/inbox/c/{conversation.pk}/composer/")
    # The thread's button, as agreed with the thread page (data-reply-to, data-reply-summary).
    page.evaluate(
        """pk => {
            const button = document.createElement("button");
            button.type = "button";
            button.className = "usa-button usa-button--unstyled";
            button.dataset.replyTo = pk;
            button.dataset.replySummary = "Hello";
            button.textContent = "Reply";
            document.querySelector("main").prepend(button);
        }""",
        str(quoted.pk),
    )

    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_text("Replying to:")).to_be_visible()
    expect(page.get_by_label("Message")).to_be_focused()
    page.keyboard.type("Yes, it is ready.")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("Message queued for sending.")
    expect(page.get_by_text("Replying to:")).to_be_hidden()
    with agency_scope(agency_a):
        sent = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert sent.reply_to_wamid == quoted.wamid
