"""The retention part's models (records/models.py imports this module so the app registers them).

The agency's file plan is tenant data: ``FilePlan`` (its fiscal year) and its
``RecordCategory`` rows, each carrying exactly one disposition instruction (authority,
cutoff rule, retention after cutoff, action). Disposition runs in three steps:
an eligibility report (``DispositionReport`` + ``DispositionItem``), a records officer's
approval, and the execution that leaves a ``DestructionCertificate`` with one
``DestroyedRecord`` per destroyed row — both append-only (migration 0012).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce

from tenants.scoping import AgencyOwnedModel


class FilePlan(AgencyOwnedModel):
    """The agency's file plan settings: one row per agency (created on first use)."""

    fiscal_year_start_month = models.PositiveSmallIntegerField(default=10)  # US federal: Oct
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="file_plan_one_per_agency")]

    def __str__(self) -> str:
        return f"file plan of agency {self.agency_id}"


class RecordCategory(AgencyOwnedModel):
    """A class of records and its one disposition instruction (MoReq2010: the class
    determines the destiny)."""

    class Kind(models.TextChoices):
        CONVERSATIONS = "conversations", "Conversations (messages and their files)"
        NOTES = "notes", "Staff notes"
        AUDIT_EVENTS = "audit_events", "Audit events"
        CONSENT = "consent", "Consent records"

    class Cutoff(models.TextChoices):
        CALENDAR_YEAR = "calendar_year", "End of the calendar year"
        FISCAL_YEAR = "fiscal_year", "End of the fiscal year"
        CONVERSATION_RESOLVED = "conversation_resolved", "When the conversation is resolved"

    class Action(models.TextChoices):
        DESTROY = "destroy", "Destroy"
        TRANSFER = "transfer", "Transfer to the archives"
        REVIEW = "review", "Review"

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=40, blank=True)  # the agency's own file code
    kind = models.CharField(max_length=20, choices=Kind.choices)
    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "inbox.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.TextField(max_length=2000, blank=True)
    # The disposition instruction.
    authority = models.CharField(max_length=200)  # e.g. "GRS 6.1 item 011"; required
    cutoff = models.CharField(max_length=32, choices=Cutoff.choices)
    retain_years = models.PositiveSmallIntegerField(default=0)
    retain_months = models.PositiveSmallIntegerField(default=0)
    retain_days = models.PositiveSmallIntegerField(default=0)
    action = models.CharField(max_length=16, choices=Action.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name", "id"]
        constraints = [
            # One category per kind and scope, "no number"/"no team" counting as a value
            # (expressions rather than nulls_distinct, which SQLite — the demo — lacks).
            models.UniqueConstraint(
                models.F("agency"),
                models.F("kind"),
                Coalesce(models.F("phone_number"), models.Value(0)),
                Coalesce(models.F("team"), models.Value(0)),
                name="record_category_one_per_scope",
            ),
            models.CheckConstraint(
                condition=~models.Q(authority=""), name="record_category_has_authority"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def retention_words(self) -> str:
        parts = []
        for value, unit in (
            (self.retain_years, "year"),
            (self.retain_months, "month"),
            (self.retain_days, "day"),
        ):
            if value:
                parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
        return ", ".join(parts) or "no further time"


class DispositionReport(AgencyOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXECUTED = "executed", "Executed"

    computed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.CharField(max_length=64, blank=True)
    decided_by_label = models.CharField(max_length=200, blank=True)
    decision_reason = models.TextField(max_length=2000, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"eligibility report {self.pk} ({self.status})"


class DispositionItem(AgencyOwnedModel):
    """One record of a report: its category (so its authority and action) and its fate."""

    class RecordType(models.TextChoices):
        CONVERSATION = "conversation", "Conversation"
        NOTE = "note", "Note"
        AUDIT_EVENT = "audit_event", "Audit event"
        CONSENT = "consent", "Consent record"

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        HELD = "held", "Blocked by a legal hold"
        DESTROYED = "destroyed", "Destroyed"
        TRANSFERRED = "transferred", "Transfer package built"
        REVIEWED = "reviewed", "Reviewed, kept"
        SKIPPED = "skipped", "Not disposed (see why)"

    report = models.ForeignKey(DispositionReport, on_delete=models.PROTECT, related_name="items")
    category = models.ForeignKey(RecordCategory, on_delete=models.PROTECT, related_name="+")
    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=RecordCategory.Action.choices)
    eligible_at = models.DateTimeField()  # cutoff + retention
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ELIGIBLE)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="disposition_item_record"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}: {self.status}"


class DestructionCertificate(AgencyOwnedModel):
    """The permanent residual of a destruction: what, under which authority, when, approved
    by whom. ``leaf_sha256`` is the SHA-256 over the destroyed records' leaf hashes (sorted,
    hex, one per line), recomputable from ``DestroyedRecord`` and signed into the audit
    chain. Append-only."""

    report = models.ForeignKey(DispositionReport, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()  # 1, 2, … per agency
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField()
    approved_by_id = models.CharField(max_length=64, blank=True)
    approved_by_label = models.CharField(max_length=200)
    authorities = models.JSONField(default=list)  # ["GRS 6.1 item 011", …]
    counts = models.JSONField(default=dict)  # {"conversations": n, "messages": n, …}
    record_ids = models.JSONField(default=dict)  # {"conversations": [...], "messages": [...]}
    leaf_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="destruction_cert_number")
        ]

    def __str__(self) -> str:
        return f"certificate of destruction #{self.number}"


class DestroyedRecord(AgencyOwnedModel):
    """One destroyed row, with the leaf hash it had (messages and media files), so that
    ``records_verify`` tells a certified destruction from a deletion. Append-only."""

    class RecordType(models.TextChoices):
        CONVERSATION = "conversation", "Conversation"
        MESSAGE = "message", "Message"
        MEDIA = "media", "Media file"
        NOTE = "note", "Note"

    certificate = models.ForeignKey(
        DestructionCertificate, on_delete=models.PROTECT, related_name="records"
    )
    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    record_id = models.BigIntegerField()
    leaf_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="destroyed_once")
        ]

    def __str__(self) -> str:
        return f"destroyed {self.record_type} {self.record_id}"
