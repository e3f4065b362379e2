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


class RecordLeaf(models.Model):
    """One record (a message, a stored media file) in its agency's Merkle tree (RFC 6962),
    in checkpoint order.

    Written by the checkpoint task, never on the capture path: ``index`` is the leaf's
    position in the agency's tree, ``leaf_hash`` = SHA-256(0x00 ‖ canonical record), the
    record's fields that never change (``records.leaves``). A leaf holds no content,
    so it outlives its record's destruction. Append-only (trigger, migration 0008).
    """

    class RecordType(models.TextChoices):
        MESSAGE = "message", "Message"
        MEDIA = "media", "Media file"

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    index = models.PositiveBigIntegerField()
    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    record_id = models.BigIntegerField()
    leaf_hash = models.CharField(max_length=64)

    objects = AgencyScopedManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["agency", "index"], name="record_leaf_position"),
            models.UniqueConstraint(fields=["record_type", "record_id"], name="record_leaf_once"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.index}: {self.record_type} {self.record_id}"


class RecordCheckpoint(models.Model):
    """A signed statement of an agency's records at one moment (``records.checkpoints``).

    It commits to the audit chain's head (sequence and hash) and to the root of the
    message tree at ``leaf_count`` leaves, and is signed with the platform's Ed25519 key,
    which is not in the database: a rewritten chain or message no longer matches an
    earlier checkpoint, and its signature cannot be redone without the key. The same
    ``statement`` is written to the archive store (``archive_key``). Append-only.
    """

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveBigIntegerField()  # 1, 2, … per agency
    created_at = models.DateTimeField()
    audit_sequence = models.PositiveBigIntegerField()
    audit_hash = models.CharField(max_length=64)
    leaf_count = models.PositiveBigIntegerField()
    leaf_root = models.CharField(max_length=64)
    # The tree's compact range (``records.merkle``), so the next checkpoint appends to it
    # without reading every leaf. Verification never trusts it: it rebuilds from the leaves.
    frontier = models.JSONField(default=list)
    # The highest message id seen; the next-but-one checkpoint starts its scan there
    # (messages commit out of id order: ``records.checkpoints``).
    message_high_id = models.BigIntegerField(default=0)
    key_id = models.CharField(max_length=16)
    statement = models.TextField()  # the signed note, as archived
    archive_key = models.CharField(max_length=200)

    objects = AgencyScopedManager()

    class Meta:
        base_manager_name = "objects"
        ordering = ["agency_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="record_checkpoint_number"),
        ]

    def __str__(self) -> str:
        return f"checkpoint #{self.number} of agency {self.agency_id}"


# Sensitive-data rules live in records.dlp; importing them registers them with this app.
# The other parts of issue 12 keep their models in their packages; importing registers them.
import records.exports.models  # noqa: E402
import records.foia.models  # noqa: E402
import records.holds.models  # noqa: E402
import records.retention.models  # noqa: E402
import records.worm.models  # noqa: E402, F401
from records.dlp.models import SensitiveDataRule  # noqa: E402, F401
