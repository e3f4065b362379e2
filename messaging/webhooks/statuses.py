"""Status webhooks (``value.statuses[]``) → the outbound message's status, forward only.

Contract: ``handle_statuses(change)`` (agency scope, in a transaction, idempotent);
``apply_parked_for(phone_number_pk, wamids)`` applies statuses that arrived before the
wamid was recorded (called when a send records wamids); ``apply_parked()`` is the periodic
safety net (system scope) and returns how many it applied.

Meta delivers statuses at least once and in any order (cloud-api.md §5.6, §5.8), and
several workers may process statuses of the same message at once. So every write is a
single SQL statement that merges the event into the row as it is *in the database*: the
status only moves up the ranks below, each transition's time keeps the earliest value seen
(``LEAST``), Meta's pricing and conversation objects are merged into what is stored. No
read-modify-write in Python: the outcome is the same whatever the arrival order, and a
duplicate changes nothing. On another database (SQLite: ``make demo``) the same merges are
ORM updates, one per message (the SQL below is PostgreSQL's).
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.failures import act_on_error
from messaging.models import Message, ParkedStatus
from messaging.webhooks.changes import Change, InvalidChange, unix_time
from messaging.whatsapp.errors import (
    CloudAPIError,
    RetryableError,
    error_from_payload,
)
from tenants.context import agency_scope, system_scope

logger = logging.getLogger(__name__)

# Meta gives up redelivering a webhook after 7 days; a status still parked by then belongs
# to a message we will never record.
PARKED_FOR = timedelta(days=7)
APPLY_PARKED_LIMIT = 5000

S = Message.Status
# A stored status only moves up. `failed` sits below delivered/read: a recipient with
# several devices can receive a message that failed on one of them (cloud-api.md §5.6).
RANKS: dict[str, int] = {
    S.QUEUED: 0,
    S.SENDING: 1,
    S.ACCEPTED: 2,
    S.SENT: 3,
    S.FAILED: 4,
    S.DELIVERED: 5,
    S.READ: 6,
}
# Meta's word → the status we store, and the transitions it proves (read implies delivered
# implies sent: `read` may come without `delivered` when both happen at once).
_MEANS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sent": (S.SENT, ("sent_at",)),
    "delivered": (S.DELIVERED, ("sent_at", "delivered_at")),
    "read": (S.READ, ("sent_at", "delivered_at", "read_at")),
    "played": (S.READ, ("sent_at", "delivered_at", "read_at")),  # voice messages
    "failed": (S.FAILED, ("failed_at",)),
}
# Our sends carry `biz_opaque_callback_data = "civic-relay:<message pk>"` (delivery.py).
_OPAQUE = re.compile(r"civic-relay:([0-9]{1,18})")
_INT32 = 2**31 - 1


@dataclass(frozen=True)
class _Event:
    """One usable ``statuses[]`` item."""

    wamid: str
    status: str  # Meta's word (`played` is kept as such on a parked row)
    at: datetime
    item: dict[str, Any]  # as received
    message_pk: int | None  # from our opaque callback data


@dataclass(frozen=True)
class _Failure:
    at: datetime
    error: CloudAPIError | None
    code: int | None
    reason: str
    details: dict[str, Any]


@dataclass
class _Update:
    """Every event of one wamid in a batch, combined (the combination is order-free too)."""

    wamid: str
    rank: int = -1
    status: str = ""
    times: dict[str, datetime] = field(default_factory=dict)
    failure: _Failure | None = None
    pricing: dict[str, Any] = field(default_factory=dict)
    conversation: dict[str, Any] = field(default_factory=dict)
    message_pk: int | None = None

    def add(self, event: _Event) -> None:
        status, columns = _MEANS[event.status]
        if RANKS[status] > self.rank:
            self.rank, self.status = RANKS[status], status
        for column in columns:
            self.times[column] = min(self.times.get(column, event.at), event.at)
        if event.status == "failed" and (self.failure is None or event.at < self.failure.at):
            self.failure = _failure(event)
        # Only the status that opened Meta's conversation has `expiration_timestamp`:
        # merging keeps it whichever status comes first.
        for key, merged in (("pricing", self.pricing), ("conversation", self.conversation)):
            if isinstance(event.item.get(key), dict):
                merged.update(event.item[key])
        if self.message_pk is None:
            self.message_pk = event.message_pk


# --- the webhook ----------------------------------------------------------------------------


def handle_statuses(change: Change) -> None:
    """Apply ``value.statuses[]`` to this number's outbound messages, by wamid. A wamid we
    do not know is reconciled through our opaque callback data, else parked."""
    number_pk, agency_id = change.route.phone_number_pk, change.route.agency_id
    if number_pk is None:
        raise InvalidChange("statuses without metadata.phone_number_id")
    items = change.value.get("statuses")
    if not isinstance(items, list):
        raise InvalidChange("`statuses` is not a list")
    parsed = _parse_all(items, event_id=change.event_id)
    updates = _combine(parsed)
    published: list[events.Event] = []
    found = _apply(agency_id, number_pk, updates.values(), published)
    missing = [update for wamid, update in updates.items() if wamid not in found]
    if missing:
        reconciled = _reconcile(agency_id, number_pk, missing)
        if reconciled:
            retried = [u for u in missing if u.wamid in reconciled]
            found |= _apply(agency_id, number_pk, retried, published)
        _park(agency_id, number_pk, change.event_id, [e for e in parsed if e.wamid not in found])
    # Last: publishing holds the agency's event counter until the commit.
    events.publish_many(agency_id, published)


def _parse_all(items: list[Any], *, event_id: int) -> list[_Event]:
    events = []
    for index, item in enumerate(items):
        event = _parse(item)
        if event is None:
            # One odd item must not cost the others their update.
            logger.warning(
                "status webhook item ignored", extra={"event_id": event_id, "index": index}
            )
            continue
        events.append(event)
    return events


def _parse(item: Any) -> _Event | None:
    if not isinstance(item, dict):
        return None
    wamid, status = item.get("id"), item.get("status")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= 200:
        return None
    if not isinstance(status, str) or status not in _MEANS:
        return None
    if "\\u0000" in json.dumps(item):
        return None  # PostgreSQL stores no NUL character, in text or in jsonb
    at = unix_time(item.get("timestamp")) or timezone.now()
    return _Event(wamid, status, at, item, _our_pk(item))


def _our_pk(item: dict[str, Any]) -> int | None:
    opaque = item.get("biz_opaque_callback_data")
    match = _OPAQUE.fullmatch(opaque) if isinstance(opaque, str) else None
    return int(match.group(1)) if match else None


def _failure(event: _Event) -> _Failure:
    errors = event.item.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        reason = "WhatsApp reported that the message could not be delivered."
        return _Failure(event.at, None, None, reason, {})
    error = error_from_payload(first)
    code = error.code if error.code is not None and abs(error.code) <= _INT32 else None
    if isinstance(error, RetryableError):
        # Its reason says "retrying", true of a send; an asynchronous failure is final.
        reason = f"WhatsApp could not deliver the message: {error.message}"
    else:
        reason = error.reason or str(error)
    details = {
        "type": error.error_type,
        "subcode": error.subcode,
        "details": error.details,
        "fbtrace_id": error.fbtrace_id,
        "title": error.message,
    }
    return _Failure(event.at, error, code, reason[:300], details)


def _combine(events: Iterable[_Event]) -> dict[str, _Update]:
    updates: dict[str, _Update] = {}
    for event in events:
        updates.setdefault(event.wamid, _Update(event.wamid)).add(event)
    return updates


# --- SQL ----------------------------------------------------------------------------------

# The CTE locks the target rows in id order first: two workers applying overlapping batches
# then queue behind each other instead of deadlocking. Under READ COMMITTED the UPDATE sees
# the latest committed version of each locked row, so the merge is never based on a stale
# read.
_APPLY_SQL = """
WITH v AS (
    SELECT * FROM unnest(
        %s::text[], %s::text[], %s::int[], %s::timestamptz[], %s::timestamptz[],
        %s::timestamptz[], %s::jsonb[], %s::jsonb[]
    ) AS v(wamid, status, rank, sent_at, delivered_at, read_at, pricing, conversation)
), target AS MATERIALIZED (
    -- Lookups on the (number, wamid) unique index, whatever the table's statistics say.
    SELECT m.id, m.status AS old_status, v.* FROM messaging_message m JOIN v ON v.wamid = m.wamid
    WHERE m.phone_number_id = %s AND m.wamid = ANY(%s::text[])
        AND m.agency_id = %s AND m.direction = 'out'
    ORDER BY m.id
    FOR UPDATE OF m
)
UPDATE messaging_message AS m SET
    status = CASE WHEN t.rank > (
        CASE m.status  -- RANKS
            WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'accepted' THEN 2
            WHEN 'sent' THEN 3 WHEN 'failed' THEN 4 WHEN 'delivered' THEN 5 WHEN 'read' THEN 6
            ELSE -1
        END
    ) THEN t.status ELSE m.status END,
    sent_at = LEAST(m.sent_at, t.sent_at),
    delivered_at = LEAST(m.delivered_at, t.delivered_at),
    read_at = LEAST(m.read_at, t.read_at),
    pricing = m.pricing || t.pricing,
    meta_conversation = m.meta_conversation || t.conversation
