"""A thread with every kind of message, in real headless Chromium: axe finds no WCAG 2.1 AA
violation, the image arrives through the media view, nothing breaks the CSP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from messaging.models import MediaObject, Message
from tests.factories import ConversationFactory, TemplateFactory
from tests.frontend.test_browser import WCAG_AA, browser, page, sign_in
from tests.inbox.rendering.factories import (
    MediaObjectFactory,
    inbound,
    outbound,
    reaction,
    stored_media,
    template_message,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]  # fixtures


def _every_kind(agency, agent) -> tuple[int, MediaObject]:
    conversation = ConversationFactory(agency=agency, contact__profile_name="Ana Souza")
    start = datetime.now(UTC) - timedelta(days=1)

    def when(minutes: int) -> dict[str, datetime]:
        return {"received_at": start + timedelta(minutes=minutes)}

    photo = stored_media(agency)
    question = outbound(
        conversation,
        "text",
        {"body": "Which street? https://city.gov/" + "a" * 200 + " " + "b" * 120},
        sender_user=agent.user,
    )
    inbound(
        conversation,
        "text",
        {"body": '<script>window.__xss=1</script> Main St "><img src=x onerror=window.__xss=2>'},
        reply_to_wamid=question.wamid,
        **when(1),
    )
    inbound(conversation, "image", {"id": "1", "caption": "The pole"}, media=photo, **when(2))
    inbound(conversation, "image", {"id": "2"}, media=MediaObjectFactory(agency=agency), **when(3))
    inbound(conversation, "audio", {"id": "3", "voice": True}, **when(4))
    inbound(
        conversation,
        "location",
        {"latitude": 41.88, "longitude": -87.63, "name": "City Hall"},
        **when(5),
    )
    inbound(
        conversation,
        "contacts",
        [{"name": {"formatted_name": "Maria"}, "phones": [{"phone": "+15550100199"}]}],
        **when(6),
    )
    inbound(
        conversation,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}},
        **when(7),
    )
    inbound(
        conversation,
        "order",
        {"product_items": [{"product_retailer_id": "BIN", "quantity": 1}]},
        **when(8),
    )
    inbound(conversation, "unsupported", {"type": "poll"}, **when(9))
    edited = inbound(
        conversation,
        "text",
        {"body": "Now fixed"},
        edited_at=start + timedelta(minutes=11),
        content_history=[
            {
                "content": {"type": "text", "text": {"body": "Still broken"}},
                "at": (start + timedelta(minutes=10)).isoformat(),
                "replaced_at": (start + timedelta(minutes=11)).isoformat(),
            }
        ],
        **when(10),
    )
    reaction(conversation, edited, "👍", **when(12))
    inbound(conversation, "text", {"body": "gone"}, revoked_at=start, **when(13))
    template = TemplateFactory(agency=agency, waba=conversation.phone_number.waba)
    template_message(
        conversation,
        template,
        [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "7"}],
            }
        ],
        status=Message.Status.READ,
    )
    outbound(
        conversation,
        "text",
        {"body": "Hello?"},
        status=Message.Status.FAILED,
        error_reason="More than 24 hours since the person last wrote.",
    )
    return conversation.pk, photo


def test_a_thread_of_every_kind_passes_axe_and_loads_its_image(page, agency_a, agent):
    conversation_pk, photo = _every_kind(agency_a, agent)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, agent.user.email)
    page.goto(f"/inbox/c/{conversation_pk}/")
    expect(page.get_by_role("heading", name="Ana Souza", level=1)).to_be_visible()
    image = page.get_by_role("img", name="The pole")
    expect(image).to_be_visible()
    page.wait_for_function(
        "() => { const img = document.querySelector('img[alt=\"The pole\"]');"
        " return img.complete && img.naturalWidth === 1; }"
    )
    assert image.get_attribute("src") == f"/inbox/media/{photo.pk}/"
    expect(page.get_by_text("Failed — More than 24 hours")).to_be_visible()
    assert page.evaluate("window.__xss") is None
    page.set_viewport_size({"width": 320, "height": 640})
    thread = page.locator("#thread-messages")
    assert thread.evaluate("t => t.scrollWidth <= t.clientWidth"), "the thread scrolls sideways"
    # The thread only: the page around it has tests of its own.
    results = Axe().run(page, context="#thread-messages", options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    assert violations == []
