"""The foia part's models (records/models.py imports this module so the app registers them).

Public-records requests (FOIA and state equivalents): the jurisdictions' rules and the
agency's holidays are tenant data; a request carries its clock (``ClockEvent``: extensions,
tolling), its review set (``RequestItem``: the messages a search found, each decided), its
redactions (``Redaction``: spans of a message's text, a whole media file; the original
record is never altered) and its productions (``Production``: the Bates-numbered package).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class Jurisdiction(AgencyOwnedModel):
    """The law a request is answered under: its clock and its exemption codes."""

    name = models.CharField(max_length=120)  # "Federal FOIA (5 U.S.C. 552)"
    response_days = models.PositiveSmallIntegerField()  # working days to respond (FOIA: 20)
    extension_days = models.PositiveSmallIntegerField(default=0)  # at most, in total
    # A request first received by another office of the agency: its clock starts at the
    # latest this many working days after that first receipt (FOIA: 10). 0: no such rule.
    routing_days = models.PositiveSmallIntegerField(default=0)
    citation = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="foia_jurisdiction_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ExemptionCode(AgencyOwnedModel):
    """One ground for withholding, as shown at the place of a redaction: "(b)(6)"."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["jurisdiction_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "code"], name="foia_exemption_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class AgencyHoliday(AgencyOwnedModel):
    """A day the agency's clock does not count (besides Saturdays and Sundays)."""

    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "date"], name="foia_holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class RecordsRequest(AgencyOwnedModel):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        SEARCHING = "searching", "Searching"
        IN_REVIEW = "in_review", "In review"
        PRODUCTION_READY = "production_ready", "Production ready"
        CLOSED = "closed", "Produced and closed"

    number = models.CharField(max_length=20)  # the tracking number: "2026-0007"
    requester_name = models.CharField(max_length=200)
    requester_contact = models.CharField(max_length=300)  # email, address or phone
    received_on = models.DateField()  # by the office that answers it
    first_received_on = models.DateField(null=True, blank=True)  # by any office, if earlier
    description = models.TextField()
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    status_changed_at = models.DateTimeField()
    status_changed_by = models.CharField(max_length=200, blank=True)  # the actor's label
    # The clock, recomputed by services.recompute_clock from received_on and the ClockEvents:
    due_on = models.DateField(null=True, blank=True)  # None while the clock is paused
    tolled_since = models.DateField(null=True, blank=True)
    bates_prefix = models.CharField(max_length=30)
    hold_id = models.BigIntegerField(null=True, blank=True)  # the open legal hold, if any
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="foia_request_unique_number")
        ]

    def __str__(self) -> str:
        return f"Request {self.number}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def clock_start(self, holidays: set[dt.date] | frozenset[dt.date] = frozenset()) -> dt.date:
        """The day the clock counts from: the proper office's receipt, or at the latest the
        jurisdiction's routing days after the agency first received the request."""
        routing = self.jurisdiction.routing_days
        if self.first_received_on is None or not routing:
            return self.received_on
        from records.foia.calendar import add_working_days

        return min(self.received_on, add_working_days(self.first_received_on, routing, holidays))


class ClockEvent(AgencyOwnedModel):
    """A move of a request's clock, with its reason: an extension, a pause, a resumption."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", "Extension"
        TOLL = "toll", "Clock paused (tolled)"
        RESUME = "resume", "Clock resumed"

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="clock")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    on = models.DateField()  # the day it took effect (the agency's date)
    days = models.PositiveSmallIntegerField(default=0)  # working days, for an extension
    reason = models.CharField(max_length=500)
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "id"]


class RequestActivity(AgencyOwnedModel):
    """The request's own history in plain words (every step is audited too)."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="activities")
    action = models.CharField(max_length=40)
    detail = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)  # a search's selection and count, say
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]


class RequestItem(AgencyOwnedModel):
    """One message of the review set, and the records officer's decision on it."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Not reviewed"
        RESPONSIVE = "responsive", "Responsive"
        NOT_RESPONSIVE = "not_responsive", "Not responsive"
        WITHHELD = "withheld", "Withheld in full"

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="items")
    # CASCADE: while the request is open its hold forbids deleting the message; after it
    # closes, the message's own schedule may dispose of it (the production keeps its copy).
    message = models.ForeignKey("messaging.Message", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    withheld_code = models.CharField(max_length=40, blank=True)  # for WITHHELD
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message_id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "message"], name="foia_item_unique_message")
        ]


class Redaction(AgencyOwnedModel):
    """A part of a message withheld from the production: a span of its display text (the
    text ``records.exports.services.message_display_text`` gives, code-point offsets) or
    its whole media file. Stored per request: the record itself never changes."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        MEDIA = "media", "Media file"

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="redactions")
    item = models.ForeignKey(RequestItem, on_delete=models.CASCADE, related_name="redactions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    media = models.ForeignKey(
        "messaging.MediaObject", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.CharField(max_length=40)
    note = models.CharField(max_length=500, blank=True)  # foreseeable harm, say
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "start", "id"]


class Production(AgencyOwnedModel):
    """A package produced for the request: what was asked (the messages and redactions as
    they stood, so a later change cannot alter it), its build (a Celery job), its Bates
    range and where it lies."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    request = models.ForeignKey(
        RecordsRequest, on_delete=models.CASCADE, related_name="productions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    message_ids = models.JSONField(default=list)  # the produced messages, as requested
    redactions = models.JSONField(default=dict)  # records.foia.redactions.snapshot()
    finished_at = models.DateTimeField(null=True, blank=True)
    fmt = models.CharField(max_length=8)
    bates_prefix = models.CharField(max_length=30)
    bates_start = models.PositiveIntegerField()
    bates_first = models.CharField(max_length=40, blank=True)  # as stamped: "REQ2026-0001-000001"
    bates_last = models.CharField(max_length=40, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    redaction_count = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=1000, blank=True)
    tagmanifest_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
