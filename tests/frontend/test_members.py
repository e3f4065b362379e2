"""Members page: invitations, role changes and removals, each through the services."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent
from tenants.models import Agency, Invitation, Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import InvitationFactory, MembershipFactory

STRONG_PASSWORD = "plum-orbit-lantern-2931"


def _actions(agency: Agency) -> list[str]:
    with agency_scope(agency):
        return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def _invite(client: Client, email: str, role: str, capture: Callable[..., Any]) -> None:
    with capture(execute=True):
        response = client.post(reverse("frontend:invite_member"), {"email": email, "role": role})
    assert response.status_code == 302


def test_the_members_page_lists_members_with_their_roles(admin_client, agent_a):
    page = admin_client.get(reverse("frontend:members")).text
    assert agent_a.user.email in page
    assert "Agent" in page


def test_an_invitation_flows_from_email_to_membership(
    admin_client, agency_a, django_capture_on_commit_callbacks
):
    _invite(
        admin_client, "new.person@example.gov", Role.SUPERVISOR, django_capture_on_commit_callbacks
    )
    assert mail.outbox[0].to == ["new.person@example.gov"]
    link = re.search(r"https?://testserver(/invite/\S+/)", str(mail.outbox[0].body)).group(1)

    invitee = Client()
    assert "Choose a password" in invitee.get(link).text
    response = invitee.post(link, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("frontend:home")
    with agency_scope(agency_a):
        member = Membership.objects.get(user__email="new.person@example.gov")
    assert member.role == Role.SUPERVISOR
    assert invitee.get(reverse("frontend:home")).status_code == 200
    assert _actions(agency_a)[-4:] == [
        "invitation.created",
        "invitation.accepted",
        "membership.created",
        "auth.logged_in",
    ]


def test_inviting_an_existing_member_shows_the_error_on_the_form(admin_client, agent_a):
    response = admin_client.post(
        reverse("frontend:invite_member"), {"email": agent_a.user.email, "role": Role.AGENT}
    )
    assert response.status_code == 200
    assert "is already a member" in response.text
    assert 'aria-describedby="id_email_error"' in response.text


def test_an_invalid_email_is_reported_and_nothing_is_sent(admin_client, agency_a):
    response = admin_client.post(
        reverse("frontend:invite_member"), {"email": "not-an-email", "role": Role.AGENT}
    )
    assert 'aria-invalid="true"' in response.text
    with agency_scope(agency_a):
        assert not Invitation.objects.exists()


def test_an_admin_revokes_a_pending_invitation(admin_client, agency_a):
    invitation = InvitationFactory(agency=agency_a)
    admin_client.post(reverse("frontend:revoke_invitation", args=[invitation.pk]))
    with agency_scope(agency_a):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert _actions(agency_a)[-1] == "invitation.revoked"


def test_an_admin_changes_a_members_role(admin_client, agency_a, agent_a):
    url = reverse("frontend:change_member_role", args=[agent_a.pk])
    admin_client.post(url, {"role": Role.SUPERVISOR})
    with agency_scope(agency_a):
        agent_a.refresh_from_db()
    assert agent_a.role == Role.SUPERVISOR
    assert _actions(agency_a)[-1] == "membership.role_changed"


def test_an_admin_sets_a_members_whatsapp_number_in_e164(admin_client, agency_a, agent_a):
    url = reverse("frontend:set_member_phone", args=[agent_a.pk])
    page = admin_client.post(url, {"phone": "+1 (512) 555-0100"}, follow=True).text
    with agency_scope(agency_a):
        agent_a.refresh_from_db()
    assert agent_a.phone_e164 == "+15125550100"
    assert "+15125550100" in page
    assert _actions(agency_a)[-1] == "membership.phone_changed"


def test_a_number_without_its_country_code_is_refused_with_the_format(
    admin_client, agency_a, agent_a
):
    url = reverse("frontend:set_member_phone", args=[agent_a.pk])
    page = admin_client.post(url, {"phone": "512 555 0100"}, follow=True).text
    with agency_scope(agency_a):
        agent_a.refresh_from_db()
    assert agent_a.phone_e164 == ""
    assert "international format" in page


def test_an_empty_number_clears_it(admin_client, agency_a, agent_a):
    with agency_scope(agency_a):
        Membership.objects.filter(pk=agent_a.pk).update(phone_e164="+15125550100")
    admin_client.post(reverse("frontend:set_member_phone", args=[agent_a.pk]), {"phone": ""})
    with agency_scope(agency_a):
        agent_a.refresh_from_db()
    assert agent_a.phone_e164 == ""


def test_an_agent_cannot_set_a_members_number(agent_client, agency_a, admin_a):
    url = reverse("frontend:set_member_phone", args=[admin_a.pk])
    assert agent_client.post(url, {"phone": "+15125550100"}).status_code == 403


def test_the_last_admin_cannot_be_demoted(admin_client, admin_a, agency_a):
    url = reverse("frontend:change_member_role", args=[admin_a.pk])
    response = admin_client.post(url, {"role": Role.AGENT}, follow=True)
    assert "at least one agency admin" in response.text
    with agency_scope(agency_a):
        admin_a.refresh_from_db()
    assert admin_a.role == Role.AGENCY_ADMIN


def test_removing_asks_for_confirmation_first(admin_client, agency_a, agent_a):
    page = admin_client.get(reverse("frontend:remove_member", args=[agent_a.pk])).text
    assert "signed out of Civic Relay on every device" in page
    with agency_scope(agency_a):
        assert Membership.objects.filter(pk=agent_a.pk).exists()


def test_removing_a_member_ends_their_sessions(
    admin_client, agent_a, agent_client, agency_a, django_capture_on_commit_callbacks
):
    assert agent_client.get(reverse("frontend:home")).status_code == 200  # session tracked
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("frontend:remove_member", args=[agent_a.pk]))

    response = agent_client.get(reverse("frontend:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert _actions(agency_a)[-1] == "membership.removed"


def test_a_member_of_two_agencies_removed_from_one_keeps_the_other(
    admin_client, agent_a, agency_b, django_capture_on_commit_callbacks
):
    MembershipFactory(agency=agency_b, user=agent_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("frontend:remove_member", args=[agent_a.pk]))
    with agency_scope(agency_b):
        assert Membership.objects.filter(user=agent_a.user).exists()
