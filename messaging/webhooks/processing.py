"""Processing a stored webhook event (Celery, ``webhooks`` queue): parse, route each change
to its agency, hand it to the handler for its field, record the outcome on the event.

Idempotent: a handler applied twice changes nothing the second time (inbound messages are
keyed by wamid, statuses only move forward, settings are overwritten with the same value),
so a redelivered task or an operator's "reprocess" is harmless. Each change runs in its own
transaction inside its agency's scope; a change that cannot be routed or is malformed is
recorded on the event (quarantined) without stopping the others."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import F, Q
from django.utils import timezone

from bsp.celery import CeleryQueue
from messaging.models import WebhookEvent
from tenants.context import agency_scope, system_scope
from tenants.models import PhoneNumber, WhatsAppBusinessAccount

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class InvalidChange(Exception):
    """A change whose shape we cannot use: recorded on the event, never retried."""


@dataclass(frozen=True)
class Route:
    agency_id: int
    waba_pk: int
    waba_id: str
    phone_number_pk: int | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True)
class Change:
    """One ``entry[].changes[]`` item, routed: what a handler gets."""

    event_id: int
    field: str
    value: dict[str, Any]
    route: Route
    entry_time: datetime | None  # WABA-level webhooks carry `entry[].time`


@dataclass
class Outcome:
    changes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def quarantined(self) -> bool:
        return any(problem["kind"] != "ignored" for problem in self.problems)


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


def enqueue(event_id: int) -> None:
    from messaging.tasks import process_webhook_event

    process_webhook_event.apply_async(
        kwargs={"event_id": event_id}, queue=CeleryQueue.WEBHOOKS, retry=False
    )


def process_event(event_id: int) -> str:
    """Process one stored event; returns its new status. Raises on a transient failure
    (the database went away): the caller retries, attempts are counted on the row."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or event.status in (
        WebhookEvent.Status.PROCESSED,
        WebhookEvent.Status.QUARANTINED,
    ):
        return "nothing_to_do"
    WebhookEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
    try:
        payload = parse(bytes(event.body))
    except InvalidChange as exc:
        return _record_failure(event, f"Unreadable payload: {exc}")
    outcome = Outcome()
    for entry_index, entry in enumerate(payload.get("entry") or []):
        _process_entry(event_id, entry_index, entry, outcome)
    status = (
        WebhookEvent.Status.QUARANTINED if outcome.quarantined else WebhookEvent.Status.PROCESSED
    )
    WebhookEvent.objects.filter(pk=event_id).update(
        status=status,
        change_count=outcome.changes,
        problems=outcome.problems,
        error="",
        processed_at=timezone.now(),
    )
    return status


