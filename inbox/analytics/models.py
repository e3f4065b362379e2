"""The analytics' fact rows, kept by the event-stream consumer (``inbox.analytics.consumer``).

Pages read these only, never the messages table. Teams and agents are stored as plain
keys (the ``Team``/``User`` pk, 0 for none) rather than foreign keys: 0 lets one unique
key cover "no team" in both databases (NULLs are distinct in a unique index), and a
counter row costs no referential check on the hot path. A deleted team's figures stay.
"""

from __future__ import annotations

from django.db import models

from tenants.scoping import AgencyOwnedModel

NONE = 0  # team_key / agent_key of "no team" / "nobody"


class AnalyticsCursor(AgencyOwnedModel):
    """The last event sequence the consumer applied: at-least-once delivery is applied
    once (anything at or below it is skipped)."""

    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="analytics_cursor_unique")]

    def __str__(self) -> str:
        return f"analytics of agency {self.agency_id} through {self.last_sequence}"


class DailyStat(AgencyOwnedModel):
    """Message counters of one day (in the agency's time zone), team and agent.

    ``messages_in`` counts citizens' messages (day received, the conversation's team and
    assignee then); ``messages_out`` the messages queued for sending (day queued, the
    conversation's team, the staff member who wrote it). ``delivered``/``read``/``failed``
    count those outbound messages' first arrival at each state and go on the row their
    ``messages_out`` went on, so a day's rates never exceed 100 %."""

    day = models.DateField()
    team_key = models.BigIntegerField(default=NONE)
    agent_key = models.BigIntegerField(default=NONE)
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the page's index: an agency's rows of a date range.
            models.UniqueConstraint(
                fields=["agency", "day", "team_key", "agent_key"], name="daily_stat_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_key} agent {self.agent_key}"


class ConversationFact(AgencyOwnedModel):
    """One episode of a conversation: from the citizen opening it (a new conversation, or a
    resolved one written to or reopened) until it is resolved. A conversation (one number,
    one citizen) lives for ever; its episodes are what "opened" and "resolved" count, and
    each holds its own first-response and resolution times: the samples the medians are
    computed from, exactly.

    ``team_key``/``agent_key`` follow the conversation's assignment while the episode is
    open and stay as they were at resolution. ``first_responder_key`` is the staff member
    whose message was the first reply."""

    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    episode = models.PositiveIntegerField(default=1)
    current = models.BooleanField(default=True)  # the conversation's latest episode
    opened_at = models.DateTimeField()
    opened_day = models.DateField()
    team_key = models.BigIntegerField(default=NONE)
    agent_key = models.BigIntegerField(default=NONE)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_responder_key = models.BigIntegerField(default=NONE)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_day = models.DateField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "episode"], name="conversation_fact_unique_episode"
            ),
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(current=True),
                name="conversation_fact_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "opened_day"], name="conversation_fact_opened"),
            models.Index(
                fields=["agency", "resolved_day"],
                condition=models.Q(resolved_day__isnull=False),
                name="conversation_fact_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} episode {self.episode}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
