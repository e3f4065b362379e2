"""The chain head: only record_event moves it, and verification trusts it only when consistent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from records.audit import GENESIS_HASH, Actor, record_event, verify_chain
from records.models import AuditChainHead, AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import DEFAULT_PASSWORD, MembershipFactory

ACTOR = Actor.system("test")


def _record(agency, n: int = 1) -> list[AuditEvent]:
    return [
        record_event(agency_id=agency.pk, actor=ACTOR, action="test.changed", changes={"n": i})
        for i in range(n)
    ]


def _as_app_role(agency, sql: str, params: list | None = None) -> None:
    """Run ``sql`` as the application role (the tests' own connection), in agency's scope."""
    with agency_scope(agency), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def committed_chain(transactional_db, agency_a):
    return _record(agency_a, 3)


def _as_owner_without_guard(owner_cursor, sql: str, params: list | None = None) -> None:
    """The schema owner (a malicious DBA) disables the head's trigger to tamper with it."""
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    owner_cursor.execute(
        "ALTER TABLE records_auditchainhead DISABLE TRIGGER audit_chain_head_guard"
    )
    try:
        owner_cursor.execute(sql, params)
    finally:
        owner_cursor.execute(
            "ALTER TABLE records_auditchainhead ENABLE TRIGGER audit_chain_head_guard"
        )


def test_the_app_role_cannot_delete_a_chain_head(agency_a):
    _record(agency_a)
    with pytest.raises(DatabaseError, match="permission denied"):
        _as_app_role(agency_a, "DELETE FROM records_auditchainhead")


@pytest.mark.parametrize(
    "statement",
    [
        # rewind to an empty chain
        "UPDATE records_auditchainhead SET sequence = 0, hash = repeat('0', 64)",
        # same sequence, another hash
        "UPDATE records_auditchainhead SET hash = 'forged'",
        # advance onto an event that does not exist, or skip one
        "UPDATE records_auditchainhead SET sequence = sequence + 1",
        "UPDATE records_auditchainhead SET sequence = sequence + 2",
    ],
)
def test_the_app_role_cannot_move_a_chain_head_arbitrarily(agency_a, statement):
    _record(agency_a, 2)
    with pytest.raises(DatabaseError, match="records_auditchainhead"):
        _as_app_role(agency_a, statement)


def test_the_app_role_cannot_point_the_head_at_an_older_event(agency_a):
    older = _record(agency_a, 3)[1]
    with pytest.raises(DatabaseError, match="records_auditchainhead"):
        _as_app_role(
            agency_a,
            "UPDATE records_auditchainhead SET sequence = %s, hash = %s",
            [older.sequence, older.hash],
        )


def test_record_event_still_advances_the_head_one_event_at_a_time(agency_a):
    events = _record(agency_a, 3)
    with agency_scope(agency_a):
        head = AuditChainHead.objects.get(chain_key=agency_a.pk)
    assert (head.sequence, head.hash) == (3, events[-1].hash)
    assert verify_chain(agency_a.pk).ok


def test_the_app_role_cannot_forge_a_new_head_for_a_chain_with_events(
    committed_chain, owner_cursor, agency_a
):
    _as_owner_without_guard(owner_cursor, "DELETE FROM records_auditchainhead")
    with pytest.raises(DatabaseError, match="must point at the newest event"):
        _as_app_role(
            agency_a,
            "INSERT INTO records_auditchainhead (chain_key, agency_id, sequence, hash) "
            "VALUES (%s, %s, 0, %s)",
            [agency_a.pk, agency_a.pk, GENESIS_HASH],
        )


def test_audit_verify_reports_a_missing_head_as_broken(committed_chain, owner_cursor, capsys):
    _as_owner_without_guard(owner_cursor, "DELETE FROM records_auditchainhead")
    with pytest.raises(CommandError):
        call_command("audit_verify", "--agency", "agency-a")
    assert "BROKEN agency-a: the chain head is missing" in capsys.readouterr().out


def test_audit_verify_reports_a_head_that_does_not_match_the_newest_event(
    committed_chain, owner_cursor, capsys
):
    _as_owner_without_guard(
        owner_cursor, "UPDATE records_auditchainhead SET hash = %s", [committed_chain[0].hash]
    )
    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert "BROKEN agency-a: the chain head is inconsistent" in capsys.readouterr().out


def test_audit_verify_reports_a_head_behind_the_newest_event(
    committed_chain, owner_cursor, agency_a
):
    second = committed_chain[1]
    _as_owner_without_guard(
        owner_cursor,
        "UPDATE records_auditchainhead SET sequence = %s, hash = %s",
        [second.sequence, second.hash],
    )
    report = verify_chain(agency_a.pk)
    assert not report.ok
    assert report.problem.startswith("the chain head is inconsistent")


def test_sign_in_works_when_the_chain_head_is_missing_and_the_chain_records_it(
    transactional_db, client, agency_a, owner_cursor
):
    member = MembershipFactory(agency=agency_a, role=Role.AGENT)
    _record(agency_a, 2)
    _as_owner_without_guard(owner_cursor, "DELETE FROM records_auditchainhead")

    response = client.post(
        "/accounts/login/", {"login": member.user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    report = verify_chain(agency_a.pk)
    assert report.ok, report.problem
    with agency_scope(agency_a):
        actions = list(
            AuditEvent.objects.filter(agency_id=agency_a.pk)
            .order_by("sequence")
            .values_list("action", flat=True)
        )
    assert actions[-2:] == ["audit.chain_head_recreated", "auth.logged_in"]
