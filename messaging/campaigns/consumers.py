"""The campaigns' consumer of the event stream: each campaign's live counters
(``CampaignStats``), its completion, and its throttled ``campaign.progress`` events.

Runs inside the dispatcher's transaction (``bsp.events.dispatch``), for every batch of an
agency's events in sequence order, at least once: it keeps the last sequence it applied
(``CampaignCursor``) and skips anything at or below it, so a redelivered batch counts
nothing twice. Cost per batch, however many events: the cursor, one primary-key lookup of
the campaign of the messages named by status events, the touched campaigns' counter rows
(locked), one UPDATE of them, the cursor's UPDATE. The messages table is never counted.

The counters hold how many of the campaign's messages are in each state *now*: a
``message.queued`` adds one to ``queued`` (which includes `sending`: the drainer's claim
publishes nothing), a ``message.status`` moves one from its previous state to its new one.
Bulk moves made by the campaign's own services arrive as one event with their counts
(``campaign.paused``: queued → held; ``campaign.resumed``: back; ``campaign.cancelled``);
``campaign.started``/``campaign.queued``/``campaign.failed`` carry the skipped recipients by
reason. A citizen's opt-out that withdraws a queued message publishes its own
``message.status`` (→ cancelled).
"""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from bsp import events
from bsp.celery import CeleryQueue
from bsp.events import types
from bsp.redis import redis_client
from messaging.campaigns.models import Campaign, CampaignCursor, CampaignRecipient, CampaignStats
from messaging.models import Message
from records.audit import Actor, record_event

logger = logging.getLogger(__name__)

COUNTERS = ("queued", "held", "accepted", "sent", "delivered", "read", "failed", "cancelled")
# A message's status → the counter it is in.
_BUCKET = {
    "queued": "queued",
    "sending": "queued",
    "held": "held",
    "accepted": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "cancelled": "cancelled",
}
_CAMPAIGN_EVENTS = frozenset(
    {
        types.CAMPAIGN_STARTED,
        types.CAMPAIGN_QUEUED,
        types.CAMPAIGN_FAILED,
        types.CAMPAIGN_PAUSED,
        types.CAMPAIGN_RESUMED,
        types.CAMPAIGN_CANCELLED,
    }
)
PROGRESS_INTERVAL_MS = 1000  # campaign.progress at most once a second per campaign


class _Deltas:
    def __init__(self) -> None:
        self.counts: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.skipped: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.failed: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.recipients: dict[int, int] = {}

    def campaigns(self) -> set[int]:
        return set(self.counts) | set(self.skipped) | set(self.failed) | set(self.recipients)


def campaign_consumer(agency_id: int, messages: list[str]) -> None:
    """Apply a batch of the agency's events (see the module docstring). The batch is
    applied in one go; if that fails, event by event, each in its own savepoint, so one
    event the consumer cannot apply is logged and skipped alone: the others are counted
    (once: each moves the cursor in its savepoint), and the agency's stream never stops."""
    parsed = (_parse(text) for text in messages)
    wanted = [event for event in parsed if event is not None and _wanted(event)]
    if not wanted:
        return
    try:
        with transaction.atomic():
            _apply(agency_id, wanted)
        return
    except Exception:
        logger.exception(
            "campaign consumer: a batch of %d events failed; applying one by one", len(wanted)
        )
    for event in wanted:
        try:
            with transaction.atomic():
                _apply(agency_id, [event])
        except Exception:
            # Never block the agency's stream; the counters can be rebuilt (selectors).
            logger.exception(
                "campaign consumer skipped event %s #%s", event.get("type"), event.get("sequence")
            )


def _parse(text: str) -> dict[str, Any] | None:
    try:
        event = json.loads(text)
    except ValueError:
        logger.exception("campaign consumer skipped an event that is not JSON")
        return None
    return event if isinstance(event, dict) else None


def _wanted(event: dict[str, Any]) -> bool:
    if not isinstance(event.get("payload"), dict):
        return False
    if not isinstance(event.get("subject"), dict) or "sequence" not in event:
        return False
    kind = event.get("type")
    return (
        kind in _CAMPAIGN_EVENTS
        or (kind == types.MESSAGE_QUEUED and bool(event["payload"].get("campaign")))
        or kind == types.MESSAGE_STATUS
    )


