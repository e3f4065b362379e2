"""Agency, staff and WhatsApp connection services."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from records.audit import Actor
from records.models import AuditEvent
from tenants import services
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory, UserFactory, WabaFactory

ACTOR = Actor.system("test")


def _actions(agency) -> list[str]:
    with agency_scope(agency):
        return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def test_an_invitation_emails_a_one_time_link_and_stores_only_its_hash(
    agency_a, django_capture_on_commit_callbacks
):
    admin = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            actor=ACTOR,
            agency=agency_a,
            invited_by=admin,
            email="New.Clerk@Example.gov",
            role=Role.SUPERVISOR,
            accept_url_base="https://relay.example",
        )
    (message,) = mail.outbox
    assert message.to == ["new.clerk@example.gov"]
    token = message.body.split("https://relay.example/invite/")[1].split("/")[0]
    assert token not in invitation.token_hash
    assert services.sha256_hex(token) == invitation.token_hash


def test_accepting_an_invitation_creates_the_membership_with_the_invited_role(agency_a):
    invitation = services.invite_member(
        actor=ACTOR,
        agency=agency_a,
        invited_by=None,
        email="clerk@example.gov",
        role=Role.RECORDS_OFFICER,
        accept_url_base="",
    )
    user = services.create_user_for_invitation(invitation=invitation, password="x" * 16)
    membership = services.accept_invitation(actor_ip=None, invitation=invitation, user=user)
    assert (membership.agency_id, membership.role) == (agency_a.pk, Role.RECORDS_OFFICER)
    assert _actions(agency_a)[-2:] == ["invitation.accepted", "membership.created"]


def test_an_invitation_cannot_be_accepted_by_another_email(agency_a):
    invitation = services.invite_member(
        actor=ACTOR,
        agency=agency_a,
        invited_by=None,
        email="clerk@example.gov",
        role=Role.AGENT,
        accept_url_base="",
    )
    with pytest.raises(services.ApplicationError, match=r"clerk@example\.gov"):
        services.accept_invitation(actor_ip=None, invitation=invitation, user=UserFactory())


def test_inviting_an_existing_member_is_refused(agency_a):
    member = MembershipFactory(agency=agency_a)
    with pytest.raises(services.ApplicationError, match="already a member"):
        services.invite_member(
            actor=ACTOR,
            agency=agency_a,
            invited_by=None,
            email=member.user.email,
            role=Role.AGENT,
            accept_url_base="",
        )


def test_the_last_agency_admin_cannot_be_demoted(agency_a):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    with pytest.raises(services.ApplicationError, match="at least one agency admin"):
        services.change_member_role(actor=ACTOR, agency=agency_a, membership=admin, role=Role.AGENT)


def test_changing_a_role_is_audited_with_before_and_after(agency_a):
    MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    services.change_member_role(
        actor=ACTOR, agency=agency_a, membership=agent, role=Role.SUPERVISOR
    )
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.changes["role"] == ["agent", "supervisor"]


def test_removing_a_member_ends_all_their_sessions(
    agency_a, client, django_capture_on_commit_callbacks
):
    from allauth.usersessions.models import UserSession

    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    client.force_login(member.user)
    assert client.get("/").status_code == 200  # usersessions records the session
    assert UserSession.objects.filter(user=member.user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_member(actor=ACTOR, agency=agency_a, membership=member)
    assert not UserSession.objects.filter(user=member.user).exists()
    assert client.get("/").status_code == 302  # back to the login page
    with agency_scope(agency_a):
        assert not Membership.objects.filter(pk=member.pk).exists()


def test_a_phone_number_of_another_agency_cannot_be_connected_again(agency_a, agency_b):
    number_of_b = WabaFactory(agency=agency_b)
    services.connect_phone_number(
        actor=ACTOR,
        agency=agency_b,
        waba=number_of_b,
        phone_number_id="1065",
        display_phone_number="+1 555 0100",
        verified_name="B",
    )
    waba_of_a = WabaFactory(agency=agency_a)
    with pytest.raises(services.ApplicationError, match="one platform only") as excinfo:
        services.connect_phone_number(
            actor=ACTOR,
            agency=agency_a,
            waba=waba_of_a,
            phone_number_id="1065",
            display_phone_number="+1 555 0100",
            verified_name="A",
        )
    assert "Agency B" not in str(excinfo.value)


def test_a_waba_id_can_belong_to_one_agency_only(agency_a, agency_b):
    services.connect_waba(actor=ACTOR, agency=agency_b, waba_id="777", name="B", access_token="t")
    with pytest.raises(services.ApplicationError, match="WhatsApp Business Account"):
        services.connect_waba(
            actor=ACTOR, agency=agency_a, waba_id="777", name="A", access_token="t"
        )


def test_access_tokens_are_encrypted_at_rest_and_kept_out_of_the_audit_trail(agency_a):
    waba = services.connect_waba(
        actor=ACTOR, agency=agency_a, waba_id="888", name="Main", access_token="EAAG-very-secret"
    )
    with agency_scope(agency_a), connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM tenants_whatsappbusinessaccount WHERE id = %s", [waba.pk]
        )
        stored = cursor.fetchone()[0]
        event = AuditEvent.objects.get(action="waba.connected")
    assert "EAAG-very-secret" not in stored
    assert "EAAG-very-secret" not in str(event.changes)
    with agency_scope(agency_a):
        assert PhoneNumber.objects.count() == 0
        from tenants.models import WhatsAppBusinessAccount

        assert WhatsAppBusinessAccount.objects.get(pk=waba.pk).access_token == "EAAG-very-secret"


def test_a_new_api_key_is_returned_once_and_audited(agency_a):
    credential, raw_key = services.create_api_credential(
        actor=ACTOR, agency=agency_a, created_by=None, name="CRM sync"
    )
    assert raw_key.startswith(f"cr_{credential.prefix}_")
    assert "api_credential.created" in _actions(agency_a)


def test_a_business_portfolio_of_another_agency_is_named_as_such(agency_a, agency_b):
    services.connect_waba(
        actor=ACTOR, agency=agency_b, waba_id="901", name="B", access_token="t", business_id="55"
    )
    with pytest.raises(services.ApplicationError, match="business portfolio"):
        services.connect_waba(
            actor=ACTOR,
            agency=agency_a,
            waba_id="902",
            name="A",
            access_token="t",
            business_id="55",
        )
