"""Disposition: only an approved report is executed; it removes every copy and leaves a
certificate; held and unscheduled records are never destroyed — checked again at
execution, not only when the report was computed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from bsp.events import types
from inbox.models import ConversationLabel, Note
from messaging.models import Conversation, MediaObject, Message
from records import selection as selections
from records.holds.services import place_hold, release_hold
from records.retention import disposition
from records.retention.models import (
    DestroyedRecord,
    DestructionCertificate,
    DispositionItem,
    DispositionReport,
    RecordCategory,
)
from records.retention.services import (
    CategoryData,
    RetentionError,
    approve_report,
    compute_eligibility,
    reject_report,
    save_category,
)
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.records.holds.helpers import (
    OFFICER,
    audit_of,
    conversation,
    events_of,
    label,
    note,
    say,
)
from tests.records.retention.plan import Action, Kind, category

pytestmark = pytest.mark.django_db(transaction=True)
SAID = datetime(2026, 3, 10, 15, tzinfo=UTC)
DUE = datetime(2028, 2, 1, tzinfo=UTC)  # after 1 January 2028: 1 year after the cutoff


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """The approval enqueues the execution after commit; the tests run it themselves."""
    from records.retention import tasks

    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


def with_file(
    chat: Conversation, body: bytes = b"\x89PNG flood photo"
) -> tuple[Message, MediaObject]:
    message = say(chat, "Photo of the basement", at=SAID)
    key = default_storage.save(f"media/test/{chat.pk}.png", ContentFile(body))
    with agency_scope(chat.agency_id):
        media = MediaObject.objects.create(
            agency_id=chat.agency_id,
            phone_number_id=chat.phone_number_id,
            meta_media_id=f"m-{chat.pk}",
            kind="image",
            status=MediaObject.Status.STORED,
            storage_key=key,
            sha256=hashlib.sha256(body).hexdigest(),
            size_bytes=len(body),
        )
        Message.objects.filter(pk=message.pk).update(media=media)
    return message, media


def approved(agency, at: datetime = DUE) -> DispositionReport:
    with time_machine.travel(at, tick=False):
        report = compute_eligibility(agency.pk)
        assert report is not None
        return approve_report(agency.pk, report.pk, actor=OFFICER)


def execute(report: DispositionReport, at: datetime = DUE) -> DestructionCertificate | None:
    with time_machine.travel(at, tick=False):
        return disposition.execute_report(report.pk)


def items(report: DispositionReport) -> list[tuple[str, str]]:
    with agency_scope(report.agency_id):
        return list(report.items.order_by("id").values_list("status", "outcome"))


def exists(agency, model, pk: int) -> bool:
    with agency_scope(agency):
        return model.objects.filter(pk=pk).exists()


def test_an_approved_report_destroys_every_copy_and_leaves_a_certificate(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    text = say(chat, "My basement flooded on Elm street", at=SAID)
    photo, media = with_file(chat)
    staff_note = note(chat)
    label(chat)
    report = approved(agency_a)
    certificate = execute(report)
    assert certificate is not None
    for model, pk in (
        (Conversation, chat.pk),
        (Message, text.pk),
        (Message, photo.pk),
        (MediaObject, media.pk),
        (Note, staff_note.pk),
    ):
        assert not exists(agency_a, model, pk), model
    assert not default_storage.exists(media.storage_key)
    with agency_scope(agency_a):
        assert not ConversationLabel.objects.filter(conversation_id=chat.pk).exists()
        assert not selections.messages(agency_a.pk, Selection(query="flooded")).exists()
    assert certificate.counts == {"conversations": 1, "messages": 2, "media": 1, "notes": 1}
    assert certificate.record_ids["messages"] == sorted([text.pk, photo.pk])
    assert certificate.authorities == ["GRS 6.1 item 011"]
    assert certificate.approved_by_label == "officer@example.gov"
    with agency_scope(agency_a):
        leaves = DestroyedRecord.objects.filter(certificate=certificate).values_list(
            "leaf_hash", flat=True
        )
        assert certificate.leaf_sha256 == disposition.leaf_digest(leaves)
        assert DispositionReport.objects.get(pk=report.pk).status == "executed"
    assert items(report) == [("destroyed", "")]
    [event] = audit_of(agency_a, "records.destruction_certified")
    assert event.changes["leaf_sha256"] == certificate.leaf_sha256
    [published] = events_of(agency_a, types.DISPOSITION_EXECUTED)
    assert published.subject == {"report": report.pk, "certificate": certificate.pk}


def test_running_the_execution_again_destroys_nothing_twice(agency_a):
    category(agency_a)
    say(conversation(agency_a), at=SAID)
    report = approved(agency_a)
    assert execute(report) is not None
    assert execute(report) is None
    with agency_scope(agency_a):
        assert DestructionCertificate.objects.count() == 1
    assert len(audit_of(agency_a, "records.disposition_executed")) == 1
    assert len(events_of(agency_a, types.DISPOSITION_EXECUTED)) == 1


def test_a_pending_or_rejected_report_is_never_executed(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    with time_machine.travel(DUE, tick=False):
        report = compute_eligibility(agency_a.pk)
    assert report is not None
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)
    reject_report(agency_a.pk, report.pk, reason="Pending audit of the program", actor=OFFICER)
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)
    with pytest.raises(RetentionError, match="already rejected"):
        approve_report(agency_a.pk, report.pk, actor=OFFICER)


def test_a_record_held_after_the_approval_is_not_destroyed(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    report = approved(agency_a)
    place_hold(
        agency_a.pk,
        matter_id="LIT-2028-002",
        reason="New lawsuit",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)
    [(status, outcome)] = items(report)
    assert status == "held"
    assert "LIT-2028-002" in outcome


def test_a_held_record_is_listed_as_blocked_and_not_destroyed_when_approved(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    place_hold(
        agency_a.pk,
        matter_id="LIT-1",
        reason="x",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    report = approved(agency_a)
    assert items(report) == [("held", "Under a legal hold")]
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)


def test_the_database_refuses_the_destruction_even_if_the_service_check_is_skipped(
    agency_a, monkeypatch
):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    report = approved(agency_a)
    place_hold(
        agency_a.pk,
        matter_id="LIT-9",
        reason="x",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    monkeypatch.setattr(disposition, "ensure_conversation_deletable", lambda pk: None)
    monkeypatch.setattr(disposition, "_still_due", lambda item, context: "")
    monkeypatch.setattr("records.worm.services.is_held", lambda pk: False)
    assert execute(report) is None
    [(status, outcome)] = items(report)
    assert status == "held"
    assert "under legal hold (matter LIT-9)" in outcome
    assert exists(agency_a, Conversation, chat.pk)


def test_a_record_unscheduled_at_execution_is_not_destroyed(agency_a):
    from tests.factories import PhoneNumberFactory

    plan = category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    report = approved(agency_a)
    save_category(
        agency_a.pk,
        CategoryData(
            name=plan.name,
            kind=plan.kind,
            authority=plan.authority,
            cutoff=plan.cutoff,
            action=plan.action,
            retain_years=1,
            phone_number_id=PhoneNumberFactory(agency=agency_a).pk,
        ),
        actor=OFFICER,
        category=plan,
    )
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)
    assert items(report)[0][0] == "skipped"
    assert "Unscheduled" in items(report)[0][1]


def test_a_conversation_active_again_since_the_report_is_not_destroyed(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    report = approved(agency_a)
    say(chat, "I have another question", at=datetime(2028, 1, 20, tzinfo=UTC))
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)
    assert "retention now ends 2030-01-01" in items(report)[0][1]


def test_a_review_instruction_keeps_the_records(agency_a):
    category(agency_a, action=Action.REVIEW)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    assert execute(approved(agency_a)) is None
    assert exists(agency_a, Conversation, chat.pk)


def test_a_transfer_builds_mbox_eml_and_csv_packages_with_checksums(agency_a, settings, tmp_path):
    settings.RECORDS_TRANSFER_DIR = str(tmp_path / "transfers")
    category(agency_a, action=Action.TRANSFER, authority="GRS 6.1 item 010")
    chat = conversation(agency_a)
    say(chat, "Permanent record", at=SAID)
    report = approved(agency_a)
    assert execute(report) is None
    assert exists(agency_a, Conversation, chat.pk)  # kept until the archives take custody
    [(status, outcome)] = items(report)
    assert status == "transferred"
    packages = [Path(p) for p in outcome.split("; ")]
    assert len(packages) == 3
    for package in packages:
        files = {p.name for p in package.rglob("*") if p.is_file()}
        assert any("manifest" in name for name in files), files


def test_an_instruction_needs_its_authority(agency_a):
    with pytest.raises(RetentionError, match="authority"):
        category(agency_a, authority="   ")


def test_audit_events_and_consent_are_never_destroyed_by_the_file_plan(agency_a):
    for kind in (Kind.AUDIT_EVENTS, Kind.CONSENT):
        with pytest.raises(RetentionError, match="never destroyed"):
            category(agency_a, name=str(kind), kind=kind, action=Action.DESTROY)
    review = category(agency_a, name="Audit", kind=Kind.AUDIT_EVENTS, action=Action.REVIEW)
    assert review.pk


def test_the_same_scope_cannot_have_two_categories(agency_a):
    category(agency_a)
    with pytest.raises(RetentionError, match="already has a category"):
        category(agency_a, name="Another")


def test_a_file_plan_change_is_audited_with_old_and_new_values(agency_a):
    plan = category(agency_a)
    save_category(
        agency_a.pk,
        CategoryData(
            name=plan.name,
            kind=plan.kind,
            authority="GRS 6.1 item 012",
            cutoff=plan.cutoff,
            action=plan.action,
            retain_years=3,
        ),
        actor=OFFICER,
        category=plan,
    )
    created, updated = audit_of(agency_a, "records.file_plan_changed")
    assert created.changes["operation"] == "created"
    assert updated.changes["old"] == {"authority": "GRS 6.1 item 011", "retain_years": 1}
    assert updated.changes["new"] == {"authority": "GRS 6.1 item 012", "retain_years": 3}
    assert len(events_of(agency_a, types.FILE_PLAN_CHANGED)) == 2


def test_a_released_hold_lets_the_next_report_destroy(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    hold = place_hold(
        agency_a.pk,
        matter_id="LIT-1",
        reason="x",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    blocked = approved(agency_a)
    execute(blocked)
    release_hold(hold.pk, reason="Settled", actor=OFFICER)
    later = datetime(2028, 3, 1, tzinfo=UTC)
    assert execute(approved(agency_a, later), later) is not None
    assert not exists(agency_a, Conversation, chat.pk)
    with agency_scope(agency_a):
        assert DispositionItem.objects.filter(status="destroyed").count() == 1
        assert RecordCategory.objects.count() == 1


@pytest.mark.parametrize(
    "table", ["records_destructioncertificate", "records_destroyedrecord", "records_heldmessage"]
)
def test_certificates_and_hold_histories_are_append_only(agency_a, table, owner_cursor):
    """Refused to the app role (no privilege, or the trigger) and to the schema owner (the
    trigger of migration 0012)."""
    import psycopg
    from django.db import DatabaseError, connection, transaction

    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=SAID)
    place_hold(
        agency_a.pk,
        matter_id="M",
        reason="x",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    other = conversation(agency_a)
    say(other, at=SAID)
    assert execute(approved(agency_a)) is not None
    operations = ("UPDATE {} SET agency_id = agency_id", "DELETE FROM {}")
    with agency_scope(agency_a):
        for operation in operations:
            with (
                pytest.raises(DatabaseError, match=r"append-only|permission denied"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(operation.format(table))
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    for operation in operations:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner_cursor.execute(operation.format(table))


def test_a_rejected_report_is_on_the_stream_as_rejected(agency_a):
    category(agency_a)
    say(conversation(agency_a), at=SAID)
    with time_machine.travel(DUE, tick=False):
        report = compute_eligibility(agency_a.pk)
    assert report is not None
    reject_report(agency_a.pk, report.pk, reason="Pending audit of the program", actor=OFFICER)
    [rejected] = events_of(agency_a, types.DISPOSITION_REJECTED)
    assert rejected.subject == {"report": report.pk}
    assert events_of(agency_a, types.DISPOSITION_APPROVED) == []