def _apply(agency_id: int, events_: list[dict[str, Any]]) -> None:
    cursor = _cursor(agency_id)
    fresh = [e for e in events_ if int(e["sequence"]) > cursor.last_sequence]
    if not fresh:
        return
    status_ids = {
        int(e["subject"]["message"])
        for e in fresh
        if e["type"] == types.MESSAGE_STATUS and str(e["subject"].get("message", "")).isdigit()
    }
    campaign_of = (
        dict(
            Message.objects.filter(pk__in=status_ids, campaign_id__isnull=False).values_list(
                "pk", "campaign_id"
            )
        )
        if status_ids
        else {}
    )
    deltas = _Deltas()
    for event in fresh:
        _count(deltas, event, campaign_of)
    touched = deltas.campaigns()
    if touched:
        _write(agency_id, deltas, touched)
    CampaignCursor.objects.filter(pk=cursor.pk).update(last_sequence=int(fresh[-1]["sequence"]))
    if touched:
        _after(agency_id, touched)


def _cursor(agency_id: int) -> CampaignCursor:
    rows = CampaignCursor.objects.select_for_update()
    cursor = rows.filter(agency_id=agency_id).first()
    if cursor is None:
        CampaignCursor.objects.bulk_create(
            [CampaignCursor(agency_id=agency_id)], ignore_conflicts=True
        )
        cursor = rows.get(agency_id=agency_id)
    return cursor


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _count(deltas: _Deltas, event: dict[str, Any], campaign_of: dict[int, int]) -> None:
    kind, subject, payload = event["type"], event["subject"], event["payload"]
    if kind == types.MESSAGE_QUEUED:
        deltas.counts[int(payload["campaign"])]["queued"] += 1
        return
    if kind == types.MESSAGE_STATUS:
        campaign = campaign_of.get(_int(subject.get("message")))
        if campaign is None:
            return
        before, after = _BUCKET.get(payload.get("previous", "")), _BUCKET.get(payload.get("status"))
        if after is None or before == after:
            return
        if before is not None:
            deltas.counts[campaign][before] -= 1
        deltas.counts[campaign][after] += 1
        if after == "failed":
            code, reason = payload.get("error_code"), payload.get("error_reason") or ""
            deltas.failed[campaign][f"{code}: {reason}"[:200] if code else reason[:200]] += 1
        return
    campaign = _int(subject.get("campaign"))
    if not campaign:
        return
    skipped = payload.get("skipped")
    if isinstance(skipped, dict):
        for reason, n in skipped.items():
            deltas.skipped[campaign][str(reason)] += _int(n)
    counts = deltas.counts[campaign]
    if kind == types.CAMPAIGN_STARTED:
        deltas.recipients[campaign] = _int(payload.get("recipients"))
    elif kind == types.CAMPAIGN_PAUSED:
        counts["queued"] -= _int(payload.get("held"))
        counts["held"] += _int(payload.get("held"))
    elif kind == types.CAMPAIGN_RESUMED:
        counts["held"] -= _int(payload.get("requeued"))
        counts["queued"] += _int(payload.get("requeued"))
    elif kind == types.CAMPAIGN_CANCELLED:
        from_queued, from_held = _int(payload.get("from_queued")), _int(payload.get("from_held"))
        counts["queued"] -= from_queued
        counts["held"] -= from_held
        counts["cancelled"] += from_queued + from_held + _int(payload.get("pending"))


def _write(agency_id: int, deltas: _Deltas, touched: set[int]) -> None:
    existing = set(Campaign.objects.filter(pk__in=touched).values_list("pk", flat=True))
    missing = existing - set(
        CampaignStats.objects.filter(campaign_id__in=existing).values_list("campaign_id", flat=True)
    )
    if missing:
        CampaignStats.objects.bulk_create(
            [CampaignStats(agency_id=agency_id, campaign_id=pk) for pk in sorted(missing)],
            ignore_conflicts=True,
        )
    rows = list(
        CampaignStats.objects.select_for_update().filter(campaign_id__in=existing).order_by("pk")
    )
    for row in rows:
        pk = row.campaign_id
        for name, delta in deltas.counts[pk].items():
            setattr(row, name, getattr(row, name) + delta)
        if pk in deltas.recipients:
            row.recipients = deltas.recipients[pk]
        if deltas.skipped[pk]:
            by_reason = Counter(row.skipped_by_reason or {}) + deltas.skipped[pk]
            row.skipped_by_reason = dict(by_reason)
            row.skipped = sum(by_reason.values())
        if deltas.failed[pk]:
            row.failed_by_reason = dict(Counter(row.failed_by_reason or {}) + deltas.failed[pk])
    CampaignStats.objects.bulk_update(
        rows,
        [*COUNTERS, "recipients", "skipped", "skipped_by_reason", "failed_by_reason"],
    )


