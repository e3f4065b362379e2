"""The holds part's models (records/models.py imports this module so the app registers them).

A ``LegalHold`` names a selection (``records.selection``); the messages it covers are
listed in ``HeldMessage`` — those matching when the hold was placed, and every later
arrival that matches (the stream consumer, ``records.holds.consumers``). A record is held
while at least one *open* hold lists it: released holds keep their rows as the history of
what they held, so a record can be under several holds and stays held until the last one
is released. The database triggers of migration 0012 read the same two tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class LegalHold(AgencyOwnedModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RELEASED = "released", "Released"

    matter_id = models.CharField(max_length=100)
    reason = models.TextField(max_length=2000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    selection = models.JSONField(default=dict)  # records.selection.Selection.to_json()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    placed_at = models.DateTimeField()
    placed_by_label = models.CharField(max_length=200, blank=True)
    placed_by_id = models.CharField(max_length=64, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by_label = models.CharField(max_length=200, blank=True)
    released_by_id = models.CharField(max_length=64, blank=True)
    release_reason = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["agency", "status"], name="legal_hold_status")]

    def __str__(self) -> str:
        return f"hold {self.matter_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class HeldMessage(AgencyOwnedModel):
    """One message under one hold. Plain ids, not foreign keys: the row outlives the hold's
    release as history, and must never be what stops a released record's disposition."""

    hold = models.ForeignKey(LegalHold, on_delete=models.PROTECT, related_name="held")
    message_id = models.BigIntegerField()
    conversation_id = models.BigIntegerField()
    held_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hold", "message_id"], name="held_message_once")
        ]
        indexes = [
            models.Index(fields=["message_id"], name="held_message_by_message"),
            models.Index(fields=["conversation_id"], name="held_message_by_conversation"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} under hold {self.hold_id}"