FROM target t
WHERE m.id = t.id
-- The status before (as locked) and after: a transition is published only if it moved,
-- with the time of the status it moved to (only then: parsing times costs).
RETURNING m.wamid, m.id, m.conversation_id, m.contact_id, t.old_status, m.status,
    CASE WHEN m.status = t.old_status THEN NULL
        WHEN m.status = 'sent' THEN m.sent_at
        WHEN m.status = 'delivered' THEN m.delivered_at
        WHEN m.status = 'read' THEN m.read_at
    END
"""

# The earliest failure keeps its reason. The rows are already locked by _APPLY_SQL; the
# rows returned are those whose failure is new, the only ones whose side effects still
# have to happen (a redelivered 131047 must not close a window the citizen reopened since).
_FAIL_SQL = """
WITH v AS (
    SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::int[], %s::text[], %s::jsonb[])
        AS v(wamid, failed_at, code, reason, details)
)
UPDATE messaging_message AS m SET
    failed_at = v.failed_at,
    error_code = v.code,
    error_reason = v.reason,
    error_details = v.details
FROM v
WHERE m.agency_id = %s AND m.phone_number_id = %s AND m.direction = 'out'
    AND m.wamid = ANY(%s::text[]) AND m.wamid = v.wamid
    AND (m.failed_at IS NULL OR v.failed_at < m.failed_at)
