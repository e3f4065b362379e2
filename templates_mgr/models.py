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
        """The values each component of a send must carry, Meta's way (cloud-api.md §2.7):
        ``{"header": ["1"], "body": ["1", "2"], "button:1": ["1"]}`` — no more, no less.

        - a text header or the body: its variables, each once (``{{1}}`` used twice is one
          value), named ones by name;
        - a media or location header: one parameter of that type (``["image"]``…);
        - an authentication template: the code as the body's one value, and the code again
          on its one-time-code button (``button:i`` → ``["1"]``);
        - a URL button with a dynamic suffix: ``["1"]``; a copy-code button:
          ``["coupon_code"]``. Quick replies and flow buttons take optional values only.
        """
        declared: dict[str, list[str]] = {}
        components = [c for c in self.components if isinstance(c, dict)]
        authentication = self.category == self.Category.AUTHENTICATION
        for component in components:
            kind = str(component.get("type", "")).lower()
            if kind == "header":
                fmt = str(component.get("format", "TEXT")).upper()
                if fmt == "TEXT":
                    names = _names(str(component.get("text", "")))
                    if names:
                        declared["header"] = names
                elif fmt in ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION"):
                    declared["header"] = [fmt.lower()]
            elif kind == "body":
                names = _names(str(component.get("text", "") or ""))
                if authentication:
                    names = ["1"]  # the one-time code
                if names:
                    declared["body"] = names
            elif kind == "buttons":
                for index, button in enumerate(component.get("buttons", [])):
                    if not isinstance(button, dict):
                        continue
                    button_type = str(button.get("type", "")).upper()
                    if button_type == "URL" and _VARIABLE.search(str(button.get("url", ""))):
                        declared[f"button:{index}"] = ["1"]
                    elif button_type == "COPY_CODE":
                        declared[f"button:{index}"] = ["coupon_code"]
                    elif button_type == "OTP":
                        declared[f"button:{index}"] = ["1"]
        return declared


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(_VARIABLE.findall(text)))


class TemplateVersion(AgencyOwnedModel):
    """One saved or submitted state of a template: what it said, who, when, its status then,
    and Meta's answer. Rows are only ever added (history is never overwritten)."""

    class Action(models.TextChoices):
        SAVED = "saved", "Saved as draft"
        SUBMITTED = "submitted", "Submitted to Meta"
        EDIT_SUBMITTED = "edit_submitted", "Edit submitted to Meta"
        SUBMIT_FAILED = "submit_failed", "Refused by Meta"

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=16)
    parameter_format = models.CharField(max_length=16)
    components = models.JSONField(default=list)
    topic = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16)  # the template's status right after this
    meta_response = models.JSONField(default=dict, blank=True)  # Meta's answer or error
    justification = models.TextField(blank=True)  # why pre-screen findings were overridden
    findings = models.JSONField(default=list, blank=True)
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_number")
        ]
        ordering = ["template", "-number"]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number} ({self.action})"


class BannedTerm(AgencyOwnedModel):
    """A word or phrase the agency never wants in a template (the pre-screen flags it)."""

    term = models.CharField(max_length=100)
    note = models.CharField(max_length=200, blank=True)
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "term"], name="banned_term_unique")
        ]
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class HeaderSample(AgencyOwnedModel):
    """A sample file uploaded to Meta for a media header's review (Resumable Upload API):
    the handle Meta gave, and what the file was, for the editor and the preview."""

    waba = models.ForeignKey(
        "tenants.WhatsAppBusinessAccount", on_delete=models.PROTECT, related_name="+"
    )
    handle = models.TextField()
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["waba", "created_at"], name="header_sample_recent")]

    def __str__(self) -> str:
        return self.filename
