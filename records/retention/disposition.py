"""Executing an approved eligibility report: destroy, transfer or review each record, and
leave a certificate of destruction.

Everything is checked again here, at execution, not only when the report was computed: a
record under an open hold (placed even after the approval) is not touched; a record the
file plan no longer schedules, or whose retention now ends later (a new message, a
reopened conversation, a longer schedule), is skipped. Idempotent: only items still
``eligible`` are worked on, so running the task twice destroys nothing twice.

A destroyed conversation loses every copy: its archived object versions
(``records.worm.services.destroy_archived``, refused while the store still retains them),
its messages (their full-text entries are a column of the row), their media files (rows
and the files in storage), its notes, labels and notifications, and the conversation row.
Messages go before their media rows, so no message row is ever updated (``media_id`` is
write-once, migration 0006). What stays is the residual: the certificate
(``DestructionCertificate``), one ``DestroyedRecord`` per row with its leaf hash, the
leaves of the signed Merkle tree (content-free hashes) and the audit events.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from bsp import events
from bsp.events import types
from inbox.models import Note
from messaging.models import Conversation, MediaObject, Message
from records.audit import Actor, record_event
from records.holds import HeldRecordError
from records.holds.services import (
    ensure_conversation_deletable,
    ensure_note_deletable,
    held_error,
)
from records.leaves import MEDIA_FIELDS, MESSAGE_FIELDS, media_leaf_hash, message_leaf_hash
from records.models import RecordLeaf
from records.retention import schedule
from records.retention.models import (
    DestroyedRecord,
    DestructionCertificate,
    DispositionItem,
    DispositionReport,
    RecordCategory,
)
from records.retention.selectors import (
    agency_tz,
    categories,
    category_for,
    conversation_floor,
    file_plan,
)
from records.selection import Selection
from tenants.scoping import agency_scope

logger = logging.getLogger(__name__)

Kind = RecordCategory.Kind
Action = RecordCategory.Action
Status = DispositionItem.Status
ItemType = DispositionItem.RecordType
Destroyed = DestroyedRecord.RecordType


@dataclass
class _Residual:
    """What one execution destroyed (the certificate's content)."""

    rows: list[tuple[str, int, str]] = field(default_factory=list)  # type, id, leaf hash
    files: list[str] = field(default_factory=list)
    authorities: set[str] = field(default_factory=set)

    def ids(self, record_type: str) -> list[int]:
        return sorted(pk for kind, pk, _ in self.rows if kind == record_type)


def execute_report(report_id: int, *, actor: Actor | None = None) -> DestructionCertificate | None:
    """Work the approved report's eligible items; its certificate (None when nothing was
    destroyed, or when the report is not approved — a pending or rejected report is never
    executed)."""
    actor = actor or Actor.worker("records.execute_disposition")
    from tenants.scoping import system_scope

    with system_scope():
        agency_id = (
            DispositionReport.objects.filter(pk=report_id)
            .values_list("agency_id", flat=True)
            .first()
        )
    if agency_id is None:
        return None
    with agency_scope(agency_id), transaction.atomic():
        report = DispositionReport.objects.select_for_update().get(pk=report_id)
        if report.status == DispositionReport.Status.EXECUTED:
            return None  # a redelivered task: it was done (the whole run is one transaction)
        if report.status != DispositionReport.Status.APPROVED:
            logger.warning("disposition: report %s is %s, not executed", report_id, report.status)
            return None
        residual = _Residual()
        now = timezone.now()
        context = _Context(agency_id, now)
        items = list(report.items.filter(status=Status.ELIGIBLE).select_related("category"))
        for item in items:
            _work(item, context, residual)
        certificate = _certify(report, residual, now, actor) if residual.rows else None
        report.status = DispositionReport.Status.EXECUTED
        report.executed_at = now
        report.save(update_fields=["status", "executed_at"])
        outcomes = _outcomes(items)
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.disposition_executed",
            target=report,
            changes={
                "outcomes": outcomes,
                "certificate": certificate.number if certificate else None,
            },
        )
        events.publish(
            agency_id=agency_id,
            type=types.DISPOSITION_EXECUTED,
            subject={
                "report": report.pk,
                **({"certificate": certificate.pk} if certificate else {}),
            },
            payload={"outcomes": outcomes},
        )
        # Files last: a refusal above rolls everything back before any file is gone. A
        # failure after this point leaves files only (deleting a missing file is a no-op).
        for key in residual.files:
            default_storage.delete(key)
    return certificate


class _Context:
    def __init__(self, agency_id: int, now: Any) -> None:
        self.agency_id = agency_id
        self.now = now
        self.tz = agency_tz(agency_id)
        self.fiscal = file_plan(agency_id).fiscal_year_start_month
        self.categories = list(categories(agency_id))


