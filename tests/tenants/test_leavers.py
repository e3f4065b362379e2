"""Leavers lose access: removing a member revokes the API keys they created, unless an admin
takes them over first; every step is audited."""

from __future__ import annotations

import pytest

from records.audit import Actor
from records.models import AuditEvent
from tenants import services
from tenants.models import ApiCredential
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ApiCredentialFactory, MembershipFactory

ACTOR = Actor.system("test")


@pytest.fixture
def admin(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)


@pytest.fixture
def leaver(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)


def _key(agency, user, name: str = "CRM sync") -> ApiCredential:
    credential, _ = services.create_api_credential(
        actor=ACTOR, agency=agency, created_by=user, name=name
    )
    return credential


def _refreshed(credential: ApiCredential) -> ApiCredential:
    with agency_scope(credential.agency_id):
        return ApiCredential.objects.get(pk=credential.pk)


def _events(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(agency=agency, action=action).order_by("sequence"))


def test_a_key_records_who_created_it(agency_a, admin):
    assert _refreshed(_key(agency_a, admin.user)).created_by == admin.user


def test_removing_a_member_revokes_the_keys_they_created(agency_a, admin, leaver):
    theirs = _key(agency_a, leaver.user)
    revoked = services.remove_member(actor=ACTOR, agency=agency_a, membership=leaver)
    assert [c.pk for c in revoked] == [theirs.pk]
    assert _refreshed(theirs).revoked_at is not None


def test_keys_created_by_others_keep_working_when_a_member_leaves(agency_a, admin, leaver):
    kept = _key(agency_a, admin.user)
    unattributed = ApiCredentialFactory(agency=agency_a)  # created before keys recorded it
    services.remove_member(actor=ACTOR, agency=agency_a, membership=leaver)
    assert _refreshed(kept).revoked_at is None
    assert _refreshed(unattributed).revoked_at is None


def test_the_revocation_of_a_leavers_key_is_audited_with_the_reason(agency_a, admin, leaver):
    theirs = _key(agency_a, leaver.user)
    services.remove_member(actor=ACTOR, agency=agency_a, membership=leaver)
    (event,) = _events(agency_a, "api_credential.revoked")
    assert event.object_id == str(theirs.pk)
    assert event.changes == {
        "name": "CRM sync",
        "reason": f"its creator {leaver.user.email} was removed",
    }


def test_only_the_leavers_keys_in_this_agency_are_revoked(agency_a, agency_b, admin, leaver):
    MembershipFactory(agency=agency_b, user=leaver.user, role=Role.AGENCY_ADMIN)
    elsewhere = _key(agency_b, leaver.user)
    services.remove_member(actor=ACTOR, agency=agency_a, membership=leaver)
    assert _refreshed(elsewhere).revoked_at is None


def test_transferred_keys_survive_the_removal(agency_a, admin, leaver):
    theirs = _key(agency_a, leaver.user)
    revoked = services.remove_member(
        actor=ACTOR, agency=agency_a, membership=leaver, transfer_api_credentials_to=admin
    )
    assert revoked == []
    credential = _refreshed(theirs)
    assert (credential.revoked_at, credential.created_by) == (None, admin.user)


def test_transfer_api_credentials_gives_the_keys_to_another_admin_audited(agency_a, admin, leaver):
    theirs = _key(agency_a, leaver.user)
    moved = services.transfer_api_credentials(
        actor=ACTOR, agency=agency_a, from_user=leaver.user, to=admin
    )
    assert [c.pk for c in moved] == [theirs.pk]
    (event,) = _events(agency_a, "api_credential.transferred")
    assert event.changes == {"created_by": [leaver.user.email, admin.user.email]}


def test_keys_can_only_be_transferred_to_an_admin(agency_a, leaver):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    _key(agency_a, leaver.user)
    with pytest.raises(services.ApplicationError, match="admin of this agency"):
        services.transfer_api_credentials(
            actor=ACTOR, agency=agency_a, from_user=leaver.user, to=agent
        )


def test_keys_cannot_be_transferred_to_an_admin_of_another_agency(agency_a, agency_b, leaver):
    outsider = MembershipFactory(agency=agency_b, role=Role.AGENCY_ADMIN)
    theirs = _key(agency_a, leaver.user)
    with pytest.raises(services.ApplicationError, match="admin of this agency"):
        services.transfer_api_credentials(
            actor=ACTOR, agency=agency_a, from_user=leaver.user, to=outsider
        )
    assert _refreshed(theirs).created_by == leaver.user


def test_a_refused_removal_revokes_nothing(agency_a, leaver):
    """The last admin cannot be removed, and then their keys stay as they were."""
    theirs = _key(agency_a, leaver.user)
    with pytest.raises(services.ApplicationError, match="at least one agency admin"):
        services.remove_member(actor=ACTOR, agency=agency_a, membership=leaver)
    assert _refreshed(theirs).revoked_at is None
