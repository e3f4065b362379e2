"""The file plan's changes, the eligibility reports and the records officer's decisions.

Every change is one audit event and one stream event in its transaction. Destruction itself
is ``records.retention.disposition`` (run by the task after an approval).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from bsp import events
from bsp.events import types
from inbox.models import Note
from messaging.models import Consent, Conversation
from records.audit import Actor, record_event
from records.holds.selectors import held_conversation_ids
from records.models import AuditEvent
from records.retention import schedule
from records.retention.models import (
    DispositionItem,
    DispositionReport,
    FilePlan,
    RecordCategory,
)
from records.retention.selectors import (
    agency_tz,
    categories,
    category_for,
    conversation_floor,
    file_plan,
)
from tenants.scoping import agency_scope, system_scope
from tenants.services import ApplicationError

Kind = RecordCategory.Kind
Action = RecordCategory.Action
Cutoff = RecordCategory.Cutoff
ItemType = DispositionItem.RecordType
# Per category and report: a report stays reviewable (the rest comes in the next one), and
# a category with many records (years of audit events) never crowds out the others.
MAX_ITEMS = 5000
MAX_YEARS = 100
# Audit events and consent records are kept, whatever the schedule: deleting an audit event
# breaks the hash chain that the signed checkpoints vouch for, and a consent record is the
# agency's proof that it could message a citizen. Their instruction may only be review or
# transfer (README: "Audit events and consent").
REVIEW_ONLY = frozenset({Kind.AUDIT_EVENTS, Kind.CONSENT})


class RetentionError(ApplicationError):
    """A file plan change or a decision refused; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- The file plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryData:
    name: str
    kind: str
    authority: str
    cutoff: str
    action: str
    retain_years: int = 0
    retain_months: int = 0
    retain_days: int = 0
    code: str = ""
    description: str = ""
    phone_number_id: int | None = None
    team_id: int | None = None


def _validate(data: CategoryData) -> CategoryData:
    data = CategoryData(
        **{
            f.name: (
                getattr(data, f.name).strip()
                if isinstance(getattr(data, f.name), str)
                else getattr(data, f.name)
            )
            for f in fields(CategoryData)
        }
    )
    if not data.name:
        raise RetentionError("Give the category a name.", field="name")
    if not data.authority:
        raise RetentionError(
            "A disposition instruction needs its authority: the schedule item that allows "
            "it, e.g. “GRS 6.1 item 011” or your state schedule's number.",
            field="authority",
        )
    if data.kind not in Kind.values:
        raise RetentionError("Choose what kind of records the category holds.", field="kind")
    if data.cutoff not in Cutoff.values:
        raise RetentionError("Choose when the records are cut off.", field="cutoff")
    if data.action not in Action.values:
        raise RetentionError("Choose what happens after the retention period.", field="action")
    for name in ("retain_years", "retain_months", "retain_days"):
        value = getattr(data, name)
        if value < 0 or (name == "retain_years" and value > MAX_YEARS) or value > 10000:
            raise RetentionError("Give a retention between 0 and 100 years.", field=name)
    if data.kind in REVIEW_ONLY:
        if data.action == Action.DESTROY:
            raise RetentionError(
                "Audit events and consent records are never destroyed by the platform "
                "(the audit chain and the proof of consent must stay verifiable): choose "
                "review or transfer.",
                field="action",
            )
        if data.cutoff == Cutoff.CONVERSATION_RESOLVED:
            raise RetentionError(
                "This kind of record has no conversation: choose a yearly cutoff.",
                field="cutoff",
            )
        if data.phone_number_id or data.team_id:
            raise RetentionError(
                "Only conversations and notes can be filed by number or team.",
                field="phone_number" if data.phone_number_id else "team",
            )
    return data


