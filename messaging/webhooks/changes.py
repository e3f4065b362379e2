"""What the webhook handlers share: a routed change, its route, the error that quarantines
a change, and Meta's unix time. A module of its own so that handlers do not import the
dispatcher (``processing``), which imports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class InvalidChange(Exception):
    """A change whose shape we cannot use: recorded on the event, never retried."""


@dataclass(frozen=True)
class Route:
    agency_id: int
    waba_pk: int
    waba_id: str
    phone_number_pk: int | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True)
class Change:
    """One ``entry[].changes[]`` item, routed: what a handler gets."""

    event_id: int
    field: str
    value: dict[str, Any]
    route: Route
    entry_time: datetime | None  # WABA-level webhooks carry `entry[].time`


def unix_time(value: Any) -> datetime | None:
    """Meta's unix seconds (a string in messages and statuses, an int elsewhere); None when
    it is not one."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
