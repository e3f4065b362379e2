"""The records officer's forms: what was typed is checked here (types, bounds), the rules
(exemption codes of the jurisdiction, spans within the text) by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from records.foia.models import Jurisdiction, RecordsRequest, RequestItem
from records.selection import Selection

MAX_TEXT = 5000


def _clean_text(value: str) -> str:
    return (value or "").replace("\x00", "").strip()


class _Form(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key, value in list(data.items()):
            if isinstance(value, str):
                data[key] = _clean_text(value)
        return data


class IntakeForm(_Form):
    requester_name = forms.CharField(label="Requester's name", max_length=200)
    requester_contact = forms.CharField(
        label="Requester's contact",
        max_length=300,
        help_text="Email, postal address or phone: where the response goes.",
    )
    received_on = forms.DateField(
        label="Received on",
        help_text="The day the proper office received it (YYYY-MM-DD). The clock starts the "
        "next working day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    first_received_on = forms.DateField(
        label="First received by another office on",
        required=False,
        help_text="Only for a request sent to the wrong office first: under federal FOIA the "
        "clock then starts at the latest 10 working days after that day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    jurisdiction = forms.ModelChoiceField(
        label="Jurisdiction", queryset=Jurisdiction.objects.none(), empty_label=None
    )
    description = forms.CharField(
        label="Records requested",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="As the requester described them.",
    )

    def __init__(self, *args: Any, jurisdictions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = jurisdictions  # type: ignore[attr-defined]


class ExtensionForm(_Form):
    days = forms.IntegerField(label="Working days", min_value=1, max_value=365)
    reason = forms.CharField(
        label="Reason for the extension",
        max_length=500,
        help_text="As given in the written notice to the requester.",
    )


class ClockForm(_Form):
    reason = forms.CharField(label="Reason", max_length=500)


class StatusForm(_Form):
    status = forms.ChoiceField(label="New status", choices=RecordsRequest.Status.choices)
    note = forms.CharField(label="Note", max_length=500, required=False)


class SearchForm(_Form):
    query = forms.CharField(
        label="Words",
        max_length=500,
        required=False,
        help_text='Full text: "a quoted phrase", or, -word to leave out.',
    )
    contact_wa_id = forms.CharField(
        label="Contact's WhatsApp number", max_length=40, required=False
    )
    since = forms.DateField(
        label="From (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Until (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone_number = forms.ChoiceField(label="Agency number", required=False)
    label = forms.ChoiceField(label="Inbox label", required=False)

    def __init__(
        self,
        *args: Any,
        phone_numbers: list[tuple[int, str]],
        labels: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].choices = [("", "Any"), *phone_numbers]  # type: ignore[attr-defined]
        self.fields["label"].choices = [("", "Any"), *labels]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date comes on or after the start date.")
        wa_id = data.get("contact_wa_id") or ""
        if wa_id and not any(ch.isdigit() for ch in wa_id):
            self.add_error("contact_wa_id", "A WhatsApp number is digits, as +1 512 555 0100.")
        return data

    def selection(self, tz: dt.tzinfo) -> Selection:
        data = self.cleaned_data

        def moment(day: dt.date | None, plus: int = 0) -> dt.datetime | None:
            if day is None:
                return None
            return dt.datetime.combine(day + dt.timedelta(days=plus), dt.time(), tzinfo=tz)

        return Selection(
            query=data.get("query") or "",
            contact_wa_id=data.get("contact_wa_id") or "",
            since=moment(data.get("since")),
            until=moment(data.get("until"), 1),
            phone_number_id=int(data["phone_number"]) if data.get("phone_number") else None,
            label_id=int(data["label"]) if data.get("label") else None,
        )


class ItemDecisionForm(_Form):
    decision = forms.ChoiceField(label="Decision on this message", choices=())
    code = forms.ChoiceField(label="Exemption code (to withhold in full)", required=False)

    def __init__(self, *args: Any, codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [  # type: ignore[attr-defined]
            (v, label) for v, label in RequestItem.Decision.choices if v != "pending"
        ]
        self.fields["code"].choices = [("", "None"), *codes]  # type: ignore[attr-defined]


class DecisionForm(_Form):
    items = forms.TypedMultipleChoiceField(label="Messages", coerce=int, choices=())
    decision = forms.ChoiceField(label="Mark the chosen messages", choices=())
    code = forms.ChoiceField(label="Exemption code (to withhold in full)", required=False)

    def __init__(
        self, *args: Any, item_ids: list[int], codes: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(pk, str(pk)) for pk in item_ids]  # type: ignore[attr-defined]
        self.fields["decision"].choices = [  # type: ignore[attr-defined]
            (v, label) for v, label in RequestItem.Decision.choices if v != "pending"
        ]
        self.fields["code"].choices = [("", "None"), *codes]  # type: ignore[attr-defined]


def code_choices(jurisdiction: Jurisdiction) -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} {c.label}") for c in jurisdiction.codes.all()]


def _choose(codes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A code select starts on "Choose a code": no code is applied by default."""
    return [("", "Choose a code"), *codes]


