"""Roles that require MFA reach nothing in the staff UI until they enroll an authenticator."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from frontend.urls import urlpatterns
from records.audit import Actor, record_event
from tenants.permissions import Role
from tests.factories import ApiCredentialFactory, InvitationFactory, PhoneNumberFactory
from tests.frontend.conftest import enroll_totp


@pytest.fixture
def unenrolled_admin(make_member):
    return make_member(Role.AGENCY_ADMIN, mfa=False)


@pytest.fixture
def every_page(agency_a, unenrolled_admin) -> list[tuple[str, str]]:
    """(method, url) for every frontend route with agency A's objects behind the ids."""
    event = record_event(agency_id=agency_a.pk, actor=Actor.system("test"), action="test.done")
    member, number = unenrolled_admin.pk, PhoneNumberFactory(agency=agency_a).pk
    return [
        ("get", reverse("frontend:home")),
        ("get", reverse("frontend:console")),
        ("post", reverse("frontend:switch_agency")),
        ("get", reverse("frontend:members")),
        ("post", reverse("frontend:invite_member")),
        ("post", reverse("frontend:change_member_role", args=[member])),
        ("post", reverse("frontend:set_member_phone", args=[member])),
        ("get", reverse("frontend:remove_member", args=[member])),
        (
            "post",
            reverse("frontend:revoke_invitation", args=[InvitationFactory(agency=agency_a).pk]),
        ),
        ("get", reverse("frontend:whatsapp")),
        ("post", reverse("frontend:connect_waba")),
        ("post", reverse("frontend:add_phone_number")),
        ("get", reverse("frontend:phone_number", args=[number])),
        ("get", reverse("frontend:audit")),
        ("get", reverse("frontend:audit_event", args=[event.pk])),
        ("get", reverse("frontend:api_keys")),
        (
            "post",
            reverse("frontend:revoke_api_key", args=[ApiCredentialFactory(agency=agency_a).pk]),
        ),
    ]


def test_the_page_list_covers_every_frontend_route(every_page):
    names = {resolve(url).url_name for _, url in every_page}
    assert names == {pattern.name for pattern in urlpatterns} - {"accept_invitation"}


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.RECORDS_OFFICER])
def test_a_role_requiring_mfa_is_sent_to_enrollment_from_every_page(
    make_member, client_for, every_page, role
):
    client = client_for(make_member(role, mfa=False))
    for method, url in every_page:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url


def test_after_enrolling_totp_the_admin_reaches_the_dashboard(client_for, unenrolled_admin):
    client = client_for(unenrolled_admin)
    assert client.get(reverse("frontend:home")).status_code == 302
    enroll_totp(unenrolled_admin.user)
    assert client.get(reverse("frontend:home")).status_code == 200


def test_an_agent_does_not_need_mfa(agent_client):
    assert agent_client.get(reverse("frontend:home")).status_code == 200


def test_the_enrollment_page_renders_in_the_site_layout(client_for, unenrolled_admin):
    client = client_for(unenrolled_admin)
    page = client.get(reverse("mfa_activate_totp"), follow=True).text
    assert "Skip to main content" in page
