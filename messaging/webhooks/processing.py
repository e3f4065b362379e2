"""Processing a stored webhook event (Celery, ``webhooks`` queue): parse, route each change
to its agency, hand it to the handler for its field, record the outcome on the event.

Idempotent: a handler applied twice changes nothing the second time (inbound messages are
keyed by wamid, statuses only move forward, settings are overwritten with the same value),
so a redelivered task or an operator's "reprocess" is harmless. Each change runs in its own
transaction inside its agency's scope; a change that cannot be routed, is malformed, or
names a WABA its signing secret does not vouch for is recorded on the event (quarantined)
without stopping the others. A body that cannot be parsed fails at once; any other
exception stays with its event (bounded retries), never with its batch."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import F
from django.utils import timezone

from bsp.celery import CeleryQueue
from bsp.log_redaction import describe_safely
from messaging.models import WebhookEvent
from messaging.webhooks import signature
from messaging.webhooks.changes import Change, InvalidChange, Route, unix_time
from tenants.context import agency_scope, system_scope
from tenants.models import PhoneNumber, WhatsAppBusinessAccount

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class Outcome:
    changes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    # Beyond MAX_PROBLEMS problems are only counted: a signed body of millions of broken
    # entries must not cost a worker gigabytes (nor the event row as much).
    unlisted: int = 0
    unlisted_quarantine: bool = False

    def add(self, problem: dict[str, Any]) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.unlisted += 1
            self.unlisted_quarantine |= problem["kind"] != "ignored"

    @property
    def quarantined(self) -> bool:
        return self.unlisted_quarantine or any(p["kind"] != "ignored" for p in self.problems)

    def recorded_problems(self) -> list[dict[str, Any]]:
        if not self.unlisted:
            return self.problems
        more = f"{self.unlisted} more problems, not listed"
        return [*self.problems, _problem("unlisted", -1, None, None, more)]


MAX_PROBLEMS = 100


Handler = Callable[[Change], None]


def handlers() -> dict[str, Handler]:
    """Field → handler. Imported lazily: the handlers import models and services."""
    from messaging.webhooks import account, inbound

    return {
        "messages": _messages_change,
        "user_preferences": inbound.handle_user_preferences,
        "message_template_status_update": account.handle_template_status,
        "message_template_quality_update": account.handle_template_quality,
        "template_category_update": account.handle_template_category,
        "phone_number_quality_update": account.handle_phone_number_quality,
        "account_update": account.handle_account_update,
    }


def _messages_change(change: Change) -> None:
    """A `messages` change carries inbound messages, statuses and/or change-level errors."""
    from messaging.webhooks import inbound, statuses

    value = change.value
    if value.get("statuses"):
        statuses.handle_statuses(change)
    if value.get("messages") or value.get("errors"):
        inbound.handle_messages(change)
    if "user_preferences" in value:
        inbound.handle_user_preferences(change)


# --- entry points ---------------------------------------------------------------------------
#
# The table is the queue. A request that stored an event wakes a drainer (at most one
# wake-up per DRAIN_WAKE_MS through a Redis key; without Redis, one task per event); a
# drainer claims pending events in batches (FOR UPDATE SKIP LOCKED, so drainers share the
# work), processes a batch together and records each event's outcome. A claim is a lease:
# if the worker dies, the sweeper hands the events back after CLAIM_LEASE.

DRAIN_KEY = "civic:webhooks:drain"
DRAIN_WAKE_MS = 500
DRAIN_BATCH = 50
DRAIN_SECONDS = 20.0
CLAIM_LEASE = timedelta(minutes=5)
_INVALID = (InvalidChange, DataError, KeyError, TypeError, ValueError, AttributeError)


def wake_drainer(*, force: bool = False) -> None:
    """Make sure a drainer will look at the table soon. Raises if the broker is down."""
    from bsp.redis import redis_client
    from messaging.tasks import drain_webhook_events

    client = redis_client()
    if force or client is None or client.set(DRAIN_KEY, 1, nx=True, px=DRAIN_WAKE_MS):
        drain_webhook_events.apply_async(queue=CeleryQueue.WEBHOOKS, retry=False)


def drain(*, seconds: float = DRAIN_SECONDS) -> int:
    """Process pending events batch after batch for up to ``seconds``; how many. Returns
    early when none are left (after letting the next request's wake-up through)."""
    from bsp.redis import redis_client

    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = claim_batch(DRAIN_BATCH)
        if not batch:
            # Free the wake-up key *then* look once more: an event committed before the
            # key was freed is seen now; one committed after it wakes a new drainer.
            client = redis_client()
            if client is not None:
                client.delete(DRAIN_KEY)
            batch = claim_batch(DRAIN_BATCH)
            if not batch:
                return done
        process_batch(batch)
        done += len(batch)
    wake_drainer(force=True)  # more may be waiting: hand over instead of hogging a worker
    return done


def claim_batch(limit: int, *, event_ids: list[int] | None = None) -> list[WebhookEvent]:
    """Pending events (or these ones): received → processing, attempts + 1, leased."""
    pending = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
    if event_ids is not None:
        pending = pending.filter(pk__in=event_ids)
    with transaction.atomic():
        ids = list(
            pending.order_by("received_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookEvent.objects.filter(pk__in=ids).update(
                status=WebhookEvent.Status.PROCESSING,
                attempts=F("attempts") + 1,
                next_attempt_at=timezone.now() + CLAIM_LEASE,
            )
    return list(WebhookEvent.objects.filter(pk__in=ids).order_by("received_at")) if ids else []


def process_event(event_id: int) -> str:
    """Process one stored event now (tests, operators); its new status."""
    batch = claim_batch(1, event_ids=[event_id])
    if not batch:
        return "nothing_to_do"
    process_batch(batch)
    return WebhookEvent.objects.values_list("status", flat=True).get(pk=event_id)


def reprocess(event_id: int) -> str:
    """An operator's retry (after registering a number, or fixing a bug): handlers are
    idempotent, so whatever was applied already stays as it is."""
    WebhookEvent.objects.filter(pk=event_id).update(
        status=WebhookEvent.Status.RECEIVED, attempts=0, next_attempt_at=None
    )
    return process_event(event_id)


@dataclass
class _Group:
    """`messages` changes of one number from many events, applied in one handler call."""

    route: Route
    members: list[tuple[int, tuple[int, int], Change]] = field(default_factory=list)

    def merged(self) -> Change:
        value: dict[str, Any] = {"messaging_product": "whatsapp"}
        for _, _, change in self.members:
            value.setdefault("metadata", change.value.get("metadata"))
            for key in _MERGEABLE_LISTS:
                items = change.value.get(key)
                if isinstance(items, list):
                    value.setdefault(key, []).extend(items)
        first_event = self.members[0][0]
        return Change(first_event, "messages", value, self.route, None)


_MERGEABLE_LISTS = ("contacts", "messages", "statuses")
_MERGEABLE_KEYS = frozenset({"messaging_product", "metadata", *_MERGEABLE_LISTS})


def _mergeable(change: Change) -> bool:
    """Plain messages/statuses changes; anything with change-level errors or other keys
    keeps its own handler call (errors belong to the change that carried them)."""
    return change.field == "messages" and _MERGEABLE_KEYS.issuperset(change.value)


def process_batch(events: list[WebhookEvent]) -> None:
    """Apply claimed events and record each one's outcome. Whatever goes wrong stays with
    the event it belongs to, so one hostile event cannot hold up the others of its batch:
    a body that cannot be parsed fails at once (it never will parse); an exception while
    routing or applying one of its changes (the database, a bug, a hostile value) sends
    that event back for a bounded number of retries (handlers are idempotent)."""
    outcomes: dict[int, Outcome] = {}
    unreadable: dict[int, str] = {}
    failures: dict[int, str] = {}
    groups: dict[Route, _Group] = {}
    singles: list[tuple[int, tuple[int, int], Change]] = []
    for event in events:
        try:
            payload = parse(bytes(event.body))
        except InvalidChange as exc:
            unreadable[event.pk] = f"Unreadable payload: {exc}"
            continue
        outcome = outcomes[event.pk] = Outcome()
        try:
            routed = _routed_changes(event.pk, payload, outcome, event.verified_with)
        except Exception as exc:  # the database while routing, or a bug: retry this one
            failures[event.pk] = _failed(event.pk, exc)
            continue
        for where, change in routed:
            if _mergeable(change):
                groups.setdefault(change.route, _Group(change.route)).members.append(
                    (event.pk, where, change)
                )
            else:
                singles.append((event.pk, where, change))
    for group in groups.values():
        _apply_group(group, outcomes, failures)
    for event_id, where, change in singles:
        _apply_one(event_id, where, change, outcomes, failures)
    for event in events:
        if event.pk in unreadable:
            _record_unreadable(event.pk, unreadable[event.pk])
        elif event.pk in failures:
            _record_failure(event, failures[event.pk])
    _record_outcomes({pk: outcome for pk, outcome in outcomes.items() if pk not in failures})


def vouches_for(verified_with: str, waba_id: str) -> bool:
    """Whether the secret that signed an event may speak for this WABA: the platform's app
    secret for every WABA, an agency's own app secret (``waba:<id>``) for its WABA only."""
    if verified_with == signature.PLATFORM:
        return True
    return bool(waba_id) and verified_with == f"waba:{waba_id}"


def _routed_changes(
    event_id: int, payload: dict[str, Any], outcome: Outcome, verified_with: str
) -> list[tuple[tuple[int, int], Change]]:
    routed = []
    for entry_index, entry in enumerate(payload.get("entry") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("changes") or [], list):
            outcome.add(_problem("invalid", entry_index, None, None, "malformed entry"))
            continue
        entry_time = unix_time(entry.get("time"))
        entry_waba = str(entry.get("id", ""))
        for change_index, raw in enumerate(entry.get("changes") or []):
            outcome.changes += 1
            where = (entry_index, change_index)
            if not isinstance(raw, dict) or not isinstance(raw.get("value"), dict):
                outcome.add(_problem("invalid", *where, None, "malformed change"))
                continue
            field_name = str(raw.get("field", ""))
            if field_name not in handlers():
                outcome.add(_problem("ignored", *where, field_name, "field not handled"))
                continue
            route, reason = route_change(entry_waba, field_name, raw["value"])
            if route is None:
                outcome.add(_problem("unroutable", *where, field_name, reason))
                continue
            for waba_id in dict.fromkeys((entry_waba, route.waba_id)):
                if not vouches_for(verified_with, waba_id):
                    # An agency's own app secret proves the agency sent it, nothing more:
                    # never let it speak for another WABA's numbers.
                    reason = (
                        f"signed with the app secret of {verified_with[:80]}, which does not"
                        f" vouch for WABA {waba_id[:64] or '(none)'}"
                    )
                    outcome.add(_problem("unauthorized", *where, field_name, reason))
                    break
            else:
                routed.append(
                    (where, Change(event_id, field_name, raw["value"], route, entry_time))
                )
    return routed


def _apply_group(group: _Group, outcomes: dict[int, Outcome], failures: dict[int, str]) -> None:
    if len(group.members) == 1:
        _apply_one(*group.members[0], outcomes, failures)
        return
    try:
        with agency_scope(group.route.agency_id), transaction.atomic():
            handlers()["messages"](group.merged())
    except Exception:
        # Something in the group is malformed or hostile: apply its changes one by one, so
        # that only the bad one is quarantined or retried (the merged call was rolled back).
        for member in group.members:
            _apply_one(*member, outcomes, failures)


def _apply_one(
    event_id: int,
    where: tuple[int, int],
    change: Change,
    outcomes: dict[int, Outcome],
    failures: dict[int, str],
) -> None:
    try:
        # Its own transaction (a savepoint when called inside one): a failure rolls back
        # this change only.
        with agency_scope(change.route.agency_id), transaction.atomic():
            handlers()[change.field](change)
    except _INVALID as exc:
        # The shape is wrong (or a value does not fit a column), not the world: retrying
        # would fail the same way.
        logger.warning(
            "webhook change rejected",
            extra={"event_id": event_id, "error": describe_safely(exc)},
        )
        outcomes[event_id].add(_problem("invalid", *where, change.field, _describe(exc)))
    except Exception as exc:  # the database, a bug, a hostile value: retry this event
        failures.setdefault(event_id, _failed(event_id, exc))


def _failed(event_id: int, exc: Exception) -> str:
    # With the traceback (a bug needs it); database errors in it are redacted by
    # bsp.log_redaction.
    logger.error(
        "webhook event failed; will be retried",
        extra={"event_id": event_id, "error": describe_safely(exc)},
        exc_info=exc,
    )
    return _describe(exc)


def _record_outcomes(outcomes: dict[int, Outcome]) -> None:
    """One UPDATE for the clean events (per change count), one per event with problems."""
    now = timezone.now()
    clean: dict[int, list[int]] = {}
    for event_id, outcome in outcomes.items():
        if not outcome.problems:
            clean.setdefault(outcome.changes, []).append(event_id)
            continue
        status = (
            WebhookEvent.Status.QUARANTINED
            if outcome.quarantined
            else WebhookEvent.Status.PROCESSED
        )
        WebhookEvent.objects.filter(pk=event_id).update(
            status=status,
            change_count=outcome.changes,
            problems=outcome.recorded_problems(),
            error="",
            processed_at=now,
            next_attempt_at=None,
        )
    for changes, event_ids in clean.items():
        WebhookEvent.objects.filter(pk__in=event_ids).update(
            status=WebhookEvent.Status.PROCESSED,
            change_count=changes,
            problems=[],
            error="",
            processed_at=now,
            next_attempt_at=None,
        )


def _record_unreadable(event_id: int, error: str) -> None:
    """A body that does not parse never will: failed at once, for an operator."""
    WebhookEvent.objects.filter(pk=event_id).update(
        status=WebhookEvent.Status.FAILED, error=storable(error[:5000]), next_attempt_at=None
    )


def _record_failure(event: WebhookEvent, error: str) -> str:
    """Retry later with a growing delay (the sweeper hands it back), up to MAX_ATTEMPTS;
    then leave it for an operator."""
    attempts = WebhookEvent.objects.values_list("attempts", flat=True).get(pk=event.pk)
    if attempts >= MAX_ATTEMPTS:
        status, next_attempt_at = WebhookEvent.Status.FAILED, None
    else:
        delay = settings.WEBHOOK_SWEEP_AFTER_SECONDS * 2**attempts
        status = WebhookEvent.Status.RETRYING
        next_attempt_at = timezone.now() + timedelta(seconds=delay)
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=storable(error[:5000]), next_attempt_at=next_attempt_at
    )
    return status


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"number out of range: {text[:40]}")
    return number


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(body: bytes) -> dict[str, Any]:
    """Strict JSON: NaN/Infinity (and 1e999) would parse in Python but not fit PostgreSQL."""
    try:
        payload = json.loads(body, parse_float=_finite, parse_constant=_no_constants)
    except RecursionError as exc:
        raise InvalidChange("not JSON we can read (nested too deeply)") from exc
    except Exception as exc:  # ValueError, UnicodeDecodeError, MemoryError's cousins…
        raise InvalidChange(f"not JSON ({str(exc)[:200]})") from exc
    if not isinstance(payload, dict):
        raise InvalidChange("the body is not a JSON object")
    if payload.get("object") != "whatsapp_business_account":
        raise InvalidChange(f"unexpected object {str(payload.get('object'))[:80]!r}")
    if not isinstance(payload.get("entry", []), list):
        raise InvalidChange("`entry` is not a list")
    if _UNSTORABLE_ESCAPE.search(body):
        payload = _storable_strings(payload)
    return payload


