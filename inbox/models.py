"""The team inbox's own records: teams, agents' availability, labels, private notes,
in-app notifications, canned responses and business hours.

A conversation's workflow state (status, assignee, team, snooze, unread count) lives on
``messaging.Conversation`` itself, so the list filters and sorts on one indexed table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel

DEFAULT_CAPACITY = 10


class Team(AgencyOwnedModel):
    """A group of agents that shares a queue. Conversations on the team's numbers are routed
    to it; with ``auto_assign`` they are handed round-robin to its available agents."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    auto_assign = models.BooleanField(default=True)
    phone_numbers = models.ManyToManyField(
        "tenants.PhoneNumber", through="TeamPhoneNumber", blank=True, related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class TeamMember(AgencyOwnedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"


class TeamPhoneNumber(AgencyOwnedModel):
    """New conversations on this number go to this team's queue."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "phone_number"], name="team_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.phone_number_id} → {self.team_id}"


class AgentStatus(AgencyOwnedModel):
    """An agent's availability for automatic assignment, and how many open conversations
    they may hold at once. ``last_assigned_at`` orders the round robin."""

    class Availability(models.TextChoices):
        AVAILABLE = "available", "Available"
        AWAY = "away", "Away"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.AWAY
    )
    capacity = models.PositiveSmallIntegerField(default=DEFAULT_CAPACITY)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="agent_status_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.availability}"


class Label(AgencyOwnedModel):
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="label_unique_name")]

    def __str__(self) -> str:
        return self.name


class ConversationLabel(AgencyOwnedModel):
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="label_links"
    )
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="conversation_links")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "label"], name="conversation_label_unique"
            )
        ]
        indexes = [models.Index(fields=["label", "conversation"], name="label_conversations")]

    def __str__(self) -> str:
        return f"{self.label_id} on {self.conversation_id}"


class Note(AgencyOwnedModel):
    """A private note on a conversation: for staff only, never sent to WhatsApp."""

    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Who wrote it when no member did: an integrator's key ("API key “CRM”"), shown in the
    # thread in place of a name (the audit event names the credential too).
    author_label = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(max_length=4000)  # who it mentions: its Notification rows
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_thread")]

    def __str__(self) -> str:
        return f"note {self.pk}"


class Notification(AgencyOwnedModel):
    """Something a staff member should look at: a mention, an assignment (both on a
    conversation), or for admins an integrator webhook the sender disabled (``link``: its
    page; no conversation)."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mentioned in a note"
        ASSIGNED = "assigned", "Conversation assigned"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook disabled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, null=True, related_name="+"
    )
    note = models.ForeignKey(
        Note, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    # Where a notification without a conversation leads (a path of this site).
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class CannedResponse(AgencyOwnedModel):
    """A saved reply, inserted in the composer by typing ``/shortcut``."""

    shortcut = models.SlugField(max_length=40)
    title = models.CharField(max_length=100)
    body = models.TextField(max_length=4096)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "shortcut"], name="canned_unique_shortcut")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class BusinessHours(AgencyOwnedModel):
    """When a number is staffed, in the agency's time zone. ``weekly`` maps a weekday
    ("mon" … "sun") to a list of ["HH:MM", "HH:MM"] intervals; a day not listed is closed.
    Outside them a citizen who writes gets ``away_message`` (once per ``away_cooldown``)."""

    phone_number = models.OneToOneField(
        "tenants.PhoneNumber", on_delete=models.CASCADE, related_name="business_hours"
    )
    enabled = models.BooleanField(default=False)
    weekly = models.JSONField(default=dict, blank=True)
    away_message = models.TextField(max_length=1024, blank=True)
    away_cooldown_hours = models.PositiveSmallIntegerField(default=12)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"hours of {self.phone_number_id}"


class AwayReply(AgencyOwnedModel):
    """When a conversation last got the away message (the cooldown's memory)."""

    conversation = models.OneToOneField(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"away reply in {self.conversation_id}"
