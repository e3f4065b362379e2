"""The integrator webhooks' consumer of the event stream: stream events → ``Delivery`` rows.

Registered like the other consumers (``bsp.events.dispatch.register_consumer``, from this
app's ``ready``); runs inside the dispatcher's transaction for every batch of an agency's
events, in sequence order, at least once. It keeps the last sequence it applied
(``WebhookCursor``) and skips anything at or below it; the unique (subscription, event id)
makes a redelivered event one delivery still. Cost per batch: the cursor, one query of the
agency's enabled subscriptions, one INSERT of the deliveries, the cursor's UPDATE; after
commit one wake-up per subscription that got deliveries (deduplicated in Redis).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from bsp.integrations import events as hook_events
from bsp.integrations.models import Delivery, WebhookCursor, WebhookSubscription
from bsp.integrations.services import envelope

logger = logging.getLogger(__name__)


def webhook_consumer(agency_id: int, messages: list[str]) -> None:
    """Queue the batch's integrator events for the agency's subscriptions. A failing batch
    is logged and skipped rather than stopping the agency's stream (the other consumers
    and the live inbox must keep going); the cursor is not moved then, so the next batch
    containing later events still delivers them."""
    wanted = []
    for text in messages:
        try:
            event = json.loads(text)
        except ValueError:
            logger.exception("webhook consumer skipped an event that is not JSON")
            continue
        if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
            continue
        if not isinstance(event.get("subject"), dict) or "sequence" not in event:
            continue
        kind = hook_events.integrator_type(event.get("type"), event["payload"])
        if kind is not None:
            wanted.append((kind, event))
    if not wanted:
        return
    try:
        with transaction.atomic():
            woken = _apply(agency_id, wanted)
    except Exception:
        logger.exception("webhook consumer: a batch of %d events failed", len(wanted))
        return
    if woken:
        transaction.on_commit(lambda: _wake(agency_id, woken), robust=True)


def _cursor(agency_id: int) -> WebhookCursor:
    rows = WebhookCursor.objects.select_for_update()
    cursor = rows.filter(agency_id=agency_id).first()
    if cursor is None:
        WebhookCursor.objects.bulk_create(
            [WebhookCursor(agency_id=agency_id)], ignore_conflicts=True
        )
        cursor = rows.get(agency_id=agency_id)
    return cursor


def _apply(agency_id: int, wanted: list[tuple[str, dict[str, Any]]]) -> list[int]:
    cursor = _cursor(agency_id)
    fresh = [(kind, e) for kind, e in wanted if int(e["sequence"]) > cursor.last_sequence]
    if not fresh:
        return []
    subscriptions = list(
        WebhookSubscription.objects.filter(agency_id=agency_id, enabled=True).values_list(
            "pk", "events"
        )
    )
    rows = []
    for kind, event in fresh:
        targets = [pk for pk, chosen in subscriptions if kind in (chosen or [])]
        if not targets:
            continue
        sequence = int(event["sequence"])
        event_id = f"evt_{agency_id}_{sequence}"
        created = parse_datetime(str(event.get("created_at", "")))
        body = envelope(
            event_id=event_id,
            type=kind,
            created_at=str(event.get("created_at", "")),
            agency_id=agency_id,
            sequence=sequence,
            subject=event["subject"],
            payload=event["payload"],
        )
        key = hook_events.ordering_key(event["subject"])
        for pk in targets:
            row = Delivery(
                agency_id=agency_id,
                subscription_id=pk,
                event_id=event_id,
                type=kind,
                sequence=sequence,
                ordering_key=key,
                body=body,
            )
            if created is not None:
                row.event_created_at = created
            rows.append(row)
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    WebhookCursor.objects.filter(pk=cursor.pk).update(last_sequence=int(fresh[-1][1]["sequence"]))
    return sorted({row.subscription_id for row in rows})


def _wake(agency_id: int, subscription_ids: list[int]) -> None:
    from bsp.integrations.delivery import wake

    for pk in subscription_ids:
        wake(agency_id, pk)