RETURNING m.wamid, m.conversation_id, m.contact_id
"""

# A status proves that the message was sent. If our worker died after the HTTP call (row
# left in `sending`, or already failed by the reconciler as "outcome unknown", which has no
# Meta error code), record the wamid so the status can apply. Queued rows are not claimed.
_RECONCILE_SQL = """
WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::text[]) AS v(id, wamid)),
target AS MATERIALIZED (
    SELECT m.id, v.wamid FROM messaging_message m JOIN v ON v.id = m.id
    WHERE m.id = ANY(%s::bigint[])  -- primary-key lookups
        AND m.agency_id = %s AND m.phone_number_id = %s AND m.direction = 'out'
        AND m.wamid IS NULL AND m.status <> 'queued'
    ORDER BY m.id
    FOR UPDATE OF m
)
UPDATE messaging_message AS m SET  -- every expression reads the row before this update
    wamid = t.wamid,
    status = CASE WHEN m.status = 'failed' AND m.error_code IS NULL
        THEN 'accepted' ELSE m.status END,
    failed_at = CASE WHEN m.status = 'failed' AND m.error_code IS NULL
        THEN NULL ELSE m.failed_at END,
    error_reason = CASE WHEN m.status = 'failed' AND m.error_code IS NULL
        THEN '' ELSE m.error_reason END,
    error_details = CASE WHEN m.status = 'failed' AND m.error_code IS NULL
        THEN '{}'::jsonb ELSE m.error_details END
