"""File plan builders for the retention tests."""

from __future__ import annotations

from typing import Any

from records.retention.models import RecordCategory
from records.retention.services import CategoryData, save_category
from tests.records.holds.helpers import OFFICER

Kind = RecordCategory.Kind
Cutoff = RecordCategory.Cutoff
Action = RecordCategory.Action


def category(agency, **overrides) -> RecordCategory:
    values: dict[str, Any] = {
        "name": "Citizen conversations",
        "kind": Kind.CONVERSATIONS,
        "authority": "GRS 6.1 item 011",
        "cutoff": Cutoff.CALENDAR_YEAR,
        "action": Action.DESTROY,
        "retain_years": 1,
    } | overrides
    return save_category(agency.pk, CategoryData(**values), actor=OFFICER)
