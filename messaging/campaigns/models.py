"""Campaigns: one approved template to an audience of opted-in citizens.

A campaign's audience is resolved into ``CampaignRecipient`` rows when it starts (every
recipient, the skipped ones with their reason); each sent recipient points at its
``messaging.Message``, whose status is the recipient's delivery state. ``CampaignStats`` are
the live counters, kept by the event-stream consumer (``messaging.campaigns.consumers``),
never counted from the messages table per request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class SkipReason(models.TextChoices):
    """Why a recipient is not sent the campaign (``messaging.policy``'s rules, in bulk)."""

    INVALID_NUMBER = "invalid_number", "Not a valid WhatsApp number"
    DUPLICATE = "duplicate", "Listed more than once"
    UNREACHABLE = "unreachable", "Not on WhatsApp (an earlier message could not be delivered)"
    OPTED_OUT = "opted_out", "Opted out"
    NO_OPT_IN = "no_opt_in", "Has not opted in"
    MARKETING_OPTED_OUT = "marketing_opted_out", "Turned off marketing messages in WhatsApp"
    US_MARKETING = "us_marketing", "US number: Meta does not deliver marketing templates to +1"
    MISSING_VARIABLE = "missing_variable", "A template value is missing for this person"
    TIER_EXCEEDED = "tier_exceeded", "Beyond the daily messaging limit"
    TEMPLATE_UNAVAILABLE = "template_unavailable", "The template was no longer approved"
    # The agency's DLP policy (records.dlp): a value (an attribute, a CSV column) carries
    # e.g. an SSN or a card number.
    SENSITIVE_DATA = "sensitive_data", "A template value carries sensitive data (e.g. an SSN)"
    # Trial mode (messaging.policy.check_trial_recipient): not yet approved to go live, the
    # agency sends only to its own staff's numbers.
    TRIAL_RECIPIENT = "trial_recipient", "The agency is in trial mode: staff numbers only"


class Campaign(AgencyOwnedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        QUEUING = "queuing", "Preparing messages"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.PROTECT, related_name="campaigns"
    )
    template = models.ForeignKey(
        "templates_mgr.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # {"source": "contacts"|"csv", "topic", "label_ids", "attributes": [{key, value}], "upload_id"}
    audience = models.JSONField(default=dict, blank=True)
    # {variable key: {"source": "attribute"|"column"|"fixed", "value": str}}
    variable_mapping = models.JSONField(default=dict, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)  # None: as soon as scheduled
    split_across_days = models.BooleanField(default=False)
    # Split campaigns: when the next day's share is queued (the worker's task is due then).
    next_run_at = models.DateTimeField(null=True, blank=True)
    # Whether every recipient has been resolved into CampaignRecipient rows.
    resolved = models.BooleanField(default=False)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["agency", "-created_at"], name="campaign_list"),
            models.Index(
                fields=["status", "scheduled_at"],
                condition=models.Q(status="scheduled"),
                name="campaign_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)

    @property
    def can_pause(self) -> bool:
        return self.status in (self.Status.SCHEDULED, self.Status.QUEUING, self.Status.SENDING)

    @property
    def can_resume(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def can_cancel(self) -> bool:
        return self.status in (
            self.Status.DRAFT,
            self.Status.SCHEDULED,
            self.Status.QUEUING,
            self.Status.SENDING,
            self.Status.PAUSED,
        )


class CampaignRecipient(AgencyOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be queued"
        QUEUED = "queued", "Queued (see the message)"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        "messaging.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    wa_id = models.CharField(max_length=32, blank=True)
    raw = models.CharField(max_length=100, blank=True)
    row_number = models.PositiveIntegerField(null=True, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    skip_reason = models.CharField(max_length=24, choices=SkipReason.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="campaign_recipient_state"),
            models.Index(fields=["campaign", "id"], name="campaign_recipient_order"),
        ]

    def __str__(self) -> str:
        return f"{self.wa_id or self.raw} ({self.status})"

    @property
    def skip_reason_label(self) -> str:
        return SkipReason(self.skip_reason).label if self.skip_reason else ""


class CampaignStats(AgencyOwnedModel):
    """Live counters of one campaign, from the event stream. The status counters hold how
    many of its messages are in each state now (``queued`` includes `sending`), so they add
    up to the messages queued; ``skipped`` and ``cancelled`` count recipients never sent."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="stats")
    recipients = models.PositiveIntegerField(default=0)
    queued = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    sent = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    read = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    skipped_by_reason = models.JSONField(default=dict, blank=True)
    failed_by_reason = models.JSONField(default=dict, blank=True)
    progress_published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"stats of campaign {self.campaign_id}"


class CampaignCursor(AgencyOwnedModel):
    """The last event sequence the campaign consumer applied (at-least-once → once)."""

    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="campaign_cursor_unique")]

    def __str__(self) -> str:
        return f"campaigns of agency {self.agency_id} through {self.last_sequence}"


class AudienceUpload(AgencyOwnedModel):
    """An uploaded CSV of numbers (and values for the template's variables)."""

    filename = models.CharField(max_length=255, blank=True)
    columns = models.JSONField(default=list, blank=True)
    number_column = models.CharField(max_length=100, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    valid_count = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename or f"upload {self.pk}"


class AudienceUploadRow(AgencyOwnedModel):
    class Problem(models.TextChoices):
        NONE = "", "None"
        BLANK = "blank", "No number in this row"
        INVALID_NUMBER = "invalid_number", "Not a valid phone number with its country code"
        DUPLICATE = "duplicate", "The same number is on an earlier row"

    upload = models.ForeignKey(AudienceUpload, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    raw_number = models.CharField(max_length=100, blank=True)
    wa_id = models.CharField(max_length=32, blank=True)
    values = models.JSONField(default=dict, blank=True)
    problem = models.CharField(max_length=16, choices=Problem.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["upload", "row_number"], name="audience_upload_rows")]

    def __str__(self) -> str:
        return f"row {self.row_number} of upload {self.upload_id}"


class PricingRate(AgencyOwnedModel):
    """An agency's own rate for one pricing category in one market (Meta's per-message
    price, since July 2025). Without a row the default of ``messaging.campaigns.costs``
    applies."""

    market = models.CharField(max_length=32)
    category = models.CharField(max_length=16)
    rate = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "market", "category"], name="pricing_rate_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category}: {self.rate} {self.currency}"