FROM target t
WHERE m.id = t.id
RETURNING m.wamid
"""


# (wamid, pk, conversation, contact, status before, status after, sent, delivered, read)
# (wamid, pk, conversation, contact, status before, after, the new status's time if it moved)
_Merged = tuple[str, int, int, int, str, str, datetime | None]
_AT: dict[str, str] = {S.SENT: "sent_at", S.DELIVERED: "delivered_at", S.READ: "read_at"}


def _apply(
    agency_id: int, number_pk: int, updates: Iterable[_Update], published: list[events.Event]
) -> set[str]:
    """Merge the updates into this number's outbound messages; the wamids found. Each
    transition made is added to ``published`` (a ``message.status`` event)."""
    updates = sorted(updates, key=lambda u: u.wamid)
    if not updates:
        return set()
    merge = _merge_sql if connection.vendor == "postgresql" else _merge_portably
    merged = merge(agency_id, number_pk, updates)
    found = {row[0] for row in merged}
    failures = [u for u in updates if u.failure is not None and u.wamid in found]
    if failures:
        _record_failures(agency_id, number_pk, failures)
    by_wamid = {u.wamid: u for u in updates}
    for row in sorted(merged, key=lambda row: row[1]):
        if row[4] != row[5]:
            published.append(_transition(row, by_wamid[row[0]]))
    return found


def _transition(row: _Merged, update: _Update) -> events.Event:
    wamid, pk, conversation_pk, contact_pk, previous, status = row[:6]
    payload: dict[str, Any] = {"status": status, "previous": previous, "wamid": wamid}
    if status == S.FAILED and update.failure is not None:
        failure = update.failure
        payload.update(at=failure.at, error_code=failure.code, error_reason=failure.reason)
    else:
        payload["at"] = row[6]
    subject = {"message": pk, "conversation": conversation_pk, "contact": contact_pk}
    return events.Event(types.MESSAGE_STATUS, subject, payload)


def _merge_sql(agency_id: int, number_pk: int, updates: list[_Update]) -> list[_Merged]:
    params: list[Any] = [
        [u.wamid for u in updates],
        [u.status for u in updates],
        [u.rank for u in updates],
        [u.times.get("sent_at") for u in updates],
        [u.times.get("delivered_at") for u in updates],
        [u.times.get("read_at") for u in updates],
        [json.dumps(u.pricing) for u in updates],
        [json.dumps(u.conversation) for u in updates],
        number_pk,
        [u.wamid for u in updates],
        agency_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, params)
        return cursor.fetchall()


def _record_failures(agency_id: int, number_pk: int, updates: list[_Update]) -> None:
    failures = {u.wamid: u.failure for u in updates if u.failure is not None}
    record = _fail_sql if connection.vendor == "postgresql" else _fail_portably
    for wamid, conversation_pk, contact_pk in record(agency_id, number_pk, failures):
        # What the error says about the world, as a synchronous send error does (but the
        # row is not failed here: a failure may arrive after `delivered`).
        failure = failures[wamid]
        act_on_error(
            failure.error,
            number=number_pk,
            conversation_pk=conversation_pk,
            contact_pk=contact_pk,
            at=failure.at,
        )


def _fail_sql(
    agency_id: int, number_pk: int, failures: dict[str, _Failure]
) -> list[tuple[str, int, int]]:
    """(wamid, conversation, contact) of the messages whose failure is new."""
    params: list[Any] = [
        list(failures),
        [f.at for f in failures.values()],
        [f.code for f in failures.values()],
        [f.reason for f in failures.values()],
        [json.dumps(f.details) for f in failures.values()],
        agency_id,
        number_pk,
        list(failures),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_FAIL_SQL, params)
        return cursor.fetchall()


def _reconcile(agency_id: int, number_pk: int, updates: list[_Update]) -> set[str]:
    """Record the wamid on our messages named by the opaque data; the wamids recorded."""
    by_pk: dict[int, str] = {}
    for update in sorted(updates, key=lambda u: u.wamid):
        if update.message_pk is not None:
            by_pk.setdefault(update.message_pk, update.wamid)
    if not by_pk:
        return set()
    record = _reconcile_sql if connection.vendor == "postgresql" else _reconcile_portably
    reconciled = record(agency_id, number_pk, by_pk)
    if reconciled:
        logger.info(
            "sends proven by a status webhook",
            extra={"count": len(reconciled), "number": number_pk},
        )
    return reconciled


def _reconcile_sql(agency_id: int, number_pk: int, by_pk: dict[int, str]) -> set[str]:
    with connection.cursor() as cursor:
        ids = list(by_pk)
        cursor.execute(_RECONCILE_SQL, [ids, list(by_pk.values()), ids, agency_id, number_pk])
        return {row[0] for row in cursor.fetchall()}


# --- the same, portably (SQLite: `make demo`) ----------------------------------------------
# One ORM UPDATE per message rather than one statement per batch; each still merges into
# the row as it is in the database, with the decisions of the SQL above.


class _JSONMerge(Func):
    """jsonb ``a || b`` (b's keys over a's) as SQLite's ``json_patch``. That one also merges
    nested objects and drops keys set to null: the same result for Meta's pricing and
    conversation objects, whose only nested object (``origin``) has a single key."""

    function = "json_patch"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # jsonb's own operator: the portable path runs (and is tested) on PostgreSQL too.
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" || ", **extra
        )


def _ours(agency_id: int, number_pk: int) -> QuerySet[Message]:
    return Message.objects.filter(
        agency_id=agency_id, phone_number_id=number_pk, direction=Message.Direction.OUTBOUND
    )


def _earliest(column: str, at: datetime) -> Least:
    """``LEAST(column, at)`` as PostgreSQL computes it: NULL is ignored, not the result."""
    moment = Value(at, output_field=DateTimeField())
    return Least(Coalesce(F(column), moment), moment)


def _merge_portably(agency_id: int, number_pk: int, updates: list[_Update]) -> list[_Merged]:
    merged: list[_Merged] = []
    for u in updates:
        message = _ours(agency_id, number_pk).filter(wamid=u.wamid)
        before = message.values_list("status", flat=True).first()
        if before is None:
            continue
        # The status moves up, unless the row is at this rank or above already.
        as_high = [status for status, rank in RANKS.items() if rank >= u.rank]
        fields: dict[str, Any] = {
            "status": Case(When(~Q(status__in=as_high), then=Value(u.status)), default=F("status")),
            **{
                column: _earliest(column, u.times[column])
                for column in ("sent_at", "delivered_at", "read_at")
                if column in u.times
            },
        }
        for column, extra in (("pricing", u.pricing), ("meta_conversation", u.conversation)):
            if extra:
                fields[column] = _JSONMerge(F(column), Value(extra, output_field=JSONField()))
        if message.update(**fields):
            pk, conversation_pk, contact_pk, status = message.values_list(
                "id", "conversation_id", "contact_id", "status"
            ).get()
            at = None
            if status != before and status in _AT:
                at = message.values_list(_AT[status], flat=True).get()
            merged.append((u.wamid, pk, conversation_pk, contact_pk, before, status, at))
    return merged


def _fail_portably(
    agency_id: int, number_pk: int, failures: dict[str, _Failure]
) -> list[tuple[str, int, int]]:
    newly_failed = []
    for wamid, failure in failures.items():
        message = _ours(agency_id, number_pk).filter(wamid=wamid)
        later_or_none = message.filter(Q(failed_at=None) | Q(failed_at__gt=failure.at))
        # The UPDATE's own condition decides whether the failure is new (side effects once).
        if later_or_none.update(
            failed_at=failure.at,
            error_code=failure.code,
            error_reason=failure.reason,
            error_details=failure.details,
        ):
            rows = message.values_list("conversation_id", "contact_id")
            newly_failed += [(wamid, *row) for row in rows]
    return newly_failed


def _reconcile_portably(agency_id: int, number_pk: int, by_pk: dict[int, str]) -> set[str]:
    def if_outcome_unknown(column: str, then: Value) -> Case:
        return Case(When(status=S.FAILED, error_code=None, then=then), default=F(column))

    reconciled = set()
    for pk, wamid in by_pk.items():
        unproven = _ours(agency_id, number_pk).filter(pk=pk, wamid=None).exclude(status=S.QUEUED)
        if unproven.update(  # every expression reads the row before this update
            wamid=wamid,
            status=if_outcome_unknown("status", Value(S.ACCEPTED)),
            failed_at=if_outcome_unknown("failed_at", Value(None, output_field=DateTimeField())),
            error_reason=if_outcome_unknown("error_reason", Value("")),
            error_details=if_outcome_unknown("error_details", Value({}, output_field=JSONField())),
        ):
            reconciled.add(wamid)
    return reconciled


def _park(agency_id: int, number_pk: int, event_id: int | None, events: list[_Event]) -> None:
    """Keep statuses of unknown wamids (once per wamid and status) until the wamid appears."""
    unique = {(e.wamid, e.status): e for e in reversed(events)}  # the first of each wins
    rows = [
        ParkedStatus(
            agency_id=agency_id,
            phone_number_id=number_pk,
            wamid=wamid,
            status=status,
            payload=unique[wamid, status].item,
            webhook_event_id=event_id,
        )
        for wamid, status in sorted(unique)  # a fixed order: concurrent inserts cannot deadlock
    ]
    if rows:
        ParkedStatus.objects.bulk_create(rows, ignore_conflicts=True)


# --- parked statuses ------------------------------------------------------------------------


def apply_parked_for(phone_number_pk: int, wamids: Iterable[str]) -> int:
    """Apply and delete the statuses parked for these just-recorded wamids; how many.

    One indexed query when nothing is parked (the unique constraint's index leads with
    phone number and wamid). Runs in the caller's scope."""
    wanted = sorted({wamid for wamid in wamids if wamid})
    if not wanted:
        return 0
    parked = list(
        ParkedStatus.objects.filter(phone_number_id=phone_number_pk, wamid__in=wanted)
        .order_by("pk")
        .values_list("pk", "agency_id", "payload")
    )
    if not parked:
        return 0
    agency_id = parked[0][1]
    ready = {pk: event for pk, _, payload in parked if (event := _parse(payload)) is not None}
    published: list[events.Event] = []
    with transaction.atomic():
        found = _apply(agency_id, phone_number_pk, _combine(ready.values()).values(), published)
        done = [pk for pk, event in ready.items() if event.wamid in found]
        ParkedStatus.objects.filter(pk__in=done).delete()
        events.publish_many(agency_id, published)
    return len(done)


