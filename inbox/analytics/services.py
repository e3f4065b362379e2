"""The analytics' only writer: the event-stream consumer that keeps the fact rows.

``analytics_consumer(agency_id, messages)`` runs inside the dispatcher's transaction
(``bsp.events.dispatch``), for every batch of an agency's events in sequence order, at
least once. It keeps the last sequence it applied (``AnalyticsCursor``) and skips anything
at or below it, so a redelivered batch counts nothing twice; what it writes commits with
the dispatcher's cursor.

Cost per batch, however many events (up to the dispatcher's 500): the cursor (locked,
with the agency's time zone), the batch's conversations' current episodes, their team and
assignee for those without one, the outbound messages named by status events (primary-key
lookups), then one upsert of every counter row touched (``x = x + EXCLUDED.x``), one
INSERT of new episodes, one UPDATE of changed ones, one UPDATE of the cursor. A batch with
nothing countable (labels, notes…) costs the cursor only.

What counts (README "Analytics and the supervisor view"):

- ``message.received`` from a citizen: ``messages_in``; it opens an episode when the
  conversation has none open (the webhook path reopens a resolved conversation).
- ``message.queued``: ``messages_out``; the first one written by staff or an integrator
  (sender type ``user`` or ``api``) in an open episode is its first response.
- ``message.status``: ``delivered`` (delivered or read, whichever comes first), ``read``,
  ``failed``, each once per message.
- ``conversation.created`` opens an episode; ``conversation.status`` resolves it (to
  resolved) or opens one (from resolved); ``conversation.assigned`` moves an open
  episode's team and agent.
"""

from __future__ import annotations

import functools
import json
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bsp.events import types
from inbox.analytics.models import NONE, AnalyticsCursor, ConversationFact, DailyStat
from messaging.models import Conversation, Message

logger = logging.getLogger(__name__)

COUNTERS = ("messages_in", "messages_out", "delivered", "read", "failed")
_COUNTED = frozenset(
    {
        types.MESSAGE_RECEIVED,
        types.MESSAGE_QUEUED,
        types.MESSAGE_STATUS,
        types.CONVERSATION_CREATED,
        types.CONVERSATION_ASSIGNED,
        types.CONVERSATION_STATUS,
    }
)
# Citizens' messages that are not the citizen writing (as the webhook path: no reopening).
_NOT_WRITING = frozenset({"system", "errors", "revoke", "edit", "reaction"})
_DELIVERED = frozenset({"delivered", "read"})
RESOLVED = Conversation.Status.RESOLVED.value
STAFF = Message.SenderType.USER.value
# Who answers the citizen (as the send service decides the wait is over): staff and
# integrators. Campaigns, automations and the system do not end the wait.
ANSWERS = frozenset({STAFF, Message.SenderType.API.value})
CITIZEN = Message.SenderType.CONTACT.value

Key = tuple[date, int, int]  # (day, team_key, agent_key)


def analytics_consumer(agency_id: int, messages: list[str]) -> None:
    """Apply a batch of the agency's events (see the module docstring). An event it cannot
    apply is logged and skipped; it never blocks the agency's stream."""
    events = [json.loads(text) for text in messages]
    with transaction.atomic():
        cursor = _cursor(agency_id)
        fresh = [e for e in events if int(e["sequence"]) > cursor.last_sequence]
        if not fresh:
            return
        countable = [e for e in fresh if e.get("type") in _COUNTED]
        if countable:
            _apply_safely(agency_id, _zone(cursor), countable)
        AnalyticsCursor.objects.filter(pk=cursor.pk).update(
            last_sequence=int(fresh[-1]["sequence"])
        )


def _cursor(agency_id: int) -> AnalyticsCursor:
    """The agency's cursor, locked (with the agency row read, not locked, for its zone)."""
    rows = AnalyticsCursor.objects.select_for_update(of=("self",)).select_related("agency")
    cursor = rows.filter(agency_id=agency_id).first()
    if cursor is None:
        AnalyticsCursor.objects.bulk_create(
            [AnalyticsCursor(agency_id=agency_id)], ignore_conflicts=True
        )
        cursor = rows.get(agency_id=agency_id)
    return cursor


