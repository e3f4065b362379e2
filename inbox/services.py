"""The team inbox's writes: assignment, status and snooze, labels, notes with mentions,
read state, agents' availability and the round robin.

Each change runs in one transaction that publishes one domain event (the live inbox,
integrator webhooks and the analytics read the stream) and, when staff act, one audit
record. Every function takes the acting ``Actor`` (audit) and the acting user where the
change depends on who acts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.urls import reverse
from django.utils import timezone

from bsp import events
from bsp.events import types
from bsp.redis import redis_client
from inbox.models import (
    AgentStatus,
    ConversationLabel,
    Label,
    Note,
    Notification,
    Team,
    TeamMember,
    TeamPhoneNumber,
)
from messaging import policy
from messaging.models import Conversation, Message
from messaging.whatsapp.client import CloudAPIClient
from messaging.whatsapp.errors import CloudAPIError
from records.audit import Actor, record_event
from tenants.models import Agency, Membership
from tenants.permissions import Perm, Role, role_has_perm
from tenants.services import ApplicationError, ensure_agency_active

logger = logging.getLogger(__name__)
Status = Conversation.Status
TYPING_EVERY_SECONDS = 20
# Statuses that hold an agent's attention (count against their capacity).
ACTIVE = (Status.OPEN, Status.PENDING)
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._+-]{0,63})")


class InboxError(ApplicationError):
    """A request the inbox refuses, with the reason in plain words and a stable ``code``
    (the API's 422 problem carries it)."""

    def __init__(self, message: str, code: str = "inbox_refused") -> None:
        super().__init__(message)
        self.code = code


def _subject(conversation: Conversation) -> dict[str, int]:
    return {"conversation": conversation.pk, "contact": conversation.contact_id}


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


# --- Assignment --------------------------------------------------------------------------


def agency_admins(agency_id: int) -> list[User]:
    """The agency's active admins (who hear about its integrations)."""
    admins = Membership.objects.filter(
        agency_id=agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
    ).select_related("user")
    return [membership.user for membership in admins.order_by("user_id")]


def can_be_assigned(agency: Agency, user: User) -> bool:
    membership = Membership.objects.filter(agency=agency, user=user).first()
    return membership is not None and membership.has_perm(Perm.REPLY)


def _may_assign(agency: Agency, by: User, assignee: User | None, team: Team | bool | None) -> bool:
    """Anyone who answers may take a conversation; handing it to someone else, to nobody or
    to a team takes the assign permission (the UI, the API and bulk actions alike)."""
    membership = Membership.objects.filter(agency=agency, user=by).first()
    if membership is None:
        return False
    if assignee == by and team is False:
        return membership.has_perm(Perm.REPLY)
    return membership.has_perm(Perm.ASSIGN)


def assign(
    *,
    actor: Actor,
    by: User | None,
    conversation: Conversation,
    assignee: User | None,
    team: Team | bool | None = False,
    reason: str = "manual",
) -> Conversation:
    """Hand the conversation to ``assignee`` (None: unassign) and, unless ``team`` is False,
    to ``team`` (None: no team). Publishes ``conversation.assigned``; notifies an assignee
    other than the one acting. ``by`` None: not a member acting (an API credential, the
    round robin), whose permission was checked before (the credential's scope)."""
    agency = conversation.agency
    ensure_agency_active(agency)
    if by is not None and not _may_assign(agency, by, assignee, team):
        raise InboxError("Only supervisors and admins assign to others.", "assign_not_allowed")
    if assignee is not None and not can_be_assigned(agency, assignee):
        raise InboxError(
            f"{assignee.email} cannot answer conversations in {agency.name}.",
            "assignee_cannot_reply",
        )
    with transaction.atomic():
        row = _locked(conversation)
        previous = {"assignee": row.assignee_id, "team": row.team_id}
        row.assignee = assignee
        if team is not False:
            row.team = team if isinstance(team, Team) else None
        if previous == {"assignee": row.assignee_id, "team": row.team_id}:
            return row
        row.save(update_fields=["assignee", "team"])
        _assigned(row, previous, by, reason, actor=actor)
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="conversation.assigned",
            target=row,
            changes={"assignee": row.assignee_id, "team": row.team_id, "previous": previous},
        )
    return row


