"""Forms of the consent pages: they validate; services act."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator

from messaging.consent.selectors import State
from messaging.models import Consent

SLUG = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,63}$",
    "Lower-case letters, digits, “-” and “_”, starting with a letter or digit.",
)


def _topic_choices(topics: Any, *, everything: str) -> list[tuple[str, str]]:
    return [("", everything), *((t.slug, t.name) for t in topics)]


class TopicForm(forms.Form):
    slug = forms.CharField(
        label="Short name",
        max_length=64,
        validators=[SLUG],
        help_text="What templates and consent records carry, e.g. “alerts”. "
        "It cannot change later.",
    )
    name = forms.CharField(label="Name", max_length=120)
    name_es = forms.CharField(label="Name in Spanish", max_length=120, required=False)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    wording = forms.CharField(
        label="Opt-in wording",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What a citizen agrees to on the opt-in page, next to the checkbox.",
    )
    wording_es = forms.CharField(
        label="Opt-in wording in Spanish",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    keywords = forms.CharField(
        label="Keywords",
        max_length=200,
        required=False,
        help_text="Words a citizen sends on WhatsApp to opt in, separated by commas, e.g. "
        "“ALERTS”. “STOP ALERTS” then opts them out of this topic.",
    )
    page_enabled = forms.BooleanField(label="Publish the opt-in page", required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]

    def clean_keywords(self) -> list[str]:
        words = [w.strip() for w in self.cleaned_data["keywords"].split(",") if w.strip()]
        for word in words:
            if len(word) > 30 or not all(ch.isalnum() or ch == " " for ch in word):
                raise forms.ValidationError(f"“{word[:30]}”: letters and digits only, at most 30.")
        return words


class DirectoryForm(forms.Form):
    q = forms.CharField(label="Name or phone number", max_length=100, required=False)
    state = forms.ChoiceField(
        label="Consent",
        required=False,
        choices=[("", "Any"), *((s.value, s.label) for s in State)],
    )
    topic = forms.ChoiceField(label="Topic", required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, topics: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["topic"]).choices = _topic_choices(
            topics, everything="All messages"
        )


class StaffConsentForm(forms.Form):
    status = forms.ChoiceField(
        label="What the citizen asked",
        choices=Consent.Status.choices,
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    topic = forms.ChoiceField(label="Topic", required=False)
    source = forms.ChoiceField(
        label="How they told you",
        choices=[
            (Consent.Source.PAPER, "Paper form"),
            (Consent.Source.PHONE, "Phone call"),
        ],
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    staff_name = forms.CharField(label="Your name", max_length=120)
    note = forms.CharField(
        label="Note",
        max_length=500,
        required=False,
        help_text="E.g. the form's reference number or when they called.",
    )

    def __init__(self, *args: Any, topics: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["topic"]).choices = _topic_choices(
            topics, everything="All messages"
        )


class CsvFileInput(forms.FileInput):
    """A native file input: USWDS's enhanced one previews the chosen file through an
    inline ``onerror`` handler, which our Content-Security-Policy blocks (and a CSV has no
    preview to show)."""


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=CsvFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
        help_text="A header row with a “phone” column; “name” and “topic” columns are "
        "optional, other columns are kept as evidence. At most 20 MB.",
    )
    topic = forms.ChoiceField(
        label="Topic for rows without one",
        required=False,
        help_text="The consent the citizens on this list gave.",
    )
    phone_column = forms.CharField(
        label="Phone column", max_length=60, required=False, help_text="If not named “phone”."
    )

    def __init__(self, *args: Any, topics: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["topic"]).choices = _topic_choices(
            topics, everything="All messages"
        )
