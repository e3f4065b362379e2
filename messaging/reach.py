"""The messaging-limit reach counter: unique citizens reached by business-initiated
messages in the moving 24 h, per business portfolio (cloud-api.md §7.3).

Meta lets a portfolio start conversations with at most its tier's number of *unique* users
in any 24 hours (250, 2,000, 10,000, 100,000 or unlimited), shared by all its numbers. The
count is kept in ``ReachedContact``: one row per (portfolio, contact) holding the latest
time that contact was sent a business-initiated message. The reach at ``now`` is the number
of rows newer than ``now - 24 h`` — an index-only range scan, instead of a ``COUNT
(DISTINCT contact)`` over the messages of every number of the portfolio per send.

- **Exact and crash-safe.** ``record_reached`` runs in the transaction that queues the
  messages (one statement for a whole batch), so a reach exists exactly when its message
  does. Callers serialize on the portfolio (``lock``), so two sends racing for the last
  slot cannot both take it.
- **Released when the message never reached anyone.** Meta's limit counts the people a
  business *delivers* to (developers.facebook.com/docs/whatsapp/messaging-limits), so a
  message that failed or was cancelled before sending does not count. ``release``
  recomputes a contact's row from the messages that still count; the send path calls it
  for a failed send, campaigns for a cancel, and ``reach_consumer`` (on the event stream)
  for every other ``message.status`` to failed or cancelled: a failed status webhook, a
  citizen's opt-out withdrawing a waiting message. A failure Meta later reports delivered
  (a second device) takes its slot again. ``reconcile`` does the same for a whole
  portfolio; until a release runs, a stale row only ever makes the count higher: stale rows
  are counted *and* the contact is treated as already reached, so a decision that fits is
  exact, and a decision that would not fit reconciles first (``reserve``,
  ``policy.check_tier``). The messages table always decides.
- **No Redis needed**: the same code runs on PostgreSQL and in the SQLite demo.

Every function takes ``portfolio_id`` (``None`` for a WABA without a portfolio yet: such
WABAs of one agency share one bucket with the lowest tier) and runs in the caller's agency
scope.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from messaging.models import Message, ReachedContact
from tenants.context import current_agency_id
from tenants.models import Agency, BusinessPortfolio

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
NO_PORTFOLIO_LIMIT = 250  # Meta's starting tier, for WABAs not (yet) in a portfolio
TIER_LIMITS: dict[str, int | None] = {
    BusinessPortfolio.MessagingLimitTier.TIER_250: 250,
    BusinessPortfolio.MessagingLimitTier.TIER_2K: 2_000,
    BusinessPortfolio.MessagingLimitTier.TIER_10K: 10_000,
    BusinessPortfolio.MessagingLimitTier.TIER_100K: 100_000,
    BusinessPortfolio.MessagingLimitTier.UNLIMITED: None,
}
# A message in one of these never reached the citizen: it does not use a slot.
RELEASED_STATUSES = (Message.Status.FAILED, Message.Status.CANCELLED)
_CHUNK = 5_000  # contact ids per IN list


def _key(portfolio_id: int | None) -> int:
    return portfolio_id or 0


def _agency_id() -> int:
    agency_id = current_agency_id()
    if agency_id is None:
        raise RuntimeError("messaging.reach runs in an agency scope (agency_scope(agency)).")
    return agency_id


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    items = sorted(set(ids))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def limit_for(portfolio_id: int | None) -> int | None:
    """The portfolio's messaging limit (unique users per 24 h); None: unlimited."""
    if portfolio_id is None:
        return NO_PORTFOLIO_LIMIT
    tier = (
        BusinessPortfolio.objects.filter(pk=portfolio_id)
        .values_list("messaging_limit_tier", flat=True)
        .first()
    )
    return TIER_LIMITS.get(tier, NO_PORTFOLIO_LIMIT) if tier else NO_PORTFOLIO_LIMIT


def lock(portfolio_id: int | None) -> None:
    """Serialize business-initiated sends of one portfolio until the transaction ends
    (the portfolio's row; the agency's row for its WABAs without a portfolio). Call it
    inside ``transaction.atomic()`` before deciding and recording."""
    if portfolio_id is not None:
        list(BusinessPortfolio.objects.select_for_update().filter(pk=portfolio_id).values("pk"))
    else:
        list(Agency.objects.select_for_update().filter(pk=_agency_id()).values("pk"))


def _rows(portfolio_id: int | None, now: datetime) -> QuerySet[ReachedContact]:
    return ReachedContact.objects.filter(
        agency_id=_agency_id(), portfolio_key=_key(portfolio_id), reached_at__gt=now - WINDOW
    )


