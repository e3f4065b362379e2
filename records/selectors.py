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


def audit_events(
    *,
    action: str | None = None,
    actor_type: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The agency in scope's audit trail filtered (the filters combine): ``action`` exact,
    or every action under a prefix ending in ``.*`` (``message.*``); ``since`` inclusive,
    ``until`` exclusive."""
    events = AuditEvent.objects.all()
    if action is not None and action.endswith(".*"):
        events = events.filter(action__startswith=action[:-1])
    elif action is not None:
        events = events.filter(action=action)
    exact = {"actor_type": actor_type, "object_type": object_type, "object_id": object_id}
    events = events.filter(**{name: value for name, value in exact.items() if value is not None})
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events


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
