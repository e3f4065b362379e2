"""The exports part's models (records/models.py imports this module so the app registers them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class ExportJob(AgencyOwnedModel):
    """A records officer's export: what was asked (selection, format, Bates), how far the
    worker is, and the package once built (a ZIP of the signed bag in the media storage)."""

    class Format(models.TextChoices):
        RSMF = "rsmf", "RSMF 2.0 (Relativity Short Message Format)"
        EML = "eml", "EML (one message per conversation per day)"
        MBOX = "mbox", "MBOX (one mailbox per conversation)"
        PDF = "pdf", "PDF/A transcript (one per conversation)"
        JSONL = "jsonl", "JSON Lines (canonical schema)"
        CSV = "csv", "CSV (one row per message)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    selection = models.JSONField(default=dict)  # records.selection.Selection.to_json()
    title = models.CharField(max_length=200, blank=True)
    bates_prefix = models.CharField(max_length=20, blank=True)
    bates_start = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(null=True, blank=True)  # messages selected
    processed = models.PositiveIntegerField(default=0)
    package_name = models.CharField(max_length=200, blank=True)
    storage_key = models.CharField(max_length=512, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the ZIP
    tagmanifest_sha256 = models.CharField(max_length=64, blank=True)
    bates_first = models.CharField(max_length=40, blank=True)
    bates_last = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "-created_at"], name="exportjob_recent")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.processed * 100 // self.total)