def _assigned(
    row: Conversation,
    previous: dict[str, Any],
    by: User | None,
    reason: str,
    *,
    actor: Actor | None = None,
) -> None:
    events.publish(
        agency_id=row.agency_id,
        type=types.CONVERSATION_ASSIGNED,
        subject=_subject(row),
        payload={
            "assignee": row.assignee_id,
            "team": row.team_id,
            "previous_assignee": previous["assignee"],
            "previous_team": previous["team"],
            "by": by.pk if by else None,
            "reason": reason,
        },
    )
    if row.assignee_id and (by is None or by.pk != row.assignee_id):
        who = _who(by, actor) or "automatic assignment"
        Notification.objects.create(
            agency_id=row.agency_id,
            user_id=row.assignee_id,
            kind=Notification.Kind.ASSIGNED,
            conversation=row,
            text=f"Conversation with {row.contact} assigned to you ({who}).",
        )


def _who(user: User | None, actor: Actor | None) -> str:
    """The acting person's name, or an API credential's ("API key “CRM”"); "" for none."""
    if user is not None:
        return user.get_full_name() or user.email
    if actor is not None and actor.is_api_credential:
        return f"API key “{actor.label}”"
    return ""


# --- Status, snooze ------------------------------------------------------------------------


def set_status(
    *,
    actor: Actor,
    by: User | None,
    conversation: Conversation,
    status: str,
    snooze_until: datetime | None = None,
    reason: str = "manual",
) -> Conversation:
    """Open, pend, snooze (until a time in the future) or resolve. Publishes
    ``conversation.status``."""
    ensure_agency_active(conversation.agency)
    if status not in Status.values:
        raise InboxError(f"Unknown status {status!r}.", "unknown_status")
    now = timezone.now()
    if status == Status.SNOOZED and (snooze_until is None or snooze_until <= now):
        raise InboxError("Choose a time in the future to snooze until.", "snooze_not_in_future")
    with transaction.atomic():
        row = _locked(conversation)
        changed = _apply_status(row, status, snooze_until if status == Status.SNOOZED else None)
        if not changed:
            return row
        _status_changed(row, changed, by, reason)
        record_event(
            agency_id=row.agency_id,
            actor=actor,
            action="conversation.status",
            target=row,
            changes={"status": row.status, "previous": changed, "snoozed_until": snooze_until},
        )
    return row


def _apply_status(row: Conversation, status: str, snooze_until: datetime | None) -> str | None:
    """Set the fields; the previous status if anything changed."""
    previous = row.status
    if previous == status and row.snoozed_until == snooze_until:
        return None
    row.status = status
    row.snoozed_until = snooze_until
    row.resolved_at = timezone.now() if status == Status.RESOLVED else None
    if status == Status.RESOLVED:
        row.waiting_since = None
    row.save(update_fields=["status", "snoozed_until", "resolved_at", "waiting_since"])
    return previous


def _status_changed(row: Conversation, previous: str, by: User | None, reason: str) -> None:
    events.publish(
        agency_id=row.agency_id,
        type=types.CONVERSATION_STATUS,
        subject=_subject(row),
        payload={
            "status": row.status,
            "previous": previous,
            "snoozed_until": row.snoozed_until,
            "assignee": row.assignee_id,
            "team": row.team_id,
            "by": by.pk if by else None,
            "reason": reason,
        },
    )


def wake_snoozed(*, now: datetime | None = None, limit: int = 500) -> int:
    """Reopen conversations whose snooze has passed; how many (beat, in each agency)."""
    now = now or timezone.now()
    due = Conversation.objects.filter(status=Status.SNOOZED, snoozed_until__lte=now)
    woken = 0
    for pk in due.order_by("snoozed_until").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = Conversation.objects.select_for_update().filter(pk=pk).first()
            if row is None or row.status != Status.SNOOZED or not row.snoozed_until:
                continue
            if row.snoozed_until > now:
                continue
            previous = _apply_status(row, Status.OPEN, None)
            if previous:
                _status_changed(row, previous, None, "snooze_ended")
                woken += 1
    return woken


# --- Labels ------------------------------------------------------------------------------


