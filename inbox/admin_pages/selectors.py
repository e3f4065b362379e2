"""Reads of the inbox's admin pages. Everything goes through the agency-scoped managers."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet

from inbox.admin_pages import hours as hours_lib
from inbox.models import (
    DEFAULT_CAPACITY,
    AgentStatus,
    BusinessHours,
    CannedResponse,
    Label,
    Team,
    TeamMember,
    TeamPhoneNumber,
)
from inbox.services import ACTIVE
from messaging.models import Conversation
from tenants.models import Agency, PhoneNumber
from tenants.permissions import ROLE_PERMISSIONS, Perm

REPLYING_ROLES = sorted(role for role, perms in ROLE_PERMISSIONS.items() if Perm.REPLY in perms)


def replying_users(agency: Agency) -> QuerySet[User]:
    """Staff of the agency whose role lets them answer conversations (team members)."""
    return (
        User.objects.filter(
            is_active=True, memberships__agency=agency, memberships__role__in=REPLYING_ROLES
        )
        .distinct()
        .order_by("email")
    )


def phone_numbers(agency: Agency) -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(agency=agency).order_by("display_phone_number")


def team_list(agency: Agency) -> list[TeamRow]:
    """Each team with its members' emails, its numbers and how many wait unassigned."""
    found = list(Team.objects.filter(agency=agency).order_by("name"))
    ids = [team.pk for team in found]
    members: dict[int, list[str]] = {pk: [] for pk in ids}
    for team_id, email in (
        TeamMember.objects.filter(team_id__in=ids)
        .order_by("user__email")
        .values_list("team_id", "user__email")
    ):
        members[team_id].append(email)
    numbers: dict[int, list[str]] = {pk: [] for pk in ids}
    for team_id, display in (
        TeamPhoneNumber.objects.filter(team_id__in=ids)
        .order_by("phone_number__display_phone_number")
        .values_list("team_id", "phone_number__display_phone_number")
    ):
        numbers[team_id].append(display)
    waiting = dict(
        Conversation.objects.filter(team_id__in=ids, assignee__isnull=True, status__in=ACTIVE)
        .values_list("team_id")
        .annotate(n=Count("pk"))
        .values_list("team_id", "n")
    )
    return [
        TeamRow(team, members[team.pk], numbers[team.pk], waiting.get(team.pk, 0)) for team in found
    ]


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: list[str]
    numbers: list[str]
    waiting: int


def team_members(team: Team) -> QuerySet[User]:
    return User.objects.filter(pk__in=TeamMember.objects.filter(team=team).values("user_id"))


def team_numbers(team: Team) -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(
        pk__in=TeamPhoneNumber.objects.filter(team=team).values("phone_number_id")
    )


@dataclass(frozen=True)
class AgentRow:
    user: User
    availability: str
    capacity: int
    load: int

    @property
    def is_available(self) -> bool:
        return self.availability == AgentStatus.Availability.AVAILABLE


def agents(agency: Agency) -> list[AgentRow]:
    """Every replying member with their availability, capacity and open conversations."""
    users = list(replying_users(agency))
    statuses = {
        status.user_id: status
        for status in AgentStatus.objects.filter(agency=agency, user__in=[u.pk for u in users])
    }
    load = dict(
        Conversation.objects.filter(assignee_id__in=[u.pk for u in users], status__in=ACTIVE)
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    rows = []
    for user in users:
        status = statuses.get(user.pk)
        rows.append(
            AgentRow(
                user=user,
                availability=status.availability if status else AgentStatus.Availability.AWAY,
                capacity=status.capacity if status else DEFAULT_CAPACITY,
                load=load.get(user.pk, 0),
            )
        )
    return rows


def canned_responses(agency: Agency) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(agency=agency).order_by("shortcut")


def labels(agency: Agency) -> QuerySet[Label]:
    return (
        Label.objects.filter(agency=agency)
        .annotate(conversation_count=Count("conversation_links"))
        .order_by("name")
    )


@dataclass(frozen=True)
class HoursRow:
    number: PhoneNumber
    hours: BusinessHours | None
    days: list[tuple[str, str]]  # (weekday, its hours in words)


def numbers_with_hours(agency: Agency) -> list[HoursRow]:
    hours = {row.phone_number_id: row for row in BusinessHours.objects.filter(agency=agency)}
    rows = []
    for number in phone_numbers(agency):
        found = hours.get(number.pk)
        rows.append(HoursRow(number, found, hours_lib.summary(found.weekly if found else {})))
    return rows
