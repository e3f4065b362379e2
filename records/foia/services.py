"""Public-records requests: every change a records officer makes, each in one transaction
with its audit event (``records.audit``) and its one ``RECORDS_REQUEST_CHANGED`` event.

Refusals are ``records.foia.errors.RequestError`` with plain words (and the form field they
are about), never a 500: views show them next to the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from records.audit import Actor, record_event
from records.exports.text import message_display_text
from records.foia import calendar, holds, redactions
from records.foia.errors import RequestError
from records.foia.models import (
    AgencyHoliday,
    ClockEvent,
    ExemptionCode,
    Jurisdiction,
    Production,
    RecordsRequest,
    Redaction,
    RequestActivity,
    RequestItem,
)
from records.selection import InvalidSelection, Selection, messages
from tenants.models import Agency
from tenants.scoping import agency_scope, system_scope
from tenants.services import ApplicationError

logger = logging.getLogger(__name__)

Status = RecordsRequest.Status
Decision = RequestItem.Decision
# A search adds at most this many messages at once: a request that needs more is narrowed.
MAX_SEARCH_RESULTS = 5000
MAX_PHRASE_LENGTH = 500
FORMATS = ("pdf", "rsmf", "eml", "mbox", "jsonl", "csv")
REDACTION_LOG = "redaction-log.csv"  # beside the signed package, in the production's folder


def agency_today(agency: Agency) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(agency.timezone or "UTC"))


# --- Rules: jurisdictions, exemption codes, holidays -------------------------------------

FEDERAL_FOIA_CODES = [
    ("(b)(1)", "Classified national defense or foreign policy information"),
    ("(b)(2)", "Internal personnel rules and practices"),
    ("(b)(3)", "Exempted by another statute (name the statute)"),
    ("(b)(4)", "Trade secrets and confidential commercial information"),
    ("(b)(5)", "Privileged inter- or intra-agency communications"),
    ("(b)(6)", "Personal privacy"),
    ("(b)(7)(A)", "Law enforcement: interference with proceedings"),
    ("(b)(7)(B)", "Law enforcement: right to a fair trial"),
    ("(b)(7)(C)", "Law enforcement: personal privacy"),
    ("(b)(7)(D)", "Law enforcement: confidential source"),
    ("(b)(7)(E)", "Law enforcement: techniques and procedures"),
    ("(b)(7)(F)", "Law enforcement: life or physical safety"),
    ("(b)(8)", "Financial institution supervision"),
    ("(b)(9)", "Geological information on wells"),
]
# Examples an agency adapts (their rules are tenant data; check the statute before use).
# Routing days: a request first received by another office starts its clock at the latest
# that many working days later (5 U.S.C. 552(a)(6)(A)(ii)); the federal example only.
ROUTING_DAYS = {"Federal FOIA": 10}
EXAMPLE_JURISDICTIONS: list[tuple[str, int, int, str, list[tuple[str, str]]]] = [
    ("Federal FOIA", 20, 10, "5 U.S.C. 552", FEDERAL_FOIA_CODES),
    (
        "California Public Records Act",
        10,
        14,
        "Cal. Gov. Code 7920.000 et seq.",
        [
            ("7927.700", "Personnel, medical or similar files (privacy)"),
            ("7922.000", "Public interest in withholding clearly outweighs disclosure"),
            ("7923.600", "Law enforcement investigatory records"),
        ],
    ),
    (
        "Illinois FOIA",
        5,
        5,
        "5 ILCS 140",
        [
            ("7(1)(b)", "Private information"),
            ("7(1)(c)", "Unwarranted invasion of personal privacy"),
            ("7(1)(d)", "Law enforcement records"),
        ],
    ),
    (
        "Pennsylvania Right-to-Know Law",
        5,
        30,
        "65 P.S. 67.101 et seq.",
        [
            ("708(b)(6)", "Personal identification information"),
            ("708(b)(16)", "Criminal investigative records"),
        ],
    ),
]


def ensure_example_jurisdictions(agency: Agency, *, actor: Actor) -> int:
    """Create the example jurisdictions the agency does not have yet; returns how many."""
    created = 0
    with agency_scope(agency), transaction.atomic():
        for name, days, extension, citation, codes in EXAMPLE_JURISDICTIONS:
            if Jurisdiction.objects.filter(name=name).exists():
                continue
            jurisdiction = Jurisdiction.objects.create(
                agency=agency,
                name=name,
                response_days=days,
                extension_days=extension,
                routing_days=ROUTING_DAYS.get(name, 0),
                citation=citation,
            )
            ExemptionCode.objects.bulk_create(
                ExemptionCode(agency=agency, jurisdiction=jurisdiction, code=c, label=label)
                for c, label in codes
            )
            record_event(
                agency_id=agency.pk,
                actor=actor,
                action="records_request.jurisdiction_created",
                target=jurisdiction,
                changes={"name": name, "response_days": days, "codes": len(codes)},
            )
            created += 1
    return created


def create_jurisdiction(
    agency: Agency,
    *,
    actor: Actor,
    name: str,
    response_days: int,
    extension_days: int,
    citation: str = "",
    routing_days: int = 0,
) -> Jurisdiction:
    with agency_scope(agency), transaction.atomic():
        if Jurisdiction.objects.filter(name__iexact=name.strip()).exists():
            raise RequestError("The agency already has a jurisdiction of that name.", "name")
        jurisdiction = Jurisdiction.objects.create(
            agency=agency,
            name=name.strip(),
            response_days=response_days,
            extension_days=extension_days,
            routing_days=routing_days,
            citation=citation.strip(),
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="records_request.jurisdiction_created",
            target=jurisdiction,
            changes={"name": jurisdiction.name, "response_days": response_days},
        )
    return jurisdiction


def add_exemption_code(
    jurisdiction: Jurisdiction, *, actor: Actor, code: str, label: str
) -> ExemptionCode:
    code = code.strip()
    with agency_scope(jurisdiction.agency_id), transaction.atomic():
        if jurisdiction.codes.filter(code=code).exists():
            raise RequestError(f"{jurisdiction.name} already has the code {code}.", "code")
        exemption = ExemptionCode.objects.create(
            agency_id=jurisdiction.agency_id,
            jurisdiction=jurisdiction,
            code=code,
            label=label.strip(),
        )
        record_event(
            agency_id=jurisdiction.agency_id,
            actor=actor,
            action="records_request.exemption_code_added",
            target=exemption,
            changes={"jurisdiction": jurisdiction.pk, "code": code},
        )
    return exemption


def add_holiday(agency: Agency, *, actor: Actor, date: dt.date, name: str) -> AgencyHoliday:
    with agency_scope(agency), transaction.atomic():
        if AgencyHoliday.objects.filter(date=date).exists():
            raise RequestError("That day is already a holiday of the agency.", "date")
        holiday = AgencyHoliday.objects.create(agency=agency, date=date, name=name.strip())
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="records_request.holiday_added",
            target=holiday,
            changes={"date": date.isoformat(), "name": holiday.name},
        )
        _recompute_open_clocks(agency, actor, "holiday added")
    return holiday


def add_federal_holidays(agency: Agency, *, actor: Actor, year: int) -> int:
    """Add the year's U.S. federal holidays as observed (``calendar.us_federal_holidays``)
    the agency does not have yet; returns how many. One recomputation of the open clocks."""
    if not 1900 <= year <= 2200:
        raise RequestError("Give a year between 1900 and 2200.", "year")
    with agency_scope(agency), transaction.atomic():
        have = set(AgencyHoliday.objects.values_list("date", flat=True))
        new = [
            AgencyHoliday(agency=agency, date=day, name=name)
            for day, name in calendar.us_federal_holidays(year)
            if day not in have
        ]
        AgencyHoliday.objects.bulk_create(new)
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="records_request.holidays_added",
            object_type="records.agencyholiday",
            changes={"year": year, "dates": [h.date.isoformat() for h in new]},
        )
        _recompute_open_clocks(agency, actor, "federal holidays added")
    return len(new)


def remove_holiday(holiday: AgencyHoliday, *, actor: Actor) -> None:
    agency = holiday.agency
    with agency_scope(agency), transaction.atomic():
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="records_request.holiday_removed",
            target=holiday,
            changes={"date": holiday.date.isoformat(), "name": holiday.name},
        )
        holiday.delete()
        _recompute_open_clocks(agency, actor, "holiday removed")


def _recompute_open_clocks(agency: Agency, actor: Actor, why: str) -> None:
    """A holiday moves the due dates of the open requests: one event per request moved."""
    moved = []
    for request in RecordsRequest.objects.exclude(status=Status.CLOSED):
        before = request.due_on
        _apply_clock(request)
        if request.due_on != before:
            request.save(update_fields=["due_on", "tolled_since"])
            moved.append(
                events.Event(
                    types.RECORDS_REQUEST_CHANGED,
                    {"records_request": request.pk},
                    {"action": "clock", "reason": why, "due_on": _iso(request.due_on)},
                )
            )
    if moved:
        events.publish_many(agency.pk, moved)


# --- The request and its clock ------------------------------------------------------------


def _holidays(agency_id: int) -> set[dt.date]:
    return set(AgencyHoliday.objects.filter(agency_id=agency_id).values_list("date", flat=True))


def request_clock(
    request: RecordsRequest,
    today: dt.date | None = None,
    *,
    clock_events: list[ClockEvent] | None = None,
    holidays: set[dt.date] | None = None,
) -> calendar.Clock:
    """The request's clock as of ``today`` (the agency's date by default). A list of many
    requests passes their clock events and the agency's holidays, read once."""
    with agency_scope(request.agency_id):
        if clock_events is None:
            clock_events = list(ClockEvent.objects.filter(request=request))
        if holidays is None:
            holidays = _holidays(request.agency_id)
    pauses, open_start = [], None
    for event in clock_events:
        if event.kind == ClockEvent.Kind.TOLL and open_start is None:
            open_start = event.on
        elif event.kind == ClockEvent.Kind.RESUME and open_start is not None:
            pauses.append(calendar.Pause(open_start, event.on))
            open_start = None
    if open_start is not None:
        pauses.append(calendar.Pause(open_start, None))
    extension = sum(e.days for e in clock_events if e.kind == ClockEvent.Kind.EXTENSION)
    if today is None:
        today = agency_today(request.agency)
    # A closed request's clock stopped when it closed.
    if request.closed_at is not None:
        tz = ZoneInfo(request.agency.timezone or "UTC")
        today = min(today, request.closed_at.astimezone(tz).date())
    return calendar.clock(
        received_on=request.clock_start(holidays),
        response_days=request.jurisdiction.response_days,
        extension_days=extension,
        pauses=pauses,
        holidays=holidays,
        today=today,
    )


