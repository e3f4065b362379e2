"""Business hours: when a number is staffed, in the agency's time zone.

``BusinessHours.weekly`` maps a weekday ("mon" … "sun") to a list of ``["HH:MM", "HH:MM"]``
intervals (open, close). An interval whose closing time is not after its opening time runs
overnight: "22:00" to "06:00" on Monday is open from Monday 22:00 to Tuesday 06:00. A day not
listed (or listed with no interval) is closed.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, tzinfo
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)

Interval = tuple[time, time]


def agency_zone(name: str) -> tzinfo:
    """The agency's time zone (UTC if its name is not one: the model validates it)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def intervals(weekly: Any, day: str) -> list[Interval]:
    """The day's intervals; malformed entries are skipped (the column is JSON)."""
    found: list[Interval] = []
    entries = weekly.get(day) if isinstance(weekly, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not (isinstance(entry, list | tuple) and len(entry) == 2):
            continue
        try:
            found.append((time.fromisoformat(entry[0]), time.fromisoformat(entry[1])))
        except (TypeError, ValueError):
            continue
    return found


def is_open(weekly: Any, at: datetime, zone: tzinfo) -> bool:
    """Whether ``at`` falls inside the hours, read in ``zone`` (the agency's)."""
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    for opens, closes in intervals(weekly, today):
        if opens < closes and opens <= now < closes:
            return True
        if closes <= opens and now >= opens:  # overnight, its evening part
            return True
    return any(
        closes <= opens and now < closes  # yesterday's overnight interval, its morning
        for opens, closes in intervals(weekly, yesterday)
    )


def weekly_from_days(days: dict[str, Interval | None]) -> dict[str, list[list[str]]]:
    """The JSON form of one (open, close) per day, None for closed."""
    return {
        day: [[opens.strftime("%H:%M"), closes.strftime("%H:%M")]]
        for day, interval in days.items()
        if interval is not None
        for opens, closes in [interval]
    }


def summary(weekly: Any) -> list[tuple[str, str]]:
    """Each day's name and its hours in words ("09:00 to 17:00", "Closed")."""
    rows = []
    for day in DAYS:
        found = intervals(weekly, day)
        text = ", ".join(
            f"{opens:%H:%M} to {closes:%H:%M}{' (next day)' if closes <= opens else ''}"
            for opens, closes in found
        )
        rows.append((DAY_NAMES[day], text or "Closed"))
    return rows
