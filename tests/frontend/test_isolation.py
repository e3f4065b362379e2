"""Agency isolation in the staff UI: another agency's ids are 404, and you stay in your agency."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from frontend import urls as frontend_urls
from records.audit import Actor, record_event
from tenants.middleware import SESSION_AGENCY_KEY
from tenants.models import ApiCredential, Invitation, Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import (
    AgencyFactory,
    ApiCredentialFactory,
    InvitationFactory,
    MembershipFactory,
    PhoneNumberFactory,
)

# Every frontend URL taking an object id: (url name, method, kind of object, POST data).
ID_URL_MATRIX = [
    ("change_member_role", "post", "membership", {"role": Role.SUPERVISOR}),
    ("set_member_phone", "post", "membership", {"phone": "+15125550100"}),
    ("remove_member", "get", "membership", {}),
    ("remove_member", "post", "membership", {}),
    ("revoke_invitation", "post", "invitation", {}),
    ("phone_number", "get", "phone_number", {}),
    ("audit_event", "get", "audit_event", {}),
    ("revoke_api_key", "post", "api_credential", {}),
]
# URLs with a parameter that is not an agency object id: the invitation token is a
# 256-bit secret that works for anyone holding it (tested in test_invitations.py).
NOT_ID_URLS = {"accept_invitation"}


@pytest.fixture
def objects_of_agency_b(agency_b) -> dict[str, int]:
    event = record_event(agency_id=agency_b.pk, actor=Actor.system("test"), action="test.done")
    return {
        "membership": MembershipFactory(agency=agency_b, role=Role.AGENCY_ADMIN).pk,
        "invitation": InvitationFactory(agency=agency_b).pk,
        "phone_number": PhoneNumberFactory(agency=agency_b).pk,
        "audit_event": event.pk,
        "api_credential": ApiCredentialFactory(agency=agency_b).pk,
    }


@pytest.mark.parametrize(("name", "method", "kind", "data"), ID_URL_MATRIX)
def test_another_agencys_object_is_not_found(
    admin_client, objects_of_agency_b, name, method, kind, data
):
    url = reverse(f"frontend:{name}", args=[objects_of_agency_b[kind]])
    response = getattr(admin_client, method)(url, data)
    assert response.status_code == 404


def test_another_agencys_objects_are_unchanged_after_the_attempts(
    admin_client, agency_b, objects_of_agency_b
):
    for name, method, kind, data in ID_URL_MATRIX:
        url = reverse(f"frontend:{name}", args=[objects_of_agency_b[kind]])
        getattr(admin_client, method)(url, data)
    with agency_scope(agency_b):
        assert Membership.objects.get(pk=objects_of_agency_b["membership"]).role == "agency_admin"
        assert Invitation.objects.get(pk=objects_of_agency_b["invitation"]).revoked_at is None
        credential = ApiCredential.objects.get(pk=objects_of_agency_b["api_credential"])
        assert credential.revoked_at is None


def _urls_with_parameters() -> set[str]:
    return {
        pattern.name
        for pattern in frontend_urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters and pattern.name
    }


def test_every_frontend_url_with_an_id_is_in_the_isolation_matrix():
    in_matrix = {name for name, *_ in ID_URL_MATRIX}
    assert _urls_with_parameters() - NOT_ID_URLS == in_matrix


def test_a_member_cannot_switch_into_an_agency_they_do_not_belong_to(
    admin_client, agency_a, agency_b
):
    response = admin_client.post(reverse("frontend:switch_agency"), {"agency_id": agency_b.pk})
    assert response.status_code == 404
    assert admin_client.session[SESSION_AGENCY_KEY] == agency_a.pk


def test_a_member_of_two_agencies_switches_between_them(admin_client, admin_a, agency_b):
    MembershipFactory(agency=agency_b, user=admin_a.user, role=Role.AGENT)
    response = admin_client.post(reverse("frontend:switch_agency"), {"agency_id": agency_b.pk})
    assert response.status_code == 302
    assert admin_client.session[SESSION_AGENCY_KEY] == agency_b.pk
    assert "<h1>Agency B</h1>" in admin_client.get(reverse("frontend:home")).text


def test_the_agency_switcher_lists_only_the_users_agencies(admin_client, admin_a, agency_b):
    MembershipFactory(agency=agency_b, user=admin_a.user)
    AgencyFactory(name="Agency C")
    page = admin_client.get(reverse("frontend:home")).text
    assert f'<option value="{agency_b.pk}">Agency B</option>' in page
    assert "Agency C" not in page


def test_switching_agency_is_post_only(admin_client, agency_a):
    response = admin_client.get(reverse("frontend:switch_agency"), {"agency_id": agency_a.pk})
    assert response.status_code == 405