# JSON can carry a NUL or a lone surrogate only as a `\u` escape (raw control characters
# are not JSON). PostgreSQL's text and jsonb refuse both, so a citizen's message holding one
# would be refused whole; it is stored with U+FFFD in their place (the signed body keeps the
# original bytes). Surrogate pairs (emoji) match the pattern too and come out unchanged.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


def _storable_strings(value: Any) -> Any:
    if isinstance(value, str):
        return _UNSTORABLE_CHAR.sub("\ufffd", value)
    if isinstance(value, list):
        return [_storable_strings(item) for item in value]
    if isinstance(value, dict):
        return {_storable_strings(key): _storable_strings(item) for key, item in value.items()}
    return value


def _problem(
    kind: str, entry: int, change: int | None, field_name: str | None, reason: str
) -> dict[str, Any]:
    return {
        "kind": kind,
        "entry": entry,
        "change": change,
        "field": None if field_name is None else storable(field_name[:100]),
        "reason": storable(reason),
    }


def storable(text: str) -> str:
    """PostgreSQL text and jsonb refuse NUL and lone surrogates: a reason quoting a hostile
    value must not make its own event impossible to record (and so jam its batch)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _describe(exc: Exception) -> str:
    if isinstance(exc, InvalidChange):
        return str(exc)
    return describe_safely(exc)[:300]  # a database error's text may quote the citizen


# --- routing ----------------------------------------------------------------------------------

_ROUTE_TTL = 30.0
_ROUTES_KEPT = 10_000
_routes: dict[str, tuple[float, Route | None]] = {}


def route_change(waba_id: str, field_name: str, value: dict[str, Any]) -> tuple[Route | None, str]:
    """The agency a change belongs to: by ``metadata.phone_number_id`` when the change has
    one (messages, statuses, preferences), else by the entry's WABA id."""
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and metadata.get("phone_number_id"):
        number_id = str(metadata["phone_number_id"])
        route = (
            _cached(f"number:{number_id}", lambda: _route_by_number(number_id))
            if _could_be_an_id(number_id)
            else None
        )
        return route, "" if route else f"unknown phone_number_id {number_id[:64]}"
    if field_name in ("messages", "user_preferences"):
        return None, "no metadata.phone_number_id"
    route = (
        _cached(f"waba:{waba_id}", lambda: _route_by_waba(waba_id))
        if _could_be_an_id(waba_id)
        else None
    )
    return route, "" if route else f"unknown WABA id {waba_id[:64]}"


