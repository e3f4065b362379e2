"""Each cutoff rule, with the clock moved through cutoff and retention: end of the calendar
year, end of the fiscal year (the agency's start month), and the event "conversation
resolved"; retention_floor says when, compute_eligibility lists only what is due."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from messaging.models import Conversation
from records.retention.models import DispositionItem
from records.retention.schedule import add_period
from records.retention.selectors import retention_floor
from records.retention.services import compute_eligibility, set_fiscal_year_start
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, note, say
from tests.records.retention.plan import Cutoff, Kind, category

pytestmark = pytest.mark.django_db(transaction=True)
CHICAGO = ZoneInfo("America/Chicago")  # agency A's time zone (tests.factories)


def floor(chat) -> datetime | None:
    with agency_scope(chat.agency_id):
        return retention_floor(chat.pk)


def due(agency, at: datetime) -> list[tuple[str, int]]:
    with time_machine.travel(at, tick=False):
        report = compute_eligibility(agency.pk)
    if report is None:
        return []
    with agency_scope(agency):
        return list(report.items.values_list("record_type", "record_id"))


def test_end_of_calendar_year_cuts_off_on_1_january_in_the_agencys_time_zone(agency_a):
    category(agency_a, cutoff=Cutoff.CALENDAR_YEAR, retain_years=1)
    chat = conversation(agency_a)
    # 31 December 23:30 in Chicago is already 1 January in UTC: Chicago's year counts.
    say(chat, at=datetime(2027, 1, 1, 5, 30, tzinfo=UTC))
    assert floor(chat) == datetime(2028, 1, 1, tzinfo=CHICAGO)
    assert due(agency_a, datetime(2028, 1, 1, 5, 59, tzinfo=UTC)) == []  # 23:59 in Chicago
    assert due(agency_a, datetime(2028, 1, 1, 6, 0, tzinfo=UTC)) == [("conversation", chat.pk)]


def test_end_of_fiscal_year_follows_the_agencys_start_month(agency_a):
    set_fiscal_year_start(agency_a.pk, 10, actor=OFFICER)  # 1 October, as the federal FY
    category(agency_a, cutoff=Cutoff.FISCAL_YEAR, retain_years=3)
    september = conversation(agency_a)
    say(september, at=datetime(2026, 9, 30, 12, tzinfo=CHICAGO))
    october = conversation(agency_a)
    say(october, at=datetime(2026, 10, 1, 12, tzinfo=CHICAGO))
    assert floor(september) == datetime(2029, 10, 1, tzinfo=CHICAGO)  # FY 2026 ends 1 Oct 2026
    assert floor(october) == datetime(2030, 10, 1, tzinfo=CHICAGO)
    assert due(agency_a, datetime(2029, 10, 2, tzinfo=CHICAGO)) == [("conversation", september.pk)]
    assert due(agency_a, datetime(2030, 10, 2, tzinfo=CHICAGO)) == [("conversation", october.pk)]


def test_a_january_fiscal_year_is_the_calendar_year(agency_a):
    set_fiscal_year_start(agency_a.pk, 1, actor=OFFICER)
    category(agency_a, cutoff=Cutoff.FISCAL_YEAR, retain_years=0, retain_months=6)
    chat = conversation(agency_a)
    say(chat, at=datetime(2026, 1, 1, 12, tzinfo=CHICAGO))
    assert floor(chat) == datetime(2027, 7, 1, tzinfo=CHICAGO)


def test_resolved_conversations_are_cut_off_when_resolved_and_not_while_open(agency_a):
    category(agency_a, cutoff=Cutoff.CONVERSATION_RESOLVED, retain_years=0, retain_days=30)
    chat = conversation(agency_a)
    say(chat, at=datetime(2026, 5, 1, tzinfo=UTC))
    assert floor(chat) is None  # open: its cutoff event has not happened
    resolved = datetime(2026, 5, 5, 15, tzinfo=UTC)
    with agency_scope(agency_a):
        Conversation.objects.filter(pk=chat.pk).update(
            status=Conversation.Status.RESOLVED, resolved_at=resolved
        )
    assert floor(chat) == datetime(2026, 6, 4, 15, tzinfo=UTC)
    assert due(agency_a, datetime(2026, 6, 4, 14, tzinfo=UTC)) == []
    assert due(agency_a, datetime(2026, 6, 4, 15, tzinfo=UTC)) == [("conversation", chat.pk)]


def test_a_reopened_conversation_has_no_cutoff_any_more(agency_a):
    category(agency_a, cutoff=Cutoff.CONVERSATION_RESOLVED, retain_years=0, retain_days=1)
    chat = conversation(agency_a)
    say(chat, at=datetime(2026, 5, 1, tzinfo=UTC))
    with agency_scope(agency_a):
        Conversation.objects.filter(pk=chat.pk).update(
            status=Conversation.Status.OPEN, resolved_at=datetime(2026, 5, 2, tzinfo=UTC)
        )
    assert floor(chat) is None
    assert due(agency_a, datetime(2027, 1, 1, tzinfo=UTC)) == []


def test_a_conversation_no_category_covers_is_unscheduled(agency_a):
    from tests.factories import PhoneNumberFactory

    other_number = PhoneNumberFactory(agency=agency_a)
    category(agency_a, phone_number_id=other_number.pk)
    chat = conversation(agency_a)
    say(chat, at=datetime(2020, 1, 1, tzinfo=UTC))
    assert floor(chat) is None
    assert due(agency_a, datetime(2040, 1, 1, tzinfo=UTC)) == []


def test_the_most_specific_category_governs(agency_a):
    from tests.factories import PhoneNumberFactory

    hotline = PhoneNumberFactory(agency=agency_a)
    category(agency_a, retain_years=7)
    category(agency_a, name="Hotline", phone_number_id=hotline.pk, retain_years=1)
    general, on_hotline = conversation(agency_a), conversation(agency_a, phone_number=hotline)
    for chat in (general, on_hotline):
        say(chat, at=datetime(2026, 3, 1, tzinfo=UTC))
    assert floor(general) == datetime(2034, 1, 1, tzinfo=CHICAGO)
    assert floor(on_hotline) == datetime(2028, 1, 1, tzinfo=CHICAGO)
    assert due(agency_a, datetime(2028, 2, 1, tzinfo=UTC)) == [("conversation", on_hotline.pk)]


def test_notes_have_their_own_schedule(agency_a):
    category(agency_a, name="Notes", kind=Kind.NOTES, retain_years=0, retain_months=3)
    chat = conversation(agency_a)
    say(chat, at=datetime(2026, 6, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 6, 2, tzinfo=UTC), tick=False):
        staff_note = note(chat)
    assert due(agency_a, datetime(2027, 3, 31, tzinfo=UTC)) == []
    assert due(agency_a, datetime(2027, 4, 1, 6, tzinfo=UTC)) == [("note", staff_note.pk)]


def test_a_record_already_listed_in_a_pending_report_is_not_listed_again(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    say(chat, at=datetime(2026, 3, 1, tzinfo=UTC))
    assert due(agency_a, datetime(2028, 2, 1, tzinfo=UTC)) == [("conversation", chat.pk)]
    assert due(agency_a, datetime(2028, 2, 2, tzinfo=UTC)) == []
    with agency_scope(agency_a):
        assert DispositionItem.objects.count() == 1


def test_months_are_calendar_months_clamped_to_the_months_end():
    assert add_period(datetime(2027, 1, 31, tzinfo=UTC), months=1) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert add_period(datetime(2028, 1, 31, tzinfo=UTC), months=1) == datetime(
        2028, 2, 29, tzinfo=UTC
    )
    assert add_period(datetime(2026, 3, 15, tzinfo=UTC), years=-1, months=-3) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def test_a_report_takes_at_most_max_items_per_category_so_none_crowds_out_another(
    agency_a, monkeypatch
):
    from records.audit import record_event
    from records.retention import services
    from tests.records.retention.plan import Action

    monkeypatch.setattr(services, "MAX_ITEMS", 2)
    category(agency_a, name="Audit", kind=Kind.AUDIT_EVENTS, action=Action.REVIEW)
    category(agency_a)
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        for i in range(5):
            record_event(
                agency_id=agency_a.pk, actor=OFFICER, action="case.updated", changes={"i": i}
            )
    chats = [conversation(agency_a) for _ in range(3)]
    for chat in chats:
        say(chat, at=datetime(2026, 3, 1, tzinfo=UTC))
    first = due(agency_a, datetime(2028, 2, 1, tzinfo=UTC))
    assert sorted(kind for kind, _ in first).count("audit_event") == 2
    assert sorted(kind for kind, _ in first).count("conversation") == 2
    second = due(agency_a, datetime(2028, 2, 2, tzinfo=UTC))  # the rest, without repeats
    assert not set(first) & set(second)
    assert [kind for kind, _ in second].count("conversation") == 1
