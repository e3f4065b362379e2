"""A suspended agency is read-only: every state-changing service refuses with one typed error."""

from __future__ import annotations

import pytest

from messaging import services as messaging_services
from messaging.policy import Rule, SendRefused
from messaging.services import Sender
from messaging.whatsapp import builders as b
from records.audit import Actor
from records.models import AuditEvent
from tenants import services
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory, PhoneNumberFactory, UserFactory

ACTOR = Actor.system("test")


@pytest.fixture
def suspended(agency_a):
    return services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")


def test_sending_is_refused_with_the_suspension_reason_and_audited(suspended):
    PhoneNumberFactory(agency=suspended)
    with pytest.raises(SendRefused) as refused:
        messaging_services.send_message(
            agency=suspended, sender=Sender.system("test"), to="+14155550101", message=b.Text("hi")
        )
    assert refused.value.rule == Rule.SENDER_UNAVAILABLE
    assert refused.value.message == services.suspension_reason(suspended)
    assert isinstance(refused.value.__cause__, services.AgencySuspended)
    with agency_scope(suspended):
        assert AuditEvent.objects.filter(action="message.refused").exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda a, m: services.invite_member(
            actor=ACTOR,
            agency=a,
            invited_by=None,
            email="x@example.gov",
            role=Role.AGENT,
            accept_url_base="http://t",
        ),
        lambda a, m: services.change_member_role(
            actor=ACTOR, agency=a, membership=m, role=Role.SUPERVISOR
        ),
        lambda a, m: services.add_member(actor=ACTOR, agency=a, user=UserFactory(), role="agent"),
        lambda a, m: services.create_api_credential(
            actor=ACTOR, agency=a, created_by=None, name="k"
        ),
        lambda a, m: services.connect_waba(
            actor=ACTOR, agency=a, waba_id="9", name="W", access_token="t"
        ),
        lambda a, m: services.transfer_api_credentials(
            actor=ACTOR, agency=a, from_user=m.user, to=m
        ),
    ],
    ids=["invite", "role", "add_member", "create_key", "connect_waba", "transfer_keys"],
)
def test_state_changing_services_refuse_while_suspended(agency_a, change):
    member = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")
    with pytest.raises(services.AgencySuspended, match="Agency A is suspended"):
        change(agency_a, member)


def test_revoking_a_key_still_works_while_suspended(agency_a):
    credential, _ = services.create_api_credential(
        actor=ACTOR, agency=agency_a, created_by=None, name="k"
    )
    services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")
    services.revoke_api_credential(actor=ACTOR, agency=agency_a, credential=credential)
    assert credential.revoked_at is not None


def test_reactivating_lifts_the_refusal(agency_a):
    services.set_agency_status(actor=ACTOR, agency=agency_a, status="suspended")
    services.set_agency_status(actor=ACTOR, agency=agency_a, status="active")
    credential, _ = services.create_api_credential(
        actor=ACTOR, agency=agency_a, created_by=None, name="k"
    )
    assert credential.pk is not None
