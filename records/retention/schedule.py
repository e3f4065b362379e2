"""When a record's cutoff falls and when its retention ends: pure functions of the
record's dates, its category's instruction and the agency's fiscal year.

Periodic cutoffs close at the end of the period that holds the record's date, in the
agency's time zone: the end of the calendar year (the next 1 January, 00:00) or of the
fiscal year (the next first day of the fiscal year's start month). The event cutoff
"conversation resolved" falls when the conversation was resolved, and has not fallen while
it is open (reopening a conversation takes its cutoff back). Retention runs from the
cutoff (``dateutil.relativedelta``: 31 January + 1 month is 28/29 February).
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from records.retention.models import RecordCategory

Cutoff = RecordCategory.Cutoff


def period_end(value: datetime, rule: str, tz: ZoneInfo, fiscal_start_month: int) -> datetime:
    local = value.astimezone(tz)
    if rule == Cutoff.CALENDAR_YEAR:
        return datetime(local.year + 1, 1, 1, tzinfo=tz)
    if rule == Cutoff.FISCAL_YEAR:
        month = fiscal_start_month
        year = local.year + 1 if local.month >= month else local.year
        return datetime(year, month, 1, tzinfo=tz)
    raise ValueError(f"{rule} is not a periodic cutoff")


def cutoff_at(
    category: RecordCategory,
    *,
    dated: datetime,
    resolved_at: datetime | None,
    tz: ZoneInfo,
    fiscal_start_month: int,
) -> datetime | None:
    """The record's cutoff (None: its event has not happened)."""
    if category.cutoff == Cutoff.CONVERSATION_RESOLVED:
        return resolved_at
    return period_end(dated, category.cutoff, tz, fiscal_start_month)


def add_period(value: datetime, *, years: int = 0, months: int = 0, days: int = 0) -> datetime:
    """``value`` plus calendar years and months (clamped to the month's last day), then days."""
    total = value.year * 12 + (value.month - 1) + years * 12 + months
    year, month = divmod(total, 12)
    month += 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day) + timedelta(days=days)


def retention_ends(category: RecordCategory, cutoff: datetime) -> datetime:
    return add_period(
        cutoff,
        years=category.retain_years,
        months=category.retain_months,
        days=category.retain_days,
    )


def latest_due(category: RecordCategory, now: datetime) -> datetime:
    """A lower bound: a record dated after this cannot be due at ``now`` (its cutoff is
    after its date and its retention ends at least the retention after that)."""
    return add_period(
        now,
        years=-category.retain_years,
        months=-category.retain_months,
        days=-category.retain_days + 4,  # month-end clamping moves dates by up to 3 days
    )
