"""The analytics' reads: the figures of a date range, from the fact rows only (never the
messages table), and the supervisor view's queues and agents (from the conversations'
indexed workflow columns).

Medians are exact: each episode's first-response and resolution seconds are its own
``ConversationFact`` row, and a range's median is taken over those samples (grouped in
Python by day, team and agent from one query each, so every figure of the page costs the
same three queries however long the range).
"""

from __future__ import annotations

import statistics
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from inbox.analytics.models import NONE, ConversationFact, DailyStat
from inbox.models import AgentStatus, Team
from messaging.models import Conversation
from tenants.models import Agency, Membership
from tenants.permissions import Perm, role_has_perm

ACTIVE = (Conversation.Status.OPEN, Conversation.Status.PENDING)
MAX_DAYS = 366


@dataclass
class Figures:
    """The figures of one slice (a day, a team, an agent, or all of the range)."""

    opened: int = 0
    resolved: int = 0
    messages_in: int = 0
    messages_out: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    first_responses: list[int] = field(default_factory=list)
    resolutions: list[int] = field(default_factory=list)

    @property
    def median_first_response(self) -> float | None:
        return statistics.median(self.first_responses) if self.first_responses else None

    @property
    def median_resolution(self) -> float | None:
        return statistics.median(self.resolutions) if self.resolutions else None

    @property
    def delivery_rate(self) -> float | None:
        """Delivered (or read) ÷ messages sent."""
        return self.delivered / self.messages_out if self.messages_out else None

    @property
    def read_rate(self) -> float | None:
        """Read ÷ delivered (citizens who turned read receipts off never count as read)."""
        return self.read / self.delivered if self.delivered else None

    @property
    def is_empty(self) -> bool:
        return not (self.opened or self.resolved or self.messages_in or self.messages_out)


@dataclass
class Row:
    key: int
    name: str
    figures: Figures


@dataclass
class Report:
    start: date
    end: date
    total: Figures
    by_day: list[tuple[date, Figures]]
    by_team: list[Row]
    by_agent: list[Row]


def local_today(agency: Agency, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), agency_zone(agency)).date()


