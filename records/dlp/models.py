"""An agency's sensitive-data rules and policy, and what DLP found in messages (imported by
``records.models`` so Django registers them with the records app).

- ``SensitiveDataRule``: the agency's own patterns and keywords.
- ``DlpPolicy``: one row per agency (absent: the defaults below). What to do outbound
  (block, and which roles may send anyway with a justification) and inbound (flag, mask in
  the inbox, who may reveal, the automatic reply).
- ``DlpFlag``: a message's findings — kinds, offsets, detector version, never the values —
  stored *beside* the message: the message's content is immutable (records.capture), DLP
  never alters it.
- ``DlpAutoReply``: when a conversation last got the automatic reply (its cooldown).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F

from bsp.sensitive_data import CARD, ITIN, MAX_PATTERN_LENGTH, ROUTING, SSN
from tenants.scoping import AgencyOwnedModel

# The built-in detectors an outbound message is checked against (all by default).
BUILT_IN_KINDS = (SSN, ITIN, CARD, ROUTING)
DEFAULT_OVERRIDE_ROLES = ("agency_admin", "supervisor")
DEFAULT_REVEAL_ROLES = ("agency_admin", "records_officer")
DEFAULT_AUTO_REPLY = (
    "For your safety, please do not send Social Security numbers, card numbers or bank "
    "details over WhatsApp. We have received your message; an agent will tell you how to "
    "share that information securely. / Por su seguridad, no envíe números de Seguro "
    "Social, de tarjeta ni datos bancarios por WhatsApp."
)
DEFAULT_AUTO_REPLY_HOURS = 24
AUTO_REPLY_MAX = 1024


def _all_kinds() -> list[str]:
    return list(BUILT_IN_KINDS)


def _override_roles() -> list[str]:
    return list(DEFAULT_OVERRIDE_ROLES)


def _reveal_roles() -> list[str]:
    return list(DEFAULT_REVEAL_ROLES)


class SensitiveDataRule(AgencyOwnedModel):
    """A pattern (a regex, checked against catastrophic backtracking) or keywords the agency
    treats as sensitive, and what to do when a message matches."""

    class Kind(models.TextChoices):
        REGEX = "regex", "Regular expression"
        KEYWORDS = "keywords", "Keywords"

    class Action(models.TextChoices):
        FLAG = "flag", "Flag the message for review"
        MASK = "mask", "Mask the match in the inbox"
        BLOCK = "block", "Block outbound messages that contain it"

    class Direction(models.TextChoices):
        BOTH = "both", "Inbound and outbound"
        INBOUND = "in", "Inbound only"
        OUTBOUND = "out", "Outbound only"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    pattern = models.CharField(max_length=MAX_PATTERN_LENGTH, blank=True)
    keywords = models.TextField(blank=True)  # one per line
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.FLAG)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.BOTH)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "records"
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="dlp_rule_unique_name"),
            models.CheckConstraint(
                condition=(models.Q(kind="regex") & ~models.Q(pattern=""))
                | (models.Q(kind="keywords") & ~models.Q(keywords="")),
                name="dlp_rule_has_a_pattern_or_keywords",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.action})"

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        DlpPolicy.rules_changed(self.agency_id)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        agency_id = self.agency_id
        result = super().delete(*args, **kwargs)
        DlpPolicy.rules_changed(agency_id)
        return result


class DlpPolicy(AgencyOwnedModel):
    """The agency's sensitive-data policy. Without a row, the field defaults apply (an
    unsaved instance: ``records.dlp.policy.policy_for``)."""

    agency = models.OneToOneField(
        "tenants.Agency", on_delete=models.PROTECT, related_name="dlp_policy"
    )
    # Outbound: a message with a blocking finding is refused before it is stored.
    outbound_block = models.BooleanField(default=True)
    outbound_kinds = models.JSONField(default=_all_kinds)  # built-in kinds that block
    override_roles = models.JSONField(default=_override_roles)  # may send with a justification
    # Inbound: findings stored as flags; matches masked in the inbox; who may reveal them.
    inbound_flag = models.BooleanField(default=True)
    inbound_mask = models.BooleanField(default=True)
    reveal_roles = models.JSONField(default=_reveal_roles)
    phi_hints = models.BooleanField(default=False)  # also flag possible health information
    auto_reply_enabled = models.BooleanField(default=False)
    auto_reply_text = models.TextField(default=DEFAULT_AUTO_REPLY)
    auto_reply_hours = models.PositiveSmallIntegerField(default=DEFAULT_AUTO_REPLY_HOURS)
    # Bumped by every change of the agency's rules: compiled rules are cached by it.
    rules_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "records"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(auto_reply_hours__gte=1) & models.Q(auto_reply_hours__lte=720),
                name="dlp_policy_auto_reply_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"DLP policy of agency {self.agency_id}"

    @classmethod
    def rules_changed(cls, agency_id: int) -> None:
        """The agency's rules changed: a new version (the row is created if missing)."""
        cls.objects.get_or_create(agency_id=agency_id)
        cls.objects.filter(agency_id=agency_id).update(rules_version=F("rules_version") + 1)


class DlpFlag(AgencyOwnedModel):
    """What DLP found in one message: kinds and offsets, never the matched values."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Outcome(models.TextChoices):
        FLAGGED = "flagged", "Flagged"
        JUSTIFIED = "justified", "Sent with a justification"

    message = models.OneToOneField(
        "messaging.Message", on_delete=models.CASCADE, related_name="dlp_flag"
    )
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.FLAGGED)
    kinds = models.JSONField(default=list)  # sorted, unique: ["card_number", "ssn"]
    # [{"kind", "rule", "field", "start", "end", "score", "action"}]: offsets into ``field``
    findings = models.JSONField(default=list)
    detector_version = models.CharField(max_length=16)
    justification = models.TextField(blank=True)
    justified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "records"
        indexes = [models.Index(fields=["conversation", "created_at"], name="dlp_flag_conv")]

    def __str__(self) -> str:
        return f"DLP flag on message {self.message_id}: {', '.join(self.kinds)}"


class DlpAutoReply(AgencyOwnedModel):
    """The last automatic "please don't send this" reply of a conversation (the cooldown)."""

    conversation = models.OneToOneField(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField()
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "records"

    def __str__(self) -> str:
        return f"DLP auto-reply in conversation {self.conversation_id} at {self.sent_at}"
