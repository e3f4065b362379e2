"""Reads about messaging that span agencies (the platform operators' console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from messaging.models import WebhookEvent
from messaging.webhooks.receive import rejected_signature_count
from tenants.scoping import system_scope


@dataclass(frozen=True)
class WebhookHealth:
    """Stored webhook events by status, and signatures refused before storing."""

    counts: dict[str, int]  # every WebhookEvent.Status, zero included
    rejected_signatures: int
    last_received_at: datetime | None

    @property
    def needs_attention(self) -> int:
        """Events an operator should look at: quarantined or failed for good."""
        return (
            self.counts[WebhookEvent.Status.QUARANTINED] + self.counts[WebhookEvent.Status.FAILED]
        )

    def rows(self) -> list[tuple[str, str, int]]:
        """(status, label, count) in the order of the status choices."""
        return [(value, label, self.counts[value]) for value, label in WebhookEvent.Status.choices]


def webhook_health() -> WebhookHealth:
    with system_scope():
        by_status = dict(
            WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        last = WebhookEvent.objects.aggregate(last=Max("received_at"))["last"]
    counts = {value: by_status.get(value, 0) for value in WebhookEvent.Status.values}
    return WebhookHealth(
        counts=counts, rejected_signatures=rejected_signature_count(), last_received_at=last
    )
