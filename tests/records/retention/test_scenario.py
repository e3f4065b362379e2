"""The clock-driven scenario of issue 12: one conversation walked through capture → hold →
release → cutoff → eligibility → approval → destruction with its certificate, every copy
gone (database rows, the archived object versions), and records_verify OK afterwards —
while a message deleted without a certificate still breaks it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from messaging.models import Conversation, Message
from records import checkpoints
from records.holds.services import place_hold, release_hold
from records.retention import disposition
from records.retention.models import DispositionItem
from records.retention.selectors import retention_floor
from records.retention.services import approve_report, compute_eligibility
from records.selection import Selection
from records.worm import services as worm
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory
from tests.records.holds.capture import receive
from tests.records.holds.conftest import stream
from tests.records.holds.helpers import OFFICER, note
from tests.records.retention.plan import category

pytestmark = pytest.mark.django_db(transaction=True)
CITIZEN = "15125550142"


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def verify(capsys, agency) -> tuple[bool, str]:
    try:
        call_command("records_verify", "--agency", agency.slug)
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from records.retention import tasks

    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


def test_a_conversation_from_capture_to_certified_destruction(agency_a, capsys):
    number = PhoneNumberFactory(agency=agency_a)
    category(agency_a, authority="GRS 6.1 item 011", retain_years=1)  # end of year + 1 year

    # Capture: the citizen writes in March 2026 (the real webhook path), staff add a note.
    with time_machine.travel(at(2026, 3, 10, 15), tick=False):
        first = receive(number, CITIZEN, "My basement flooded on Elm street")
    with agency_scope(agency_a):
        chat = Conversation.objects.get(pk=first.conversation_id)
    with time_machine.travel(at(2026, 3, 10, 16), tick=False):
        note(chat, "Sent the claim form")
        checkpoints.sign_checkpoint(agency_id=agency_a.pk)

    # Hold: litigation over the flood, on the citizen; a later message is held on arrival.
    with time_machine.travel(at(2026, 4, 1), tick=False):
        hold = place_hold(
            agency_a.pk,
            matter_id="LIT-2026-014",
            reason="Flood damage claims v. County",
            owner_id=None,
            selection=Selection(contact_wa_id=CITIZEN),
            actor=OFFICER,
        )
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):
        later = receive(number, CITIZEN, "Any news on my claim?")
        stream(agency_a)
    with agency_scope(agency_a):
        assert worm.is_held(chat.pk)
        from records.holds.selectors import held_message_ids

        assert set(held_message_ids(agency_a.pk)) == {first.pk, later.pk}
        floor = retention_floor(chat.pk)
    assert floor == datetime(2028, 1, 1, 6, tzinfo=UTC)  # 1 Jan 2028, Chicago

    # The archive keeps the conversation under the hold, retained until the floor.
    with time_machine.travel(at(2026, 7, 1), tick=False):
        archived = worm.archive_conversation(chat.pk)
        worm.mirror_legal_hold(chat.pk)
    assert archived.retain_until >= floor

    # Past retention while still held: listed as blocked, never destroyed.
    with time_machine.travel(at(2028, 1, 15), tick=False):
        blocked = compute_eligibility(agency_a.pk)
        assert blocked is not None
        approve_report(agency_a.pk, blocked.pk, actor=OFFICER)
        assert disposition.execute_report(blocked.pk) is None
    with agency_scope(agency_a):
        assert Conversation.objects.filter(pk=chat.pk).exists()
        assert blocked.items.get().status == DispositionItem.Status.HELD

    # Release (audited); the archive's legal hold comes off with it.
    with time_machine.travel(at(2028, 2, 1), tick=False):
        release_hold(hold.pk, reason="Case settled 2028-01-30", actor=OFFICER)
        worm.mirror_legal_hold(chat.pk)

    # Eligibility → approval → destruction.
    with time_machine.travel(at(2028, 2, 2), tick=False):
        report = compute_eligibility(agency_a.pk)
        assert report is not None
        with agency_scope(agency_a):
            assert list(report.items.values_list("record_type", "record_id", "status")) == [
                ("conversation", chat.pk, "eligible")
            ]
        approve_report(agency_a.pk, report.pk, actor=OFFICER)
        certificate = disposition.execute_report(report.pk)
    assert certificate is not None
    assert certificate.counts == {"conversations": 1, "messages": 2, "media": 0, "notes": 1}
    assert certificate.authorities == ["GRS 6.1 item 011"]
    with agency_scope(agency_a):
        assert not Message.objects.filter(pk__in=[first.pk, later.pk]).exists()
        assert not Conversation.objects.filter(pk=chat.pk).exists()
        versions = ArchivedObject.objects.filter(conversation_id=chat.pk)
        assert versions.exists()
        assert all(v.destroyed_at is not None for v in versions)  # residual rows only

    # The records still verify: the destroyed messages' leaves are covered by the certificate.
    with time_machine.travel(at(2028, 2, 3), tick=False):
        checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    ok, out = verify(capsys, agency_a)
    assert ok, out


def test_a_message_deleted_without_a_certificate_still_breaks_records_verify(agency_a, capsys):
    number = PhoneNumberFactory(agency=agency_a)
    message = receive(number, CITIZEN, "Please delete this")
    checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    assert verify(capsys, agency_a)[0]
    with agency_scope(agency_a), transaction.atomic():
        Message.objects.filter(pk=message.pk).delete()  # no hold, no disposition
    ok, out = verify(capsys, agency_a)
    assert not ok
    assert f"message id={message.pk} (leaf #0) is missing" in out


def test_a_forged_certificate_entry_does_not_pass_off_a_deletion(agency_a, capsys, owner_cursor):
    """A schema owner who deletes a message and adds it to an existing certificate changes
    the certificate's SHA-256, which the signed audit chain recorded."""
    number = PhoneNumberFactory(agency=agency_a)
    category(agency_a, retain_years=0)
    with time_machine.travel(at(2026, 3, 1), tick=False):
        destroyed = receive(number, CITIZEN, "old")
        kept = receive(number, "15125550999", "kept")
        checkpoints.sign_checkpoint(agency_id=agency_a.pk)
    with time_machine.travel(at(2027, 1, 2, 12), tick=False):
        with agency_scope(agency_a):
            Conversation.objects.filter(pk=kept.conversation_id).update(
                last_message_at=at(2027, 1, 2)
            )
        report = compute_eligibility(agency_a.pk)
        assert report is not None
        approve_report(agency_a.pk, report.pk, actor=OFFICER)
        certificate = disposition.execute_report(report.pk)
    assert certificate is not None and certificate.record_ids["messages"] == [destroyed.pk]
    assert verify(capsys, agency_a)[0]
    with agency_scope(agency_a):
        from records.models import RecordLeaf

        leaf = RecordLeaf.objects.get(record_type="message", record_id=kept.pk).leaf_hash
    owner_cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")
    owner_cursor.execute("ALTER TABLE messaging_message DISABLE TRIGGER USER")
    owner_cursor.execute("DELETE FROM messaging_message WHERE id = %s", [kept.pk])
    owner_cursor.execute("ALTER TABLE messaging_message ENABLE TRIGGER USER")
    owner_cursor.execute(
        "INSERT INTO records_destroyedrecord (agency_id, certificate_id, record_type, "
        "record_id, leaf_hash) VALUES (%s, %s, 'message', %s, %s)",
        [agency_a.pk, certificate.pk, kept.pk, leaf],
    )
    ok, out = verify(capsys, agency_a)
    assert not ok
    assert f"certificate of destruction #{certificate.number}: its records no longer" in out
