"""The staff UI is built on the pinned U.S. Web Design System copy and htmx: every page loads
them from our own static files, and the copy is complete (every file its stylesheet refers
to is there, the production static-files build accepts it)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve, reverse

from records.audit import Actor, record_event
from tenants import services
from tenants.permissions import Role
from tenants.selectors import sha256_hex
from tests.factories import (
    DEFAULT_PASSWORD,
    InvitationFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.frontend.conftest import enroll_totp

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
USWDS = STATIC / "uswds"
HTMX = STATIC / "vendor" / "htmx"

STYLESHEET = '<link rel="stylesheet" href="/static/uswds/css/uswds.min.css">'
INIT_SCRIPT = '<script src="/static/uswds/js/uswds-init.min.js"></script>'
HTMX_SCRIPT = '<script src="/static/vendor/htmx/htmx.min.js" defer></script>'
USWDS_SCRIPT = '<script src="/static/uswds/js/uswds.min.js"></script>'
HTMX_CONFIG = re.compile(r"<meta name=\"htmx-config\" content='([^']*)'>")


def assert_uswds_page(html: str, *, htmx: bool = True) -> None:
    """The page is a USWDS page: our stylesheet and scripts, in the order USWDS asks for
    (the init script in <head> and the component script at the end of <body>), and the
    official banner, header, main region and footer."""
    head, _, body = html.partition("</head>")
    assert STYLESHEET in head
    assert INIT_SCRIPT in head
    assert (HTMX_SCRIPT in head) is htmx
    assert body.rstrip().endswith("</html>")
    assert USWDS_SCRIPT in body[body.rindex("</footer>") :]
    for landmark in (
        'class="usa-skipnav" href="#main-content"',
        '<section class="usa-banner"',
        '<header class="usa-header',
        '<main id="main-content"',
        '<footer class="usa-footer usa-footer--slim"',
    ):
        assert landmark in body, landmark


@pytest.fixture
def signed_in_admin(admin_client) -> Client:
    return admin_client


@pytest.fixture
def staff_pages(agency_a, make_member) -> list[str]:
    """Every GET page of the staff UI for an agency admin, with real objects behind them."""
    other = make_member(Role.AGENT)
    event = record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")
    number = PhoneNumberFactory(agency=agency_a)
    InvitationFactory(agency=agency_a)
    return [
        reverse("frontend:home"),
        reverse("frontend:members"),
        reverse("frontend:remove_member", args=[other.pk]),
        reverse("frontend:whatsapp"),
        reverse("frontend:phone_number", args=[number.pk]),
        reverse("frontend:audit"),
        reverse("frontend:audit") + "?verify=1",
        reverse("frontend:audit_event", args=[event.pk]),
        reverse("frontend:api_keys"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("mfa_view_recovery_codes"),
        reverse("account_logout"),
    ]


def _sign_in(client: Client, email: str, totp_secret: str | None = None) -> None:
    """A real sign-in (password, then the code) and a confirmed password, as allauth asks
    before the MFA pages: they open without a detour."""
    client.post(reverse("account_login"), {"login": email, "password": DEFAULT_PASSWORD})
    if totp_secret is not None:
        code = format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30))
        client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})


def test_every_staff_page_loads_uswds_and_htmx_from_our_static_files(
    client, make_member, staff_pages
):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    RecoveryCodes.activate(admin.user)  # so that the recovery codes page has some
    _sign_in(client, admin.user.email, enroll_totp(admin.user))
    for path in staff_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_uswds_page(response.text)


def test_the_sign_in_and_second_step_pages_are_uswds_pages(client, make_member):
    assert_uswds_page(client.get(reverse("account_login")).text)
    admin = make_member(Role.AGENCY_ADMIN)
    response = client.post(
        reverse("account_login"), {"login": admin.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    page = client.get(reverse("mfa_authenticate")).text
    assert "Two-Factor Authentication" in page
    assert_uswds_page(page)


def test_totp_enrollment_and_reauthentication_are_uswds_pages(client, client_for, make_member):
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    stale = client_for(admin).get(reverse("mfa_activate_totp"), follow=True)  # no recent sign-in
    assert 'name="password"' in stale.text
    assert_uswds_page(stale.text)
    _sign_in(client, admin.user.email)
    page = client.get(reverse("mfa_activate_totp")).text
    assert 'id="authenticator_secret"' in page
    assert_uswds_page(page)


def test_the_console_is_a_uswds_page(client, agency_a):
    operator = UserFactory(is_superuser=True, is_staff=True)
    enroll_totp(operator)
    client.force_login(operator)
    response = client.get(reverse("frontend:console"))
    assert response.status_code == 200
    assert_uswds_page(response.text)


@pytest.mark.parametrize(
    ("situation", "status"),
    [("new account", 200), ("existing account", 200), ("invalid", 410)],
)
def test_invitation_pages_are_uswds_pages(client, agency_a, situation, status):
    token = "a-raw-invitation-token-for-uswds"
    InvitationFactory(agency=agency_a, email="invitee@example.gov", token_hash=sha256_hex(token))
    if situation == "existing account":
        UserFactory(email="invitee@example.gov")
    if situation == "invalid":
        token = "no-such-token"
    response = client.get(reverse("frontend:accept_invitation", args=[token]))
    assert response.status_code == status
    assert_uswds_page(response.text)


def test_accepting_and_wrong_account_invitation_pages_are_uswds_pages(client, agency_a):
    token = "a-raw-invitation-token-for-uswds"
    InvitationFactory(agency=agency_a, email="invitee@example.gov", token_hash=sha256_hex(token))
    link = reverse("frontend:accept_invitation", args=[token])
    client.force_login(UserFactory(email="invitee@example.gov"))
    assert_uswds_page(client.get(link).text)  # confirm
    other = Client()
    other.force_login(UserFactory(email="someone-else@example.gov"))
    response = other.get(link)
    assert response.status_code == 403
    assert_uswds_page(response.text)


def test_error_and_refusal_pages_are_uswds_pages(signed_in_admin, agent_client, agency_a, db):
    assert_uswds_page(agent_client.get(reverse("frontend:audit")).text)  # 403
    assert_uswds_page(signed_in_admin.get("/no-such-page/").text)  # 404
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    refused = signed_in_admin.post(reverse("frontend:api_keys"), {"name": "crm"})
    assert refused.status_code == 403
    assert "usa-alert usa-alert--warning" in refused.text  # the suspension banner
    assert_uswds_page(refused.text)
    lonely = Client()
    lonely.force_login(UserFactory())
    assert_uswds_page(lonely.get(reverse("frontend:home")).text)  # no agency yet


def test_the_unavailable_page_is_a_uswds_page(db):
    request = RequestFactory().get("/accounts/login/")
    request.user = AnonymousUser()
    html = render_to_string("frontend/unavailable.html", {"signing_in": True}, request=request)
    assert "Sign-in temporarily unavailable" in html
    assert_uswds_page(html)


def test_the_500_page_is_a_uswds_page_without_any_template_tag():
    html = render_to_string("500.html")
    assert "{%" not in html
    assert_uswds_page(html, htmx=False)  # nothing on it to update


def test_htmx_runs_without_eval_inline_scripts_or_injected_styles(client, db):
    match = HTMX_CONFIG.search(client.get(reverse("account_login")).text)
    assert match is not None
    config = json.loads(match.group(1))
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["historyCacheSize"] == 0  # pages of citizens' messages stay out of storage


def test_htmx_requests_carry_the_csrf_token_in_a_header(signed_in_admin):
    response = signed_in_admin.get(reverse("frontend:home"))
    token = response.context["csrf_token"]
    assert f"""<body hx-headers='{{"X-CSRFToken": "{token}"}}'>""" in response.text


def test_an_htmx_request_is_recognised(signed_in_admin):
    response = signed_in_admin.get(reverse("frontend:home"), HTTP_HX_REQUEST="true")
    assert response.wsgi_request.htmx


def test_the_navigation_offers_the_inbox_first(agent_client):
    page = agent_client.get(reverse("frontend:home")).text
    nav = page[page.index('<ul class="usa-nav__primary') :]
    assert nav.index('href="/inbox/"') < nav.index('href="/"')


def test_the_navigation_marks_the_inbox_current_on_every_inbox_page(agent_a):
    request = RequestFactory().get(reverse("inbox:conversations"))
    request.user = agent_a.user
    request.agency = agent_a.agency  # type: ignore[attr-defined]  # as AgencyMiddleware sets
    request.membership = agent_a  # type: ignore[attr-defined]
    request.resolver_match = resolve(request.path)
    html = render_to_string("frontend/base.html", request=request)
    assert (
        '<a class="usa-nav-link usa-current" href="/inbox/" aria-current="page">'
        "<span>Inbox</span></a>"
    ) in html
    assert html.count('aria-current="page"') == 1


def test_members_without_the_inbox_permission_get_no_inbox_link(client_for, make_member):
    page = client_for(make_member(Role.INTEGRATOR)).get(reverse("frontend:api_keys")).text
    assert 'href="/inbox/"' not in page


def test_form_fields_are_uswds_form_groups_with_errors_tied_to_the_input(signed_in_admin):
    response = signed_in_admin.post(
        reverse("frontend:invite_member"), {"email": "not-an-email", "role": Role.AGENT}
    )
    html = response.text
    assert '<div class="usa-form-group usa-form-group--error">' in html
    assert '<label class="usa-label usa-label--error" for="id_email">' in html
    assert 'class="usa-error-message usa-list--unstyled" id="id_email_error"' in html
    email_input = re.search(r"<input[^>]*id=\"id_email\"[^>]*>", html)
    assert email_input is not None
    assert 'class="usa-input usa-input--error"' in email_input.group(0)
    assert 'aria-describedby="id_email_error"' in email_input.group(0)
    assert '<select name="role" class="usa-select"' in html
    assert 'class="usa-alert usa-alert--error' in html  # the error summary


# --- The pinned copy -----------------------------------------------------------------------


def _version(path: Path) -> dict[str, str]:
    name, version = path.read_text().splitlines()[0].split()
    fields = dict(line.split(" ", 1) for line in path.read_text().splitlines()[1:])
    return {"name": name, "version": version, **fields}


def test_the_uswds_copy_is_a_pinned_3x_release_with_its_integrity_noted():
    noted = _version(USWDS / "VERSION")
    assert noted["name"] == "@uswds/uswds"
    assert re.fullmatch(r"3\.\d+\.\d+", noted["version"])
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", noted["integrity"])
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert f"USWDS_VERSION ?= {noted['version']}" in makefile


def test_the_htmx_copy_is_a_pinned_2x_release_with_its_integrity_noted():
    noted = _version(HTMX / "VERSION")
    assert noted["name"] == "htmx.org"
    assert re.fullmatch(r"2\.\d+\.\d+", noted["version"])
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", noted["integrity"])
    assert f'version:"{noted["version"]}"' in (HTMX / "htmx.min.js").read_text()


def test_every_file_the_uswds_stylesheet_refers_to_is_in_the_copy():
    css = (USWDS / "css" / "uswds.min.css").read_text()
    referred = {
        ref for ref in re.findall(r"url\([\"']?([^\"')]+)", css) if not ref.startswith("data:")
    }
    assert referred, "the stylesheet refers to fonts and icons"
    missing = [ref for ref in sorted(referred) if not (USWDS / "css" / ref).resolve().is_file()]
    assert missing == []


def test_the_official_banner_and_menu_images_are_in_the_copy():
    for name in ("us_flag_small.png", "icon-dot-gov.svg", "icon-https.svg", "usa-icons/close.svg"):
        assert finders.find(f"uswds/img/{name}"), name


def test_the_production_static_files_build_accepts_the_copy(tmp_path):
    # The hashed storage rewrites every url() and sourceMappingURL: a file the stylesheet or
    # a script names but the copy lacks would fail the deploy's collectstatic.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    for name in ("uswds/css/uswds.min.css", "uswds/js/uswds.min.js", "vendor/htmx/htmx.min.js"):
        assert f'"{name}"' in manifest


def test_an_agency_admin_finds_campaigns_and_templates_under_outreach(signed_in_admin):
    page = signed_in_admin.get(reverse("frontend:home")).text
    menu = page[
        page.index('aria-controls="nav-outreach"') : page.index(
            "</ul>", page.index('id="nav-outreach"')
        )
    ]
    for url in ("campaigns:list", "templates_mgr:library"):
        assert f'href="{reverse(url)}"' in menu


def test_an_agent_gets_no_outreach_or_team_menu(agent_client):
    page = agent_client.get(reverse("frontend:home")).text
    assert "nav-outreach" not in page
    assert "nav-team" not in page


def test_a_supervisor_sees_the_outreach_pages_and_the_team_menu(client_for, make_member):
    page = client_for(make_member(Role.SUPERVISOR)).get(reverse("frontend:home")).text
    assert f'href="{reverse("campaigns:list")}"' in page
    assert f'href="{reverse("inbox:supervisor")}"' in page
