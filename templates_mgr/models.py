"""Message templates: Meta-approved message shapes for business-initiated sends."""

from __future__ import annotations

import re

from django.db import models

from tenants.scoping import AgencyOwnedModel

_VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class MessageTemplate(AgencyOwnedModel):
    """One template translation on one WABA (Meta's unit of approval: name + language)."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING", "Marketing"
        UTILITY = "UTILITY", "Utility"
        AUTHENTICATION = "AUTHENTICATION", "Authentication"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PENDING = "PENDING", "Pending review"
        APPROVED = "APPROVED", "Approved"
        REJECTED = "REJECTED", "Rejected"
        PAUSED = "PAUSED", "Paused"
        DISABLED = "DISABLED", "Disabled"
        IN_APPEAL = "IN_APPEAL", "In appeal"
        DELETED = "DELETED", "Deleted"
        PENDING_DELETION = "PENDING_DELETION", "Pending deletion"
        FLAGGED = "FLAGGED", "Flagged"
        LIMIT_EXCEEDED = "LIMIT_EXCEEDED", "Limit exceeded"
        ARCHIVED = "ARCHIVED", "Archived"
        LOCKED = "LOCKED", "Locked"

    class ParameterFormat(models.TextChoices):
        POSITIONAL = "POSITIONAL", "Positional ({{1}})"
        NAMED = "NAMED", "Named ({{first_name}})"

    waba = models.ForeignKey(
        "tenants.WhatsAppBusinessAccount", on_delete=models.PROTECT, related_name="templates"
    )
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)  # Meta's code, e.g. en_US
    category = models.CharField(max_length=16, choices=Category.choices)
    parameter_format = models.CharField(
        max_length=16, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    components = models.JSONField(default=list)  # Meta's create-request components
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    meta_template_id = models.CharField(max_length=64, blank=True)
    topic = models.CharField(max_length=64, blank=True)  # opt-in topic; "" = any opt-in
    rejected_reason = models.CharField(max_length=200, blank=True)
    rejection_info = models.JSONField(default=dict, blank=True)  # Meta's reason + advice
    quality_score = models.CharField(max_length=16, blank=True)  # GREEN / YELLOW / RED / UNKNOWN
    # Meta's time (unix seconds) of the newest webhook that reported each field: an older
    # one, delivered late, leaves the field alone (messaging/webhooks/account.py).
    webhook_times = models.JSONField(default=dict, blank=True)
    # Notices that change no field (a category heads-up), by fingerprint → when first seen.
    webhook_notices = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["waba", "name", "language"], name="template_unique_translation"
            )
        ]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def declared_parameters(self) -> dict[str, list[str]]:
        """The variables each component declares: ``{"header": ["1"], "body": ["1", "2"],
        "button:1": ["1"]}`` — what a send must fill, no more and no less."""
        declared: dict[str, list[str]] = {}
        for component in self.components:
            kind = str(component.get("type", "")).lower()
            if kind in ("header", "body") and component.get("text"):
                names = _VARIABLE.findall(component["text"])
                if names:
                    declared[kind] = names
            elif kind == "buttons":
                for index, button in enumerate(component.get("buttons", [])):
                    names = _VARIABLE.findall(str(button.get("url", "")))
                    if names:
                        declared[f"button:{index}"] = names
        return declared
