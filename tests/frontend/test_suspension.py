"""Staff of a suspended agency sign in and read; every change is refused, and every page
carries a banner that says why."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from records.audit import Actor
from tenants import services
from tenants.models import ApiCredential, Invitation, Membership, PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tenants.selectors import sha256_hex
from tests.factories import DEFAULT_PASSWORD, InvitationFactory, PhoneNumberFactory, WabaFactory

BANNER = "Agency A is suspended."


@pytest.fixture
def suspended(agency_a):
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    agency_a.refresh_from_db()
    return agency_a


@pytest.mark.parametrize(
    "name",
    [
        "frontend:home",
        "frontend:members",
        "frontend:whatsapp",
        "frontend:audit",
        "frontend:api_keys",
        "mfa_index",
        "account_change_password",
    ],
)
def test_every_page_carries_the_suspension_banner(admin_client, suspended, name):
    response = admin_client.get(reverse(name))
    assert response.status_code == 200  # reading stays possible
    assert BANNER in response.text
    assert "nothing can be sent or changed" in response.text


def test_an_active_agency_shows_no_banner(admin_client, agency_a):
    assert BANNER not in admin_client.get(reverse("frontend:home")).text


def test_staff_of_a_suspended_agency_can_still_sign_in(client, agent_a, suspended):
    response = client.post(
        "/accounts/login/", {"login": agent_a.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert BANNER in client.get(reverse("frontend:home")).text


def test_inviting_is_refused_with_the_reason(admin_client, suspended):
    response = admin_client.post(
        reverse("frontend:invite_member"), {"email": "new@example.gov", "role": Role.AGENT}
    )
    assert "nothing can be sent or changed" in response.text
    with agency_scope(suspended):
        assert not Invitation.objects.exists()


def test_changing_a_role_is_refused(admin_client, agent_a, suspended):
    response = admin_client.post(
        reverse("frontend:change_member_role", args=[agent_a.pk]),
        {"role": Role.SUPERVISOR},
        follow=True,
    )
    assert "nothing can be sent or changed" in response.text
    with agency_scope(suspended):
        assert Membership.objects.get(pk=agent_a.pk).role == Role.AGENT


def test_setting_a_members_number_is_refused(admin_client, agent_a, suspended):
    response = admin_client.post(
        reverse("frontend:set_member_phone", args=[agent_a.pk]),
        {"phone": "+15125550100"},
        follow=True,
    )
    assert "nothing can be sent or changed" in response.text
    with agency_scope(suspended):
        assert Membership.objects.get(pk=agent_a.pk).phone_e164 == ""


def test_creating_an_api_key_is_refused_with_a_403_page_that_says_why(admin_client, suspended):
    response = admin_client.post(reverse("frontend:api_keys"), {"name": "crm"})
    assert response.status_code == 403
    assert "Not possible while the agency is suspended" in response.text
    assert BANNER in response.text
    with agency_scope(suspended):
        assert not ApiCredential.objects.exists()


def test_connecting_a_number_is_refused(admin_client, agency_a):
    waba = WabaFactory(agency=agency_a)
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    response = admin_client.post(
        reverse("frontend:add_phone_number"),
        {
            "waba": waba.pk,
            "phone_number_id": "1099",
            "display_phone_number": "+1 555 0100",
            "verified_name": "County",
            "throughput_tier": 80,
        },
    )
    assert "nothing can be sent or changed" in response.text
    with agency_scope(agency_a):
        assert not PhoneNumber.objects.filter(phone_number_id="1099").exists()


def test_connecting_a_waba_is_refused(admin_client, suspended):
    response = admin_client.post(
        reverse("frontend:connect_waba"),
        {"waba_id": "777", "name": "Main", "access_token": "EAAG-token"},
    )
    assert "nothing can be sent or changed" in response.text


def test_a_leaver_can_still_be_removed_from_a_suspended_agency(admin_client, agent_a, suspended):
    """Suspension never keeps a leaver's access: removing (and revoking) still works."""
    admin_client.post(reverse("frontend:remove_member", args=[agent_a.pk]))
    with agency_scope(suspended):
        assert not Membership.objects.filter(pk=agent_a.pk).exists()


def test_reading_a_phone_number_still_works(admin_client, agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    response = admin_client.get(reverse("frontend:phone_number", args=[number.pk]))
    assert response.status_code == 200


def test_an_invitation_cannot_be_accepted_while_suspended(client, agency_a):
    InvitationFactory(agency=agency_a, email="late@example.gov", token_hash=sha256_hex("tok"))
    services.set_agency_status(actor=Actor.system("test"), agency=agency_a, status="suspended")
    password = "plum-orbit-lantern-2931"
    response = client.post(
        reverse("frontend:accept_invitation", args=["tok"]),
        {"password1": password, "password2": password},
    )
    assert response.status_code == 403
    assert "Agency A is suspended" in response.text
    assert not get_user_model().objects.filter(email="late@example.gov").exists()
