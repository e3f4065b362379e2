"""Recording consent: one append-only row per change (the newest decides), one audit
record and one ``consent.changed`` event. Keyword opt-outs have their own path
(messaging.webhooks.keywords); staff, imports and the API come through here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.models import Consent, Contact
from records.audit import Actor, record_event
from tenants.services import ApplicationError, ensure_agency_active

TOPIC_MAX = 64


def record_consent(
    *,
    actor: Actor,
    contact: Contact,
    status: str,
    source: str,
    topic: str = "",
    recorded_by: User | None = None,
    evidence: dict[str, Any] | None = None,
) -> Consent:
    """Append an opt-in or opt-out for ``contact`` (``topic`` "" = the agency as a whole).
    An opt-out is effective at once for every business-initiated send (the policy reads
    the newest row)."""
    ensure_agency_active(contact.agency)
    if status not in Consent.Status.values:
        raise ApplicationError(f"Unknown consent status {status!r}.")
    if source not in Consent.Source.values:
        raise ApplicationError(f"Unknown consent source {source!r}.")
    topic = topic.strip().lower()
    if len(topic) > TOPIC_MAX:
        raise ApplicationError(f"A topic has at most {TOPIC_MAX} characters.")
    with transaction.atomic():
        consent = Consent.objects.create(
            agency_id=contact.agency_id,
            contact=contact,
            topic=topic,
            status=status,
            source=source,
            evidence=evidence or {},
            recorded_at=timezone.now(),
            recorded_by=recorded_by,
        )
        record_event(
            agency_id=contact.agency_id,
            actor=actor,
            action=f"consent.{status}",
            target=consent,
            changes={"contact": contact.pk, "topic": topic, "source": source},
        )
        events.publish(
            agency_id=contact.agency_id,
            type=types.CONSENT_CHANGED,
            subject={"consent": consent.pk, "contact": contact.pk},
            payload={
                "status": status,
                "topic": topic,
                "source": source,
                "recorded_at": consent.recorded_at,
            },
        )
    return consent