def save_category(
    agency_id: int,
    data: CategoryData,
    *,
    actor: Actor,
    category: RecordCategory | None = None,
) -> RecordCategory:
    data = _validate(data)
    with agency_scope(agency_id), transaction.atomic():
        before = _snapshot(category) if category else {}
        target = category or RecordCategory(agency_id=agency_id)
        for name, value in vars(data).items():
            setattr(target, name, value)
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise RetentionError(
                "The file plan already has a category for this kind of record on this "
                "number and team: change that one.",
                field="kind",
            ) from None
        after = _snapshot(target)
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.file_plan_changed",
            target=target,
            changes={
                "operation": "updated" if category else "created",
                "old": {k: v for k, v in before.items() if after.get(k) != v},
                "new": {k: v for k, v in after.items() if before.get(k) != v},
            },
        )
        events.publish(
            agency_id=agency_id,
            type=types.FILE_PLAN_CHANGED,
            subject={"category": target.pk},
            payload={"operation": "updated" if category else "created"},
        )
    return target


def delete_category(agency_id: int, category: RecordCategory, *, actor: Actor) -> None:
    with agency_scope(agency_id), transaction.atomic():
        if DispositionItem.objects.filter(category=category).exists():
            raise RetentionError(
                f"“{category.name}” is named by eligibility reports and certificates, so it "
                "stays in the file plan: change its instruction instead."
            )
        pk, snapshot = category.pk, _snapshot(category)
        category.delete()
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.file_plan_changed",
            object_type="records.recordcategory",
            object_id=str(pk),
            changes={"operation": "deleted", "old": snapshot},
        )
        events.publish(
            agency_id=agency_id,
            type=types.FILE_PLAN_CHANGED,
            subject={"category": pk},
            payload={"operation": "deleted"},
        )


def set_fiscal_year_start(agency_id: int, month: int, *, actor: Actor) -> FilePlan:
    if not 1 <= month <= 12:
        raise RetentionError("Choose the month the fiscal year starts.", field="month")
    with agency_scope(agency_id), transaction.atomic():
        plan, _ = FilePlan.objects.get_or_create(agency_id=agency_id)
        previous = plan.fiscal_year_start_month
        plan.fiscal_year_start_month = month
        plan.save()
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.file_plan_changed",
            target=plan,
            changes={"fiscal_year_start_month": [previous, month]},
        )
        events.publish(
            agency_id=agency_id,
            type=types.FILE_PLAN_CHANGED,
            subject={"file_plan": plan.pk},
            payload={"operation": "fiscal_year"},
        )
    return plan


def _snapshot(category: RecordCategory) -> dict[str, Any]:
    return {
        f.name: getattr(category, f.name)
        for f in fields(CategoryData)
        if f.name not in ("phone_number_id", "team_id")
    } | {"phone_number_id": category.phone_number_id, "team_id": category.team_id}


# --- Eligibility --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    category: RecordCategory
    record_type: str
    record_id: int
    eligible_at: datetime
    held: bool = False


def compute_eligibility(agency_id: int, *, now: datetime | None = None) -> DispositionReport | None:
    """A new eligibility report of the agency's records whose retention has ended and that
    no pending or approved report lists yet; None when there is none. Held records are in
    it too, blocked (the "blocked by hold" list); unscheduled records never are."""
    now = now or timezone.now()
    with agency_scope(agency_id), transaction.atomic():
        listed = set(
            DispositionItem.objects.filter(
                report__status__in=[
                    DispositionReport.Status.PENDING,
                    DispositionReport.Status.APPROVED,
                ],
                status__in=[DispositionItem.Status.ELIGIBLE, DispositionItem.Status.HELD],
            ).values_list("record_type", "record_id")
        )
        found = list(_candidates(agency_id, now, listed))
        if not found:
            return None
        report = DispositionReport.objects.create(agency_id=agency_id, computed_at=now)
        DispositionItem.objects.bulk_create(
            [
                DispositionItem(
                    agency_id=agency_id,
                    report=report,
                    category=c.category,
                    record_type=c.record_type,
                    record_id=c.record_id,
                    action=c.category.action,
                    eligible_at=c.eligible_at,
                    status=DispositionItem.Status.HELD
                    if c.held
                    else DispositionItem.Status.ELIGIBLE,
                    outcome="Under a legal hold" if c.held else "",
                )
                for c in found
            ]
        )
        counts = {
            "items": len(found),
            "held": sum(c.held for c in found),
            "by_action": _count(c.category.action for c in found),
        }
        record_event(
            agency_id=agency_id,
            actor=Actor.worker("records.compute_eligibility"),
            action="records.disposition_eligible",
            target=report,
            changes=counts,
        )
        events.publish(
            agency_id=agency_id,
            type=types.DISPOSITION_ELIGIBLE,
            subject={"report": report.pk},
            payload=counts,
        )
    return report


