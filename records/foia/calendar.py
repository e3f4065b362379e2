"""The statutory clock in working days: Saturdays, Sundays and the agency's holidays do not
count, nor the days while the clock is paused (tolled).

Counting follows 5 U.S.C. 552(a)(6): the day of receipt is not counted; day 1 is the first
working day after it. A pause taken on day P and resumed on day R leaves the days after P up
to and including R uncounted: P counted (work was done that day), and a resumption is like
a new receipt (its day does not count either). A clock still paused has no due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)
# Far enough for any real clock (20 + extensions), near enough that a typo cannot loop for long.
MAX_SPAN_DAYS = 3660


@dataclass(frozen=True)
class Pause:
    start: dt.date
    end: dt.date | None  # None: still paused

    def covers(self, day: dt.date) -> bool:
        return self.start < day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Clock:
    received_on: dt.date
    allowed: int  # working days: the jurisdiction's plus its extensions
    used: int  # working days counted up to ``today``
    due_on: dt.date | None  # None while paused
    paused_since: dt.date | None

    @property
    def remaining(self) -> int:
        return self.allowed - self.used

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and today > self.due_on


def is_working_day(day: dt.date, holidays: Collection[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: dt.date, days: int, holidays: Collection[dt.date]) -> dt.date:
    """The day on which ``days`` working days after ``start`` (not counted) are complete."""
    return _due(start, days, holidays, ())


def _counts(day: dt.date, holidays: Collection[dt.date], pauses: Iterable[Pause]) -> bool:
    return is_working_day(day, holidays) and not any(p.covers(day) for p in pauses)


def _due(
    received: dt.date, days: int, holidays: Collection[dt.date], pauses: Iterable[Pause]
) -> dt.date:
    pauses = tuple(pauses)
    day, counted = received, 0
    for _ in range(MAX_SPAN_DAYS):
        if counted >= days:
            return day
        day += ONE_DAY
        if _counts(day, holidays, pauses):
            counted += 1
    raise ValueError(f"{days} working days do not fit in {MAX_SPAN_DAYS} calendar days")


def clock(
    *,
    received_on: dt.date,
    response_days: int,
    extension_days: int,
    pauses: Iterable[Pause],
    holidays: Collection[dt.date],
    today: dt.date,
) -> Clock:
    pauses = tuple(pauses)
    allowed = response_days + extension_days
    open_pause = next((p for p in pauses if p.end is None), None)
    used = 0
    day = received_on
    while day < today and (today - received_on).days <= MAX_SPAN_DAYS:
        day += ONE_DAY
        if _counts(day, holidays, pauses):
            used += 1
    due = None if open_pause else _due(received_on, allowed, holidays, pauses)
    return Clock(
        received_on=received_on,
        allowed=allowed,
        used=used,
        due_on=due,
        paused_since=open_pause.start if open_pause else None,
    )


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th ``weekday`` (Monday 0) of the month; n = -1 for the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last = following - ONE_DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """A holiday on a Saturday is observed the Friday before, on a Sunday the Monday after
    (5 U.S.C. 6103(b); OPM's rule for most federal employees)."""
    if day.weekday() == 5:
        return day - ONE_DAY
    if day.weekday() == 6:
        return day + ONE_DAY
    return day


def us_federal_holidays(year: int) -> list[tuple[dt.date, str]]:
    """The legal public holidays of 5 U.S.C. 6103(a) as observed in ``year`` (Inauguration
    Day, every fourth year in the Washington area only, is not included)."""
    fixed = [
        ((1, 1), "New Year's Day"),
        ((6, 19), "Juneteenth National Independence Day"),
        ((7, 4), "Independence Day"),
        ((11, 11), "Veterans Day"),
        ((12, 25), "Christmas Day"),
    ]
    days = [(_observed(dt.date(year, m, d)), name) for (m, d), name in fixed]
    days += [
        (_nth_weekday(year, 1, 0, 3), "Birthday of Martin Luther King, Jr."),
        (_nth_weekday(year, 2, 0, 3), "Washington's Birthday"),
        (_nth_weekday(year, 5, 0, -1), "Memorial Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 10, 0, 2), "Columbus Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
    ]
    return sorted(days)
