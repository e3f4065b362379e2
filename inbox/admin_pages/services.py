"""The inbox's admin writes: teams (members, numbers, automatic assignment), agents'
capacity, canned responses, labels, business hours and the agency's settings.

Each one refuses a suspended agency (``ensure_agency_active``), runs in one transaction
and leaves one audit record and one domain event (``*_CHANGED`` below: the inbox's
consumer moves a team's queue on ``team.changed``; live pages may refresh their lists).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError

from bsp import events
from bsp.events import types
from inbox import services as inbox_services
from inbox.admin_pages import hours as hours_lib
from inbox.models import (
    AgentStatus,
    BusinessHours,
    CannedResponse,
    Label,
    Team,
    TeamMember,
    TeamPhoneNumber,
)
from records.audit import Actor, record_event
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope
from tenants.services import ApplicationError, ensure_agency_active

# Event types of these services (README "Event stream"). Subject: the row's id.
TEAM_CHANGED = types.TEAM_CHANGED
LABEL_CHANGED = types.LABEL_CHANGED
CANNED_RESPONSE_CHANGED = types.CANNED_RESPONSE_CHANGED
BUSINESS_HOURS_CHANGED = types.BUSINESS_HOURS_CHANGED
AGENCY_CHANGED = types.AGENCY_CHANGED

MIN_COOLDOWN_HOURS, MAX_COOLDOWN_HOURS = 1, 168


class AdminError(ApplicationError):
    """A refused admin change, in words the admin can act on."""


def _publish(agency_id: int, kind: str, subject: dict[str, Any], payload: dict[str, Any]) -> None:
    events.publish(agency_id=agency_id, type=kind, subject=subject, payload=payload)


def _audit(agency_id: int, actor: Actor, action: str, target: Model, changes: dict) -> None:
    record_event(agency_id=agency_id, actor=actor, action=action, target=target, changes=changes)


# --- Teams -------------------------------------------------------------------------------


def create_team(
    *,
    actor: Actor,
    agency: Agency,
    name: str,
    description: str = "",
    auto_assign: bool = True,
    members: Iterable[User] = (),
    phone_numbers: Iterable[PhoneNumber] = (),
) -> Team:
    ensure_agency_active(agency)
    team = Team(agency=agency)
    try:
        with agency_scope(agency), transaction.atomic():
            return _save_team(actor, team, name, description, auto_assign, members, phone_numbers)
    except IntegrityError as exc:  # a colleague created the same name meanwhile
        raise AdminError(f"There is already a team called “{name.strip()}”.") from exc


def update_team(
    *,
    actor: Actor,
    team: Team,
    name: str,
    description: str = "",
    auto_assign: bool = True,
    members: Iterable[User] = (),
    phone_numbers: Iterable[PhoneNumber] = (),
) -> Team:
    ensure_agency_active(team.agency)
    try:
        with agency_scope(team.agency_id), transaction.atomic():
            Team.objects.select_for_update().filter(pk=team.pk).first()
            return _save_team(actor, team, name, description, auto_assign, members, phone_numbers)
    except IntegrityError as exc:
        raise AdminError(f"There is already a team called “{name.strip()}”.") from exc


def _save_team(
    actor: Actor,
    team: Team,
    name: str,
    description: str,
    auto_assign: bool,
    members: Iterable[User],
    phone_numbers: Iterable[PhoneNumber],
) -> Team:
    created = team.pk is None
    name = name.strip()
    _unique_name(Team, team, name, "team")
    team.name, team.description, team.auto_assign = name, description.strip(), auto_assign
    team.save()
    member_ids = _set_members(team, list(members))
    number_ids = _set_numbers(team, list(phone_numbers))
    changes = {
        "name": team.name,
        "auto_assign": auto_assign,
        "members": member_ids,
        "phone_numbers": number_ids,
    }
    action = "team.created" if created else "team.updated"
    _audit(team.agency_id, actor, action, team, changes)
    _publish(team.agency_id, TEAM_CHANGED, {"team": team.pk}, {"action": action, **changes})
    return team


def _unique_name(model: type[Team] | type[Label], row: Team | Label, name: str, what: str) -> None:
    if not name:
        raise AdminError(f"Give the {what} a name.")
    taken = model.objects.filter(name__iexact=name).exclude(pk=row.pk)
    if taken.exists():
        raise AdminError(f"There is already a {what} called “{name}”: choose another name.")


def _set_members(team: Team, users: list[User]) -> list[int]:
    for user in users:
        if not inbox_services.can_be_assigned(team.agency, user):
            raise AdminError(
                f"{user.email} cannot answer conversations, so cannot join a team "
                "(their role does not allow replying)."
            )
    wanted = {user.pk for user in users}
    TeamMember.objects.filter(team=team).exclude(user_id__in=wanted).delete()
    current = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    TeamMember.objects.bulk_create(
        TeamMember(agency_id=team.agency_id, team=team, user_id=pk)
        for pk in sorted(wanted - current)
    )
    return sorted(wanted)


def _set_numbers(team: Team, numbers: list[PhoneNumber]) -> list[int]:
    """One team per number: a number already routed to another team is refused."""
    wanted = {number.pk: number for number in numbers}
    elsewhere = (
        TeamPhoneNumber.objects.filter(phone_number_id__in=list(wanted))
        .exclude(team=team)
        .select_related("team")
        .first()
    )
    if elsewhere is not None:
        number = wanted[elsewhere.phone_number_id]
        raise AdminError(
            f"{number.display_phone_number} is already routed to the team "
            f"“{elsewhere.team.name}”: remove it there first."
        )
    TeamPhoneNumber.objects.filter(team=team).exclude(phone_number_id__in=list(wanted)).delete()
    current = set(
        TeamPhoneNumber.objects.filter(team=team).values_list("phone_number_id", flat=True)
    )
    TeamPhoneNumber.objects.bulk_create(
        TeamPhoneNumber(agency_id=team.agency_id, team=team, phone_number_id=pk)
        for pk in sorted(set(wanted) - current)
    )
    return sorted(wanted)


def delete_team(*, actor: Actor, team: Team) -> None:
    """Its conversations stay, without a team (and keep their assignee)."""
    ensure_agency_active(team.agency)
    with agency_scope(team.agency_id), transaction.atomic():
        pk, name = team.pk, team.name
        _audit(team.agency_id, actor, "team.deleted", team, {"name": name})
        try:
            team.delete()
        except ProtectedError:
            # records.retention: a file plan category filed by this team (PROTECT).
            raise AdminError(
                f"The file plan has a records category for the team “{name}”: a records "
                "officer changes it first."
            ) from None
        _publish(team.agency_id, TEAM_CHANGED, {"team": pk}, {"action": "team.deleted"})


def set_agent_capacity(*, actor: Actor, agency: Agency, user: User, capacity: int) -> AgentStatus:
    """How many open conversations the agent may hold at once (their availability stays).
    Goes through ``inbox.services.set_availability``: one ``agent.availability`` event, on
    which the round robin hands an available agent the room they were given."""
    ensure_agency_active(agency)
    if not inbox_services.can_be_assigned(agency, user):
        raise AdminError(f"{user.email} cannot answer conversations.")
    with agency_scope(agency):
        current = inbox_services.agent_status(agency, user)
        return inbox_services.set_availability(
            actor=actor,
            agency=agency,
            user=user,
            availability=current.availability,
            capacity=capacity,
        )


# --- Canned responses --------------------------------------------------------------------


def normalize_shortcut(value: str) -> str:
    return value.strip().lstrip("/").strip().lower()


def create_canned_response(
    *, actor: Actor, agency: Agency, by: User | None, shortcut: str, title: str, body: str
) -> CannedResponse:
    ensure_agency_active(agency)
    with agency_scope(agency):
        canned = CannedResponse(agency=agency, created_by=by)
        return _save_canned(actor, canned, shortcut, title, body)


def update_canned_response(
    *, actor: Actor, canned: CannedResponse, shortcut: str, title: str, body: str
) -> CannedResponse:
    ensure_agency_active(canned.agency)
    with agency_scope(canned.agency_id):
        return _save_canned(actor, canned, shortcut, title, body)


def _save_canned(
    actor: Actor, canned: CannedResponse, shortcut: str, title: str, body: str
) -> CannedResponse:
    created = canned.pk is None
    shortcut = normalize_shortcut(shortcut)
    taken = CannedResponse.objects.filter(shortcut=shortcut).exclude(pk=canned.pk).first()
    if taken is not None:
        raise AdminError(_shortcut_taken(shortcut, taken.title))
    canned.shortcut, canned.title, canned.body = shortcut, title.strip(), body.strip()
    try:
        canned.full_clean(exclude=["agency", "created_by"])
    except ValidationError as exc:
        raise AdminError(" ".join(exc.messages)) from exc
    action = "canned_response.created" if created else "canned_response.updated"
    try:
        with transaction.atomic():
            canned.save()
            changes = {"shortcut": shortcut, "title": canned.title}
            _audit(canned.agency_id, actor, action, canned, changes)
            _publish(
                canned.agency_id,
                CANNED_RESPONSE_CHANGED,
                {"canned_response": canned.pk},
                {"action": action, "shortcut": shortcut},
            )
    except IntegrityError as exc:  # created meanwhile by a colleague
        if created:
            canned.pk = None
        raise AdminError(_shortcut_taken(shortcut, "another canned response")) from exc
    return canned


def _shortcut_taken(shortcut: str, title: str) -> str:
    return f"The shortcut /{shortcut} is already used by “{title}”: choose another one."


def delete_canned_response(*, actor: Actor, canned: CannedResponse) -> None:
    ensure_agency_active(canned.agency)
    with agency_scope(canned.agency_id), transaction.atomic():
        pk, changes = canned.pk, {"shortcut": canned.shortcut, "title": canned.title}
        _audit(canned.agency_id, actor, "canned_response.deleted", canned, changes)
        canned.delete()
        _publish(
            canned.agency_id,
            CANNED_RESPONSE_CHANGED,
            {"canned_response": pk},
            {"action": "canned_response.deleted", "shortcut": changes["shortcut"]},
        )


# --- Labels ------------------------------------------------------------------------------


def create_label(*, actor: Actor, agency: Agency, name: str, description: str = "") -> Label:
    ensure_agency_active(agency)
    with agency_scope(agency):
        return _save_label(actor, Label(agency=agency), name, description)


def rename_label(*, actor: Actor, label: Label, name: str, description: str = "") -> Label:
    ensure_agency_active(label.agency)
    with agency_scope(label.agency_id):
        return _save_label(actor, label, name, description)


def _save_label(actor: Actor, label: Label, name: str, description: str) -> Label:
    created, previous = label.pk is None, label.name
    name = name.strip()
    _unique_name(Label, label, name, "label")
    label.name, label.description = name, description.strip()
    action = "label.created" if created else "label.renamed"
    try:
        with transaction.atomic():
            label.save()
            changes = {"name": name if created else [previous, name]}
            _audit(label.agency_id, actor, action, label, changes)
            _publish(
                label.agency_id,
                LABEL_CHANGED,
                {"label": label.pk},
                {"action": action, "name": name},
            )
    except IntegrityError as exc:
        if created:
            label.pk = None
        raise AdminError(f"There is already a label called “{name}”.") from exc
    return label


def delete_label(*, actor: Actor, label: Label) -> None:
    """The label comes off every conversation that had it."""
    ensure_agency_active(label.agency)
    with agency_scope(label.agency_id), transaction.atomic():
        pk, name = label.pk, label.name
        _audit(label.agency_id, actor, "label.deleted", label, {"name": name})
        label.delete()
        _publish(
            label.agency_id, LABEL_CHANGED, {"label": pk}, {"action": "label.deleted", "name": name}
        )


# --- Business hours ----------------------------------------------------------------------


def save_business_hours(
    *,
    actor: Actor,
    number: PhoneNumber,
    enabled: bool,
    days: dict[str, tuple[time, time] | None],
    away_message: str,
    away_cooldown_hours: int,
) -> BusinessHours:
    """The number's weekly hours (one interval per day, None: closed), its away message
    and how long a conversation waits before it may get the away message again."""
    ensure_agency_active(number.agency)
    away_message = away_message.strip()
    if enabled and not away_message:
        raise AdminError("Write the away message citizens get outside these hours.")
    if not MIN_COOLDOWN_HOURS <= away_cooldown_hours <= MAX_COOLDOWN_HOURS:
        raise AdminError(
            f"The cooldown must be between {MIN_COOLDOWN_HOURS} and {MAX_COOLDOWN_HOURS} hours."
        )
    for day, interval in days.items():
        if interval is not None and interval[0] == interval[1]:
            raise AdminError(f"{hours_lib.DAY_NAMES[day]}: opening and closing times are equal.")
    weekly = hours_lib.weekly_from_days(days)
    with agency_scope(number.agency_id), transaction.atomic():
        hours = BusinessHours.objects.select_for_update().filter(phone_number=number).first()
        hours = hours or BusinessHours(agency_id=number.agency_id, phone_number=number)
        hours.enabled, hours.weekly = enabled, weekly
        hours.away_message, hours.away_cooldown_hours = away_message, away_cooldown_hours
        hours.save()
        changes = {
            "phone_number": number.display_phone_number,
            "enabled": enabled,
            "weekly": weekly,
            "away_cooldown_hours": away_cooldown_hours,
        }
        _audit(number.agency_id, actor, "business_hours.updated", hours, changes)
        _publish(
            number.agency_id,
            BUSINESS_HOURS_CHANGED,
            {"phone_number": number.pk},
            {"enabled": enabled, "weekly": weekly},
        )
    return hours


# --- Agency settings ---------------------------------------------------------------------

AGENCY_SETTINGS = (
    "name",
    "timezone",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address",
    "keyword_opt_in_allowed",
    "marketing_messages_api",
)


def update_agency_settings(*, actor: Actor, agency: Agency, **values: str | bool) -> Agency:
    """The agency's name, time zone (day separators and business hours follow it), contact
    details, whether START opts citizens back in, and whether marketing templates go through
    Meta's Marketing Messages API (decided per message when it is queued). Only the fields
    in ``AGENCY_SETTINGS``."""
    ensure_agency_active(agency)
    unknown = set(values) - set(AGENCY_SETTINGS)
    if unknown:
        raise AdminError(f"Not an agency setting: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        row = Agency.objects.select_for_update().get(pk=agency.pk)
        changes: dict[str, list[Any]] = {}
        for field, value in values.items():
            if isinstance(value, str):
                value = value.strip()
            if getattr(row, field) != value:
                changes[field] = [getattr(row, field), value]
                setattr(row, field, value)
        if not changes:
            return row
        try:
            row.full_clean(exclude=["slug", "status"])
        except ValidationError as exc:
            raise AdminError(" ".join(exc.messages)) from exc
        row.save(update_fields=list(changes))
        _audit(row.pk, actor, "agency.settings_changed", row, changes)
        _publish(row.pk, AGENCY_CHANGED, {"agency": row.pk}, {"changed": changes})
    for field in changes:
        setattr(agency, field, getattr(row, field))
    return row
