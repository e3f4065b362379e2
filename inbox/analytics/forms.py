"""The analytics page's filter (a GET form)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms

from inbox.analytics.selectors import MAX_DAYS

PRESETS = {"7": 7, "30": 30, "90": 90}
ANYONE = ""


def _choices(names: dict[int, str], everyone: str) -> list[tuple[str, str]]:
    return [(ANYONE, everyone), *((str(pk), name) for pk, name in names.items())]


class AnalyticsFilter(forms.Form):
    range = forms.ChoiceField(
        label="Period",
        choices=[
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
            ("90", "Last 90 days"),
            ("custom", "Custom dates"),
        ],
        initial="30",
        required=False,
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    team = forms.ChoiceField(label="Team", required=False)
    agent = forms.ChoiceField(label="Agent", required=False)

    def __init__(
        self, data: Any, *, today: date, teams: dict[int, str], staff: dict[int, str]
    ) -> None:
        super().__init__(data)
        self.today = today
        for name, names, everyone in (("team", teams, "All teams"), ("agent", staff, "All agents")):
            choice = cast(forms.ChoiceField, self.fields[name])
            choice.choices = _choices(names, everyone)
        for name in ("range", "team", "agent"):
            self.fields[name].widget.attrs["class"] = "usa-select"
        for name in ("start", "end"):
            self.fields[name].widget.attrs["class"] = "usa-input"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("range") or "30"
        if chosen == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError("Choose both dates of a custom period.")
            if end < start:
                raise forms.ValidationError("The period must end on or after its first day.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        else:
            days = PRESETS.get(chosen, 30)
            data["start"], data["end"] = self.today - timedelta(days=days - 1), self.today
        data["range"] = chosen
        return data

    def period(self) -> tuple[date, date, int | None, int | None]:
        """(first day, last day, team pk, agent pk): the form's, or the last 30 days of
        everyone when it is invalid."""
        if self.is_valid():
            data = self.cleaned_data
            return data["start"], data["end"], _pk(data.get("team")), _pk(data.get("agent"))
        return self.today - timedelta(days=29), self.today, None, None


def _pk(value: str | None) -> int | None:
    return int(value) if value else None
