"""The USWDS pages in a real headless Chromium: the official banner and the mobile menu work
under the Content-Security-Policy, and every page passes axe (WCAG 2.1 AA) at 1280 and at
320 CSS pixels, where nothing scrolls or is cut off sideways."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.template.loader import render_to_string
from django.test import Client
from playwright.sync_api import Page, Route, expect

from records.audit import Actor, record_event
from tenants import services
from tenants.permissions import Role
from tenants.selectors import sha256_hex
from tests.factories import (
    DEFAULT_PASSWORD,
    AgencyFactory,
    ApiCredentialFactory,
    InvitationFactory,
    MembershipFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)
from tests.frontend.test_browser_csp import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page", "violations"]  # fixtures shared with the other browser tests

WIDE, NARROW = 1280, 320
BANNER_TOGGLE = "Here\N{RIGHT SINGLE QUOTATION MARK}s how you know"  # USWDS's wording

# Elements whose right edge passes the viewport, unless a scrolling container (a table's
# own scroll region) holds them: content a 320 px reader could neither see nor scroll to.
# USWDS's body has overflow-x: hidden, so scrollWidth alone would not show them.
CUT_OFF = """() => {
  const width = document.documentElement.clientWidth;
  const cut = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= width + 1) continue;
    let scroller = el.parentElement;
    while (scroller && scroller !== document.body) {
      if (["auto", "scroll"].includes(getComputedStyle(scroller).overflowX)) break;
      scroller = scroller.parentElement;
    }
    if (scroller && scroller !== document.body) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
    cut.push(`${name}.${[...el.classList].join(".")}`);
  }
  return cut;
}"""


def assert_passes_at_both_widths(page: Page) -> None:
    """The page as it stands, wide and then narrow (resized, not reloaded: it may be the
    answer to a POST): zero axe violations at both, and at 320 px no sideways scrolling."""
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 800})
        assert_no_wcag_violations(page)
    assert page.evaluate(CUT_OFF) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW, page.url
    page.set_viewport_size({"width": WIDE, "height": 800})


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    expect(page.locator("h1")).to_be_visible()
    # Our stylesheet applied: USWDS's official banner has its grey background.
    banner = page.locator(".usa-banner").evaluate("e => getComputedStyle(e).backgroundColor")
    assert banner == "rgb(240, 240, 240)"
    assert_passes_at_both_widths(page)


def _sign_in_with_totp(page: Page, email: str, secret: str) -> None:
    sign_in(page, email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()


def test_the_official_banner_opens_and_closes_under_the_policy(page, violations, db):
    page.goto("/accounts/login/")
    toggle = page.get_by_role("button", name=BANNER_TOGGLE)
    details = page.locator("#gov-banner")
    expect(details).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(details).to_be_visible()
    expect(details).to_contain_text("Official websites use .gov")
    assert_no_wcag_violations(page)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(details).to_be_hidden()
    assert violations == []


def test_the_mobile_menu_opens_and_closes_at_320_pixels_under_the_policy(
    page, violations, make_member
):
    page.set_viewport_size({"width": NARROW, "height": 700})
    sign_in(page, make_member(Role.AGENT).user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")
    members = page.get_by_role("navigation", name="Main").get_by_role("link", name="Members")
    expect(members).to_be_hidden()

    page.get_by_role("button", name="Menu").click()
    expect(members).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_wcag_violations(page)
    page.get_by_role("button", name="Close").click()
    expect(members).to_be_hidden()

    page.get_by_role("button", name="Menu").click()
    page.keyboard.press("Escape")  # the keyboard closes it too
    expect(members).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    members.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Agency A")
    assert violations == []


def test_the_wide_header_shows_the_navigation_and_the_account_box(page, make_member, agency_a):
    agent = make_member(Role.AGENT)
    MembershipFactory(user=agent.user, agency=AgencyFactory(name="Parks Department"))
    sign_in(page, agent.user.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    page.get_by_label("Agency").select_option(label="Parks Department")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Parks Department")
    assert_passes_at_both_widths(page)


HTMX_POST = """async ([path, values]) => {
  const answered = new Promise((resolve) => document.body.addEventListener(
    "htmx:afterRequest", (event) => resolve(event.detail.xhr.status), {once: true}));
  htmx.ajax("POST", path, {source: document.body, values: values, swap: "none"});
  return await answered;
}"""


def test_htmx_runs_under_the_policy_and_its_posts_pass_the_csrf_check(
    page, violations, make_member
):
    agent = make_member(Role.AGENT)
    parks = AgencyFactory(name="Parks Department")
    MembershipFactory(user=agent.user, agency=parks)
    sign_in(page, agent.user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")
    config = page.evaluate(
        "[htmx.version, htmx.config.allowEval, htmx.config.allowScriptTags,"
        " htmx.config.includeIndicatorStyles, htmx.config.historyCacheSize]"
    )
    assert config[0].startswith("2.")
    assert config[1:] == [False, False, False, 0]
    # An htmx POST without a form: only the token in <body hx-headers> gets it past CSRF.
    status = page.evaluate(HTMX_POST, ["/agency/switch/", {"agency_id": str(parks.pk)}])
    assert status == 200
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Parks Department")
    assert violations == []


def test_the_sign_in_pages_pass_axe_at_both_widths(page, violations, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    visit(page, "/accounts/password/reset/")
    visit(page, "/accounts/login/")
    page.get_by_label("Email").fill("nobody@example.gov")
    page.get_by_label("Password", exact=True).fill("wrong-password-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    assert_passes_at_both_widths(page)  # the error summary and the invalid fields

    sign_in(page, admin.user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    assert_passes_at_both_widths(page)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")
    assert violations == []


@pytest.fixture
def signed_in_admin_page(page, make_member, agency_a) -> dict[str, str]:
    """``page`` signed in as an agency admin of a lived-in agency A; the ids of its pages."""
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    RecoveryCodes.activate(admin.user)
    other = make_member(Role.AGENT)
    ApiCredentialFactory(agency=agency_a, created_by=other.user)
    number = PhoneNumberFactory(agency=agency_a)
    InvitationFactory(agency=agency_a)
    event = record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")
    _sign_in_with_totp(page, admin.user.email, secret)
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")
    return {"member": str(other.pk), "number": str(number.pk), "event": str(event.pk)}


@pytest.mark.parametrize(
    "paths",
    [
        ["/", "/members/", "/members/{member}/remove/"],
        ["/whatsapp/", "/whatsapp/numbers/{number}/", "/api-keys/"],
        ["/audit/", "/audit/?verify=1", "/audit/{event}/"],
        ["/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/"],
        ["/no-such-page/", "/accounts/logout/"],
    ],
    ids=["members", "whatsapp-and-keys", "audit", "account", "not-found-and-sign-out"],
)
def test_every_page_of_an_agency_admin_passes_axe_at_both_widths(
    page, violations, signed_in_admin_page, paths
):
    for path in paths:
        visit(page, path.format(**signed_in_admin_page))
    assert violations == []


def test_the_recovery_codes_pass_axe_at_both_widths(page, violations, signed_in_admin_page):
    page.goto("/accounts/2fa/recovery-codes/")  # allauth asks for the password again first
    if "/reauthenticate/" in page.url:
        assert_passes_at_both_widths(page)
        page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    assert_passes_at_both_widths(page)
    for path in ["/accounts/2fa/recovery-codes/generate/", "/accounts/2fa/totp/deactivate/"]:
        visit(page, path)
    assert violations == []


def test_forms_with_errors_and_a_new_key_pass_axe_at_both_widths(page, violations, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    _sign_in_with_totp(page, admin.user.email, enroll_totp(admin.user))
    page.goto("/members/")
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address")
    assert_passes_at_both_widths(page)

    page.goto("/api-keys/")
    page.get_by_label("Key name").fill("Case system")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("New API key")).to_have_value(re.compile(r"^cr_"))
    assert_passes_at_both_widths(page)
    assert violations == []


def test_totp_enrollment_and_recovery_codes_pass_axe_at_both_widths(page, violations, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    sign_in(page, admin.user.email)
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.locator("img.qr")).to_be_visible()
    assert_passes_at_both_widths(page)

    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    assert_passes_at_both_widths(page)
    assert violations == []


def test_the_platform_console_passes_axe_at_both_widths(page, violations, agency_a):
    operator = UserFactory(is_superuser=True, is_staff=True)
    _sign_in_with_totp(page, operator.email, enroll_totp(operator))
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform console")
    assert_passes_at_both_widths(page)
    assert violations == []


def test_an_agents_pages_and_a_refusal_pass_axe_at_both_widths(page, violations, make_member):
    sign_in(page, make_member(Role.AGENT).user.email)
    for path in ["/", "/members/", "/whatsapp/", "/audit/"]:  # the last one: 403
        visit(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
    assert violations == []


def test_a_suspended_agency_pages_and_refusal_pass_axe_at_both_widths(
    page, violations, make_member, agency_a
):
    agent = make_member(Role.SUPERVISOR)
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    sign_in(page, agent.user.email)
    expect(page.get_by_role("alert")).to_contain_text("Agency A is suspended.")
    assert_passes_at_both_widths(page)

    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    page.context.clear_cookies()
    _sign_in_with_totp(page, admin.user.email, enroll_totp(admin.user))
    page.goto("/api-keys/")
    page.get_by_label("Key name").fill("crm")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Not possible while the agency is suspended"
    )
    assert_passes_at_both_widths(page)
    assert violations == []


def test_invitation_and_no_agency_pages_pass_axe_at_both_widths(page, violations, agency_a):
    token = "a-raw-invitation-token-for-the-browser"
    InvitationFactory(agency=agency_a, email="invitee@example.gov", token_hash=sha256_hex(token))
    visit(page, f"/invite/{token}/")  # choose a password
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_passes_at_both_widths(page)
    visit(page, "/invite/no-such-token/")  # no longer valid

    UserFactory(email="lonely@example.gov")
    sign_in(page, "lonely@example.gov")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You are not a member of any agency yet"
    )
    assert_passes_at_both_widths(page)
    assert violations == []


@pytest.mark.parametrize(
    ("template", "context"),
    [("500.html", {}), ("frontend/unavailable.html", {"signing_in": True})],
)
def test_the_error_pages_pass_axe_at_both_widths_under_the_policy(
    page, violations, live_server, template, context
):
    # Pages nothing can be made to answer on purpose: served as rendered, under the policy
    # our pages carry, and with the static files from the app.
    policy = Client().get("/accounts/login/")["Content-Security-Policy"]
    html = render_to_string(template, context)

    def fulfil(route: Route) -> None:
        route.fulfill(
            status=500,
            body=html,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy},
        )

    page.route(f"{live_server.url}/broken-on-purpose/", fulfil)
    visit(page, "/broken-on-purpose/")
    assert violations == []


def test_the_outreach_menu_opens_on_a_click_and_leads_to_campaigns(
    page, violations, signed_in_admin_page
):
    nav = page.get_by_role("navigation", name="Main")
    outreach = nav.get_by_role("button", name="Outreach")
    campaigns = nav.get_by_role("link", name="Campaigns")
    expect(outreach).to_have_attribute("aria-expanded", "false")
    expect(campaigns).to_be_hidden()
    outreach.click()
    expect(campaigns).to_be_visible()
    assert_no_wcag_violations(page)  # the open menu
    campaigns.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Campaigns")
    assert violations == []