def set_labels(
    *, actor: Actor, conversation: Conversation, labels: Iterable[Label]
) -> Conversation:
    """Make the conversation's labels exactly ``labels``. Publishes
    ``conversation.labels`` when they changed."""
    ensure_agency_active(conversation.agency)
    wanted = {label.pk: label for label in labels}
    with transaction.atomic():
        row = _locked(conversation)
        links = ConversationLabel.objects.filter(conversation=row)
        current = set(links.values_list("label_id", flat=True))
        added, removed = sorted(set(wanted) - current), sorted(current - set(wanted))
        if not added and not removed:
            return row
        links.filter(label_id__in=removed).delete()
        ConversationLabel.objects.bulk_create(
            [
                ConversationLabel(agency_id=row.agency_id, conversation=row, label_id=pk)
                for pk in added
            ]
        )
        names = sorted(label.name for label in wanted.values())
        events.publish(
            agency_id=row.agency_id,
            type=types.CONVERSATION_LABELS,
            subject=_subject(row),
            payload={"labels": names, "added": added, "removed": removed},
        )
        record_event(
            agency_id=row.agency_id,
            actor=actor,
            action="conversation.labels",
            target=row,
            changes={"labels": names},
        )
    return row


# --- Notes and mentions ------------------------------------------------------------------


def mention_handle(user: User) -> str:
    """How staff mention a colleague: the part of their email before the @."""
    return user.email.split("@", 1)[0].lower()


def mentioned_users(agency: Agency, body: str) -> list[User]:
    handles = {match.lower() for match in MENTION.findall(body)}
    if not handles:
        return []
    members = User.objects.filter(memberships__agency=agency, is_active=True).distinct()
    return [user for user in members if mention_handle(user) in handles]


def add_note(*, actor: Actor, author: User | None, conversation: Conversation, body: str) -> Note:
    """A private note (never sent to WhatsApp). Colleagues mentioned with ``@handle`` get a
    notification. Publishes ``note.added``. ``author`` None: written by an API credential
    (the audit record and the mention name ``actor``)."""
    agency = conversation.agency
    ensure_agency_active(agency)
    body = body.strip()
    if not body:
        raise InboxError("Write something in the note first.", "empty_note")
    author_pk = author.pk if author is not None else None
    mentioned = [user for user in mentioned_users(agency, body) if user.pk != author_pk]
    label = "" if author is not None else _who(None, actor)[:200]
    with transaction.atomic():
        note = Note.objects.create(
            agency=agency, conversation=conversation, author=author, author_label=label, body=body
        )
        author_name = _who(author, actor) or "Someone"
        Notification.objects.bulk_create(
            Notification(
                agency=agency,
                user=user,
                kind=Notification.Kind.MENTION,
                conversation=conversation,
                note=note,
                text=f"{author_name} mentioned you in a note on {conversation.contact}."[:300],
            )
            for user in mentioned
        )
        events.publish(
            agency_id=agency.pk,
            type=types.NOTE_ADDED,
            subject={**_subject(conversation), "note": note.pk},
            payload={"author": author_pk, "mentions": [user.pk for user in mentioned]},
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="note.added",
            target=note,
            changes={"conversation": conversation.pk, "mentions": [u.pk for u in mentioned]},
        )
    return note


def mark_notifications_read(
    *, user: User, agency: Agency, conversation: Conversation | None = None
) -> int:
    unread = Notification.objects.filter(agency=agency, user=user, read_at__isnull=True)
    if conversation is not None:
        unread = unread.filter(conversation=conversation)
    return unread.update(read_at=timezone.now())


def notify_admins_webhook_disabled(
    *, agency_id: int, subscription_id: int, url: str, hours: int
) -> list[Notification]:
    """Tell every admin of the agency that the sender disabled an integrator webhook after
    ``hours`` of failed deliveries (from the stream: ``inbox.consumers``). The notification
    leads to the subscription's page, where it is re-enabled."""
    shown = url if len(url) <= 200 else url[:199] + "…"
    target = f"to {shown}" if url else f"subscription #{subscription_id}"
    text = f"Webhook {target} was disabled after failing for {hours} hours."
    link = reverse("integrations:detail", args=[subscription_id])
    return Notification.objects.bulk_create(
        Notification(
            agency_id=agency_id,
            user=admin,
            kind=Notification.Kind.WEBHOOK_DISABLED,
            text=text,
            link=link,
        )
        for admin in agency_admins(agency_id)
    )


