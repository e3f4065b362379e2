"""The inbox's consumer of the event stream: routing and the round robin react to what
happened (a new conversation, a reopened one, an agent freed or back) instead of being
called from every place that can cause it.

Runs inside the dispatcher's transaction (``bsp.events.dispatch``), so what it writes
commits with the cursor: delivered once. An event it cannot handle is logged and skipped
(its savepoint rolled back); it never blocks the agency's stream.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from bsp.events import types
from inbox import services

logger = logging.getLogger(__name__)


def inbox_consumer(agency_id: int, messages: list[str]) -> None:
    for text in messages:
        event = json.loads(text)
        try:
            with transaction.atomic():
                handle(event)
        except Exception:
            logger.exception(
                "inbox consumer skipped event %s #%s", event.get("type"), event.get("sequence")
            )


def handle(event: dict[str, Any]) -> None:
    kind, subject, payload = event["type"], event["subject"], event["payload"]
    if kind == types.CONVERSATION_CREATED:
        services.route_new_conversation(subject["conversation"])
    elif kind == types.CONVERSATION_STATUS:
        _status_changed(subject, payload)
    elif kind == types.CONVERSATION_ASSIGNED and payload.get("previous_assignee"):
        _freed(payload["previous_assignee"])
    elif kind == types.AGENT_AVAILABILITY and payload.get("availability") == "available":
        _freed(subject["user"])


def _status_changed(subject: dict[str, Any], payload: dict[str, Any]) -> None:
    status, previous = payload.get("status"), payload.get("previous")
    if (
        status in services.ACTIVE
        and previous not in services.ACTIVE
        and not payload.get("assignee")
    ):
        services.route_new_conversation(subject["conversation"])  # reopened, nobody has it
    if status not in services.ACTIVE and previous in services.ACTIVE and payload.get("assignee"):
        _freed(payload["assignee"])


def _freed(user_pk: int) -> None:
    """An agent has room again: give them (and their teams) the waiting backlog."""
    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        return
    for team in services.teams_of(user):
        services.assign_backlog(team)
