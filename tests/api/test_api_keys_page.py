"""The API keys page: an admin picks the key's scopes (checkboxes) and its kind."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tenants.models import ApiCredential
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import (  # noqa: F401 (fixtures)
    assert_no_wcag_violations,
    browser,
    page,
    sign_in,
)

URL = "/api-keys/"


def _client(agency, role: str) -> Client:
    membership = MembershipFactory(agency=agency, role=role)
    if role == Role.AGENCY_ADMIN:
        enroll_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    return client


def _only_key(agency) -> ApiCredential:
    with agency_scope(agency):
        return ApiCredential.objects.get()


def test_an_admin_creates_a_key_with_the_scopes_ticked(agency_a):
    client = _client(agency_a, Role.AGENCY_ADMIN)
    data = {"name": "Case system", "scopes": ["messages:send", "audit:read"], "kind": "live"}
    response = client.post(URL, data)
    assert re.search(r'value="(cr_[^"]+)"', response.text)
    credential = _only_key(agency_a)
    assert credential.scopes == ["audit:read", "messages:send"]
    assert credential.kind == "live"


def test_a_test_key_is_marked_test_in_the_list(agency_a):
    client = _client(agency_a, Role.AGENCY_ADMIN)
    client.post(URL, {"name": "Sandbox", "scopes": ["messages:send"], "kind": "test"})
    assert _only_key(agency_a).kind == "test"
    assert "Test</span>" in client.get(URL).text


def test_the_list_shows_what_each_key_may_do(agency_a):
    client = _client(agency_a, Role.AGENCY_ADMIN)
    client.post(URL, {"name": "CRM", "scopes": ["contacts:read", "contacts:write"]})
    assert "contacts:read, contacts:write" in client.get(URL).text


def test_an_integrator_cannot_grant_the_audit_trail(agency_a):
    client = _client(agency_a, Role.INTEGRATOR)
    html = client.get(URL).text
    assert 'value="audit:read"' not in html
    assert 'value="messages:send"' in html
    response = client.post(URL, {"name": "Sneaky", "scopes": ["audit:read"]})
    assert "Select a valid choice" in response.text
    with agency_scope(agency_a):
        assert not ApiCredential.objects.exists()


def test_an_unknown_kind_is_refused(agency_a):
    client = _client(agency_a, Role.AGENCY_ADMIN)
    response = client.post(URL, {"name": "X", "kind": "prod"})
    assert "Select a valid choice" in response.text


def test_the_page_shows_how_to_get_an_oauth_token(agency_a):
    html = _client(agency_a, Role.AGENCY_ADMIN).get(URL).text
    assert reverse("api-oauth-token") in html
    assert "grant_type=client_credentials" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_creating_a_key_with_scopes_in_the_browser_has_no_wcag_violations(page, agency_a):  # noqa: F811
    integrator = MembershipFactory(agency=agency_a, role=Role.INTEGRATOR)
    sign_in(page, integrator.user.email)
    page.goto(URL)
    assert_no_wcag_violations(page)
    page.get_by_label("Key name").fill("Case system")
    # USWDS hides the inputs themselves; people click the labels.
    page.locator("label.usa-checkbox__label", has_text="messages:send").click()
    page.locator("label.usa-radio__label", has_text="Test:").click()
    page.get_by_role("button", name="Create key").click()
    page.get_by_label("New API key").wait_for()
    assert_no_wcag_violations(page)
    credential = _only_key(agency_a)
    assert credential.scopes == ["messages:send"]
    assert credential.kind == "test"