# --- Read state --------------------------------------------------------------------------


def mark_read(*, by: User, conversation: Conversation) -> Message | None:
    """An agent opened the conversation: its unread count goes to 0 and the citizen's
    newest message is marked read on WhatsApp (blue ticks). Returns that message, if the
    conversation had unread messages. Publishes ``conversation.read``."""
    if conversation.unread_count == 0 or conversation.agency.status != Agency.Status.ACTIVE:
        return None
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
            unread_count=0
        )
        if not updated:
            return None
        latest = (
            Message.objects.filter(
                conversation=conversation, direction=Message.Direction.INBOUND, wamid__isnull=False
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        events.publish(
            agency_id=conversation.agency_id,
            type=types.CONVERSATION_READ,
            subject=_subject(conversation),
            payload={"by": by.pk, "message": latest.pk if latest else None},
        )
        if latest is not None:
            from inbox.tasks import mark_read_on_whatsapp

            message_pk, agency_pk = latest.pk, conversation.agency_id
            transaction.on_commit(
                lambda: mark_read_on_whatsapp.delay(message_id=message_pk, agency_id=agency_pk)
            )
    conversation.unread_count = 0
    return latest


# --- Availability and the round robin ----------------------------------------------------


def agent_status(agency: Agency, user: User) -> AgentStatus:
    status, _ = AgentStatus.objects.get_or_create(agency=agency, user=user)
    return status


def set_availability(
    *, actor: Actor, agency: Agency, user: User, availability: str, capacity: int | None = None
) -> AgentStatus:
    """An agent is available for automatic assignment (or away). Publishes
    ``agent.availability``; the round robin then hands them waiting conversations."""
    ensure_agency_active(agency)
    if availability not in AgentStatus.Availability.values:
        raise InboxError(f"Unknown availability {availability!r}.", "unknown_availability")
    if capacity is not None and not 1 <= capacity <= 100:
        raise InboxError("Capacity must be between 1 and 100 conversations.", "invalid_capacity")
    with transaction.atomic():
        status = AgentStatus.objects.select_for_update().filter(agency=agency, user=user).first()
        status = status or AgentStatus.objects.create(agency=agency, user=user)
        status.availability = availability
        if capacity is not None:
            status.capacity = capacity
        status.save(update_fields=["availability", "capacity", "changed_at"])
        events.publish(
            agency_id=agency.pk,
            type=types.AGENT_AVAILABILITY,
            subject={"user": user.pk},
            payload={"availability": availability, "capacity": status.capacity},
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="agent.availability",
            target=status,
            changes={"availability": availability, "capacity": status.capacity},
        )
    return status


def team_for_number(phone_number_id: int) -> Team | None:
    link = (
        TeamPhoneNumber.objects.filter(phone_number_id=phone_number_id)
        .select_related("team")
        .order_by("team_id")
        .first()
    )
    return link.team if link else None


def next_agent(team: Team, now: datetime) -> User | None:
    """The team's available agent with room to spare who was assigned least recently (an
    agent never assigned yet comes first). Records the assignment time on their status."""
    member_ids = list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    if not member_ids:
        return None
    candidates = (
        AgentStatus.objects.filter(
            user_id__in=member_ids, availability=AgentStatus.Availability.AVAILABLE
        )
        .select_related("user")
        # PostgreSQL sorts NULLs last in ascending order: a newcomer would wait behind
        # everyone who ever had a conversation.
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    replying = _replying_user_ids(team.agency_id, member_ids)
    statuses = [s for s in candidates if s.user.is_active and s.user_id in replying]
    if not statuses:
        return None
    load = dict(
        Conversation.objects.filter(
            assignee_id__in=[s.user_id for s in statuses], status__in=ACTIVE
        )
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    for status in statuses:
        if load.get(status.user_id, 0) < status.capacity:
            AgentStatus.objects.filter(pk=status.pk).update(last_assigned_at=now)
            return status.user
    return None


def _replying_user_ids(agency_id: int, user_ids: list[int]) -> set[int]:
    """Which of the users hold a role that may answer conversations in the agency."""
    roles = Membership.objects.filter(agency_id=agency_id, user_id__in=user_ids)
    return {
        user_id
        for user_id, role in roles.values_list("user_id", "role")
        if role_has_perm(role, Perm.REPLY)
    }


def _waiting(team: Team) -> QuerySet[Conversation]:
    """The team's unassigned conversations that need an agent, longest waiting first (the
    citizen's oldest unanswered message; then the last time they wrote)."""
    return Conversation.objects.filter(
        team=team, assignee__isnull=True, status__in=ACTIVE
    ).order_by(
        F("waiting_since").asc(nulls_last=True),
        F("last_inbound_at").asc(nulls_last=True),
        "pk",
    )


def route_new_conversation(conversation_pk: int) -> Conversation | None:
    """A citizen started (or reopened) a conversation: put it in its number's team queue
    and, when the team assigns automatically, hand it to the next agent — unless older
    conversations already wait in that queue: they go first, and this one joins the
    line. Idempotent."""
    with transaction.atomic():
        row = Conversation.objects.select_for_update().filter(pk=conversation_pk).first()
        if row is None or row.assignee_id or row.status not in ACTIVE:
            return row
        previous = {"assignee": row.assignee_id, "team": row.team_id}
        team = row.team or team_for_number(row.phone_number_id)
        if team is None:
            return row
        row.team = team
        queue_first = team.auto_assign and _waiting(team).exclude(pk=row.pk).exists()
        direct = team.auto_assign and not queue_first
        agent = next_agent(team, timezone.now()) if direct else None
        row.assignee = agent
        if previous != {"assignee": row.assignee_id, "team": row.team_id}:
            row.save(update_fields=["assignee", "team"])
            _assigned(row, previous, None, "round_robin" if agent else "routed")
    if queue_first:
        assign_backlog(team)
        row.refresh_from_db(fields=["assignee", "team"])
    return row


def assign_backlog(team: Team, *, limit: int = 50) -> int:
    """Hand the team's waiting unassigned conversations (longest waiting first) to agents
    who have room, ``limit`` at a time, until nobody has room or nothing waits; how many
    were assigned."""
    if not team.auto_assign:
        return 0
    assigned = 0
    while True:
        batch = list(_waiting(team).values_list("pk", flat=True)[:limit])
        progressed = False
        for pk in batch:
            with transaction.atomic():
                row = Conversation.objects.select_for_update().filter(pk=pk).first()
                if row is None or row.assignee_id or row.status not in ACTIVE:
                    continue
                agent = next_agent(team, timezone.now())
                if agent is None:
                    return assigned
                previous = {"assignee": None, "team": row.team_id}
                row.assignee = agent
                row.save(update_fields=["assignee"])
                _assigned(row, previous, None, "round_robin")
                assigned += 1
                progressed = True
        if len(batch) < limit or not progressed:
            return assigned


def teams_of(user: User) -> list[Team]:
    """The teams the user is a member of that assign automatically."""
    return list(Team.objects.filter(members__user=user, auto_assign=True).distinct())


# --- WhatsApp read receipts and typing -----------------------------------------------------


def send_read_receipt(message: Message, *, typing: bool = False) -> bool:
    """Mark the citizen's message read on WhatsApp (and with ``typing`` show "typing…" for
    up to 25 s); whether WhatsApp took it. Best effort: a failure only loses the ticks."""
    number = message.phone_number
    if not message.wamid or not number.can_send:
        return False
    client = CloudAPIClient(number.phone_number_id, number.bearer_token())
    try:
        client.mark_read(message.wamid, typing_indicator=typing)
    except CloudAPIError as exc:
        logger.info("read receipt for message %s not sent: %s", message.pk, exc)
        return False
    return True


def show_typing(conversation: Conversation) -> bool:
    """The agent is writing: show the citizen "typing…" (at most once every 20 s per
    conversation, and only inside the customer-service window)."""
    if not policy.window_is_open(conversation, timezone.now()):
        return False
    client = redis_client()
    key = f"civic:typing:{conversation.pk}"
    if client is not None and not client.set(key, 1, nx=True, ex=TYPING_EVERY_SECONDS):
        return False
    latest = (
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.INBOUND, wamid__isnull=False
        )
        .select_related("phone_number")
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None:
        return False
    from inbox.tasks import show_typing_on_whatsapp

    show_typing_on_whatsapp.delay(message_id=latest.pk, agency_id=conversation.agency_id)
    return True
