"""Reads of government records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, QuerySet

from records.capture.alerts import missing_media_counts
from records.models import AuditEvent, RecordCheckpoint
from tenants.models import Agency
from tenants.scoping import system_scope


def audit_events_of(agency: Agency) -> QuerySet[AuditEvent]:
    """The agency's audit trail, newest first."""
    return AuditEvent.objects.filter(agency=agency).order_by("-sequence")


@dataclass(frozen=True)
class AgencyRecordsHealth:
    """What an operator watches of an agency's record: files not captured and the last
    signed checkpoint (the newest records it does not cover yet are unprotected)."""

    agency: Agency
    media_missing: int
    media_pending: int
    last_checkpoint_number: int | None
    last_checkpoint_at: datetime | None


def records_health() -> list[AgencyRecordsHealth]:
    """Every agency's capture and checkpoint state, for the operators' console
    (cross-agency)."""
    with system_scope():
        media = missing_media_counts()
        latest = {
            row["agency_id"]: row
            for row in RecordCheckpoint.objects.values("agency_id")
            .annotate(number=Max("number"), at=Max("created_at"))
            .order_by()
        }
        return [
            AgencyRecordsHealth(
                agency=agency,
                media_missing=media.get(agency.pk, {}).get("missing", 0),
                media_pending=media.get(agency.pk, {}).get("pending", 0),
                last_checkpoint_number=latest.get(agency.pk, {}).get("number"),
                last_checkpoint_at=latest.get(agency.pk, {}).get("at"),
            )
            for agency in Agency.objects.order_by("name")
        ]
