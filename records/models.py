"""Government records: the tamper-evident audit trail."""

from __future__ import annotations

from django.db import models

from tenants.scoping import AgencyScopedManager


class AuditEvent(models.Model):
    """One append-only, hash-chained record of a state change.

    Each agency has its own chain; platform-level events (no agency) form a chain of their
    own. ``hash`` is the SHA-256 of the canonical content including ``prev_hash``, so any
    edit, deletion or reordering breaks every later link (``manage.py audit_verify``).
    UPDATE and DELETE are refused at the database (trigger + no privilege for the app role).
    """

    class ActorType(models.TextChoices):
        USER = "user", "Staff user"
        OPERATOR = "operator", "Platform operator"
        API = "api", "API client"
        WORKER = "worker", "Background worker"
        SYSTEM = "system", "System"

    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sequence = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AgencyScopedManager()

    class Meta:
        base_manager_name = "objects"
        ordering = ["agency_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "sequence"], name="audit_chain_unbroken"),
            models.UniqueConstraint(
                fields=["sequence"],
                condition=models.Q(agency__isnull=True),
                name="audit_platform_chain_unbroken",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "-created_at"], name="audit_recent_idx"),
            models.Index(fields=["agency", "object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_label or self.actor_type}"


class AuditChainHead(models.Model):
    """The newest link of each chain: its row lock serializes the chain's writers.

    One row per chain (``chain_key`` = agency id, 0 for the platform chain). Reading the
    head is O(1) whatever the table size, and comparing it with the newest event also
    reveals events deleted from the end of a chain, which the links alone cannot show.
    """

    chain_key = models.BigIntegerField(primary_key=True)
    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    objects = AgencyScopedManager()

    class Meta:
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"chain {self.chain_key} at #{self.sequence}"
