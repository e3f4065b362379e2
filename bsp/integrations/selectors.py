"""Reading webhook subscriptions and their delivery logs (agency-scoped)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from bsp.integrations.models import Delivery, WebhookSubscription
from tenants.models import Agency

STATUSES = {value for value, _ in Delivery.Status.choices}


def subscriptions(agency: Agency) -> QuerySet[WebhookSubscription]:
    return (
        WebhookSubscription.objects.filter(agency=agency)
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        )
        .order_by("pk")
    )


def subscription(agency: Agency, pk: int) -> WebhookSubscription | None:
    return WebhookSubscription.objects.filter(agency=agency, pk=pk).first()


def delivery_log(sub: WebhookSubscription, status: str = "", limit: int = 50) -> list[Delivery]:
    """The subscription's latest deliveries, newest first (``status`` filters; unknown
    values are ignored)."""
    rows = Delivery.objects.filter(agency_id=sub.agency_id, subscription=sub)
    if status in STATUSES:
        rows = rows.filter(status=status)
    return list(rows.defer("body").order_by("-created_at", "-pk")[:limit])


def delivery_counts(sub: WebhookSubscription) -> dict[str, Any]:
    rows = Delivery.objects.filter(agency_id=sub.agency_id, subscription=sub)
    counts = dict(rows.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {value: counts.get(value, 0) for value in STATUSES}


def deliveries(sub: WebhookSubscription, status: str = "") -> QuerySet[Delivery]:
    """The subscription's delivery log as a queryset (the REST API pages it by id)."""
    rows = Delivery.objects.filter(agency_id=sub.agency_id, subscription=sub).defer("body")
    return rows.filter(status=status) if status in STATUSES else rows