def record_transient_failure(event_id: int, error: str) -> bool:
    """After an exception escaped ``process_event``: keep the error; True to retry again."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return False
    return _record_failure(event, error) == WebhookEvent.Status.RETRYING


def _record_failure(event: WebhookEvent, error: str) -> str:
    """Retry later with a growing delay (the sweeper picks it up), up to MAX_ATTEMPTS; then
    leave it for an operator."""
    event.refresh_from_db(fields=["attempts"])
    if event.attempts >= MAX_ATTEMPTS:
        status, next_attempt_at = WebhookEvent.Status.FAILED, None
    else:
        delay = settings.WEBHOOK_SWEEP_AFTER_SECONDS * 2**event.attempts
        status, next_attempt_at = (
            WebhookEvent.Status.RETRYING,
            timezone.now() + timedelta(seconds=delay),
        )
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error[:5000], next_attempt_at=next_attempt_at
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
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidChange(f"not JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise InvalidChange("the body is not a JSON object")
    if payload.get("object") not in (None, "whatsapp_business_account"):
        raise InvalidChange(f"unexpected object {str(payload.get('object'))[:80]!r}")
    if not isinstance(payload.get("entry") or [], list):
        raise InvalidChange("`entry` is not a list")
    return payload


def _process_entry(event_id: int, entry_index: int, entry: Any, outcome: Outcome) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("changes") or [], list):
        outcome.problems.append(_problem("invalid", entry_index, None, None, "malformed entry"))
        return
    entry_time = _unix_time(entry.get("time"))
    for change_index, raw in enumerate(entry.get("changes") or []):
        outcome.changes += 1
        where = (entry_index, change_index)
        if not isinstance(raw, dict) or not isinstance(raw.get("value"), dict):
            outcome.problems.append(_problem("invalid", *where, None, "malformed change"))
            continue
        field_name = str(raw.get("field", ""))
        handler = handlers().get(field_name)
        if handler is None:
            outcome.problems.append(_problem("ignored", *where, field_name, "field not handled"))
            continue
        route, reason = route_change(str(entry.get("id", "")), field_name, raw["value"])
        if route is None:
            outcome.problems.append(_problem("unroutable", *where, field_name, reason))
            continue
        change = Change(event_id, field_name, raw["value"], route, entry_time)
        try:
            with agency_scope(route.agency_id), transaction.atomic():
                handler(change)
        except (InvalidChange, DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
            # The shape is wrong (or a value does not fit a column), not the world:
            # retrying would fail the same way.
            logger.warning("webhook change rejected", extra={"event_id": event_id}, exc_info=True)
            outcome.problems.append(_problem("invalid", *where, field_name, _describe(exc)))


def _problem(
    kind: str, entry: int, change: int | None, field_name: str | None, reason: str
) -> dict[str, Any]:
    return {"kind": kind, "entry": entry, "change": change, "field": field_name, "reason": reason}


def _describe(exc: Exception) -> str:
    if isinstance(exc, InvalidChange):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:300]


def _unix_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- routing ----------------------------------------------------------------------------------

_ROUTE_TTL = 30.0
_routes: dict[str, tuple[float, Route | None]] = {}


def route_change(waba_id: str, field_name: str, value: dict[str, Any]) -> tuple[Route | None, str]:
    """The agency a change belongs to: by ``metadata.phone_number_id`` when the change has
    one (messages, statuses, preferences), else by the entry's WABA id."""
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and metadata.get("phone_number_id"):
        number_id = str(metadata["phone_number_id"])
        route = _cached(f"number:{number_id}", lambda: _route_by_number(number_id))
        return route, "" if route else f"unknown phone_number_id {number_id[:64]}"
    if field_name in ("messages", "user_preferences"):
        return None, "no metadata.phone_number_id"
    route = _cached(f"waba:{waba_id}", lambda: _route_by_waba(waba_id))
    return route, "" if route else f"unknown WABA id {waba_id[:64]}"


def _cached(key: str, load: Callable[[], Route | None]) -> Route | None:
    hit = _routes.get(key)
    if hit is not None and time.monotonic() - hit[0] < _ROUTE_TTL:
        return hit[1]
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
    """Enqueue events nobody processed (the broker was down, or lost the task) — the table,
    not the broker, is the source of truth. Retrying events wait longer each attempt."""
    now = now or timezone.now()
    after = timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    pending = WebhookEvent.objects.filter(
        Q(status=WebhookEvent.Status.RECEIVED, received_at__lt=now - after)
        | Q(status=WebhookEvent.Status.RETRYING, next_attempt_at__lt=now)
    ).values_list("pk", flat=True)[:5000]
    event_ids = list(pending)
    for event_id in event_ids:
        enqueue(event_id)
    return len(event_ids)


def reprocess(event_id: int) -> str:
    """An operator's retry (after registering a number, or fixing a bug): handlers are
    idempotent, so whatever was applied already stays as it is."""
    WebhookEvent.objects.filter(pk=event_id).exclude(status=WebhookEvent.Status.RECEIVED).update(
        status=WebhookEvent.Status.RECEIVED, attempts=0, next_attempt_at=None
    )
    return process_event(event_id)
