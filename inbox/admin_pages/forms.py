"""Forms of the inbox's admin pages: they validate input; ``services`` does the work."""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet

from inbox.admin_pages import hours as hours_lib
from inbox.admin_pages.services import MAX_COOLDOWN_HOURS, MIN_COOLDOWN_HOURS, normalize_shortcut
from inbox.models import DEFAULT_CAPACITY, AgentStatus, BusinessHours
from tenants.models import PhoneNumber

_CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input"})


class MemberField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user = cast(User, obj)
        full_name = user.get_full_name()
        return f"{full_name} ({user.email})" if full_name else user.email


class NumberField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        number = cast(PhoneNumber, obj)
        return f"{number.display_phone_number} ({number.verified_name})"


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(label="Description", max_length=300, required=False)
    auto_assign = forms.BooleanField(
        label="Assign new conversations automatically",
        required=False,
        initial=True,
        help_text="Round robin among the team's available agents, up to each one's capacity.",
    )
    members = MemberField(
        label="Members",
        queryset=User.objects.none(),
        required=False,
        widget=_CHECKBOXES,
        help_text="Only staff whose role lets them answer conversations are listed.",
    )
    phone_numbers = NumberField(
        label="Phone numbers routed to this team",
        queryset=PhoneNumber.objects.none(),
        required=False,
        widget=_CHECKBOXES,
        help_text="New conversations on these numbers go to this team's queue.",
    )

    def __init__(
        self,
        *args: Any,
        members: QuerySet[User],
        phone_numbers: QuerySet[PhoneNumber],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(MemberField, self.fields["members"]).queryset = members
        cast(NumberField, self.fields["phone_numbers"]).queryset = phone_numbers


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(
        label="Capacity", min_value=1, max_value=100, initial=DEFAULT_CAPACITY
    )


class CannedResponseForm(forms.Form):
    shortcut = forms.SlugField(
        label="Shortcut",
        max_length=40,
        help_text="Agents type /shortcut in the composer. Letters, digits, - and _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    title = forms.CharField(label="Title", max_length=100)
    body = forms.CharField(
        label="Text",
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What is inserted in the reply (at most 4,096 characters).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and args[0] is not None:  # accept "/greeting" as the admin may type it
            data = args[0].copy()
            data["shortcut"] = normalize_shortcut(str(data.get("shortcut", "")))
            args = (data, *args[1:])
        super().__init__(*args, **kwargs)


class LabelForm(forms.Form):
    name = forms.CharField(label="Name", max_length=50)
    description = forms.CharField(label="Description", max_length=200, required=False)


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(choices=AgentStatus.Availability.choices)
    next = forms.CharField(required=False, max_length=2000)


_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class BusinessHoursForm(forms.Form):
    """One opening interval per weekday; a day left empty is closed."""

    enabled = forms.BooleanField(
        label="Send the away message outside these hours",
        required=False,
        help_text="Hours are in the agency's time zone.",
    )
    away_message = forms.CharField(
        label="Away message",
        max_length=1024,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent to a citizen who writes while the office is closed.",
    )
    away_cooldown_hours = forms.IntegerField(
        label="Cooldown (hours)",
        min_value=MIN_COOLDOWN_HOURS,
        max_value=MAX_COOLDOWN_HOURS,
        initial=12,
        help_text="A conversation gets the away message at most once in this many hours.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in hours_lib.DAYS:
            name = hours_lib.DAY_NAMES[day]
            self.fields[f"{day}_open"] = forms.TimeField(
                label=f"{name} opens", required=False, widget=_TIME
            )
            self.fields[f"{day}_close"] = forms.TimeField(
                label=f"{name} closes", required=False, widget=_TIME
            )

    @classmethod
    def initial_for(cls, hours: BusinessHours | None) -> dict[str, Any]:
        if hours is None:
            return {"away_cooldown_hours": 12}
        initial: dict[str, Any] = {
            "enabled": hours.enabled,
            "away_message": hours.away_message,
            "away_cooldown_hours": hours.away_cooldown_hours,
        }
        for day in hours_lib.DAYS:
            found = hours_lib.intervals(hours.weekly, day)
            if found:
                initial[f"{day}_open"], initial[f"{day}_close"] = found[0]
        return initial

    def day_rows(self) -> list[dict[str, Any]]:
        """For the template: each day's name and its two fields."""
        return [
            {
                "day": day,
                "name": hours_lib.DAY_NAMES[day],
                "fields": [self[f"{day}_open"], self[f"{day}_close"]],
            }
            for day in hours_lib.DAYS
        ]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("enabled", "away_message", "away_cooldown_hours")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        days: dict[str, tuple[time, time] | None] = {}
        for day in hours_lib.DAYS:
            opens, closes = cleaned.get(f"{day}_open"), cleaned.get(f"{day}_close")
            name = hours_lib.DAY_NAMES[day]
            if opens is None and closes is None:
                days[day] = None
            elif opens is None or closes is None:
                missing = f"{day}_open" if opens is None else f"{day}_close"
                self.add_error(missing, f"Give both times for {name}, or neither (closed).")
            elif opens == closes:
                self.add_error(f"{day}_close", f"{name} closes when it opens: change one.")
            else:
                days[day] = (opens, closes)
        if cleaned.get("enabled") and not (cleaned.get("away_message") or "").strip():
            self.add_error("away_message", "Write the message citizens get outside these hours.")
        cleaned["days"] = days
        return cleaned


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class AgencySettingsForm(forms.Form):
    name = forms.CharField(label="Agency name", max_length=200)
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        help_text="The inbox's day separators and the business hours follow it.",
    )
    contact_name = forms.CharField(label="Contact person", max_length=200, required=False)
    contact_email = forms.EmailField(label="Contact email", required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=32, required=False)
    address = forms.CharField(
        label="Address", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    keyword_opt_in_allowed = forms.BooleanField(
        label="Citizens may opt back in by sending START (or ALTA, UNSTOP)",
        required=False,
        help_text="Off: a citizen who opted out can only be opted in again by staff or a form.",
    )
    marketing_messages_api = forms.BooleanField(
        label="Send marketing templates through Meta's Marketing Messages API",
        required=False,
        help_text=(
            "Only for agencies that accepted Meta's Marketing Messages API terms for this "
            "business. Utility and authentication templates always go through the Cloud API."
        ),
    )
