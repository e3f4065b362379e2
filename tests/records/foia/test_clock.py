"""The statutory clock in working days: weekends and the agency's holidays skipped,
extensions and tolling move the due date; every move is audited and published."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bsp.events.models import DomainEvent
from bsp.events.types import RECORDS_REQUEST_CHANGED
from records.foia import calendar, services
from records.foia.errors import RequestError
from records.foia.models import Jurisdiction, RecordsRequest
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.records.foia.conftest import ACTOR, new_request

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
D = dt.date


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO)


def test_twenty_working_days_skip_weekends_and_not_the_day_of_receipt():
    # Received Monday 2 June 2025: day 1 is Tuesday the 3rd, day 20 Monday the 30th.
    assert calendar.add_working_days(D(2025, 6, 2), 20, set()) == D(2025, 6, 30)


def test_a_request_received_on_a_saturday_starts_counting_on_monday():
    assert calendar.add_working_days(D(2025, 6, 7), 1, set()) == D(2025, 6, 9)
    assert calendar.add_working_days(D(2025, 6, 7), 20, set()) == D(2025, 7, 4)


def test_a_holiday_is_not_a_working_day():
    juneteenth = {D(2025, 6, 19)}
    assert calendar.add_working_days(D(2025, 6, 2), 20, juneteenth) == D(2025, 7, 1)


def test_a_due_date_falling_on_a_holiday_moves_to_the_next_working_day():
    assert calendar.add_working_days(D(2025, 6, 7), 20, {D(2025, 7, 4)}) == D(2025, 7, 7)


def test_a_pause_leaves_out_the_days_after_it_up_to_the_resumption():
    # Paused Thursday 5 June (counted: 3, 4, 5), resumed Thursday 12 June: 6, 9-12 not counted.
    state = calendar.clock(
        received_on=D(2025, 6, 2),
        response_days=20,
        extension_days=0,
        pauses=[calendar.Pause(D(2025, 6, 5), D(2025, 6, 12))],
        holidays=set(),
        today=D(2025, 6, 13),
    )
    assert state.due_on == D(2025, 7, 7)  # 30 June + the 5 working days paused
    assert (state.used, state.remaining) == (4, 16)


def test_a_clock_still_paused_has_no_due_date():
    state = calendar.clock(
        received_on=D(2025, 6, 2),
        response_days=20,
        extension_days=0,
        pauses=[calendar.Pause(D(2025, 6, 5), None)],
        holidays=set(),
        today=D(2025, 6, 20),
    )
    assert state.due_on is None
    assert state.paused_since == D(2025, 6, 5)
    assert state.used == 3


def test_intake_computes_the_due_date_with_the_agencys_holidays(agency_a, foia_a):
    services.add_holiday(agency_a, actor=ACTOR, date=D(2025, 6, 19), name="Juneteenth")
    with time_machine.travel(at(D(2025, 6, 2)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
    assert request.due_on == D(2025, 7, 1)
    assert request.number == "2025-0001"


def test_a_holiday_added_later_moves_the_open_requests_due_dates(agency_a, foia_a):
    with time_machine.travel(at(D(2025, 6, 2)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
        services.add_holiday(agency_a, actor=ACTOR, date=D(2025, 6, 19), name="Juneteenth")
    with agency_scope(agency_a):
        assert RecordsRequest.objects.get(pk=request.pk).due_on == D(2025, 7, 1)


def test_an_extension_adds_working_days_and_is_audited_and_published(agency_a, foia_a):
    with time_machine.travel(at(D(2025, 6, 20)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
        request = services.extend(request, actor=ACTOR, days=10, reason="Unusual circumstances")
    assert request.due_on == D(2025, 7, 14)
    with agency_scope(agency_a):
        audit = AuditEvent.objects.get(action="records_request.extended")
        assert audit.changes["due_on"] == ["2025-06-30", "2025-07-14"]
        assert audit.changes["reason"] == "Unusual circumstances"
        published = DomainEvent.objects.filter(type=RECORDS_REQUEST_CHANGED).order_by("sequence")
        assert [e.payload["action"] for e in published] == ["created", "extended"]
        assert published.last().payload["due_on"] == "2025-07-14"


def test_extensions_beyond_the_jurisdictions_allowance_are_refused(agency_a, foia_a):
    request = new_request(agency_a, foia_a)
    services.extend(request, actor=ACTOR, days=6, reason="Volume")
    with pytest.raises(RequestError, match="allows 10 working days of extension in all; 4 left"):
        services.extend(request, actor=ACTOR, days=5, reason="More volume")


def test_an_extension_needs_a_reason(agency_a, foia_a):
    request = new_request(agency_a, foia_a)
    with pytest.raises(RequestError, match="reason"):
        services.extend(request, actor=ACTOR, days=3, reason="   ")


def test_tolling_pauses_the_clock_and_resuming_moves_the_due_date(agency_a, foia_a):
    with time_machine.travel(at(D(2025, 6, 5)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
        request = services.toll(request, actor=ACTOR, reason="Asked the requester to clarify")
    assert (request.due_on, request.tolled_since) == (None, D(2025, 6, 5))
    with time_machine.travel(at(D(2025, 6, 12)), tick=False):
        request = services.resume(request, actor=ACTOR, reason="Requester answered")
    assert (request.due_on, request.tolled_since) == (D(2025, 7, 7), None)
    with agency_scope(agency_a):
        actions = list(
            AuditEvent.objects.filter(action__startswith="records_request.")
            .order_by("sequence")
            .values_list("action", flat=True)
        )
    assert actions[-2:] == ["records_request.tolled", "records_request.resumed"]


def test_a_paused_clock_cannot_be_paused_again(agency_a, foia_a):
    request = new_request(agency_a, foia_a)
    services.toll(request, actor=ACTOR, reason="Fees")
    with pytest.raises(RequestError, match="already paused"):
        services.toll(request, actor=ACTOR, reason="Fees again")


def test_the_clock_counts_up_to_today_and_flags_an_overdue_request(agency_a, foia_a):
    with time_machine.travel(at(D(2025, 6, 2)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
    with time_machine.travel(at(D(2025, 7, 1)), tick=False):
        state = services.request_clock(request)
        assert (state.used, state.remaining) == (21, -1)
        assert state.is_overdue(services.agency_today(agency_a))


def test_a_received_date_in_the_future_is_refused(agency_a, foia_a):
    with pytest.raises(RequestError, match="future"):
        new_request(agency_a, foia_a, received_on=services.agency_today(agency_a) + dt.timedelta(2))


def test_a_misrouted_requests_clock_starts_at_the_latest_ten_working_days_after_first_receipt(
    agency_a, foia_a
):
    # First received Monday 2 June 2025 by another office; ten working days later is
    # Monday 16 June; the proper office got it on Friday 20 June: the clock counts from the 16th.
    with time_machine.travel(at(D(2025, 6, 20)), tick=False):
        request = new_request(
            agency_a, foia_a, received_on=D(2025, 6, 20), first_received_on=D(2025, 6, 2)
        )
    assert request.due_on == calendar.add_working_days(D(2025, 6, 16), 20, set())
    assert request.due_on == D(2025, 7, 14)


def test_a_request_routed_quickly_counts_from_the_proper_offices_receipt(agency_a, foia_a):
    with time_machine.travel(at(D(2025, 6, 5)), tick=False):
        request = new_request(
            agency_a, foia_a, received_on=D(2025, 6, 4), first_received_on=D(2025, 6, 2)
        )
    assert request.due_on == calendar.add_working_days(D(2025, 6, 4), 20, set())


def test_a_jurisdiction_without_a_routing_rule_counts_from_the_proper_offices_receipt(agency_a):
    services.ensure_example_jurisdictions(agency_a, actor=ACTOR)
    with agency_scope(agency_a):
        california = Jurisdiction.objects.get(name="California Public Records Act")
    with time_machine.travel(at(D(2025, 6, 20)), tick=False):
        request = new_request(
            agency_a, california, received_on=D(2025, 6, 20), first_received_on=D(2025, 6, 2)
        )
    assert request.due_on == calendar.add_working_days(D(2025, 6, 20), 10, set())


def test_a_first_receipt_after_the_proper_offices_is_refused(agency_a, foia_a):
    with pytest.raises(RequestError, match="first receipt comes on or before"):
        new_request(
            agency_a,
            foia_a,
            received_on=D(2025, 6, 2),
            first_received_on=D(2025, 6, 3),
        )


def test_the_federal_holidays_of_2027_as_observed():
    assert calendar.us_federal_holidays(2027) == [
        (D(2027, 1, 1), "New Year's Day"),
        (D(2027, 1, 18), "Birthday of Martin Luther King, Jr."),
        (D(2027, 2, 15), "Washington's Birthday"),
        (D(2027, 5, 31), "Memorial Day"),
        (D(2027, 6, 18), "Juneteenth National Independence Day"),  # Saturday the 19th
        (D(2027, 7, 5), "Independence Day"),  # Sunday the 4th
        (D(2027, 9, 6), "Labor Day"),
        (D(2027, 10, 11), "Columbus Day"),
        (D(2027, 11, 11), "Veterans Day"),
        (D(2027, 11, 25), "Thanksgiving Day"),
        (D(2027, 12, 24), "Christmas Day"),  # Saturday the 25th
    ]


def test_adding_a_years_federal_holidays_keeps_those_listed_and_moves_due_dates(agency_a, foia_a):
    services.add_holiday(agency_a, actor=ACTOR, date=D(2025, 7, 4), name="Fourth of July")
    with time_machine.travel(at(D(2025, 6, 2)), tick=False):
        request = new_request(agency_a, foia_a, received_on=D(2025, 6, 2))
        assert services.add_federal_holidays(agency_a, actor=ACTOR, year=2025) == 10
    with agency_scope(agency_a):
        assert RecordsRequest.objects.get(pk=request.pk).due_on == D(2025, 7, 1)  # Juneteenth
    assert services.add_federal_holidays(agency_a, actor=ACTOR, year=2025) == 0
