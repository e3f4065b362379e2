"""The consent pages in a real headless Chromium: a citizen signs up on the hosted opt-in
page (at 1280 and 320 CSS pixels, English and Spanish), and staff use the contacts
directory, a contact's history, the topics and an import; axe-core finds no WCAG 2.1 AA
violation on any of them, and none breaks the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from messaging.consent import imports, public, tasks
from messaging.consent.models import ConsentImport
from messaging.models import Consent
from records.audit import Actor
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
    totp_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "page"]  # test_browser's Chromium (one per module) and fresh pages

SIZES = [{"width": 1280, "height": 900}, {"width": 320, "height": 640}]


@pytest.fixture
def csp_violations(page: Page) -> Iterator[list[str]]:
    reported: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            reported.append(f"{page.url}: {message.text}")

    page.on("console", record)
    yield reported


@pytest.fixture
def alerts(agency_a, number):
    return TopicFactory(
        agency=agency_a,
        slug="alerts",
        name="Emergency alerts",
        name_es="Alertas de emergencia",
        description="Storms, floods and boil-water notices.",
        wording="I agree to receive emergency alerts from Agency A on WhatsApp.",
        wording_es="Acepto recibir alertas de emergencia de Agency A por WhatsApp.",
        keywords=["ALERTS"],
    )


def _tick(page: Page, label: str) -> None:
    """Tick a USWDS checkbox or radio as a person does: by its label (the input itself is
    drawn off-screen, behind the styled box)."""
    page.locator("label.usa-checkbox__label, label.usa-radio__label", has_text=label).click()
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def _fits(page: Page) -> None:
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), page.url


@pytest.mark.parametrize("size", SIZES, ids=["1280px", "320px"])
def test_a_citizen_signs_up_on_the_hosted_page(
    page, agency_a, alerts, monkeypatch, csp_violations, size
):
    # A person takes longer than the minimum fill time; the test need not wait it out.
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    page.set_viewport_size(size)
    page.goto("/optin/agency-a/alerts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency alerts")
    expect(page.get_by_role("link", name="Open WhatsApp")).to_have_attribute(
        "href", "https://wa.me/12025550100?text=ALERTS"
    )
    qr = page.get_by_role("img", name="QR code that opens a WhatsApp conversation with Agency A")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('img.cr-qr').naturalWidth") > 0  # it loaded
    _fits(page)
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Sign me up").click()  # nothing filled in
    expect(page.get_by_role("alert")).to_contain_text("Enter your phone number.")
    expect(page.get_by_role("alert")).to_contain_text("Check the box")
    _fits(page)
    assert_no_wcag_violations(page)

    page.get_by_label("Your WhatsApp phone number").fill("(202) 555-0123")
    _tick(page, "I agree")
    page.get_by_role("button", name="Sign me up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("status")).to_contain_text("your request for emergency alerts")
    _fits(page)
    assert_no_wcag_violations(page)

    with agency_scope(agency_a):
        consent = Consent.objects.get()
        assert consent.contact.wa_id == "12025550123"
    assert (consent.source, consent.topic, consent.status) == ("web_form", "alerts", "opted_in")
    assert consent.evidence["wording"] == alerts.wording
    assert "HeadlessChrome" in consent.evidence["user_agent"]
    assert csp_violations == []


def test_the_hosted_page_in_spanish(page, agency_a, alerts, monkeypatch, csp_violations):
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    page.goto("/optin/agency-a/alerts/?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_no_wcag_violations(page)
    page.get_by_label("Su número de teléfono de WhatsApp").fill("+52 55 1234 5678")
    _tick(page, "Acepto")
    page.get_by_role("button", name="Suscribirme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias")
    assert_no_wcag_violations(page)
    with agency_scope(agency_a):
        assert Consent.objects.get().evidence["wording"] == alerts.wording_es
    assert csp_violations == []


def _sign_in_admin(page: Page, make_member) -> None:
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    secret = enroll_totp(admin.user)
    sign_in(page, admin.user.email)
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency A")


@pytest.mark.parametrize("size", SIZES, ids=["1280px", "320px"])
def test_staff_pages_have_no_violations(page, make_member, agency_a, alerts, csp_violations, size):
    citizen = ContactFactory(agency=agency_a, profile_name="Ana Ruiz", wa_id="12025550101")
    ConsentFactory(agency=agency_a, contact=citizen, topic="alerts", evidence={"form": "F-1"})
    ConsentFactory(agency=agency_a, contact=citizen, status=Consent.Status.OPTED_OUT)
    page.set_viewport_size(size)
    _sign_in_admin(page, make_member)

    page.goto("/contacts/")
    expect(page.get_by_role("link", name="Ana Ruiz")).to_be_visible()
    _fits(page)
    assert_no_wcag_violations(page)
    page.get_by_label("Consent").select_option(label="Opted out")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Ana Ruiz")).to_be_visible()
    assert_no_wcag_violations(page)

    page.get_by_role("link", name="Ana Ruiz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ana Ruiz")
    _fits(page)
    assert_no_wcag_violations(page)

    with agency_scope(agency_a):  # an import whose file is still being read
        reading = imports.upload(
            actor=Actor.system("test"),
            agency=agency_a,
            user=None,
            filename="list.csv",
            raw=b"phone\n(202) 555-0101\n",
        )
    page.goto(f"/contacts/imports/{reading.pk}/")
    expect(page.get_by_role("heading", name="Reading the file")).to_be_visible()
    expect(page.get_by_role("button", name="Read the file again")).to_be_visible()
    _fits(page)
    assert_no_wcag_violations(page)

    for path in ["/contacts/topics/", "/contacts/topics/new/", "/contacts/imports/"]:
        page.goto(path)
        _fits(page)
        assert_no_wcag_violations(page)
    assert csp_violations == []


def test_an_admin_records_a_phone_opt_out_on_the_contact_page(page, make_member, agency_a, alerts):
    citizen = ContactFactory(agency=agency_a, profile_name="Ben Cole", wa_id="12025550102")
    ConsentFactory(agency=agency_a, contact=citizen)
    _sign_in_admin(page, make_member)
    page.goto(f"/contacts/{citizen.pk}/")
    _tick(page, "Opted out")
    _tick(page, "Phone call")
    page.get_by_label("Your name").fill("R. Díaz")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status").first).to_contain_text("opt-out is recorded")
    assert_no_wcag_violations(page)
    with agency_scope(agency_a):
        newest = Consent.objects.filter(contact=citizen).order_by("-pk").first()
    assert (newest.status, newest.source) == ("opted_out", "phone")
    assert newest.evidence["staff_name"] == "R. Díaz"


def test_an_admin_imports_a_file_and_watches_the_preview_and_commit(
    page, make_member, agency_a, alerts, tmp_path, monkeypatch, csp_violations
):
    # The worker's part, run as soon as the view queues it (after its commit).
    monkeypatch.setattr(
        tasks,
        "queue",
        lambda task, **ids: task(**ids),  # the task body, in this thread
    )
    opted_out = ContactFactory(agency=agency_a, wa_id="12025550103")
    ConsentFactory(agency=agency_a, contact=opted_out, status=Consent.Status.OPTED_OUT)
    sheet = tmp_path / "sign-up sheet.csv"
    sheet.write_bytes(
        "phone,name,form\n(202) 555-0101,José,F-1\n(202) 555-0101,José,F-1\n"
        "12,Bad,F-2\n(202) 555-0103,Left,F-3\n".encode("cp1252")
    )
    _sign_in_admin(page, make_member)
    page.goto("/contacts/imports/")
    page.get_by_label("CSV file").set_input_files(str(sheet))
    page.get_by_label("Topic for rows without one").select_option(label="Emergency alerts")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="What the import will do")).to_be_visible()
    expect(page.get_by_text("Windows-1252")).to_be_visible()
    table = page.get_by_role("region", name="Rows not opted in")
    expect(table).to_contain_text("Duplicate of an earlier row")
    expect(table).to_contain_text("Not a valid phone number")
    expect(table).to_contain_text("Opted out earlier")
    assert_no_wcag_violations(page)

    page.get_by_role("button", name="Record 1 opt-in").click()
    expect(page.get_by_role("heading", name="What the import did")).to_be_visible()
    assert_no_wcag_violations(page)
    with agency_scope(agency_a):
        assert ConsentImport.objects.get().status == ConsentImport.Status.COMMITTED
        consent = Consent.objects.get(source=Consent.Source.IMPORT)
        assert consent.contact.profile_name == "José"
        assert not Consent.objects.filter(contact=opted_out, status="opted_in").exists()
    assert csp_violations == []