def _after(agency_id: int, touched: set[int]) -> None:
    """Complete the campaigns with nothing left to send; announce progress (throttled)."""
    done = CampaignStats.objects.filter(
        campaign_id__in=touched,
        queued__lte=0,
        held__lte=0,
        campaign__status=Campaign.Status.SENDING,
        campaign__next_run_at__isnull=True,
    ).values_list("campaign_id", flat=True)
    for pk in sorted(done):
        campaign = Campaign.objects.select_for_update().get(pk=pk)
        complete_if_done(campaign)
    for pk in sorted(touched):
        transaction.on_commit(functools.partial(schedule_progress, agency_id, pk))


def complete_if_done(campaign: Campaign) -> bool:
    """Sending → completed once nothing is queued, held or waiting to be queued (call with
    the campaign locked). Statuses of sent messages keep counting afterwards."""
    if campaign.status != Campaign.Status.SENDING or campaign.next_run_at is not None:
        return False
    stats = CampaignStats.objects.filter(campaign=campaign).first()
    if stats is None or stats.queued > 0 or stats.held > 0:
        return False
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    if recipients.filter(status=CampaignRecipient.Status.PENDING).exists():
        return False
    # The counters must have caught up with every queued message (the stream lags the
    # queueing): each message is in exactly one counter once its message.queued is applied.
    counted = sum(getattr(stats, name) for name in COUNTERS)
    if counted < recipients.filter(status=CampaignRecipient.Status.QUEUED).count():
        return False
    campaign.status = Campaign.Status.COMPLETED
    campaign.completed_at = timezone.now()
    campaign.save(update_fields=["status", "completed_at", "updated_at"])
    counters = progress_payload(stats)
    record_event(
        agency_id=campaign.agency_id,
        actor=Actor.system("campaigns"),
        action="campaign.completed",
        target=campaign,
        changes=counters,
    )
    events.publish(
        agency_id=campaign.agency_id,
        type=types.CAMPAIGN_COMPLETED,
        subject={"campaign": campaign.pk},
        payload={"status": campaign.status, **counters},
    )
    return True


def progress_payload(stats: CampaignStats) -> dict[str, Any]:
    return {
        "recipients": stats.recipients,
        **{name: getattr(stats, name) for name in COUNTERS},
        "skipped": stats.skipped,
        "skipped_by_reason": stats.skipped_by_reason,
        "failed_by_reason": stats.failed_by_reason,
    }


def _progress_key(campaign_id: int) -> str:
    return f"civic:campaign-progress:{campaign_id}"


def schedule_progress(agency_id: int, campaign_id: int) -> None:
    """At most one ``campaign.progress`` per second per campaign: the first change of a
    second schedules the event a second later, carrying every change of that second."""
    from messaging.campaigns.tasks import publish_progress

    client = redis_client()
    if client is not None and not client.set(
        _progress_key(campaign_id), 1, nx=True, px=PROGRESS_INTERVAL_MS
    ):
        return
    publish_progress.apply_async(
        kwargs={"campaign_id": campaign_id, "agency_id": agency_id},
        countdown=PROGRESS_INTERVAL_MS / 1000,
        queue=CeleryQueue.EVENTS,
    )


def publish_progress(campaign_id: int) -> bool:
    """Publish the campaign's counters now (in the agency's scope)."""
    with transaction.atomic():
        # Locked: read after the consumer's commit that changed it, so a progress event
        # never carries older counters than the event before it.
        stats = (
            CampaignStats.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(campaign_id=campaign_id)
            .first()
        )
        if stats is None:
            return False
        CampaignStats.objects.filter(pk=stats.pk).update(progress_published_at=timezone.now())
        events.publish(
            agency_id=stats.agency_id,
            type=types.CAMPAIGN_PROGRESS,
            subject={"campaign": campaign_id},
            payload={"status": stats.campaign.status, **progress_payload(stats)},
        )
    return True