class SpanForm(_Form):
    start = forms.IntegerField(label="Start", min_value=0, max_value=10_000_000)
    end = forms.IntegerField(label="End", min_value=0, max_value=10_000_000)
    code = forms.ChoiceField(label="Exemption code for the passage")
    note = forms.CharField(
        label="Justification for the passage",
        max_length=500,
        required=False,
        help_text="The foreseeable harm of disclosure, for the redaction log.",
    )

    def __init__(self, *args: Any, codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _choose(codes)  # type: ignore[attr-defined]


class PhraseForm(_Form):
    phrase = forms.CharField(label="Phrase to redact everywhere", max_length=500, strip=False)
    code = forms.ChoiceField(label="Exemption code")
    note = forms.CharField(label="Justification", max_length=500, required=False)

    def __init__(
        self, *args: Any, codes: list[tuple[str, str]], label: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _choose(codes)  # type: ignore[attr-defined]
        if label:
            self.fields["phrase"].label = label
            self.fields["code"].label = "Exemption code for the words"
            self.fields["note"].label = "Justification for the words"

    def clean(self) -> dict[str, Any]:
        # The phrase is kept as typed (spaces matter), without NUL.
        raw = self.data.get(self.add_prefix("phrase"), "")
        data = super().clean()
        if "phrase" in data:
            data["phrase"] = str(raw).replace("\x00", "")
        return data


class MediaForm(_Form):
    code = forms.ChoiceField(label="Exemption code for the file")
    note = forms.CharField(label="Justification for the file", max_length=500, required=False)

    def __init__(self, *args: Any, codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _choose(codes)  # type: ignore[attr-defined]


class ProductionForm(_Form):
    fmt = forms.ChoiceField(
        label="Format",
        choices=[
            ("pdf", "PDF/A transcript"),
            ("rsmf", "RSMF 2.0 (review tools)"),
            ("eml", "EML messages"),
            ("mbox", "MBOX"),
            ("jsonl", "JSON Lines"),
            ("csv", "CSV"),
        ],
    )
    bates_prefix = forms.CharField(
        label="Bates prefix", max_length=20, help_text="Up to 20 letters, digits, dots, dashes."
    )
    bates_start = forms.IntegerField(label="First Bates number", min_value=1, max_value=99_999_999)


class JurisdictionForm(_Form):
    name = forms.CharField(label="Name", max_length=120)
    response_days = forms.IntegerField(label="Working days to respond", min_value=1, max_value=365)
    extension_days = forms.IntegerField(
        label="Working days of extension allowed", min_value=0, max_value=365
    )
    routing_days = forms.IntegerField(
        label="Routing days",
        min_value=0,
        max_value=365,
        required=False,
        help_text="A request first received by another office starts its clock at the latest "
        "this many working days later (federal FOIA: 10). 0 for none.",
    )
    citation = forms.CharField(label="Statute", max_length=200, required=False)

    def clean_routing_days(self) -> int:
        return self.cleaned_data.get("routing_days") or 0


class ExemptionCodeForm(_Form):
    code = forms.CharField(
        label="Code", max_length=40, help_text="As shown on a redaction: (b)(6)."
    )
    label = forms.CharField(label="Meaning", max_length=200)


class HolidayForm(_Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Holiday", max_length=120)


class FederalHolidaysForm(_Form):
    year = forms.IntegerField(label="Year", min_value=1900, max_value=2200)