def _count(values: Iterator[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _candidates(
    agency_id: int, now: datetime, listed: set[tuple[str, int]]
) -> Iterator[_Candidate]:
    """Each category's due records not listed yet, at most ``MAX_ITEMS`` per category."""
    plan = file_plan(agency_id)
    tz = agency_tz(agency_id)
    fiscal = plan.fiscal_year_start_month
    cats = list(categories(agency_id))
    held = set(held_conversation_ids(agency_id))
    for category in cats:
        latest = schedule.latest_due(category, now)
        due: Iterator[_Candidate] = iter(())
        if category.kind in (Kind.CONVERSATIONS, Kind.NOTES):
            due = _conversation_records(category, cats, latest, now, tz, fiscal, held)
        elif category.kind == Kind.AUDIT_EVENTS:
            rows = AuditEvent.objects.filter(agency_id=agency_id, created_at__lte=latest)
            due = _dated(category, ItemType.AUDIT_EVENT, rows, "created_at", now, tz, fiscal)
        elif category.kind == Kind.CONSENT:
            rows = Consent.objects.filter(agency_id=agency_id, recorded_at__lte=latest)
            due = _dated(category, ItemType.CONSENT, rows, "recorded_at", now, tz, fiscal)
        fresh = (c for c in due if (c.record_type, c.record_id) not in listed)
        yield from islice(fresh, MAX_ITEMS)


def _conversation_records(
    category: RecordCategory,
    cats: list[RecordCategory],
    latest: datetime,
    now: datetime,
    tz: Any,
    fiscal: int,
    held: set[int],
) -> Iterator[_Candidate]:
    conversations = Conversation.objects.filter(agency_id=category.agency_id)
    if category.phone_number_id:
        conversations = conversations.filter(phone_number_id=category.phone_number_id)
    if category.team_id:
        conversations = conversations.filter(team_id=category.team_id)
    if category.cutoff == Cutoff.CONVERSATION_RESOLVED:
        conversations = conversations.filter(
            status=Conversation.Status.RESOLVED, resolved_at__lte=latest
        )
    elif category.kind == Kind.CONVERSATIONS:
        conversations = conversations.annotate(
            dated=Coalesce(F("last_message_at"), F("created_at"))
        ).filter(dated__lte=latest)
    for conversation in conversations.order_by("pk").iterator(chunk_size=1000):
        governing = category_for(
            cats, category.kind, conversation.phone_number_id, conversation.team_id
        )
        if governing is None or governing.pk != category.pk:
            continue  # a more specific category of the file plan governs it
        if category.kind == Kind.CONVERSATIONS:
            floor = conversation_floor(conversation, category, tz, fiscal)
            if floor is not None and floor <= now:
                yield _Candidate(
                    category, ItemType.CONVERSATION, conversation.pk, floor, conversation.pk in held
                )
            continue
        resolved = (
            conversation.resolved_at
            if conversation.status == Conversation.Status.RESOLVED
            else None
        )
        notes = Note.objects.filter(conversation=conversation)
        if category.cutoff != Cutoff.CONVERSATION_RESOLVED:
            notes = notes.filter(created_at__lte=latest)
        for note_id, created_at in notes.order_by("pk").values_list("pk", "created_at"):
            cutoff = schedule.cutoff_at(
                category, dated=created_at, resolved_at=resolved, tz=tz, fiscal_start_month=fiscal
            )
            if cutoff is None:
                continue
            floor = schedule.retention_ends(category, cutoff)
            if floor <= now:
                yield _Candidate(category, ItemType.NOTE, note_id, floor, conversation.pk in held)


def _dated(
    category: RecordCategory,
    record_type: str,
    rows: Any,
    field: str,
    now: datetime,
    tz: Any,
    fiscal: int,
) -> Iterator[_Candidate]:
    for pk, dated in rows.order_by("pk").values_list("pk", field).iterator(chunk_size=2000):
        cutoff = schedule.period_end(dated, category.cutoff, tz, fiscal)
        floor = schedule.retention_ends(category, cutoff)
        if floor <= now:
            yield _Candidate(category, record_type, pk, floor)


def compute_all(*, now: datetime | None = None) -> int:
    """Every agency with a file plan: a report each where records are due; how many."""
    with system_scope():
        agency_ids = sorted(set(RecordCategory.objects.values_list("agency_id", flat=True)))
    return sum(compute_eligibility(agency_id, now=now) is not None for agency_id in agency_ids)


# --- Decisions ----------------------------------------------------------------------------


def approve_report(agency_id: int, report_id: int, *, actor: Actor) -> DispositionReport:
    """Approve the report: its eligible records are disposed of by the task (after commit).
    Nothing is destroyed here; the task checks holds and the schedule again."""
    from records.retention import tasks

    with agency_scope(agency_id), transaction.atomic():
        report = _pending(agency_id, report_id)
        report.status = DispositionReport.Status.APPROVED
        report.decided_at = timezone.now()
        report.decided_by_id = actor.id
        report.decided_by_label = actor.label[:200] or actor.type
        report.save(update_fields=["status", "decided_at", "decided_by_id", "decided_by_label"])
        eligible = report.items.filter(status=DispositionItem.Status.ELIGIBLE).count()
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.disposition_approved",
            target=report,
            changes={"eligible_items": eligible},
        )
        events.publish(
            agency_id=agency_id,
            type=types.DISPOSITION_APPROVED,
            subject={"report": report.pk},
            payload={"eligible_items": eligible},
        )
        transaction.on_commit(lambda: tasks.execute_disposition.delay(report_id=report.pk))
    return report


def reject_report(
    agency_id: int, report_id: int, *, reason: str, actor: Actor
) -> DispositionReport:
    reason = reason.strip()
    if not reason:
        raise RetentionError("Say why the report is rejected.", field="reason")
    with agency_scope(agency_id), transaction.atomic():
        report = _pending(agency_id, report_id)
        report.status = DispositionReport.Status.REJECTED
        report.decided_at = timezone.now()
        report.decided_by_id = actor.id
        report.decided_by_label = actor.label[:200] or actor.type
        report.decision_reason = reason[:2000]
        report.save(
            update_fields=[
                "status",
                "decided_at",
                "decided_by_id",
                "decided_by_label",
                "decision_reason",
            ]
        )
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.disposition_rejected",
            target=report,
            changes={"reason": reason},
        )
        events.publish(
            agency_id=agency_id,
            type=types.DISPOSITION_REJECTED,
            subject={"report": report.pk},
            payload={"decision": "rejected"},
        )
    return report


def _pending(agency_id: int, report_id: int) -> DispositionReport:
    try:
        report = DispositionReport.objects.select_for_update().get(
            agency_id=agency_id, pk=report_id
        )
    except DispositionReport.DoesNotExist:
        raise RetentionError("No such eligibility report in this agency.") from None
    if report.status != DispositionReport.Status.PENDING:
        raise RetentionError(
            f"This report is already {report.get_status_display().lower()}: it cannot be "
            "decided again."
        )
    return report


__all__ = [
    "CategoryData",
    "RetentionError",
    "approve_report",
    "compute_all",
    "compute_eligibility",
    "delete_category",
    "reject_report",
    "save_category",
    "set_fiscal_year_start",
]
