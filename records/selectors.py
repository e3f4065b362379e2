"""Reads of government records."""

from __future__ import annotations

from django.db.models import QuerySet

from records.models import AuditEvent
from tenants.models import Agency


def audit_events_of(agency: Agency) -> QuerySet[AuditEvent]:
    """The agency's audit trail, newest first."""
    return AuditEvent.objects.filter(agency=agency).order_by("-sequence")
