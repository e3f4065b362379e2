"""The WORM archive's tables: each agency's archive policy, and one row per object version.

``ArchivedObject`` is the index of what the store holds (the store holds the record): a
conversation's canonical JSON, or one of its media files, per version, with the SHA-256
taken when it was written and the lock it was written with. Rows are append-only at the
database (records migration 0013): the lock columns may only move the way the store's do
(``retain_until`` later, ``legal_hold`` on/off, ``destroyed_at`` set once); nothing is
deleted — a destroyed version keeps its row as the residual of its destruction.
"""

from __future__ import annotations

from django.db import models

from records.archive import COMPLIANCE, GOVERNANCE
from tenants.scoping import AgencyOwnedModel


class LockMode(models.TextChoices):
    COMPLIANCE = COMPLIANCE, "Compliance (nobody can delete or shorten before retain-until)"
    GOVERNANCE = GOVERNANCE, "Governance (privileged operators could, in the store)"


class ArchivePolicy(AgencyOwnedModel):
    """An agency's archive policy (tenant data; the settings give the defaults when an
    agency has none): the lock mode of new object versions, how long a conversation stays
    active after its last activity before it is archived, and the minimum retention used
    when the file plan gives a conversation no destruction date yet."""

    mode = models.CharField(max_length=16, choices=LockMode.choices)
    active_days = models.PositiveIntegerField()
    minimum_retention_days = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "archive policies"
        constraints = [
            models.UniqueConstraint(fields=["agency"], name="worm_policy_one_per_agency"),
            models.CheckConstraint(
                condition=models.Q(mode__in=[COMPLIANCE, GOVERNANCE]), name="worm_policy_mode"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_retention_days__gte=1), name="worm_policy_retention"
            ),
        ]

    def __str__(self) -> str:
        return f"archive policy of agency {self.agency_id}: {self.mode}"


class ArchivedObject(AgencyOwnedModel):
    """One object version in the WORM store (see the module docstring)."""

    class Kind(models.TextChoices):
        CONVERSATION = "conversation", "Conversation (canonical JSON)"
        MEDIA = "media", "Media file"

    # Not a foreign key: the row outlives the conversation's destruction (disposition).
    conversation_id = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    media_id = models.BigIntegerField(null=True, blank=True)
    store = models.CharField(max_length=255)  # "local" or "s3://<bucket>"
    key = models.CharField(max_length=512)
    version_id = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    mode = models.CharField(max_length=16, choices=LockMode.choices)
    retain_until = models.DateTimeField()
    legal_hold = models.BooleanField(default=False)
    archived_at = models.DateTimeField()
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation_id", "kind", "key", "archived_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "key", "version_id"], name="worm_object_version_once"
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "conversation_id"], name="worm_object_conversation"),
            models.Index(
                fields=["agency", "legal_hold"],
                condition=models.Q(destroyed_at__isnull=True),
                name="worm_object_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.version_id}"


class ArchiveRefresh(AgencyOwnedModel):
    """An archived conversation that changed since (noticed on the event stream by
    ``records.worm.consumers``): archived again, as a new version, once past its active
    period again. One row per conversation; removed when archived."""

    conversation_id = models.BigIntegerField()
    noticed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation_id"], name="worm_refresh_once"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} changed since archived"