def reached_count(portfolio_id: int | None, now: datetime) -> int:
    """Unique contacts reached in the 24 h before ``now`` (may include rows of messages
    that failed since, until ``release``/``reconcile`` removes them)."""
    return _rows(portfolio_id, now).count()


def remaining(portfolio_id: int | None, now: datetime) -> int | None:
    """How many *new* contacts the portfolio can still reach now; None: unlimited."""
    limit = limit_for(portfolio_id)
    if limit is None:
        return None
    return max(0, limit - reached_count(portfolio_id, now))


_REACHED_SQL = """
SELECT contact_id FROM messaging_reachedcontact
 WHERE agency_id = %(agency)s AND portfolio_key = %(key)s AND reached_at > %(since)s
   AND contact_id = ANY(%(contacts)s::bigint[])
"""


def not_reached(portfolio_id: int | None, contact_ids: Iterable[int], now: datetime) -> set[int]:
    """Those of ``contact_ids`` a business-initiated message would count as new."""
    wanted = set(contact_ids)
    if not wanted:
        return set()
    if connection.vendor == "postgresql":
        # One array parameter, not IN lists of 5,000: planning a 100,000-recipient campaign
        # spent 2 s building and splitting the lists' parameters (bench/campaign_planning.py).
        params: dict[str, Any] = {
            "agency": _agency_id(),
            "key": _key(portfolio_id),
            "since": now - WINDOW,
            "contacts": sorted(wanted),
        }
        with connection.cursor() as cursor:
            cursor.execute(_REACHED_SQL, params)
            return wanted - {row[0] for row in cursor.fetchall()}
    reached: set[int] = set()
    for chunk in _chunks(wanted):
        reached.update(
            _rows(portfolio_id, now)
            .filter(contact_id__in=chunk)
            .values_list("contact_id", flat=True)
        )
    return wanted - reached


_UPSERT_SQL = """
INSERT INTO messaging_reachedcontact (agency_id, portfolio_key, contact_id, reached_at)
SELECT %(agency)s, %(key)s, c.id, %(now)s FROM unnest(%(contacts)s::bigint[]) AS c(id)
ON CONFLICT (agency_id, portfolio_key, contact_id)
DO UPDATE SET reached_at = GREATEST(messaging_reachedcontact.reached_at, EXCLUDED.reached_at)
"""


