"""Consent's own tables: the agency's topics and CSV imports of opt-ins.

The consent history itself is ``messaging.models.Consent`` (append-only; the send policy
reads it): these tables describe what a topic is and where an import's rows came from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class ConsentTopic(AgencyOwnedModel):
    """What citizens may opt in to, e.g. "Emergency alerts" (slug ``alerts``).

    ``slug`` is what ``Consent.topic`` and ``MessageTemplate.topic`` carry. ``wording`` is
    the sentence a citizen agrees to on the hosted page; the exact text shown and its
    hash go into each web-form consent's evidence, so a change of wording never rewrites
    what someone agreed to."""

    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)
    name_es = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    wording = models.TextField()
    wording_es = models.TextField(blank=True)
    page_enabled = models.BooleanField(default=False)
    # Whole-message keywords (upper case) that opt a citizen in to this topic on WhatsApp;
    # "STOP <keyword>" opts them out of it.
    keywords = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "slug"], name="consent_topic_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class ConsentImport(AgencyOwnedModel):
    """One uploaded CSV of opt-ins: read by a task into a preview (nothing changed), then
    committed by a task."""

    class Status(models.TextChoices):
        READING = "reading", "Reading the file"
        REFUSED = "refused", "Refused: nothing was changed"
        PREVIEWED = "previewed", "Previewed: nothing recorded yet"
        COMMITTING = "committing", "Recording opt-ins"
        COMMITTED = "committed", "Recorded"
        DISCARDED = "discarded", "Discarded"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    encoding = models.CharField(max_length=32)
    columns = models.JSONField(default=dict)  # role → header, as mapped
    default_topic = models.CharField(max_length=64, blank=True)  # rows without a topic
    default_region = models.CharField(max_length=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    # The uploaded bytes, until the preview task has read them (then emptied: the rows and
    # the file's hash are what stays).
    upload = models.BinaryField(null=True, blank=True, editable=False)
    problems = models.JSONField(default=list, blank=True)  # why a file was refused
    read_rows = models.PositiveIntegerField(default=0)  # progress of the preview
    total_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # outcome → rows (preview, then as committed)
    to_commit = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(default=0)  # progress
    created_at = models.DateTimeField(auto_now_add=True)
    commit_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def read_percent(self) -> int:
        if self.total_rows == 0:
            return 0
        return min(100, self.read_rows * 100 // self.total_rows)

    @property
    def percent(self) -> int:
        if self.to_commit == 0:
            return 100 if self.status == self.Status.COMMITTED else 0
        return min(100, self.committed_rows * 100 // self.to_commit)


class ImportRow(AgencyOwnedModel):
    """One data row of an import and what happens (or happened) to it."""

    class Outcome(models.TextChoices):
        WILL_OPT_IN = "will_opt_in", "Will opt in"
        OPTED_IN = "opted_in", "Opted in"
        ALREADY_OPTED_IN = "already_in", "Already opted in: nothing to do"
        OPTED_OUT = "opted_out", "Opted out earlier: not opted in again"
        INVALID_NUMBER = "invalid_number", "Not a valid phone number"
        DUPLICATE = "duplicate", "Duplicate of an earlier row"
        UNKNOWN_TOPIC = "unknown_topic", "Unknown topic"

    consent_import = models.ForeignKey(ConsentImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()  # the line in the file (header = 1)
    phone = models.CharField(max_length=64, blank=True)  # as written (cut to 64)
    name = models.CharField(max_length=200, blank=True)
    topic = models.CharField(max_length=64, blank=True)
    wa_id = models.CharField(max_length=32, blank=True)
    evidence = models.JSONField(default=dict, blank=True)  # the mapped evidence columns
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    committed = models.BooleanField(default=False)

    class Meta:
        ordering = ["row_number"]
        indexes = [
            models.Index(fields=["consent_import", "committed", "id"], name="import_row_pending")
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.outcome}"
