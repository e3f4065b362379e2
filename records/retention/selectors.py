"""Reads of the file plan: which category a record falls in, when it may be destroyed, the
reports and certificates. Callers are inside the agency's scope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from messaging.models import Conversation
from records.retention import schedule
from records.retention.models import (
    DestructionCertificate,
    DispositionItem,
    DispositionReport,
    FilePlan,
    RecordCategory,
)
from tenants.models import Agency

Kind = RecordCategory.Kind


def file_plan(agency_id: int) -> FilePlan:
    """The agency's file plan settings (its defaults until saved once)."""
    plan = FilePlan.objects.filter(agency_id=agency_id).first()
    return plan or FilePlan(agency_id=agency_id)


def categories(agency_id: int) -> QuerySet[RecordCategory]:
    return RecordCategory.objects.filter(agency_id=agency_id).select_related("phone_number", "team")


def category(agency_id: int, pk: int) -> RecordCategory:
    return categories(agency_id).get(pk=pk)


def _specificity(c: RecordCategory) -> int:
    return (2 if c.phone_number_id else 0) + (1 if c.team_id else 0)


def category_for(
    candidates: Iterable[RecordCategory], kind: str, phone_number_id: int, team_id: int | None
) -> RecordCategory | None:
    """The most specific category of ``kind`` that covers a conversation on this number and
    team (number and team > number > team > the kind's general category); None when the file
    plan has none: the record is unscheduled, never destroyed."""
    matching = [
        c
        for c in candidates
        if c.kind == kind
        and c.phone_number_id in (None, phone_number_id)
        and c.team_id in (None, team_id)
    ]
    return max(matching, key=_specificity, default=None)


def agency_tz(agency_id: int) -> ZoneInfo:
    name = Agency.objects.filter(pk=agency_id).values_list("timezone", flat=True).first()
    return ZoneInfo(name or "UTC")


def conversation_floor(
    conversation: Conversation,
    category: RecordCategory | None,
    tz: ZoneInfo,
    fiscal_start_month: int,
) -> datetime | None:
    if category is None:
        return None
    resolved = (
        conversation.resolved_at if conversation.status == Conversation.Status.RESOLVED else None
    )
    dated = conversation.last_message_at or conversation.created_at
    cutoff = schedule.cutoff_at(
        category, dated=dated, resolved_at=resolved, tz=tz, fiscal_start_month=fiscal_start_month
    )
    return None if cutoff is None else schedule.retention_ends(category, cutoff)


def retention_floor(conversation_id: int) -> datetime | None:
    """The earliest moment the file plan allows the conversation to be destroyed (cutoff +
    retention); None when unscheduled or when its cutoff event has not happened yet."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    agency_id = conversation.agency_id
    found = category_for(
        categories(agency_id).filter(kind=Kind.CONVERSATIONS),
        Kind.CONVERSATIONS,
        conversation.phone_number_id,
        conversation.team_id,
    )
    plan = file_plan(agency_id)
    return conversation_floor(
        conversation, found, agency_tz(agency_id), plan.fiscal_year_start_month
    )


def reports(agency_id: int) -> QuerySet[DispositionReport]:
    return DispositionReport.objects.filter(agency_id=agency_id).annotate(
        item_count=Count("items"),
        eligible_count=Count("items", filter=Q(items__status=DispositionItem.Status.ELIGIBLE)),
        held_count=Count("items", filter=Q(items__status=DispositionItem.Status.HELD)),
    )


def report(agency_id: int, pk: int) -> DispositionReport:
    return reports(agency_id).get(pk=pk)


def report_items(report: DispositionReport) -> QuerySet[DispositionItem]:
    return report.items.select_related("category").order_by("status", "record_type", "record_id")


def certificates(agency_id: int) -> QuerySet[DestructionCertificate]:
    return DestructionCertificate.objects.filter(agency_id=agency_id)


def certificate(agency_id: int, pk: int) -> DestructionCertificate:
    return certificates(agency_id).get(pk=pk)
