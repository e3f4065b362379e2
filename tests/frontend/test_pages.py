"""Every page renders for a member allowed to see it, and refuses (403) one who is not."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.audit import Actor, record_event
from tenants.permissions import Role
from tests.factories import (
    ApiCredentialFactory,
    InvitationFactory,
    MembershipFactory,
    PhoneNumberFactory,
    UserFactory,
)


@pytest.fixture
def pages(agency_a, admin_a) -> dict[str, str]:
    """Every GET page of agency A, with real objects behind the id URLs."""
    event = record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")
    return {
        "home": reverse("frontend:home"),
        "members": reverse("frontend:members"),
        "remove_member": reverse("frontend:remove_member", args=[admin_a.pk]),
        "whatsapp": reverse("frontend:whatsapp"),
        "phone_number": reverse(
            "frontend:phone_number", args=[PhoneNumberFactory(agency=agency_a).pk]
        ),
        "audit": reverse("frontend:audit"),
        "audit_event": reverse("frontend:audit_event", args=[event.pk]),
        "api_keys": reverse("frontend:api_keys"),
    }


@pytest.mark.parametrize(
    "page",
    [
        "home",
        "members",
        "remove_member",
        "whatsapp",
        "phone_number",
        "audit",
        "audit_event",
        "api_keys",
    ],
)
def test_every_page_renders_for_an_agency_admin(admin_client, pages, page):
    response = admin_client.get(pages[page])
    assert response.status_code == 200
    assert b'<main id="main-content"' in response.content


@pytest.mark.parametrize("page", ["home", "members", "whatsapp", "phone_number"])
def test_pages_an_agent_may_see_render_for_an_agent(agent_client, pages, page):
    assert agent_client.get(pages[page]).status_code == 200


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.SUPERVISOR, "audit"),
        (Role.RECORDS_OFFICER, "audit_event"),
        (Role.INTEGRATOR, "api_keys"),
    ],
)
def test_other_roles_see_the_pages_their_permission_grants(
    make_member, client_for, pages, role, page
):
    assert client_for(make_member(role)).get(pages[page]).status_code == 200


@pytest.mark.parametrize("page", ["audit", "audit_event", "api_keys", "remove_member"])
def test_an_agent_is_refused_pages_outside_their_role(agent_client, pages, page):
    assert agent_client.get(pages[page]).status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invite_member", {"email": "new@example.gov", "role": Role.AGENT}),
        ("connect_waba", {"waba_id": "123", "name": "X", "access_token": "t"}),
        ("add_phone_number", {}),
        ("api_keys", {"name": "Key"}),
    ],
)
def test_an_agent_is_refused_changes_outside_their_role(agent_client, name, data):
    assert agent_client.post(reverse(f"frontend:{name}"), data).status_code == 403


def test_an_agent_cannot_change_roles(agent_client, admin_a):
    url = reverse("frontend:change_member_role", args=[admin_a.pk])
    assert agent_client.post(url, {"role": Role.AGENT}).status_code == 403


def test_the_navigation_shows_only_permitted_sections(agent_client):
    page = agent_client.get(reverse("frontend:home")).text
    assert 'href="/members/"' in page
    assert 'href="/audit/"' not in page
    assert 'href="/api-keys/"' not in page


def test_the_navigation_marks_the_current_page(admin_client):
    page = admin_client.get(reverse("frontend:members")).text
    assert (
        '<a class="usa-nav-link usa-current" href="/members/" aria-current="page">'
        "<span>Members</span></a>"
    ) in page


def test_anonymous_visitors_are_sent_to_sign_in(client, pages):
    response = client.get(pages["members"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_dashboard_shows_the_agency_and_its_counts(admin_client, agency_a):
    PhoneNumberFactory(agency=agency_a)
    page = admin_client.get(reverse("frontend:home")).text
    assert "<h1>Agency A</h1>" in page
    assert "America/Chicago" in page
    assert "Active" in page
    assert 'data-count="phone_numbers">1</p>' in page


def test_a_user_without_an_agency_gets_a_friendly_page(db):
    client = Client()
    client.force_login(UserFactory())
    response = client.get(reverse("frontend:home"))
    assert response.status_code == 200
    assert "not a member of any agency" in response.text


def test_a_missing_page_uses_the_site_layout(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Skip to main content" in response.text


def test_the_sign_in_page_uses_the_site_layout(client, db):
    page = client.get(reverse("account_login")).text
    assert "Skip to main content" in page
    assert '<label class="usa-label" for="id_login">Email</label>' in page


def _queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "add_row"),
    [
        ("/members/", lambda agency: MembershipFactory(agency=agency)),
        ("/members/", lambda agency: InvitationFactory(agency=agency)),
        ("/whatsapp/", lambda agency: PhoneNumberFactory(agency=agency)),
        ("/api-keys/", lambda agency: ApiCredentialFactory(agency=agency)),
    ],
)
def test_list_pages_make_the_same_number_of_queries_for_more_rows(
    admin_client, agency_a, url, add_row
):
    add_row(agency_a)
    admin_client.get(url)  # the first request of a session also records the session
    before = _queries_for(admin_client, url)
    for _ in range(3):
        add_row(agency_a)
    assert _queries_for(admin_client, url) == before
