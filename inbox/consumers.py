"""The inbox's consumer of the event stream: routing and the round robin react to what
happened (a new conversation, a reopened one, an agent freed or back, a team changed)
instead of being called from every place that can cause it; the away message answers a
citizen who writes outside the number's business hours; the agency's admins are notified
when the sender disables an integrator webhook that failed for 24 hours
(``webhook_subscription.changed`` with ``notify: agency_admins``, from
``bsp.integrations.services.disable_failing``).

Runs inside the dispatcher's transaction (``bsp.events.dispatch``), so what it writes
commits with the cursor: delivered once. Each handler runs in its own savepoint: one that
cannot handle an event is logged and skipped (its savepoint rolled back) without undoing
the others; it never blocks the agency's stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.dateparse import parse_datetime

from bsp.events import types
from bsp.integrations import selectors as integrations
from inbox import services
from inbox.admin_pages import away
from inbox.admin_pages.services import TEAM_CHANGED
from inbox.models import Team
from tenants.models import Agency

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


# The events routing reacts to; every other type is skipped without a savepoint.
ROUTING = frozenset(
    {
        types.CONVERSATION_CREATED,
        types.CONVERSATION_STATUS,
        types.CONVERSATION_ASSIGNED,
        types.AGENT_AVAILABILITY,
        TEAM_CHANGED,
    }
)


def inbox_consumer(agency_id: int, messages: list[str]) -> None:
    """Handle one batch. Most events (statuses, queued messages) concern neither routing
    nor the away message: they cost a JSON decode and nothing else, and the away message
    looks up business hours once per batch, not once per citizen's message — the
    dispatcher publishes the next batch to the live channel only after this returns."""
    events = [json.loads(text) for text in messages]
    routing = [event for event in events if event["type"] in ROUTING]
    citizens = [event for event in events if away.wants(event)]
    staffed = away.numbers_with_hours({e["subject"].get("phone_number") for e in citizens})
    for event in routing:
        _guarded(handle, event)
    for event in citizens:
        if event["subject"].get("phone_number") in staffed:
            _guarded(away.handle, event)
    for event in events:
        if _webhook_disabled_for_admins(event):
            _guarded(notify_webhook_disabled, event)


def _guarded(handler: Handler, event: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            handler(event)
    except Exception:
        logger.exception(
            "inbox consumer (%s) skipped event %s #%s",
            handler.__name__,
            event.get("type"),
            event.get("sequence"),
        )


def handle(event: dict[str, Any]) -> None:
    """Routing and the round robin."""
    kind, subject, payload = event["type"], event["subject"], event["payload"]
    if kind == types.CONVERSATION_CREATED:
        services.route_new_conversation(subject["conversation"])
    elif kind == types.CONVERSATION_STATUS:
        _status_changed(subject, payload)
    elif kind == types.CONVERSATION_ASSIGNED and payload.get("previous_assignee"):
        _freed(payload["previous_assignee"])
    elif kind == types.AGENT_AVAILABILITY and payload.get("availability") == "available":
        _freed(subject["user"])  # back, or given more room
    elif kind == TEAM_CHANGED:
        _team_changed(subject["team"])


def _status_changed(subject: dict[str, Any], payload: dict[str, Any]) -> None:
    status, previous = payload.get("status"), payload.get("previous")
    if (
        status in services.ACTIVE
        and previous not in services.ACTIVE
        and not payload.get("assignee")
    ):
        # Reopened (by staff, the snooze alarm or the citizen writing) and nobody has it:
        # back into its team's queue.
        services.route_new_conversation(subject["conversation"])
    if status not in services.ACTIVE and previous in services.ACTIVE and payload.get("assignee"):
        _freed(payload["assignee"])


def _freed(user_pk: int) -> None:
    """An agent has room again: give them (and their teams) the waiting backlog."""
    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        return
    for team in services.teams_of(user):
        services.assign_backlog(team)


def _team_changed(team_pk: int) -> None:
    """Members, numbers or automatic assignment changed: the queue may move now."""
    team = Team.objects.filter(pk=team_pk).first()
    if team is not None:
        services.assign_backlog(team)


# --- Integrator webhooks ------------------------------------------------------------------


def _webhook_disabled_for_admins(event: dict[str, Any]) -> bool:
    payload = event.get("payload") or {}
    return (
        event["type"] == types.WEBHOOK_SUBSCRIPTION_CHANGED
        and payload.get("action") == "disabled"
        and payload.get("notify") == "agency_admins"
    )


def notify_webhook_disabled(event: dict[str, Any]) -> None:
    """The sender gave up on a subscription: every admin of the agency is told (the
    inbox's notifications), with its URL and how long it had failed."""
    agency_id, subscription_id = event["agency"], event["subject"]["subscription"]
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        return
    sub = integrations.subscription(agency, subscription_id)
    services.notify_admins_webhook_disabled(
        agency_id=agency_id,
        subscription_id=subscription_id,
        url=sub.url if sub is not None else "",
        hours=_failed_hours(event),
    )


def _failed_hours(event: dict[str, Any]) -> int:
    """Whole hours from the first failure to the event (24 unless the setting differs)."""
    since = parse_datetime(str(event["payload"].get("failing_since") or ""))
    at = parse_datetime(str(event.get("created_at") or ""))
    if since is None or at is None or since.tzinfo is None or at.tzinfo is None:
        return 24
    return max(1, (at - since) // timedelta(hours=1))
