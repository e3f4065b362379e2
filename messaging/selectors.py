"""Reads about messaging: one agency's messages and media (the API), and those that span
agencies (the platform operators' console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, QuerySet

from messaging.models import Conversation, MediaObject, Message, WebhookEvent
from messaging.webhooks.receive import rejected_signature_count
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope, system_scope


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


def get_message(agency: Agency, pk: int) -> Message | None:
    """The agency's message ``pk`` with its contact (None if none, or another agency's)."""
    with agency_scope(agency):
        return Message.objects.filter(agency=agency, pk=pk).select_related("contact").first()


def get_conversation(agency: Agency, pk: int) -> Conversation | None:
    with agency_scope(agency):
        return Conversation.objects.filter(agency=agency, pk=pk).first()


def messages_for_conversation(
    conversation: Conversation,
    *,
    direction: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Message]:
    """The thread (index ``message_thread``), filtered; the caller orders and pages it."""
    rows = Message.objects.filter(
        agency_id=conversation.agency_id, conversation=conversation
    ).select_related("contact")
    if direction:
        rows = rows.filter(direction=direction)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows


def phone_number_of_agency(agency: Agency, pk: int) -> PhoneNumber | None:
    with agency_scope(agency):
        return (
            PhoneNumber.objects.filter(agency=agency, pk=pk)
            .select_related("waba__portfolio")
            .first()
        )


def media_of_agency(agency: Agency, pks: list[int]) -> dict[int, MediaObject]:
    """The agency's media objects among ``pks`` (inbound or outbound), by id."""
    with agency_scope(agency):
        return {m.pk: m for m in MediaObject.objects.filter(agency=agency, pk__in=pks)}