def apply_parked(*, now: datetime | None = None) -> int:
    """Periodic (system scope): apply every parked status whose wamid now exists, in its
    agency's scope; drop those parked for longer than Meta retries. Returns how many applied."""
    now = now or timezone.now()
    with system_scope():
        outbound = Message.objects.filter(
            phone_number_id=OuterRef("phone_number_id"),
            wamid=OuterRef("wamid"),
            direction=Message.Direction.OUTBOUND,
        )
        ready = (
            ParkedStatus.objects.filter(Exists(outbound))
            .order_by()
            .values_list("agency_id", "phone_number_id", "wamid")
            .distinct()[:APPLY_PARKED_LIMIT]
        )
        groups: dict[tuple[int, int], set[str]] = defaultdict(set)
        for agency_id, number_pk, wamid in ready:
            groups[agency_id, number_pk].add(wamid)
    applied = 0
    for (agency_id, number_pk), wamids in sorted(groups.items()):
        with agency_scope(agency_id):
            applied += apply_parked_for(number_pk, wamids)
    with system_scope():
        dropped, _ = ParkedStatus.objects.filter(parked_at__lt=now - PARKED_FOR).delete()
    if applied:
        logger.info("parked statuses applied", extra={"count": applied})
    if dropped:
        logger.warning(
            "parked statuses dropped, their wamid never appeared", extra={"count": dropped}
        )
    return applied
