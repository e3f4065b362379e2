"""Opening an emailed invitation link: new accounts, existing accounts, wrong accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants.models import Agency, Invitation, Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tenants.selectors import sha256_hex
from tests.factories import InvitationFactory, UserFactory

TOKEN = "a-raw-invitation-token-for-tests"
LINK = reverse("frontend:accept_invitation", args=[TOKEN])
STRONG_PASSWORD = "plum-orbit-lantern-2931"


@pytest.fixture
def invitation(agency_a) -> Invitation:
    return InvitationFactory(
        agency=agency_a,
        email="invitee@example.gov",
        role=Role.AGENCY_ADMIN,
        token_hash=sha256_hex(TOKEN),
    )


def _member_exists(agency: Agency, email: str) -> bool:
    with agency_scope(agency):
        return Membership.objects.filter(user__email=email).exists()


def test_a_new_admin_who_sets_a_password_is_sent_to_mfa_enrollment(client, invitation, agency_a):
    response = client.post(LINK, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    assert _member_exists(agency_a, "invitee@example.gov")
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == reverse("mfa_activate_totp")


def test_mfa_enrollment_right_after_joining_does_not_ask_for_the_password_again(client, invitation):
    client.post(LINK, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "authenticator_secret" in response.text


def test_a_weak_password_shows_each_validator_message_and_creates_nothing(
    client, invitation, agency_a
):
    response = client.post(LINK, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert "This password is too short. It must contain at least 12 characters." in response.text
    assert "This password is too common." in response.text
    assert "This password is entirely numeric." in response.text
    assert 'aria-describedby="id_password1_helptext id_password1_error"' in response.text
    assert not get_user_model().objects.filter(email="invitee@example.gov").exists()
    assert not _member_exists(agency_a, "invitee@example.gov")


def test_mismatched_passwords_are_refused(client, invitation):
    response = client.post(LINK, {"password1": STRONG_PASSWORD, "password2": "other-value-9876"})
    assert "The two passwords do not match." in response.text
    assert not get_user_model().objects.filter(email="invitee@example.gov").exists()


def test_an_unknown_token_gets_a_clear_gone_page(client, db):
    response = client.get(reverse("frontend:accept_invitation", args=["nope"]))
    assert response.status_code == 410
    assert "no longer valid" in response.text


def test_an_expired_invitation_gets_the_gone_page(client, invitation, agency_a):
    with agency_scope(agency_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert client.get(LINK).status_code == 410


def test_a_used_invitation_cannot_be_used_again(client, invitation):
    client.post(LINK, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    assert Client().get(LINK).status_code == 410


def test_an_existing_user_is_asked_to_sign_in_first(client, invitation):
    UserFactory(email="invitee@example.gov")
    response = client.get(LINK)
    assert f'href="/accounts/login/?next=%2Finvite%2F{TOKEN}%2F"' in response.text
    assert "Choose a password" not in response.text


def test_a_signed_in_invitee_accepts_with_a_button(client, invitation, agency_a):
    user = UserFactory(email="invitee@example.gov")
    client.force_login(user)
    assert "Accept invitation" in client.get(LINK).text
    response = client.post(LINK)
    assert response["Location"] == reverse("frontend:home")
    assert _member_exists(agency_a, "invitee@example.gov")


def test_a_signed_in_user_with_another_email_is_refused(agent_client, invitation, agency_a):
    response = agent_client.post(LINK)
    assert response.status_code == 403
    assert "This invitation is for another email address" in response.text
    assert not _member_exists(agency_a, "invitee@example.gov")
