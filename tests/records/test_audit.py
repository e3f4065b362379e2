"""The audit trail: hash-chained per agency, append-only, verifiable, fork-free."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from records.audit import GENESIS_HASH, Actor, compute_hash, record_event, verify_chain
from records.models import AuditEvent
from tenants.scoping import agency_scope

ACTOR = Actor.system("test")


def _record(agency, n: int = 1) -> list[AuditEvent]:
    return [
        record_event(agency_id=agency.pk, actor=ACTOR, action="test.changed", changes={"n": i})
        for i in range(n)
    ]


def test_first_event_links_to_the_genesis_hash(agency_a):
    first = _record(agency_a)[0]
    assert (first.sequence, first.prev_hash) == (1, GENESIS_HASH)


def test_each_event_links_to_the_previous_one(agency_a):
    first, second = _record(agency_a, 2)
    assert second.prev_hash == first.hash
    assert second.sequence == 2


def test_each_agency_has_its_own_chain(agency_a, agency_b):
    _record(agency_a, 3)
    (b_first,) = _record(agency_b)
    assert (b_first.sequence, b_first.prev_hash) == (1, GENESIS_HASH)


def test_stored_hash_is_the_sha256_of_the_canonical_content(agency_a):
    event = _record(agency_a)[0]
    with agency_scope(agency_a):
        stored = AuditEvent.objects.get(pk=event.pk)
    assert compute_hash(stored) == stored.hash == event.hash


def test_secrets_are_redacted_from_changes(agency_a):
    event = record_event(
        agency_id=agency_a.pk,
        actor=ACTOR,
        action="waba.connected",
        changes={"access_token": "EAAG-secret", "name": "Main"},
    )
    assert event.changes == {"access_token": "[redacted]", "name": "Main"}


def test_an_intact_chain_verifies(agency_a):
    _record(agency_a, 5)
    report = verify_chain(agency_a.pk)
    assert report.ok and report.count == 5


@pytest.mark.parametrize(
    "statement", ["UPDATE records_auditevent SET action = 'x'", "DELETE FROM records_auditevent"]
)
def test_the_app_role_cannot_update_or_delete_audit_events(agency_a, statement):
    _record(agency_a)
    with (
        agency_scope(agency_a),
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def _as_owner(owner_cursor, sql: str, params: list | None = None) -> None:
    """The schema owner, a malicious DBA: it sees every agency and can disable the trigger."""
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    owner_cursor.execute(sql, params)


@pytest.fixture
def committed_chain(transactional_db, agency_a):
    return _record(agency_a, 5)


def test_the_trigger_refuses_updates_even_from_the_table_owner(committed_chain, owner_cursor):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        _as_owner(
            owner_cursor,
            "UPDATE records_auditevent SET action = 'x' WHERE id = %s",
            [committed_chain[2].pk],
        )


def _tamper(owner_cursor, sql: str, params: list) -> None:
    _as_owner(
        owner_cursor, "ALTER TABLE records_auditevent DISABLE TRIGGER audit_event_append_only"
    )
    try:
        _as_owner(owner_cursor, sql, params)
    finally:
        _as_owner(
            owner_cursor, "ALTER TABLE records_auditevent ENABLE TRIGGER audit_event_append_only"
        )


def test_verification_finds_an_edited_event(committed_chain, owner_cursor, agency_a):
    target = committed_chain[2]
    _tamper(
        owner_cursor,
        "UPDATE records_auditevent SET changes = '{\"n\": 99}' WHERE id = %s",
        [target.pk],
    )
    report = verify_chain(agency_a.pk)
    assert not report.ok
    assert report.broken_event.pk == target.pk
    assert report.problem == "content does not match its hash"


def test_verification_finds_a_deleted_event(committed_chain, owner_cursor, agency_a):
    _tamper(owner_cursor, "DELETE FROM records_auditevent WHERE id = %s", [committed_chain[1].pk])
    report = verify_chain(agency_a.pk)
    assert report.broken_event.pk == committed_chain[2].pk
    assert report.count == 1


def test_verification_finds_events_deleted_from_the_end_of_the_chain(
    committed_chain, owner_cursor, agency_a
):
    _tamper(owner_cursor, "DELETE FROM records_auditevent WHERE id = %s", [committed_chain[-1].pk])
    report = verify_chain(agency_a.pk)
    assert not report.ok
    assert report.problem == "the newest events are missing: the chain head is at sequence 5"


def test_verification_finds_a_rehashed_event_by_its_broken_successor(
    committed_chain, owner_cursor, agency_a
):
    """A forger who recomputes the edited event's own hash still breaks the next link."""
    target = committed_chain[1]
    target.action = "forged"
    forged_hash = compute_hash(target)
    _tamper(
        owner_cursor,
        "UPDATE records_auditevent SET action = 'forged', hash = %s WHERE id = %s",
        [forged_hash, target.pk],
    )
    report = verify_chain(agency_a.pk)
    assert report.broken_event.pk == committed_chain[2].pk
    assert report.problem == "link to the previous event is broken"


def test_audit_verify_command_prints_ok_with_the_count(committed_chain, capsys):
    call_command("audit_verify", "--agency", "agency-a")
    assert "OK agency-a: 5 events" in capsys.readouterr().out


def test_audit_verify_command_exits_non_zero_on_a_tampered_row(
    committed_chain, owner_cursor, capsys
):
    _tamper(
        owner_cursor,
        "UPDATE records_auditevent SET actor_label = 'mallory' WHERE id = %s",
        [committed_chain[3].pk],
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    assert excinfo.value.returncode == 1
    out = capsys.readouterr().out
    assert (
        f"BROKEN agency-a: content does not match its hash at event id={committed_chain[3].pk}"
        in out
    )


def test_concurrent_writers_do_not_fork_the_chain(transactional_db, agency_a):
    writers, per_writer = 8, 15
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write() -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    record_event(
                        agency_id=agency_a.pk, actor=ACTOR, action="concurrent", changes={"i": i}
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain(agency_a.pk)
    assert report.ok, report.problem
    assert report.count == writers * per_writer


def test_the_hourly_verification_task_reports_a_broken_chain(committed_chain, owner_cursor, caplog):
    from records.tasks import verify_audit_chains

    assert verify_audit_chains() == 0
    _tamper(
        owner_cursor,
        "UPDATE records_auditevent SET action = 'x' WHERE id = %s",
        [committed_chain[0].pk],
    )
    with caplog.at_level("ERROR", logger="records.tasks"):
        assert verify_audit_chains() == 1
    assert "audit chain broken" in caplog.text
