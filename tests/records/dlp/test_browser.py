"""The DLP pages in a real headless Chromium (issue 12 §8): the policy page for an agency
admin, the composer's refusal next to the message with the justification field, and a
thread with masked data — each with zero axe (WCAG 2.1 AA) violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from messaging.models import Message
from records.dlp.models import DlpFlag, DlpPolicy
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import (
    ContactFactory,
    InboundMessageFactory,
    MembershipFactory,
    PhoneNumberFactory,
)
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import assert_no_wcag_violations, browser, page, sign_in, totp_code
from tests.inbox.composer.factories import OpenConversationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]

SSN = "536-22-1234"


@pytest.fixture
def conversation(agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    citizen = ContactFactory(agency=agency_a, wa_id="14155550100", phone_e164="+14155550100")
    conversation = OpenConversationFactory(agency=agency_a, phone_number=number, contact=citizen)
    InboundMessageFactory(
        agency=agency_a,
        conversation=conversation,
        content={"type": "text", "text": {"body": f"hello, my ssn is {SSN}"}},
    )
    return conversation


def test_an_admin_sets_the_policy_on_an_accessible_page(page: Page, agency_a):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    secret = enroll_totp(admin.user)
    sign_in(page, admin.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")

    page.goto("/records/dlp/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sensitive data policy")
    assert_no_wcag_violations(page)
    page.locator("label[for=id_auto_reply_enabled]").click()  # USWDS: the label is the box
    page.get_by_label("At most once per conversation every (hours)").fill("0")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("alert")).to_contain_text("Give a number of hours")
    assert_no_wcag_violations(page)  # with the errors shown

    page.get_by_label("At most once per conversation every (hours)").fill("12")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_text("The sensitive-data policy is saved.")).to_be_visible()
    with agency_scope(agency_a):
        policy = DlpPolicy.objects.get()
    assert policy.auto_reply_enabled and policy.auto_reply_hours == 12

    page.get_by_label("Name").fill("Case numbers")
    page.get_by_label("Regular expression").fill(r"(\w+\s?)+$")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.get_by_role("alert")).to_contain_text("another repetition")
    assert_no_wcag_violations(page)


def test_a_supervisor_is_stopped_then_sends_with_a_justification(
    page: Page, agency_a, conversation
):
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    sign_in(page, supervisor.user.email)
    page.goto(f"/inbox/c/{conversation.pk}/")
    # The citizen's number is masked in the thread, with a text (not colour alone).
    expect(page.get_by_text("•••-••-1234")).to_be_visible()
    expect(page.get_by_text("Sensitive data masked:")).to_be_visible()
    assert_no_wcag_violations(page)

    page.get_by_label("Message", exact=True).fill(f"We have {SSN} on file.")
    page.get_by_role("button", name="Send", exact=True).click()
    error = page.locator(f"#composer-{conversation.pk}-text-error")
    expect(error).to_contain_text("a US Social Security number")
    justification = page.get_by_label("Justification for sending sensitive data")
    expect(justification).to_be_visible()
    assert_no_wcag_violations(page)

    justification.fill("The citizen asked us to confirm the number we hold.")
    page.get_by_role("button", name="Send with this justification").click()
    expect(page.get_by_text("Message queued for sending.")).to_be_visible()
    with agency_scope(agency_a):
        [message] = Message.objects.filter(direction="out")
        assert DlpFlag.objects.get(message=message).outcome == "justified"