def _zone(cursor: AnalyticsCursor) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(cursor.agency.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _apply_safely(agency_id: int, zone: tzinfo, events: list[dict[str, Any]]) -> None:
    """The batch in one go; if that fails, event by event, skipping the ones that fail."""
    try:
        with transaction.atomic():
            apply_events(agency_id, zone, events)
        return
    except Exception:
        logger.exception("analytics: batch of %d events failed; applying one by one", len(events))
    for event in events:
        try:
            with transaction.atomic():
                apply_events(agency_id, zone, [event])
        except Exception:
            logger.exception(
                "analytics skipped event %s #%s", event.get("type"), event.get("sequence")
            )


# --- Applying a batch ----------------------------------------------------------------------


@dataclass
class _Batch:
    """What a batch changes, in memory, written at the end in a fixed number of queries."""

    agency_id: int
    zone: tzinfo
    facts: dict[int, ConversationFact]  # conversation → its current episode
    holders: dict[int, tuple[int, int]]  # conversation → (team_key, agent_key) now;
    # its keys are the conversations that exist (an episode of any other is never written:
    # its foreign key would fail only at the dispatcher's commit, again and again)
    outbound: dict[int, tuple[datetime, int]]  # message → (queued at, agent_key)
    counters: defaultdict[Key, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    )
    new: list[ConversationFact] = field(default_factory=list)
    changed: dict[int, ConversationFact] = field(default_factory=dict)  # by pk

    days: dict[datetime, date] = field(default_factory=dict)  # a batch shares its times

    def day(self, at: datetime) -> date:
        found = self.days.get(at)
        if found is None:
            found = self.days[at] = timezone.localtime(at, self.zone).date()
        return found

    def count(self, at: datetime, team: int, agent: int, counter: str) -> None:
        self.counters[(self.day(at), team, agent)][counter] += 1

    def touched(self, fact: ConversationFact) -> None:
        if fact.pk is not None:
            self.changed[fact.pk] = fact


def apply_events(agency_id: int, zone: tzinfo, events: list[dict[str, Any]]) -> None:
    conversations = {_int(e["subject"].get("conversation")) for e in events} - {None}
    facts = {
        fact.conversation_id: fact
        for fact in ConversationFact.objects.filter(conversation_id__in=conversations, current=True)
    }
    holders = {pk: (f.team_key, f.agent_key) for pk, f in facts.items()}
    missing = [pk for pk in conversations if pk not in facts]
    if missing:
        rows = Conversation.objects.filter(pk__in=missing).values_list(
            "pk", "team_id", "assignee_id"
        )
        holders.update({pk: (team or NONE, agent or NONE) for pk, team, agent in rows})
    batch = _Batch(agency_id, zone, facts, holders, _outbound(events))
    for event in events:
        _apply(batch, event)
    _write(batch)


def _outbound(events: list[dict[str, Any]]) -> dict[int, tuple[datetime, int]]:
    """The outbound messages whose status changed: when queued, and by which staff member
    (a primary-key lookup per message, in one query)."""
    ids = {
        _int(e["subject"].get("message"))
        for e in events
        if e["type"] == types.MESSAGE_STATUS and _status_counters(e["payload"])
    } - {None}
    if not ids:
        return {}
    rows = Message.objects.filter(pk__in=ids, direction=Message.Direction.OUTBOUND).values_list(
        "pk", "created_at", "sender_type", "sender_user_id"
    )
    return {
        pk: (created, user if sender == STAFF and user else NONE)
        for pk, created, sender, user in rows
    }


def _apply(batch: _Batch, event: dict[str, Any]) -> None:
    kind, subject = event["type"], event["subject"]
    payload = event.get("payload") or {}
    at = _when(event)
    conversation = _int(subject.get("conversation"))
    if conversation is None:
        return
    if kind == types.CONVERSATION_CREATED:
        # Nobody has a new conversation yet (the table may already say who has it now:
        # the batch can hold its assignment too).
        if conversation in batch.holders:
            batch.holders[conversation] = (NONE, NONE)
        _open(batch, conversation, at)
    elif kind == types.MESSAGE_RECEIVED:
        _received(batch, conversation, payload, at)
    elif kind == types.MESSAGE_QUEUED:
        _queued(batch, conversation, payload, at)
    elif kind == types.MESSAGE_STATUS:
        _status(batch, conversation, _int(subject.get("message")), payload)
    elif kind == types.CONVERSATION_ASSIGNED:
        _hold(batch, conversation, payload)
    elif kind == types.CONVERSATION_STATUS:
        _hold(batch, conversation, payload)
        _conversation_status(batch, conversation, payload, at)


def _open(batch: _Batch, conversation: int, at: datetime) -> None:
    """A new episode, unless one is open already."""
    current = batch.facts.get(conversation)
    if (current is not None and current.is_open) or conversation not in batch.holders:
        return
    team, agent = batch.holders.get(conversation, (NONE, NONE))
    fact = ConversationFact(
        agency_id=batch.agency_id,
        conversation_id=conversation,
        episode=current.episode + 1 if current is not None else 1,
        opened_at=at,
        opened_day=batch.day(at),
        team_key=team,
        agent_key=agent,
    )
    if current is not None:
        current.current = False
        batch.touched(current)
    batch.facts[conversation] = fact
    batch.new.append(fact)


def _received(batch: _Batch, conversation: int, payload: dict[str, Any], at: datetime) -> None:
    sender = payload.get("sender_type") or CITIZEN
    if sender == CITIZEN and payload.get("type") not in _NOT_WRITING:
        _open(batch, conversation, at)
    team, agent = batch.holders.get(conversation, (NONE, NONE))
    batch.count(at, team, agent, "messages_in")


def _queued(batch: _Batch, conversation: int, payload: dict[str, Any], at: datetime) -> None:
    sender = payload.get("sender_type")
    agent = (_int(payload.get("sender_user")) or NONE) if sender == STAFF else NONE
    team, _ = batch.holders.get(conversation, (NONE, NONE))
    batch.count(at, team, agent, "messages_out")
    fact = batch.facts.get(conversation)
    answers = sender in ANSWERS
    if answers and fact is not None and fact.is_open and fact.first_response_at is None:
        fact.first_response_at = max(at, fact.opened_at)
        fact.first_response_seconds = _seconds(fact.opened_at, fact.first_response_at)
        fact.first_responder_key = agent
        batch.touched(fact)


def _status_counters(payload: dict[str, Any]) -> list[str]:
    """The counters a message's status transition adds to (each once per message: the
    dispatcher publishes only real transitions, and "read" after "delivered" adds read
    alone)."""
    status, previous = payload.get("status"), payload.get("previous")
    counters = []
    if status in _DELIVERED and previous not in _DELIVERED:
        counters.append("delivered")
    if status == "read" and previous != "read":
        counters.append("read")
    if status == "failed" and previous != "failed":
        counters.append("failed")
    return counters


def _status(batch: _Batch, conversation: int, message: int | None, payload: dict[str, Any]) -> None:
    if message is None or message not in batch.outbound:
        return  # not one of our outbound messages
    queued_at, agent = batch.outbound[message]
    team, _ = batch.holders.get(conversation, (NONE, NONE))
    for counter in _status_counters(payload):
        batch.count(queued_at, team, agent, counter)


def _hold(batch: _Batch, conversation: int, payload: dict[str, Any]) -> None:
    """The conversation's team and assignee as the event states them; an open episode
    follows them."""
    if conversation not in batch.holders:
        return
    team = _int(payload.get("team")) or NONE
    agent = _int(payload.get("assignee")) or NONE
    batch.holders[conversation] = (team, agent)
    fact = batch.facts.get(conversation)
    if fact is not None and fact.is_open and (fact.team_key, fact.agent_key) != (team, agent):
        fact.team_key, fact.agent_key = team, agent
        batch.touched(fact)


def _conversation_status(
    batch: _Batch, conversation: int, payload: dict[str, Any], at: datetime
) -> None:
    status, previous = payload.get("status"), payload.get("previous")
    if status == RESOLVED:
        fact = batch.facts.get(conversation)
        if fact is not None and fact.is_open:
            fact.resolved_at = max(at, fact.opened_at)
            fact.resolved_day = batch.day(fact.resolved_at)
            fact.resolution_seconds = _seconds(fact.opened_at, fact.resolved_at)
            batch.touched(fact)
    elif previous == RESOLVED:
        _open(batch, conversation, at)


# --- Writing -------------------------------------------------------------------------------


def _write(batch: _Batch) -> None:
    if batch.counters:
        add_to_counters(batch.agency_id, batch.counters.items())
    if batch.changed:
        ConversationFact.objects.bulk_update(
            list(batch.changed.values()),
            [
                "current",
                "team_key",
                "agent_key",
                "first_response_at",
                "first_response_seconds",
                "first_responder_key",
                "resolved_at",
                "resolved_day",
                "resolution_seconds",
            ],
        )
    if batch.new:
        ConversationFact.objects.bulk_create(batch.new)


_UPSERT = """
INSERT INTO {table} AS s (agency_id, day, team_key, agent_key, {columns})
VALUES {rows}
ON CONFLICT (agency_id, day, team_key, agent_key) DO UPDATE SET {increments}
"""


def add_to_counters(agency_id: int, deltas: Iterable[tuple[Key, dict[str, int]]]) -> None:
    """Add ``deltas`` to the counter rows, creating missing ones: one statement (the same
    upsert on PostgreSQL and SQLite), rows in key order so that two writers cannot
    deadlock."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in COUNTERS)
    increments = ", ".join(f"{quote(c)} = s.{quote(c)} + excluded.{quote(c)}" for c in COUNTERS)
    items = sorted(deltas)
    placeholders = "(" + ", ".join(["%s"] * (4 + len(COUNTERS))) + ")"
    params: list[Any] = []
    for (day, team, agent), values in items:
        params += [agency_id, day, team, agent, *(values[c] for c in COUNTERS)]
    sql = _UPSERT.format(
        table=quote(DailyStat._meta.db_table),
        columns=columns,
        rows=", ".join([placeholders] * len(items)),
        increments=increments,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Parsing -------------------------------------------------------------------------------


def _when(event: dict[str, Any]) -> datetime:
    """When it happened: the message's own time where the event has one (a status's
    ``at``, an inbound message's ``received_at``, never after publishing), else when the
    event was published."""
    published = _datetime(event.get("created_at")) or timezone.now()
    payload = event.get("payload") or {}
    own = _datetime(payload.get("received_at") or payload.get("at"))
    return min(own, published) if own is not None else published


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _parsed(value)


@functools.lru_cache(maxsize=1024)  # a batch's events share their publishing time
def _parsed(value: str) -> datetime | None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, zoneinfo.ZoneInfo("UTC"))
    return parsed


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))