def _apply_clock(request: RecordsRequest) -> None:
    state = request_clock(request)
    request.due_on = state.due_on
    request.tolled_since = state.paused_since


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _changed(
    request: RecordsRequest,
    actor: Actor,
    action: str,
    detail: str,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit event, the request's history line and the one domain event of a change."""
    changes = changes or {}
    record_event(
        agency_id=request.agency_id,
        actor=actor,
        action=f"records_request.{action}",
        target=request,
        changes={"number": request.number, **changes},
    )
    RequestActivity.objects.create(
        agency_id=request.agency_id,
        request=request,
        action=action,
        detail=detail[:500],
        data=data or {},
        actor_label=actor.label,
        at=timezone.now(),
    )
    events.publish(
        agency_id=request.agency_id,
        type=types.RECORDS_REQUEST_CHANGED,
        subject={"records_request": request.pk},
        payload={
            "action": action,
            "number": request.number,
            "status": request.status,
            "due_on": _iso(request.due_on),
        },
    )


def _next_number(agency: Agency, year: int) -> str:
    prefix = f"{year}-"
    numbers = RecordsRequest.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True
    )
    highest = max((int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{highest + 1:04d}"


def create_request(
    agency: Agency,
    *,
    actor: Actor,
    requester_name: str,
    requester_contact: str,
    received_on: dt.date,
    description: str,
    jurisdiction: Jurisdiction,
    created_by: Any = None,
    first_received_on: dt.date | None = None,
) -> RecordsRequest:
    if jurisdiction.agency_id != agency.pk:
        raise RequestError("Choose one of the agency's jurisdictions.", "jurisdiction")
    if received_on > agency_today(agency):
        raise RequestError("The received date cannot be in the future.", "received_on")
    if first_received_on is not None and first_received_on > received_on:
        raise RequestError(
            "The first receipt comes on or before the proper office's (leave it empty when "
            "the request came straight to it).",
            "first_received_on",
        )
    for attempt in range(3):
        try:
            with agency_scope(agency), transaction.atomic():
                number = _next_number(agency, received_on.year)
                request = RecordsRequest(
                    agency=agency,
                    number=number,
                    requester_name=requester_name.strip(),
                    requester_contact=requester_contact.strip(),
                    received_on=received_on,
                    first_received_on=first_received_on,
                    description=description.strip(),
                    jurisdiction=jurisdiction,
                    status=Status.RECEIVED,
                    status_changed_at=timezone.now(),
                    status_changed_by=actor.label,
                    bates_prefix=f"REQ{number}-",
                    created_by=created_by,
                )
                _apply_clock_new(request, jurisdiction)
                request.save()
                _changed(
                    request,
                    actor,
                    "created",
                    f"Received on {received_on.isoformat()} from {request.requester_name}; "
                    f"due {_iso(request.due_on)}.",
                    {"received_on": received_on.isoformat(), "jurisdiction": jurisdiction.name},
                )
                return request
        except IntegrityError:  # two intakes took the same number at once: take the next
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply_clock_new(request: RecordsRequest, jurisdiction: Jurisdiction) -> None:
    holidays = _holidays(request.agency_id)
    request.due_on = calendar.add_working_days(
        request.clock_start(holidays), jurisdiction.response_days, holidays
    )


def _lock(request: RecordsRequest) -> RecordsRequest:
    return RecordsRequest.objects.select_for_update().get(pk=request.pk)


def _open(request: RecordsRequest) -> None:
    if not request.is_open:
        raise RequestError(f"Request {request.number} is closed: it can no longer change.")


def extend(request: RecordsRequest, *, actor: Actor, days: int, reason: str) -> RecordsRequest:
    """An extension by written notice ("unusual circumstances"), within the jurisdiction's
    allowance."""
    reason = reason.strip()
    if not reason:
        raise RequestError("Give the reason for the extension (it goes on record).", "reason")
    if days < 1:
        raise RequestError("An extension is at least one working day.", "days")
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        taken = sum(
            request.clock.filter(kind=ClockEvent.Kind.EXTENSION).values_list("days", flat=True)
        )
        allowed = request.jurisdiction.extension_days
        if taken + days > allowed:
            left = max(0, allowed - taken)
            raise RequestError(
                f"{request.jurisdiction.name} allows {allowed} working days of extension in "
                f"all; {left} left.",
                "days",
            )
        before = request.due_on
        ClockEvent.objects.create(
            agency_id=request.agency_id,
            request=request,
            kind=ClockEvent.Kind.EXTENSION,
            on=agency_today(request.agency),
            days=days,
            reason=reason[:500],
            actor_label=actor.label,
        )
        _apply_clock(request)
        request.save(update_fields=["due_on", "tolled_since"])
        _changed(
            request,
            actor,
            "extended",
            f"Extended by {days} working days: {reason}",
            {"days": days, "reason": reason, "due_on": [_iso(before), _iso(request.due_on)]},
        )
    return request


def toll(request: RecordsRequest, *, actor: Actor, reason: str) -> RecordsRequest:
    """Pause the clock (to ask the requester to clarify, or about fees)."""
    return _pause_or_resume(request, actor, reason, ClockEvent.Kind.TOLL)


def resume(request: RecordsRequest, *, actor: Actor, reason: str) -> RecordsRequest:
    return _pause_or_resume(request, actor, reason, ClockEvent.Kind.RESUME)


def _pause_or_resume(
    request: RecordsRequest, actor: Actor, reason: str, kind: str
) -> RecordsRequest:
    reason = reason.strip()
    if not reason:
        raise RequestError("Give the reason (it goes on record).", "reason")
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        pausing = kind == ClockEvent.Kind.TOLL
        if pausing and request.tolled_since is not None:
            raise RequestError("The clock is already paused.")
        if not pausing and request.tolled_since is None:
            raise RequestError("The clock is not paused.")
        before = request.due_on
        ClockEvent.objects.create(
            agency_id=request.agency_id,
            request=request,
            kind=kind,
            on=agency_today(request.agency),
            reason=reason[:500],
            actor_label=actor.label,
        )
        _apply_clock(request)
        request.save(update_fields=["due_on", "tolled_since"])
        words = "Clock paused" if pausing else "Clock resumed"
        _changed(
            request,
            actor,
            "tolled" if pausing else "resumed",
            f"{words}: {reason}",
            {"reason": reason, "due_on": [_iso(before), _iso(request.due_on)]},
        )
    return request


ORDER: list[str] = [Status.RECEIVED, Status.SEARCHING, Status.IN_REVIEW, Status.PRODUCTION_READY]


def set_status(
    request: RecordsRequest, *, actor: Actor, status: str, note: str = ""
) -> RecordsRequest:
    if status not in Status.values:
        raise RequestError("Choose one of the statuses.", "status")
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        if status == request.status:
            raise RequestError(
                f"The request is already “{request.get_status_display()}”.", "status"
            )
        built = request.productions.filter(status="done")
        if status == Status.CLOSED and not built.exists():
            if request.items.exclude(decision=Decision.NOT_RESPONSIVE).exists():
                raise RequestError(
                    "Produce the records before closing (or mark the review set not "
                    "responsive, for a no-records response).",
                    "status",
                )
            if not note.strip():
                raise RequestError(
                    "Closing without a production is a no-records response: say so in the "
                    "note (what was searched, and that nothing responsive was found).",
                    "note",
                )
        before = request.status
        request.status = status
        request.status_changed_at = timezone.now()
        request.status_changed_by = actor.label
        fields = ["status", "status_changed_at", "status_changed_by"]
        if status == Status.CLOSED:
            request.closed_at = request.status_changed_at
            fields.append("closed_at")
            holds.release(request, actor)
            fields.append("hold_id")
        request.save(update_fields=fields)
        label = request.get_status_display()
        _changed(
            request,
            actor,
            "status",
            f"Status: {label}" + (f" ({note.strip()})" if note.strip() else ""),
            {"status": [before, status], "note": note.strip()[:500]},
        )
    return request


def _advance(request: RecordsRequest, status: str) -> None:
    """Move the status forward to ``status`` when the work done implies it."""
    if request.status in ORDER and ORDER.index(request.status) < ORDER.index(status):
        request.status = status
        request.status_changed_at = timezone.now()


# --- Search and the review set ------------------------------------------------------------


def run_search(request: RecordsRequest, *, actor: Actor, selection: Selection) -> int:
    """Add the agency's messages the selection finds to the review set (not yet reviewed);
    returns how many were new. The search (selection and count) stays on record."""
    # PostgreSQL's text refuses NUL: it can reach neither the search nor the record.
    selection = dataclasses.replace(
        selection,
        query=selection.query.replace("\x00", " ").strip(),
        contact_wa_id=selection.contact_wa_id.replace("\x00", ""),
    )
    if selection.is_empty():
        raise RequestError("Give at least one search term or filter.", "query")
    try:
        Selection.from_json(selection.to_json())
    except InvalidSelection as exc:
        raise RequestError(f"The search cannot be read: {exc}") from None
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        found = list(
            messages(request.agency_id, selection)
            .order_by("pk")
            .values_list("pk", flat=True)[: MAX_SEARCH_RESULTS + 1]
        )
        if len(found) > MAX_SEARCH_RESULTS:
            raise RequestError(
                f"The search finds more than {MAX_SEARCH_RESULTS:,} messages: narrow it "
                "(dates, contact, words).",
                "query",
            )
        have = set(request.items.values_list("message_id", flat=True))
        new = [pk for pk in found if pk not in have]
        RequestItem.objects.bulk_create(
            RequestItem(agency_id=request.agency_id, request=request, message_id=pk) for pk in new
        )
        status_before = request.status
        _advance(request, Status.SEARCHING)
        holds.sync(request, actor)
        request.save(update_fields=["status", "status_changed_at", "hold_id"])
        _changed(
            request,
            actor,
            "searched",
            f"Search ({selection.describe()}): {len(found)} found, {len(new)} new in the "
            "review set.",
            {"found": len(found), "added": len(new), "status": [status_before, request.status]},
            {"selection": selection.to_json(), "found": len(found), "added": len(new)},
        )
    return len(new)


def decide(
    request: RecordsRequest,
    *,
    actor: Actor,
    item_ids: Sequence[int],
    decision: str,
    code: str = "",
) -> int:
    """Decide review-set items; WITHHELD needs an exemption code of the jurisdiction."""
    if decision not in Decision.values:
        raise RequestError("Choose a decision.", "decision")
    if not item_ids:
        raise RequestError("Choose at least one message.", "items")
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        code = _code(request, code) if decision == Decision.WITHHELD else ""
        items = request.items.filter(pk__in=list(item_ids))
        count = items.update(
            decision=decision,
            withheld_code=code,
            decided_by=actor.label,
            decided_at=timezone.now(),
        )
        if count == 0:
            raise RequestError("None of the chosen messages is in this request's review set.")
        status_before = request.status
        _advance(request, Status.IN_REVIEW)
        holds.sync(request, actor)
        request.save(update_fields=["status", "status_changed_at", "hold_id"])
        words = Decision(decision).label.lower() + (f" {code}" if code else "")
        _changed(
            request,
            actor,
            "reviewed",
            f"{count} message{'s' if count != 1 else ''} marked {words}.",
            {
                "items": count,
                "decision": decision,
                "code": code,
                "status": [status_before, request.status],
            },
        )
    return count


def _code(request: RecordsRequest, code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise RequestError("Choose the exemption code.", "code")
    if not request.jurisdiction.codes.filter(code=code).exists():
        raise RequestError(
            f"{code[:40]!r} is not an exemption code of {request.jurisdiction.name}.", "code"
        )
    return code


# --- Redaction ----------------------------------------------------------------------------


def _item(request: RecordsRequest, item_id: int) -> RequestItem:
    try:
        return request.items.select_related("message").get(pk=item_id)
    except RequestItem.DoesNotExist:
        raise RequestError("That message is not in this request's review set.") from None


def redact_span(
    request: RecordsRequest,
    *,
    actor: Actor,
    item_id: int,
    start: int,
    end: int,
    code: str,
    note: str = "",
) -> Redaction:
    """Redact characters [start, end) of the message's display text (code points)."""
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        item = _item(request, item_id)
        code = _code(request, code)
        length = len(message_display_text(item.message))
        redactions.check_span(start, end, length)
        redaction = Redaction.objects.create(
            agency_id=request.agency_id,
            request=request,
            item=item,
            kind=Redaction.Kind.TEXT,
            start=start,
            end=end,
            code=code,
            note=note.strip()[:500],
            created_by=actor.label,
        )
        _changed(
            request,
            actor,
            "redacted",
            f"Redacted {end - start} characters of message {item.message_id} as {code}.",
            {"message": item.message_id, "start": start, "end": end, "code": code},
        )
    return redaction


def redact_phrase(
    request: RecordsRequest,
    *,
    actor: Actor,
    phrase: str,
    code: str,
    note: str = "",
    item_id: int | None = None,
) -> int:
    """Redact every occurrence of ``phrase`` (case-insensitive) in the review set's messages
    not marked not responsive — or in the one message ``item_id`` (the review page's
    keyboard-friendly way to redact words); returns how many spans. The phrase itself is
    not stored."""
    phrase = redactions.check_phrase(phrase, MAX_PHRASE_LENGTH)
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        code = _code(request, code)
        pattern = re.compile(re.escape(phrase), re.IGNORECASE)
        created = []
        if item_id is not None:
            items = [_item(request, item_id)]
        else:
            items = list(
                request.items.exclude(decision=Decision.NOT_RESPONSIVE).select_related("message")
            )
        for item in items:
            for match in pattern.finditer(message_display_text(item.message)):
                created.append(
                    Redaction(
                        agency_id=request.agency_id,
                        request=request,
                        item=item,
                        kind=Redaction.Kind.TEXT,
                        start=match.start(),
                        end=match.end(),
                        code=code,
                        note=note.strip()[:500],
                        created_by=actor.label,
                    )
                )
        if not created:
            where = "this message" if item_id is not None else "the review set"
            raise RequestError(f"The phrase does not occur in {where}.", "phrase")
        Redaction.objects.bulk_create(created)
        messages_hit = len({r.item_id for r in created})
        where = f"in message {items[0].message_id}" if item_id is not None else "everywhere"
        _changed(
            request,
            actor,
            "redacted",
            f"Redacted a phrase of {len(phrase)} characters {where} as {code}: "
            f"{len(created)} places in {messages_hit} messages.",
            {"places": len(created), "messages": messages_hit, "code": code},
        )
    return len(created)


def withhold_media(
    request: RecordsRequest, *, actor: Actor, item_id: int, code: str, note: str = ""
) -> Redaction:
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        item = _item(request, item_id)
        code = _code(request, code)
        if item.message.media_id is None:
            raise RequestError("This message has no media file.")
        if request.redactions.filter(item=item, kind=Redaction.Kind.MEDIA).exists():
            raise RequestError("This message's file is already withheld.")
        redaction = Redaction.objects.create(
            agency_id=request.agency_id,
            request=request,
            item=item,
            kind=Redaction.Kind.MEDIA,
            media_id=item.message.media_id,
            code=code,
            note=note.strip()[:500],
            created_by=actor.label,
        )
        _changed(
            request,
            actor,
            "redacted",
            f"Withheld the file of message {item.message_id} as {code}.",
            {"message": item.message_id, "media": item.message.media_id, "code": code},
        )
    return redaction


def remove_redaction(request: RecordsRequest, *, actor: Actor, redaction_id: int) -> None:
    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        redaction = request.redactions.filter(pk=redaction_id).first()
        if redaction is None:
            raise RequestError("That redaction is not on this request.")
        message_id = redaction.item.message_id
        redaction.delete()
        _changed(
            request,
            actor,
            "redaction_removed",
            f"Removed a {redaction.code} redaction from message {message_id}.",
            {"message": message_id, "code": redaction.code, "kind": redaction.kind},
        )


# --- Production ---------------------------------------------------------------------------


def produced_items(request: RecordsRequest) -> Iterable[RequestItem]:
    return request.items.filter(decision__in=[Decision.RESPONSIVE, Decision.WITHHELD])


def next_bates_start(request: RecordsRequest, prefix: str) -> int:
    """The number after the last one stamped with ``prefix`` in any of the agency's
    productions (Bates numbers continue without gaps or reuse), 1 for a new prefix."""
    with agency_scope(request.agency_id):
        stamped = Production.objects.filter(
            agency_id=request.agency_id, bates_prefix=prefix, status=Production.Status.DONE
        ).values_list("bates_last", flat=True)
        numbers = [int(last[len(prefix) :]) for last in stamped if last[len(prefix) :].isdigit()]
    return max(numbers, default=0) + 1


def productions_dir() -> Path:
    return Path(settings.RECORDS_PRODUCTIONS_DIR)


def request_production(
    request: RecordsRequest,
    *,
    actor: Actor,
    fmt: str,
    bates_prefix: str,
    bates_start: int,
) -> Production:
    """Ask for the production package of the responsive (and withheld) messages with the
    request's redactions burned in and Bates numbers stamped. What is asked is kept on the
    production (messages and redactions as they stand now); the package is built by the
    ``records.build_production`` task, sent after commit (``build_production``)."""
    if fmt not in FORMATS:
        raise RequestError("Choose one of the formats.", "fmt")
    bates_prefix = bates_prefix.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,20}", bates_prefix):
        raise RequestError(
            "A Bates prefix is 1 to 20 letters, digits, dots, dashes or underscores.",
            "bates_prefix",
        )
    if bates_start < 1:
        raise RequestError("Bates numbers start at 1 or more.", "bates_start")
    from records.foia import tasks

    with agency_scope(request.agency_id), transaction.atomic():
        request = _lock(request)
        _open(request)
        if request.items.filter(decision=Decision.PENDING).exists():
            raise RequestError("Review every message of the review set before producing.")
        items = list(produced_items(request))
        if not items:
            raise RequestError("No message is marked responsive: nothing to produce.")
        asked = redactions.snapshot(request)
        production = Production.objects.create(
            agency_id=request.agency_id,
            request=request,
            fmt=fmt,
            bates_prefix=bates_prefix,
            bates_start=bates_start,
            message_ids=sorted(i.message_id for i in items),
            redactions=asked,
            item_count=len(items),
            redaction_count=redactions.count(asked),
            created_by=actor.label,
        )
        request.bates_prefix = bates_prefix
        request.save(update_fields=["bates_prefix"])
        _changed(
            request,
            actor,
            "production_requested",
            f"Production {fmt.upper()} of {len(items)} messages asked for, Bates {bates_prefix}"
            f" from {bates_start}.",
            {
                "production": production.pk,
                "fmt": fmt,
                "items": len(items),
                "redactions": production.redaction_count,
                "bates_prefix": bates_prefix,
                "bates_start": bates_start,
            },
        )
        production_id = production.pk
        transaction.on_commit(lambda: tasks.build_production.delay(production_id=production_id))
    return production


def build_production(production_id: int) -> Production | None:
    """Build a queued production's package and its redaction log; idempotent (a production
    built, failed or being built by another worker is left as it is). A failure is recorded
    on the production (and audited), not raised."""
    from records.exports.services import build

    with system_scope():
        agency_id = (
            Production.objects.filter(pk=production_id).values_list("agency_id", flat=True).first()
        )
    if agency_id is None:
        return None
    worker = Actor.worker("records.build_production")
    with agency_scope(agency_id):
        with transaction.atomic():
            production = (
                Production.objects.select_for_update()
                .select_related("request")
                .get(pk=production_id)
            )
            if production.status != Production.Status.QUEUED:
                return production
            production.status = Production.Status.BUILDING
            production.save(update_fields=["status"])
        request = production.request
        out_dir = (
            productions_dir() / str(agency_id) / request.number / f"production-{production.pk}"
        )
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            built = build(
                agency_id,
                Selection(message_ids=tuple(production.message_ids)),
                production.fmt,
                out_dir,
                redactions=redactions.from_snapshot(production.redactions),
                bates_prefix=production.bates_prefix,
                bates_start=production.bates_start,
                title=f"Records request {request.number}",
                actor=worker,
            )
            redactions.write_log(production.redactions.get("log") or [], out_dir / REDACTION_LOG)
        except Exception as exc:  # recorded for the records officer, in words
            logger.exception("production failed", extra={"production_id": production_id})
            with transaction.atomic():
                request = _lock(request)
                Production.objects.filter(pk=production_id).update(
                    status=Production.Status.FAILED,
                    error=str(exc)[:500] or type(exc).__name__,
                    finished_at=timezone.now(),
                )
                _changed(
                    request,
                    worker,
                    "production_failed",
                    f"Production {production.fmt.upper()} failed: {str(exc)[:300]}",
                    {"production": production_id, "error": str(exc)[:500]},
                )
            return Production.objects.get(pk=production_id)
        with transaction.atomic():
            request = _lock(request)
            Production.objects.filter(pk=production_id).update(
                status=Production.Status.DONE,
                path=str(built.path),
                bates_first=built.bates_first or "",
                bates_last=built.bates_last or "",
                tagmanifest_sha256=built.tagmanifest_sha256,
                finished_at=timezone.now(),
            )
            status_before = request.status
            if request.is_open:
                _advance(request, Status.PRODUCTION_READY)
                request.save(update_fields=["status", "status_changed_at"])
            _changed(
                request,
                worker,
                "produced",
                f"Production {production.fmt.upper()} of {production.item_count} messages built,"
                f" Bates {built.bates_first or '—'} to {built.bates_last or '—'}.",
                {
                    "production": production_id,
                    "fmt": production.fmt,
                    "messages": built.messages,
                    "bates": [built.bates_first, built.bates_last],
                    "tagmanifest_sha256": built.tagmanifest_sha256,
                    "requested_by": production.created_by,
                    "status": [status_before, request.status],
                },
            )
        return Production.objects.get(pk=production_id)


def produce(
    request: RecordsRequest,
    *,
    actor: Actor,
    fmt: str,
    bates_prefix: str,
    bates_start: int,
) -> Production:
    """Ask for a production and build it now (scripts, the demo, tests); the task sent
    after commit then finds it built and leaves it."""
    production = request_production(
        request, actor=actor, fmt=fmt, bates_prefix=bates_prefix, bates_start=bates_start
    )
    return build_production(production.pk) or production


class ProductionNotReady(ApplicationError):
    """The production is still queued or building (or failed: there is no package)."""

    code = "production_not_ready"
    http_status = 409


class ProductionMissing(ApplicationError):
    """The production was built but its folder is no longer on disk."""

    code = "production_package_missing"
    http_status = 410


def production_archive(production: Production, *, actor: Actor) -> tuple[str, io.BytesIO]:
    """The built production as one ZIP (the signed package and its redaction log, under
    the package's name), and that name; the download is audited
    (``records_request.production_downloaded``)."""
    if production.status != Production.Status.DONE:
        state = production.get_status_display().lower()
        raise ProductionNotReady(f"Production {production.pk} is {state}: no package to download.")
    package = Path(production.path)
    folder = package.parent  # the signed package and its redaction log
    root = productions_dir().resolve()
    if not package.exists() or root not in folder.resolve().parents:
        raise ProductionMissing(f"The package of production {production.pk} is no longer on disk.")
    name = package.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{name}/{file.relative_to(folder).as_posix()}")
            info.date_time = (1980, 1, 1, 0, 0, 0)  # the same files give the same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    buffer.seek(0)
    with agency_scope(production.agency_id), transaction.atomic():
        record_event(
            agency_id=production.agency_id,
            actor=actor,
            action="records_request.production_downloaded",
            target=production,
            changes={"production": production.pk, "package": name},
        )
    return name, buffer
