"""The export form: which records (the shared Selection's criteria) and which format."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from inbox.models import Label
from records.exports.models import ExportJob
from records.holds.models import LegalHold
from records.selection import Selection
from tenants.models import PhoneNumber


class HoldChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: LegalHold) -> str:
        return f"{obj.matter_id} ({obj.get_status_display().lower()})"


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=ExportJob.Format.choices,
        initial=ExportJob.Format.RSMF,
        widget=forms.RadioSelect,
    )
    contact = forms.CharField(
        label="Citizen's WhatsApp number (optional)",
        required=False,
        max_length=32,
        help_text="In international format, for example +1 512 555 0100.",
    )
    conversation = forms.IntegerField(
        label="Conversation number (optional)", required=False, min_value=1
    )
    phone_number = forms.ModelChoiceField(
        label="Business number (optional)", queryset=PhoneNumber.objects.none(), required=False
    )
    label = forms.ModelChoiceField(
        label="Label (optional)", queryset=Label.objects.none(), required=False
    )
    since = forms.DateField(
        label="From (optional)",
        required=False,
        help_text="The first day included (UTC), for example 2026-03-01.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label="Up to (optional)",
        required=False,
        help_text="The last day included (UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    hold = HoldChoiceField(
        label="Legal hold (optional)",
        queryset=LegalHold.objects.none(),
        required=False,
        help_text="The messages the hold holds, or held before its release.",
    )
    query = forms.CharField(
        label="Words in the messages (optional)",
        required=False,
        max_length=500,
        help_text='Quote a phrase ("permit renewal"), "or" for either word, -word to leave out.',
    )
    title = forms.CharField(
        label="Title (optional)",
        required=False,
        max_length=200,
        help_text="Printed on the package, for example the matter or request number.",
    )
    bates_prefix = forms.CharField(
        label="Bates prefix (optional)",
        required=False,
        max_length=20,
        help_text="Numbers every message (every page of a PDF), for example DMV-.",
    )
    bates_start = forms.IntegerField(
        label="First Bates number", initial=1, min_value=0, max_value=10**9
    )

    def __init__(self, *args: Any, agency: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = self.fields["phone_number"]
        labels = self.fields["label"]
        if isinstance(numbers, forms.ModelChoiceField):
            numbers.queryset = PhoneNumber.objects.filter(agency=agency).order_by("pk")
        if isinstance(labels, forms.ModelChoiceField):
            labels.queryset = Label.objects.filter(agency=agency).order_by("name")
        holds = self.fields["hold"]
        if isinstance(holds, forms.ModelChoiceField):
            holds.queryset = LegalHold.objects.filter(agency=agency)

    def clean_bates_prefix(self) -> str:
        value = str(self.cleaned_data.get("bates_prefix") or "")
        if value and not value.isprintable():
            raise forms.ValidationError("Use letters, digits and punctuation only.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The last day is before the first day.")
        return data

    def selection(self) -> Selection:
        data = self.cleaned_data
        since: dt.date | None = data.get("since")
        until: dt.date | None = data.get("until")
        return Selection(
            contact_wa_id=data.get("contact") or "",
            conversation_id=data.get("conversation"),
            phone_number_id=data["phone_number"].pk if data.get("phone_number") else None,
            since=dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
            until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
            if until
            else None,
            label_id=data["label"].pk if data.get("label") else None,
            query=data.get("query") or "",
            hold_id=data["hold"].pk if data.get("hold") else None,
        )
