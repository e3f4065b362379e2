"""Webhook subscriptions and their deliveries.

A ``WebhookSubscription`` is an agency's target URL and the integrator event types it wants.
The stream consumer (``consumers``) writes one ``Delivery`` per subscription and event; the
sender (``delivery``) posts it, signed, retrying with backoff for up to 24 hours.
``WebhookCursor`` is the consumer's last applied stream sequence (at-least-once input).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.crypto import EncryptedTextField
from tenants.scoping import AgencyOwnedModel


class WebhookSubscription(AgencyOwnedModel):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # integrator event types (bsp.integrations.events)
    # The signing key: HMAC needs the secret itself, so it is stored encrypted, not hashed.
    secret = EncryptedTextField()
    secret_hint = models.CharField(max_length=12, blank=True)  # "whsec_ab12…" for the page
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Set by the first failed attempt after a success; cleared by any success. Failing for
    # WEBHOOK_DISABLE_AFTER disables the subscription.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class Delivery(AgencyOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=64)
    type = models.CharField(max_length=64)
    sequence = models.BigIntegerField(null=True, blank=True)  # the stream's; none for tests
    # Deliveries sharing a key go one at a time, in sequence order ("conversation:12"); ""
    # means unordered.
    ordering_key = models.CharField(max_length=64, blank=True)
    body = models.TextField()  # the JSON envelope, exactly as signed and sent
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the event entered the stream: lag is measured from it.
    event_created_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="delivery_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "ordering_key", "sequence"],
                condition=models.Q(status="pending"),
                name="delivery_pending_heads",
            ),
            models.Index(fields=["subscription", "-created_at"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.subscription_id} ({self.status})"


class WebhookCursor(AgencyOwnedModel):
    """The last stream sequence the webhook consumer applied for the agency."""

    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="webhook_cursor_unique")]

    def __str__(self) -> str:
        return f"webhooks of agency {self.agency_id} through {self.last_sequence}"
