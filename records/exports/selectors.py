"""Reads of the exports part."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from records.exports.models import ExportJob
from records.selection import Selection


def recent_jobs(agency_id: int, limit: int = 50) -> QuerySet[ExportJob]:
    return (
        ExportJob.objects.filter(agency_id=agency_id)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def job(agency_id: int, pk: int) -> ExportJob | None:
    return ExportJob.objects.filter(agency_id=agency_id, pk=pk).first()


def jobs(agency_id: int) -> QuerySet[ExportJob]:
    """The agency's export jobs (the API pages them, newest first by id)."""
    return ExportJob.objects.filter(agency_id=agency_id)


def unknown_selection_ids(agency_id: int, selection: Selection) -> dict[str, str]:
    """The ids of ``selection`` that name nothing of the agency (another agency's hold,
    label, number or conversation), by criterion: the API refuses them rather than export
    nothing. The UI's form offers only the agency's own."""
    from inbox.models import Label
    from messaging.models import Conversation
    from records.holds.models import LegalHold
    from tenants.models import PhoneNumber

    checks: list[tuple[str, int | None, QuerySet[Any]]] = [
        ("conversation", selection.conversation_id, Conversation.objects.all()),
        ("phone_number", selection.phone_number_id, PhoneNumber.objects.all()),
        ("label", selection.label_id, Label.objects.all()),
        ("hold", selection.hold_id, LegalHold.objects.all()),
    ]
    return {
        name: f"No {name.replace('_', ' ')} with this id in the agency."
        for name, pk, rows in checks
        if pk is not None and not rows.filter(agency_id=agency_id, pk=pk).exists()
    }
