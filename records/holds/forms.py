"""Forms of the holds pages: what a records officer types for a hold's selection, its
matter and reason, and a release. They check the shape of the input; the services check
the rest (``HoldError``)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User

from inbox.models import Label
from messaging.models import Conversation
from records.selection import Selection
from tenants.models import Membership, PhoneNumber

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NumberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        number = cast(PhoneNumber, obj)
        name = f" ({number.verified_name})" if number.verified_name else ""
        return f"{number.display_phone_number}{name}"


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user = cast(User, obj)
        return user.get_full_name() or user.email or user.get_username()


class SelectionForm(forms.Form):
    """The records a hold names; every criterion given narrows it. An empty form is every
    message of the agency (the preview says so)."""

    contact_wa_id = forms.CharField(
        label="Citizen's WhatsApp number",
        required=False,
        max_length=32,
        help_text="In international format, e.g. +1 512 555 0100.",
    )
    conversation_id = forms.IntegerField(
        label="Conversation number",
        required=False,
        min_value=1,
        help_text="The number in the conversation's address in the inbox.",
    )
    phone_number = NumberChoice(
        label="Agency WhatsApp number", required=False, queryset=PhoneNumber.objects.none()
    )
    since = forms.DateField(label="From (date)", required=False, widget=DATE)
    until = forms.DateField(label="Until (date, included)", required=False, widget=DATE)
    label = forms.ModelChoiceField(
        label="Conversation label", required=False, queryset=Label.objects.none()
    )
    query = forms.CharField(
        label="Words in the messages",
        required=False,
        max_length=500,
        help_text='Full text: "quoted phrase", or, -word to leave out.',
    )

    def __init__(self, *args: Any, agency_id: int, tz: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency_id = agency_id
        self.tz = zoneinfo.ZoneInfo(tz)
        numbers = cast(NumberChoice, self.fields["phone_number"])
        numbers.queryset = PhoneNumber.objects.filter(agency_id=agency_id).order_by(
            "display_phone_number"
        )
        labels = cast(forms.ModelChoiceField, self.fields["label"])
        labels.queryset = Label.objects.filter(agency_id=agency_id)

    def clean_contact_wa_id(self) -> str:
        value = str(self.cleaned_data.get("contact_wa_id") or "").strip()
        if value and not 6 <= sum(ch.isdigit() for ch in value) <= 15:
            raise forms.ValidationError("Give a number in international format.")
        if value and any(not (ch.isdigit() or ch in "+-() .") for ch in value):
            raise forms.ValidationError("A number has only digits, spaces, +, - and brackets.")
        return value

    def clean_conversation_id(self) -> int | None:
        value = self.cleaned_data.get("conversation_id")
        if value is None:
            return None
        if (
            value > 2**62
            or not Conversation.objects.filter(agency_id=self.agency_id, pk=value).exists()
        ):
            raise forms.ValidationError("This agency has no conversation with this number.")
        return int(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data

    def _instant(self, day: date | None, *, next_day: bool = False) -> datetime | None:
        if day is None:
            return None
        if next_day:
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=self.tz)

    def selection(self) -> Selection:
        data = self.cleaned_data
        number = data.get("phone_number")
        label = data.get("label")
        return Selection(
            contact_wa_id=data.get("contact_wa_id") or "",
            conversation_id=data.get("conversation_id"),
            phone_number_id=number.pk if number else None,
            since=self._instant(data.get("since")),
            until=self._instant(data.get("until"), next_day=True),
            label_id=label.pk if label else None,
            query=(data.get("query") or "").strip(),
        )


class HoldForm(SelectionForm):
    matter_id = forms.CharField(
        label="Matter id",
        max_length=100,
        help_text="The case, claim or request the records are held for, e.g. LIT-2026-014.",
    )
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = UserChoice(
        label="Owner",
        required=False,
        queryset=User.objects.none(),
        help_text="Who answers for the hold (counsel, the records officer).",
    )

    field_order = ["matter_id", "reason", "owner"]

    def __init__(self, *args: Any, agency_id: int, tz: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, agency_id=agency_id, tz=tz, **kwargs)
        members = Membership.objects.filter(agency_id=agency_id).values("user_id")
        owners = cast(UserChoice, self.fields["owner"])
        owners.queryset = User.objects.filter(pk__in=members, is_active=True).order_by("email")
        self.order_fields(self.field_order)


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the release",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E.g. the case was settled or the request closed; it is audited.",
    )