def _outcomes(items: Iterable[DispositionItem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def _finish(item: DispositionItem, status: str, outcome: str = "") -> None:
    item.status = status
    item.outcome = outcome[:500]
    item.save(update_fields=["status", "outcome"])


def _work(item: DispositionItem, context: _Context, residual: _Residual) -> None:
    """One item, in its own savepoint: a refusal leaves its records and the others go on
    (and nothing of it reaches the certificate: ``done`` joins ``residual`` on success)."""
    done = _Residual()
    try:
        with transaction.atomic():
            reason = _still_due(item, context)
            if reason:
                _finish(item, Status.SKIPPED, reason)
                return
            action = item.category.action
            if action == Action.REVIEW or (
                item.record_type
                in (
                    ItemType.AUDIT_EVENT,
                    ItemType.CONSENT,
                )
                and action != Action.TRANSFER
            ):
                _finish(item, Status.REVIEWED, "Reviewed under the approval; kept")
            elif action == Action.TRANSFER:
                _transfer(item, context)
            elif item.record_type == ItemType.CONVERSATION:
                _destroy_conversation(item.record_id, done)
                done.authorities.add(item.category.authority)
                _finish(item, Status.DESTROYED)
            elif item.record_type == ItemType.NOTE:
                _destroy_note(item.record_id, done)
                done.authorities.add(item.category.authority)
                _finish(item, Status.DESTROYED)
        residual.rows += done.rows
        residual.files += done.files
        residual.authorities |= done.authorities
    except HeldRecordError as error:
        _finish(item, Status.HELD, str(error))
    except IntegrityError as error:
        held = held_error(error)
        if held is None:
            raise
        _finish(item, Status.HELD, str(held))
    except Exception as error:  # the archive still retains it, a transfer failed…
        from records.worm.services import ArchiveError

        if not isinstance(error, ArchiveError | TransferError):
            raise
        _finish(item, Status.SKIPPED, str(error))


def _still_due(item: DispositionItem, context: _Context) -> str:
    """Why the item must not be disposed of now ('' when it may)."""
    category = item.category
    if item.record_type in (ItemType.CONVERSATION, ItemType.NOTE):
        conversation_id = (
            item.record_id
            if item.record_type == ItemType.CONVERSATION
            else Note.objects.filter(pk=item.record_id)
            .values_list("conversation_id", flat=True)
            .first()
        )
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            return "The record no longer exists"
        governing = category_for(
            context.categories, category.kind, conversation.phone_number_id, conversation.team_id
        )
        if governing is None:
            return "Unscheduled now: the file plan has no category for it"
        if item.record_type == ItemType.CONVERSATION:
            floor = conversation_floor(conversation, governing, context.tz, context.fiscal)
        else:
            note = Note.objects.get(pk=item.record_id)
            resolved = (
                conversation.resolved_at
                if conversation.status == Conversation.Status.RESOLVED
                else None
            )
            cutoff = schedule.cutoff_at(
                governing,
                dated=note.created_at,
                resolved_at=resolved,
                tz=context.tz,
                fiscal_start_month=context.fiscal,
            )
            floor = None if cutoff is None else schedule.retention_ends(governing, cutoff)
        if floor is None:
            return "Its cutoff has not happened (the conversation is open again)"
        if floor > context.now:
            return f"Its retention now ends {floor:%Y-%m-%d} under the current file plan"
        if governing.action != item.action:
            return f"The file plan's action is now {governing.get_action_display().lower()}"
        return ""
    if not any(c.pk == category.pk for c in context.categories):
        return "Unscheduled now: its category left the file plan"
    return ""


def _destroy_conversation(conversation_id: int, residual: _Residual) -> None:
    from records.worm.services import destroy_archived

    ensure_conversation_deletable(conversation_id)  # HeldRecordError, with the matter
    destroy_archived(conversation_id)  # every archived version (refused while retained)
    messages = Message.objects.filter(conversation_id=conversation_id)
    rows = list(messages.values(*MESSAGE_FIELDS, "media_id"))
    media_ids = sorted({row["media_id"] for row in rows if row["media_id"]})
    others = Message.objects.filter(media_id=OuterRef("pk")).exclude(
        conversation_id=conversation_id
    )
    media = MediaObject.objects.filter(pk__in=media_ids).exclude(Exists(others))
    media_rows = list(media.values(*MEDIA_FIELDS))
    leaves = _leaf_hashes([row["id"] for row in rows], [row["id"] for row in media_rows])
    for row in rows:
        leaf = leaves.get((RecordLeaf.RecordType.MESSAGE, row["id"])) or message_leaf_hash(row)
        residual.rows.append((Destroyed.MESSAGE, row["id"], leaf))
    for row in media_rows:
        leaf = leaves.get((RecordLeaf.RecordType.MEDIA, row["id"])) or media_leaf_hash(row)
        residual.rows.append((Destroyed.MEDIA, row["id"], leaf))
        if row["storage_key"]:
            residual.files.append(row["storage_key"])
    for note_id in Note.objects.filter(conversation_id=conversation_id).values_list(
        "pk", flat=True
    ):
        residual.rows.append((Destroyed.NOTE, note_id, ""))
    Note.objects.filter(conversation_id=conversation_id).delete()
    messages.delete()  # before their media rows: no message row is ever updated
    media.delete()
    Conversation.objects.filter(pk=conversation_id).delete()
    residual.rows.append((Destroyed.CONVERSATION, conversation_id, ""))


def _destroy_note(note_id: int, residual: _Residual) -> None:
    note = Note.objects.get(pk=note_id)
    ensure_note_deletable(note.conversation_id, note.pk)
    note.delete()
    residual.rows.append((Destroyed.NOTE, note_id, ""))


def _leaf_hashes(message_ids: list[int], media_ids: list[int]) -> dict[tuple[str, int], str]:
    found: dict[tuple[str, int], str] = {}
    for record_type, ids in (
        (RecordLeaf.RecordType.MESSAGE, message_ids),
        (RecordLeaf.RecordType.MEDIA, media_ids),
    ):
        if ids:
            rows = RecordLeaf.objects.filter(record_type=record_type, record_id__in=ids)
            found |= {(record_type, r): h for r, h in rows.values_list("record_id", "leaf_hash")}
    return found


def leaf_digest(leaf_hashes: Iterable[str]) -> str:
    """The certificate's SHA-256: over the destroyed records' leaf hashes, sorted, one per
    line (records without a leaf — notes, conversations — are counted, not hashed)."""
    ordered = sorted(h for h in leaf_hashes if h)
    return hashlib.sha256("\n".join(ordered).encode()).hexdigest()


def _certify(
    report: DispositionReport, residual: _Residual, now: Any, actor: Actor
) -> DestructionCertificate:
    agency_id = report.agency_id
    number = (
        DestructionCertificate.objects.filter(agency_id=agency_id).aggregate(n=Max("number"))["n"]
        or 0
    ) + 1
    record_ids = {
        "conversations": residual.ids(Destroyed.CONVERSATION),
        "messages": residual.ids(Destroyed.MESSAGE),
        "media": residual.ids(Destroyed.MEDIA),
        "notes": residual.ids(Destroyed.NOTE),
    }
    certificate = DestructionCertificate.objects.create(
        agency_id=agency_id,
        report=report,
        number=number,
        created_at=now,
        approved_at=report.decided_at or now,
        approved_by_id=report.decided_by_id,
        approved_by_label=report.decided_by_label or "records officer",
        authorities=sorted(residual.authorities),
        counts={name: len(ids) for name, ids in record_ids.items()},
        record_ids=record_ids,
        leaf_sha256=leaf_digest(h for _, _, h in residual.rows),
    )
    DestroyedRecord.objects.bulk_create(
        [
            DestroyedRecord(
                agency_id=agency_id,
                certificate=certificate,
                record_type=kind,
                record_id=pk,
                leaf_hash=leaf,
            )
            for kind, pk, leaf in residual.rows
        ]
    )
    record_event(
        agency_id=agency_id,
        actor=actor,
        action="records.destruction_certified",
        target=certificate,
        changes={
            "number": number,
            "report": report.pk,
            "authorities": certificate.authorities,
            "counts": certificate.counts,
            "leaf_sha256": certificate.leaf_sha256,
            "approved_by": certificate.approved_by_label,
        },
    )
    return certificate


# --- Transfer -----------------------------------------------------------------------------


class TransferError(Exception):
    """A transfer package could not be built; the item stays with the message."""


TRANSFER_FORMATS = ("mbox", "eml", "csv")


def _transfer(item: DispositionItem, context: _Context) -> None:
    """A transfer package for the archives (NARA: EML/MBOX, metadata CSV, checksums — the
    packages of ``records.exports``, each a signed BagIt directory), under
    ``RECORDS_TRANSFER_DIR``. The records stay: their destruction after the archives
    accept custody is a decision of its own (a new instruction, destroy)."""
    from records.exports.services import build_package

    if item.record_type != ItemType.CONVERSATION:
        _finish(item, Status.REVIEWED, "Transfer of this kind of record is manual; kept")
        return
    base = Path(
        getattr(settings, "RECORDS_TRANSFER_DIR", "") or Path(settings.MEDIA_ROOT) / "transfers"
    )
    out = (
        base
        / f"agency-{context.agency_id}"
        / f"report-{item.report_id}"
        / f"conversation-{item.record_id}"
    )
    paths = []
    try:
        for fmt in TRANSFER_FORMATS:
            target = out / fmt
            target.mkdir(parents=True, exist_ok=True)
            paths.append(
                str(
                    build_package(
                        context.agency_id,
                        Selection(conversation_id=item.record_id),
                        fmt,
                        target,
                        title=f"Transfer under {item.category.authority}",
                        actor=Actor.worker("records.execute_disposition"),
                    )
                )
            )
    except (OSError, ValueError) as error:
        raise TransferError(f"The transfer package could not be built: {error}") from None
    _finish(item, Status.TRANSFERRED, "; ".join(paths))
