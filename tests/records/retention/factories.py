"""One row of every holds and retention table for an agency: for the row-level security
matrix (tests/tenants/test_row_level_security.py calls ``populate_keep``)."""

from __future__ import annotations

from django.utils import timezone

from records.holds.models import HeldMessage, LegalHold
from records.retention.models import (
    DestroyedRecord,
    DestructionCertificate,
    DispositionItem,
    DispositionReport,
    FilePlan,
    RecordCategory,
)
from tenants.scoping import agency_scope


def populate_keep(agency, message) -> None:
    now = timezone.now()
    with agency_scope(agency):
        hold = LegalHold.objects.create(
            agency=agency, matter_id="M-1", reason="matrix", selection={}, placed_at=now
        )
        HeldMessage.objects.create(
            agency=agency,
            hold=hold,
            message_id=message.pk,
            conversation_id=message.conversation_id,
            held_at=now,
        )
        FilePlan.objects.create(agency=agency)
        category = RecordCategory.objects.create(
            agency=agency,
            name="Conversations",
            kind=RecordCategory.Kind.CONVERSATIONS,
            authority="GRS 6.1 item 011",
            cutoff=RecordCategory.Cutoff.CALENDAR_YEAR,
            retain_years=7,
            action=RecordCategory.Action.DESTROY,
        )
        report = DispositionReport.objects.create(agency=agency, computed_at=now)
        DispositionItem.objects.create(
            agency=agency,
            report=report,
            category=category,
            record_type=DispositionItem.RecordType.CONVERSATION,
            record_id=message.conversation_id,
            action=category.action,
            eligible_at=now,
        )
        certificate = DestructionCertificate.objects.create(
            agency=agency,
            report=report,
            number=1,
            created_at=now,
            approved_at=now,
            approved_by_label="matrix",
            leaf_sha256="0" * 64,
        )
        DestroyedRecord.objects.create(
            agency=agency,
            certificate=certificate,
            record_type=DestroyedRecord.RecordType.NOTE,
            record_id=agency.pk * 1_000_000 + message.pk,  # unique across the two agencies
        )
