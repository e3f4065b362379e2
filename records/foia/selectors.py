"""Reads of the foia pages: the agency's requests with their clocks, a request's review set
with each message's display text and redacted preview."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from messaging.models import Message
from records.exports.redaction import Span
from records.exports.text import message_display_text
from records.foia import calendar
from records.foia.models import (
    AgencyHoliday,
    ClockEvent,
    Jurisdiction,
    Production,
    RecordsRequest,
    Redaction,
    RequestItem,
)
from records.foia.redactions import Segment, preview
from records.foia.services import agency_today, request_clock
from tenants.models import Agency

DUE_SOON_WORKING_DAYS = 3


@dataclass(frozen=True)
class RequestRow:
    request: RecordsRequest
    clock: calendar.Clock
    overdue: bool
    due_soon: bool
    items: int
    responsive: int


def jurisdictions(agency: Agency) -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.filter(agency=agency).prefetch_related("codes")


def holidays(agency: Agency) -> QuerySet[AgencyHoliday]:
    return AgencyHoliday.objects.filter(agency=agency)


def requests(agency: Agency) -> QuerySet[RecordsRequest]:
    """The agency's requests with their review set's counts (``n_items``, ``n_responsive``:
    responsive or withheld), unordered."""
    return (
        RecordsRequest.objects.filter(agency=agency)
        .select_related("jurisdiction", "agency")
        .annotate(
            n_items=Count("items"),
            n_responsive=Count(
                "items",
                filter=Q(
                    items__decision__in=[
                        RequestItem.Decision.RESPONSIVE,
                        RequestItem.Decision.WITHHELD,
                    ]
                ),
            ),
        )
    )


def request_rows(agency: Agency, found: list[RecordsRequest]) -> list[RequestRow]:
    """The rows of ``found`` (from ``requests``): each with its clock as of the agency's
    today; the clock events and holidays are read once for all."""
    today = agency_today(agency)
    holidays = set(AgencyHoliday.objects.filter(agency=agency).values_list("date", flat=True))
    events: dict[int, list[ClockEvent]] = defaultdict(list)
    for event in ClockEvent.objects.filter(request__in=[r.pk for r in found]):
        events[event.request_id].append(event)
    rows = []
    for request in found:
        clock = request_clock(
            request, today, clock_events=events.get(request.pk, []), holidays=holidays
        )
        overdue = request.is_open and clock.is_overdue(today)
        soon = (
            request.is_open
            and not overdue
            and clock.due_on is not None
            and clock.remaining <= DUE_SOON_WORKING_DAYS
        )
        # The counts are ``requests``' annotations.
        items, responsive = getattr(request, "n_items", 0), getattr(request, "n_responsive", 0)
        rows.append(RequestRow(request, clock, overdue, soon, items, responsive))
    return rows


def request_list(agency: Agency, *, show: str = "open") -> list[RequestRow]:
    """``show``: "open", "overdue", "paused", "closed" or "all"."""
    found = requests(agency)
    if show in ("open", "overdue", "paused"):
        found = found.exclude(status=RecordsRequest.Status.CLOSED)
    elif show == "closed":
        found = found.filter(status=RecordsRequest.Status.CLOSED)
    if show == "paused":
        found = found.filter(tolled_since__isnull=False)
    rows = request_rows(agency, list(found))
    if show == "overdue":
        rows = [r for r in rows if r.overdue]
    rows.sort(key=lambda r: (not r.request.is_open, r.clock.due_on or dt.date.max))
    return rows


def request(agency: Agency, pk: int) -> RecordsRequest:
    """The agency's request (``RecordsRequest.DoesNotExist`` for another agency's)."""
    return RecordsRequest.objects.select_related("jurisdiction", "agency").get(agency=agency, pk=pk)


@dataclass
class ItemView:
    item: RequestItem
    message: Message
    text: str
    spans: list[Redaction] = field(default_factory=list)
    media_redaction: Redaction | None = None

    @property
    def preview(self) -> list[Segment]:
        spans = [Span(r.start or 0, r.end or 0, r.code) for r in self.spans]
        return preview(self.text, spans)

    @property
    def redacted(self) -> bool:
        return bool(self.spans) or self.media_redaction is not None


def review_set(
    request: RecordsRequest, *, decision: str = "", limit: int | None = None
) -> list[ItemView]:
    items = request.items.select_related("message", "message__contact", "message__media")
    if decision:
        items = items.filter(decision=decision)
    if limit is not None:
        items = items[:limit]
    by_item: dict[int, list[Redaction]] = defaultdict(list)
    media: dict[int, Redaction] = {}
    for redaction in request.redactions.all():
        if redaction.kind == Redaction.Kind.MEDIA:
            media[redaction.item_id] = redaction
        else:
            by_item[redaction.item_id].append(redaction)
    return [
        ItemView(
            item=item,
            message=item.message,
            text=message_display_text(item.message),
            spans=by_item.get(item.pk, []),
            media_redaction=media.get(item.pk),
        )
        for item in items
    ]


def item_view(request: RecordsRequest, item_pk: int) -> ItemView:
    item = request.items.select_related("message", "message__contact", "message__media").get(
        pk=item_pk
    )
    redactions = list(request.redactions.filter(item=item))
    return ItemView(
        item=item,
        message=item.message,
        text=message_display_text(item.message),
        spans=[r for r in redactions if r.kind == Redaction.Kind.TEXT],
        media_redaction=next((r for r in redactions if r.kind == Redaction.Kind.MEDIA), None),
    )


def decision_counts(request: RecordsRequest) -> dict[str, int]:
    counts = dict.fromkeys(RequestItem.Decision.values, 0)
    for row in request.items.values("decision").annotate(n=Count("id")):
        counts[row["decision"]] = row["n"]
    return counts


@dataclass(frozen=True)
class Dashboard:
    open: int
    overdue: int
    due_soon: int
    paused: int
    extended: int


def dashboard(agency: Agency) -> Dashboard:
    """The open requests' counts the list page heads with."""
    rows = request_list(agency, show="open")
    extended = set(
        RecordsRequest.objects.filter(
            agency=agency, clock__kind="extension", pk__in=[r.request.pk for r in rows]
        ).values_list("pk", flat=True)
    )
    return Dashboard(
        open=len(rows),
        overdue=sum(r.overdue for r in rows),
        due_soon=sum(r.due_soon for r in rows),
        paused=sum(r.clock.paused_since is not None for r in rows),
        extended=len(extended),
    )


def request_row(agency: Agency, pk: int) -> RequestRow | None:
    """One request of the agency as a row (its clock and counts); None for another's."""
    found = list(requests(agency).filter(pk=pk))
    return request_rows(agency, found)[0] if found else None


def clock_events(request: RecordsRequest) -> QuerySet[ClockEvent]:
    """The request's extensions, pauses and resumptions, in the order they took effect."""
    return ClockEvent.objects.filter(request=request).order_by("on", "id")


def productions(request: RecordsRequest) -> QuerySet[Production]:
    """The request's productions, newest first."""
    return Production.objects.filter(request=request).order_by("-created_at", "-id")


def production(request: RecordsRequest, pk: int) -> Production | None:
    return Production.objects.filter(request=request, pk=pk).first()


def jurisdiction(agency: Agency, pk: int) -> Jurisdiction | None:
    return Jurisdiction.objects.filter(agency=agency, pk=pk).first()