def record_reached(portfolio_id: int | None, contact_ids: Iterable[int], now: datetime) -> None:
    """Record that business-initiated messages to ``contact_ids`` are being queued at
    ``now``: in the transaction that creates them, after deciding under ``lock``. Every
    recipient, not only the new ones: the 24 h of a contact reached again start anew."""
    ids = sorted(set(contact_ids))
    if not ids:
        return
    agency_id, key = _agency_id(), _key(portfolio_id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # one statement for the whole batch
            cursor.execute(
                _UPSERT_SQL, {"agency": agency_id, "key": key, "now": now, "contacts": ids}
            )
        return
    # SQLite (the demo): the same in two statements (no GREATEST in Django's upsert).
    ReachedContact.objects.filter(
        agency_id=agency_id, portfolio_key=key, contact_id__in=ids, reached_at__lt=now
    ).update(reached_at=now)
    ReachedContact.objects.bulk_create(
        [
            ReachedContact(agency_id=agency_id, portfolio_key=key, contact_id=c, reached_at=now)
            for c in ids
        ],
        ignore_conflicts=True,
    )


def _counting_messages(portfolio_id: int | None, now: datetime) -> QuerySet[Message]:
    """The messages that use a slot at ``now`` (the truth the rows are kept from)."""
    messages = Message.objects.filter(business_initiated=True, created_at__gt=now - WINDOW).exclude(
        status__in=RELEASED_STATUSES
    )
    if portfolio_id is None:
        return messages.filter(phone_number__waba__portfolio__isnull=True)
    return messages.filter(phone_number__waba__portfolio_id=portfolio_id)


def _recompute(portfolio_id: int | None, now: datetime, rows: QuerySet[ReachedContact]) -> int:
    """Bring ``rows`` in line with the messages that still count: a contact none of whose
    messages counts is removed; one whose latest counting message is older than its row
    gets that message's time. How many rows were removed."""
    counting = _counting_messages(portfolio_id, now).filter(contact_id=OuterRef("contact_id"))
    removed, _ = rows.exclude(Exists(counting)).delete()
    latest = Subquery(
        counting.order_by().values("contact_id").annotate(latest=Max("created_at")).values("latest")
    )
    rows.filter(reached_at__gt=latest).update(reached_at=latest)
    return removed


def release(portfolio_id: int | None, contact_ids: Iterable[int], now: datetime) -> int:
    """After messages to ``contact_ids`` failed or were cancelled before reaching them: give
    back the slots no remaining message uses. Idempotent; how many slots were freed."""
    freed = 0
    for chunk in _chunks(set(contact_ids)):
        rows = _rows(portfolio_id, now).filter(contact_id__in=chunk)
        freed += _recompute(portfolio_id, now, rows)
    return freed


def reconcile(portfolio_id: int | None, now: datetime) -> int:
    """Recompute the whole portfolio's reach from its messages (frees the slots of
    failures no caller released) and drop rows older than the window. Slots freed."""
    ReachedContact.objects.filter(
        agency_id=_agency_id(), portfolio_key=_key(portfolio_id), reached_at__lte=now - WINDOW
    ).delete()
    return _recompute(portfolio_id, now, _rows(portfolio_id, now))


@dataclass(frozen=True)
class Reservation:
    """What ``reserve`` decided: ``reached`` are recorded (new or already counted);
    ``refused`` are new contacts for whom no slot was left."""

    limit: int | None
    reached: frozenset[int]
    refused: frozenset[int]
    remaining: int | None  # new contacts still possible after this reservation


def reserve(
    portfolio_id: int | None, contact_ids: Iterable[int], now: datetime, *, partial: bool = True
) -> Reservation:
    """Lock, decide and record in one go (inside the caller's ``transaction.atomic()``,
    which also creates the messages). Contacts already reached always fit; new ones fit
    while slots remain, in ascending id order. ``partial=False``: all or nothing (nobody
    is recorded unless every new contact fits)."""
    wanted = set(contact_ids)
    lock(portfolio_id)
    limit = limit_for(portfolio_id)
    if limit is None:
        record_reached(portfolio_id, wanted, now)
        return Reservation(None, frozenset(wanted), frozenset(), None)
    new = not_reached(portfolio_id, wanted, now)
    room = limit - reached_count(portfolio_id, now)
    if len(new) > room and reconcile(portfolio_id, now):
        new = not_reached(portfolio_id, wanted, now)
        room = limit - reached_count(portfolio_id, now)
    room = max(0, room)
    if len(new) > room and not partial:
        return Reservation(limit, frozenset(), frozenset(new), room)
    admitted_new = set(sorted(new)[:room])
    refused = new - admitted_new
    reached = wanted - refused
    record_reached(portfolio_id, reached, now)
    return Reservation(limit, frozenset(reached), frozenset(refused), room - len(admitted_new))


# --- Statuses from the event stream --------------------------------------------------------

# Meta counts the unique people a business *delivers* to outside a service window
# (developers.facebook.com/docs/whatsapp/messaging-limits), so a message that failed, or
# that was withdrawn before sending, gives its slot back at once instead of at the next
# reconcile. Meta may still deliver a message it reported failed (a second device,
# cloud-api.md §5.6): then the slot is taken again.
_RELEASING = frozenset(RELEASED_STATUSES)
_DELIVERED_AFTER_ALL = frozenset({Message.Status.DELIVERED, Message.Status.READ})


def _status_changes(messages: list[str]) -> tuple[set[int], set[int]]:
    """(ids of messages now failed or cancelled, ids delivered after a failure)."""
    released, retaken = set(), set()
    for text in messages:
        try:
            event = json.loads(text)
            if event.get("type") != "message.status":
                continue
            status, previous = event["payload"].get("status"), event["payload"].get("previous")
            pk = int(event["subject"]["message"])
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not ours to judge: other consumers log malformed events
        if status in _RELEASING:
            released.add(pk)
        elif status in _DELIVERED_AFTER_ALL and previous == Message.Status.FAILED:
            retaken.add(pk)
    return released, retaken


def reach_consumer(agency_id: int, messages: list[str]) -> None:
    """The event stream's consumer of message statuses (in the dispatcher's transaction and
    the agency's scope, at least once: ``release`` and ``record_reached`` are idempotent).
    A failure here is logged and contained: the slot then waits for ``reconcile``."""
    released, retaken = _status_changes(messages)
    if not (released or retaken):
        return
    try:
        with transaction.atomic():
            _apply_statuses(released, retaken, timezone.now())
    except Exception:
        logger.exception("reach: %d status changes left to reconcile", len(released | retaken))


def _apply_statuses(released: set[int], retaken: set[int], now: datetime) -> None:
    rows = Message.objects.filter(pk__in=released | retaken, business_initiated=True).values_list(
        "pk", "contact_id", "created_at", "phone_number__waba__portfolio_id"
    )
    freed: defaultdict[int | None, set[int]] = defaultdict(set)
    for pk, contact_id, created_at, portfolio_id in rows:
        if pk in retaken:
            record_reached(portfolio_id, [contact_id], min(created_at, now))
        else:
            freed[portfolio_id].add(contact_id)
    for portfolio_id, contacts in freed.items():
        release(portfolio_id, contacts, now)
