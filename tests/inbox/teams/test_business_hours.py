"""Business hours in the agency's time zone, around midnight and across weekdays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.admin_pages.hours import is_open, summary, weekly_from_days
from tests.inbox.teams.factories import WEEKDAYS_9_TO_5

CHICAGO = ZoneInfo("America/Chicago")  # UTC-6 in winter
NIGHT_LINE = {"fri": [["22:00", "02:00"]]}  # Friday night until 2 a.m. Saturday


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 11, 30, 16, 0), True),  # Monday 10:00 in Chicago
        (utc(2026, 11, 30, 14, 30), False),  # Monday 08:30 in Chicago (14:30 UTC)
        (utc(2026, 11, 30, 22, 30), True),  # Monday 16:30 in Chicago (22:30 UTC)
        (utc(2026, 11, 30, 23, 0), False),  # Monday 17:00 in Chicago: closing time
        (utc(2026, 12, 1, 5, 59), False),  # Monday 23:59 in Chicago, Tuesday in UTC
        (utc(2026, 12, 5, 16, 0), False),  # Saturday 10:00 in Chicago
        (utc(2026, 12, 7, 3, 0), False),  # Sunday 21:00 in Chicago, Monday 03:00 UTC
    ],
)
def test_weekday_hours_are_read_in_the_agencys_time_zone(moment, expected):
    assert is_open(WEEKDAYS_9_TO_5, moment, CHICAGO) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 12, 5, 3, 59), False),  # Friday 21:59 in Chicago
        (utc(2026, 12, 5, 4, 0), True),  # Friday 22:00
        (utc(2026, 12, 5, 5, 59), True),  # Friday 23:59
        (utc(2026, 12, 5, 6, 0), True),  # Saturday 00:00: still Friday's night
        (utc(2026, 12, 5, 7, 59), True),  # Saturday 01:59
        (utc(2026, 12, 5, 8, 0), False),  # Saturday 02:00: closed
        (utc(2026, 12, 6, 6, 30), False),  # Sunday 00:30: Saturday had no night
    ],
)
def test_an_interval_past_midnight_runs_into_the_next_day(moment, expected):
    assert is_open(NIGHT_LINE, moment, CHICAGO) is expected


def test_malformed_hours_count_as_closed():
    weekly = {"mon": [["9am", "5pm"], ["09:00"]], "tue": "all day", "wed": None}
    assert not any(
        is_open(weekly, utc(2026, 11, 30, 18) + timedelta(days=offset), CHICAGO)
        for offset in range(3)
    )


def test_hours_are_stored_and_described_one_interval_a_day():
    weekly = weekly_from_days({"mon": (time(9), time(17)), "tue": None, "fri": (time(22), time(2))})

    assert weekly == {"mon": [["09:00", "17:00"]], "fri": [["22:00", "02:00"]]}
    assert summary(weekly)[0] == ("Monday", "09:00 to 17:00")
    assert summary(weekly)[1] == ("Tuesday", "Closed")
    assert summary(weekly)[4] == ("Friday", "22:00 to 02:00 (next day)")