def agency_zone(agency: Agency) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(agency.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def team_names(agency: Agency) -> dict[int, str]:
    return dict(Team.objects.filter(agency=agency).values_list("pk", "name"))


def staff_names(agency: Agency) -> dict[int, str]:
    """The agency's members who can answer conversations, by user pk."""
    members = Membership.objects.filter(agency=agency).select_related("user")
    return {
        m.user_id: m.user.get_full_name() or m.user.email
        for m in sorted(members, key=lambda m: (m.user.get_full_name() or m.user.email).lower())
        if role_has_perm(m.role, Perm.REPLY)
    }


def analytics_report(
    *,
    agency: Agency,
    start: date,
    end: date,
    team: int | None = None,
    agent: int | None = None,
    teams: dict[int, str] | None = None,
    staff: dict[int, str] | None = None,
) -> Report:
    """The figures of ``start``…``end`` (the agency's days, both included), optionally of
    one team and/or one agent: in total, by day, by team and by agent."""
    teams = team_names(agency) if teams is None else teams
    staff = staff_names(agency) if staff is None else staff
    total = Figures()
    days: defaultdict[date, Figures] = defaultdict(Figures)
    by_team: defaultdict[int, Figures] = defaultdict(Figures)
    by_agent: defaultdict[int, Figures] = defaultdict(Figures)

    def slices(day: date, team_key: int, agent_key: int) -> list[Figures]:
        return [total, days[day], by_team[team_key], by_agent[agent_key]]

    def wanted(team_key: int, agent_key: int) -> bool:
        return (team is None or team_key == team) and (agent is None or agent_key == agent)

    for day, team_key, agent_key, *counts in _counters(agency, start, end):
        if wanted(team_key, agent_key):
            for figures in slices(day, team_key, agent_key):
                _add_counts(figures, counts)
    for day, team_key, agent_key, responder, seconds in _opened(agency, start, end):
        if wanted(team_key, agent_key):
            for figures in slices(day, team_key, agent_key):
                figures.opened += 1
        if seconds is not None and wanted(team_key, responder):
            for figures in slices(day, team_key, responder):
                figures.first_responses.append(seconds)
    for day, team_key, agent_key, seconds in _resolved(agency, start, end):
        if wanted(team_key, agent_key):
            for figures in slices(day, team_key, agent_key):
                figures.resolved += 1
                if seconds is not None:
                    figures.resolutions.append(seconds)
    span = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return Report(
        start=start,
        end=end,
        total=total,
        by_day=[(day, days.get(day) or Figures()) for day in span],
        by_team=_rows(by_team, teams, "No team"),
        by_agent=_rows(by_agent, staff, "Nobody"),
    )


def _counters(agency: Agency, start: date, end: date) -> QuerySet[DailyStat, tuple]:
    return DailyStat.objects.filter(agency=agency, day__range=(start, end)).values_list(
        "day", "team_key", "agent_key", "messages_in", "messages_out", "delivered", "read", "failed"
    )


def _opened(agency: Agency, start: date, end: date) -> QuerySet[ConversationFact, tuple]:
    return ConversationFact.objects.filter(
        agency=agency, opened_day__range=(start, end)
    ).values_list(
        "opened_day", "team_key", "agent_key", "first_responder_key", "first_response_seconds"
    )


def _resolved(agency: Agency, start: date, end: date) -> QuerySet[ConversationFact, tuple]:
    return ConversationFact.objects.filter(
        agency=agency, resolved_day__range=(start, end)
    ).values_list("resolved_day", "team_key", "agent_key", "resolution_seconds")


def _add_counts(figures: Figures, counts: list[int]) -> None:
    messages_in, messages_out, delivered, read, failed = counts
    figures.messages_in += messages_in
    figures.messages_out += messages_out
    figures.delivered += delivered
    figures.read += read
    figures.failed += failed


def _rows(slices: dict[int, Figures], names: dict[int, str], none: str) -> list[Row]:
    """Every named team/agent (with or without activity), then anyone else who had some."""
    rows = [Row(key, name, slices.get(key) or Figures()) for key, name in names.items()]
    for key, figures in slices.items():
        if key in names or (figures.is_empty and not figures.first_responses):
            continue
        name = none if key == NONE else f"Former member or team #{key}"
        rows.append(Row(key, name, figures))
    return rows


# --- The supervisor view -------------------------------------------------------------------


@dataclass
class Queue:
    team_key: int
    name: str
    open: int = 0
    pending: int = 0
    unassigned: int = 0
    oldest_unassigned: datetime | None = None

    def waiting(self, now: datetime) -> timedelta | None:
        return now - self.oldest_unassigned if self.oldest_unassigned else None


@dataclass
class AgentLoad:
    user_id: int
    name: str
    available: bool
    capacity: int
    active: int

    @property
    def at_capacity(self) -> bool:
        return self.active >= self.capacity


def team_queues(agency: Agency, teams: dict[int, str] | None = None) -> list[Queue]:
    """Open/pending/unassigned counts per team and the longest unassigned wait (one
    grouped query over the active conversations)."""
    teams = team_names(agency) if teams is None else teams
    rows = (
        Conversation.objects.filter(agency=agency, status__in=ACTIVE)
        .values("team_id")
        .annotate(
            open=Count("pk", filter=Q(status=Conversation.Status.OPEN)),
            pending=Count("pk", filter=Q(status=Conversation.Status.PENDING)),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            oldest=Min("waiting_since", filter=Q(assignee__isnull=True)),
        )
    )
    found = {row["team_id"] or NONE: row for row in rows}
    queues = [Queue(key, name) for key, name in teams.items()]
    if NONE in found:
        queues.append(Queue(NONE, "No team"))
    for queue in queues:
        row = found.get(queue.team_key)
        if row is not None:
            queue.open, queue.pending = row["open"], row["pending"]
            queue.unassigned, queue.oldest_unassigned = row["unassigned"], row["oldest"]
    return queues


def agent_loads(agency: Agency, staff: dict[int, str] | None = None) -> list[AgentLoad]:
    """Each member who answers conversations: active conversations against capacity, and
    whether they are available for automatic assignment."""
    staff = staff_names(agency) if staff is None else staff
    statuses = {
        s.user_id: s for s in AgentStatus.objects.filter(agency=agency, user_id__in=list(staff))
    }
    load = dict(
        Conversation.objects.filter(agency=agency, status__in=ACTIVE, assignee_id__in=list(staff))
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    loads = []
    for user_id, name in staff.items():
        status = statuses.get(user_id)
        loads.append(
            AgentLoad(
                user_id=user_id,
                name=name,
                available=status is not None
                and status.availability == AgentStatus.Availability.AVAILABLE,
                capacity=status.capacity
                if status
                else AgentStatus._meta.get_field("capacity").get_default(),
                active=load.get(user_id, 0),
            )
        )
    return loads


def reassignable(
    agency: Agency, *, team: int | None = None, assignee: int | None = None, limit: int = 100
) -> list[Conversation]:
    """Active conversations to pick from for a bulk reassignment, the longest waiting
    first. ``team``/``assignee`` narrow it (``NONE``: without a team / unassigned)."""
    rows = Conversation.objects.filter(agency=agency, status__in=ACTIVE)
    if team is not None:
        rows = rows.filter(team__isnull=True) if team == NONE else rows.filter(team_id=team)
    if assignee is not None:
        rows = (
            rows.filter(assignee__isnull=True)
            if assignee == NONE
            else rows.filter(assignee_id=assignee)
        )
    return list(
        rows.select_related("contact", "team", "assignee").order_by(
            F("waiting_since").asc(nulls_last=True), "-last_message_at", "pk"
        )[:limit]
    )


def conversations_by_pk(agency: Agency, pks: list[int]) -> list[Conversation]:
    return list(Conversation.objects.filter(agency=agency, pk__in=pks).order_by("pk"))


def staff_user(agency: Agency, user_id: int) -> User | None:
    membership = (
        Membership.objects.filter(agency=agency, user_id=user_id).select_related("user").first()
    )
    if membership is None or not role_has_perm(membership.role, Perm.REPLY):
        return None
    return membership.user


def team(agency: Agency, pk: int) -> Team | None:
    return Team.objects.filter(agency=agency, pk=pk).first()
