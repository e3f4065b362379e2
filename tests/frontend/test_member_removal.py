"""The remove-confirmation page names the leaver's API keys and offers to transfer them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from records.audit import Actor
from tenants import services
from tenants.models import ApiCredential
from tenants.permissions import Role
from tenants.scoping import agency_scope


@pytest.fixture
def leaver(make_member):
    return make_member(Role.AGENCY_ADMIN)


@pytest.fixture
def leavers_key(agency_a, leaver) -> ApiCredential:
    credential, _ = services.create_api_credential(
        actor=Actor.system("test"), agency=agency_a, created_by=leaver.user, name="Case system"
    )
    return credential


def _credential(pk: int, agency) -> ApiCredential:
    with agency_scope(agency):
        return ApiCredential.objects.get(pk=pk)


def test_the_confirmation_page_names_the_keys_that_will_be_revoked(
    admin_client, leaver, leavers_key
):
    page = admin_client.get(reverse("frontend:remove_member", args=[leaver.pk])).text
    assert "API keys they created" in page
    assert "“Case system”" in page
    assert f"cr_{leavers_key.prefix}_" in page


def test_the_confirmation_page_offers_the_other_admins_only(
    admin_client, admin_a, leaver, leavers_key, make_member
):
    agent = make_member(Role.AGENT)
    page = admin_client.get(reverse("frontend:remove_member", args=[leaver.pk])).text
    assert "Transfer their API keys to" in page
    assert f'value="{admin_a.pk}"' in page
    assert f'value="{agent.pk}"' not in page
    assert f'value="{leaver.pk}"' not in page


def test_removing_without_a_transfer_revokes_the_keys_and_says_which(
    admin_client, agency_a, leaver, leavers_key
):
    response = admin_client.post(
        reverse("frontend:remove_member", args=[leaver.pk]), {"transfer_to": ""}, follow=True
    )
    assert "Their API keys were revoked: “Case system”." in response.text
    assert _credential(leavers_key.pk, agency_a).revoked_at is not None


def test_removing_with_a_transfer_keeps_the_keys_working_for_the_new_admin(
    admin_client, admin_a, agency_a, leaver, leavers_key
):
    response = admin_client.post(
        reverse("frontend:remove_member", args=[leaver.pk]),
        {"transfer_to": admin_a.pk},
        follow=True,
    )
    assert f"Their API keys now belong to {admin_a.user.email}." in response.text
    credential = _credential(leavers_key.pk, agency_a)
    assert (credential.revoked_at, credential.created_by) == (None, admin_a.user)


def test_a_transfer_to_someone_who_is_not_another_admin_is_refused(
    admin_client, agency_a, leaver, leavers_key, make_member
):
    agent = make_member(Role.AGENT)
    response = admin_client.post(
        reverse("frontend:remove_member", args=[leaver.pk]), {"transfer_to": agent.pk}
    )
    assert response.status_code == 200  # the confirmation page again, with the error
    assert "Select a valid choice" in response.text
    assert _credential(leavers_key.pk, agency_a).revoked_at is None