def _could_be_an_id(text: str) -> bool:
    """Our id columns hold at most 64 characters, never a NUL or a lone surrogate (which
    the query could not even carry): anything else is unknown without asking the database."""
    return 0 < len(text) <= 64 and "\x00" not in text and storable(text) == text


def _cached(key: str, load: Callable[[], Route | None]) -> Route | None:
    hit = _routes.get(key)
    if hit is not None and time.monotonic() - hit[0] < _ROUTE_TTL:
        return hit[1]
    if len(_routes) >= _ROUTES_KEPT:  # ids come from the payloads: never grow without bound
        _routes.clear()
    route = load()
    _routes[key] = (time.monotonic(), route)
    return route


def forget_cached_routes() -> None:
    _routes.clear()


def _route_by_number(number_id: str) -> Route | None:
    with system_scope():
        number = (
            PhoneNumber.objects.filter(phone_number_id=number_id).select_related("waba").first()
        )
    if number is None:
        return None
    return Route(
        agency_id=number.agency_id,
        waba_pk=number.waba_id,
        waba_id=number.waba.waba_id,
        phone_number_pk=number.pk,
        phone_number_id=number.phone_number_id,
    )


def _route_by_waba(waba_id: str) -> Route | None:
    with system_scope():
        waba = WhatsAppBusinessAccount.objects.filter(waba_id=waba_id).first()
    if waba is None:
        return None
    return Route(agency_id=waba.agency_id, waba_pk=waba.pk, waba_id=waba.waba_id)


# --- sweeper -------------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None) -> int:
    """The table, not the broker, is the source of truth: hand back events whose drainer
    died (lease expired) and retrying events whose delay has passed, and wake a drainer if
    anything has waited longer than WEBHOOK_SWEEP_AFTER_SECONDS (the broker was down or
    lost the wake-up). Returns how many events were waiting."""
    now = now or timezone.now()
    WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PROCESSING, WebhookEvent.Status.RETRYING],
        next_attempt_at__lt=now,
    ).update(status=WebhookEvent.Status.RECEIVED)
    after = timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    waiting = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.RECEIVED, received_at__lt=now - after
    ).count()
    if waiting:
        wake_drainer(force=True)
    return waiting
