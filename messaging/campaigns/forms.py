"""Forms of the campaign pages: each wizard step is a form of its own (one submit per step,
no JavaScript needed). They check what a person typed or uploaded; the engine's services
(``messaging.campaigns.services``) check the rest and do the work."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone

from inbox.models import Label
from messaging.campaigns.services import MAX_UPLOAD_BYTES
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import VALUE_MAX, Variable
from tenants.models import PhoneNumber

# An audience file larger than the engine reads is refused before it is uploaded further.
CSV_MAX_BYTES = MAX_UPLOAD_BYTES
CSV_MAX_MB = CSV_MAX_BYTES // (1024 * 1024)
CSV_CONTENT_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",  # what Windows browsers call a .csv
    "application/octet-stream",
}


class NumberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        number = cast(PhoneNumber, obj)
        name = f" ({number.verified_name})" if number.verified_name else ""
        return f"{number.display_phone_number}{name}"


class DetailsForm(forms.Form):
    """Step 1: what the campaign is called and which number sends it."""

    name = forms.CharField(
        label="Campaign name",
        max_length=200,
        error_messages={"required": "Enter a name for the campaign."},
        help_text="For staff only; citizens never see it. "
        "For example “Flu clinic reminder, March”.",
    )
    phone_number = NumberChoice(
        label="Send from",
        queryset=PhoneNumber.objects.none(),
        empty_label="Choose a phone number",
        help_text="Templates and the messaging limit are those of this number's WhatsApp account.",
    )

    def __init__(self, *args: Any, phone_numbers: QuerySet[PhoneNumber], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(NumberChoice, self.fields["phone_number"])
        field.queryset = phone_numbers
        only = list(phone_numbers[:2])
        if len(only) == 1:  # an agency with one number has nothing to choose
            field.initial = only[0].pk
            field.empty_label = None

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if not name:
            raise forms.ValidationError("Enter a name for the campaign.")
        return name


class TemplateForm(forms.Form):
    """Step 2: one of the number's approved templates."""

    template = forms.ModelChoiceField(
        label="Template",
        queryset=MessageTemplate.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a template.",
            "invalid_choice": "That template is not approved for this number any more: "
            "choose another.",
        },
    )

    def __init__(self, *args: Any, templates: QuerySet[MessageTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["template"]).queryset = templates


class AudienceForm(forms.Form):
    """Step 3: who receives it: opted-in contacts (optionally narrowed) or an uploaded list."""

    CONTACTS = "contacts"
    CSV = "csv"

    source = forms.ChoiceField(
        label="Audience",
        choices=[
            (CONTACTS, "Opted-in contacts of the agency"),
            (CSV, "A list of phone numbers I upload (CSV file)"),
        ],
        widget=forms.RadioSelect,
        initial=CONTACTS,
        error_messages={"required": "Choose who receives the campaign."},
    )
    topic = forms.ChoiceField(
        label="Consent topic",
        required=False,
        help_text="Only people who opted in to this topic. Leave it empty for any opt-in.",
    )
    label = forms.ModelChoiceField(
        label="Conversation label",
        queryset=Label.objects.none(),
        required=False,
        empty_label="Any label",
        help_text="Only people with a conversation carrying this label.",
    )
    attribute_key = forms.CharField(
        label="Contact attribute",
        required=False,
        max_length=64,
        help_text="For example “county”. Leave it empty for no attribute filter.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    attribute_value = forms.CharField(
        label="Attribute value",
        required=False,
        max_length=200,
        help_text="For example “Travis”: the attribute must equal it exactly.",
    )
    csv_file = forms.FileField(
        label="CSV file",
        required=False,
        help_text=f"A .csv file (UTF-8, at most {CSV_MAX_MB} MB) with a header row and a "
        "column named “phone” (numbers with the country code, e.g. +1 512 555 0100); other "
        "columns can fill the template's variables. Only people who opted in are sent to.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(
        self,
        *args: Any,
        topics: list[tuple[str, str]],
        labels: QuerySet[Label],
        has_csv: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        topic_field = cast(forms.ChoiceField, self.fields["topic"])
        topic_field.choices = [("", "Any opt-in"), *topics]
        cast(forms.ModelChoiceField, self.fields["label"]).queryset = labels
        self.has_csv = has_csv  # a list uploaded before: the step can go on without a new one

    def clean_attribute_key(self) -> str:
        key = str(self.cleaned_data.get("attribute_key") or "").strip()
        if key and not key.replace("_", "").replace("-", "").isalnum():
            raise forms.ValidationError(
                "Use letters, digits, - and _ only, as the attribute is named on contacts."
            )
        return key

    def clean_csv_file(self) -> UploadedFile | None:
        upload = cast(UploadedFile | None, self.cleaned_data.get("csv_file"))
        if not upload:
            return None
        name = (upload.name or "").lower()
        if not name.endswith(".csv"):
            raise forms.ValidationError("Choose a .csv file (a spreadsheet saved as CSV).")
        if upload.content_type and upload.content_type.split(";")[0] not in CSV_CONTENT_TYPES:
            raise forms.ValidationError("That file is not a CSV file.")
        if (upload.size or 0) > CSV_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {CSV_MAX_MB} MB: split it in parts."
            )
        if not upload.size:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        no_file = not data.get("csv_file") and not self.has_csv and "csv_file" not in self.errors
        if data.get("source") == self.CSV and no_file:
            self.add_error("csv_file", "Choose the CSV file to upload.")
        if bool(data.get("attribute_key")) != bool(data.get("attribute_value")):
            missing = "attribute_value" if data.get("attribute_key") else "attribute_key"
            self.add_error(missing, "Give both the attribute and its value, or neither.")
        return data


class MappingForm(forms.Form):
    """Step 4: where each of the template's variables gets its value, per recipient.

    Two fields per variable ``<key>``: ``<key>-source`` (a contact attribute, a column of the
    uploaded list, or the same fixed text for everyone) and ``<key>-value`` (the attribute's
    name, the column's name, or the text)."""

    ATTRIBUTE = "attribute"
    COLUMN = "column"
    FIXED = "fixed"

    def __init__(
        self, *args: Any, variables: list[Variable], columns: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.variables = variables
        self.columns = columns
        sources = [(self.ATTRIBUTE, "Contact attribute")]
        if columns:
            sources.append((self.COLUMN, "Column of the uploaded list"))
        sources.append((self.FIXED, "Fixed text (the same for everyone)"))
        for variable in variables:
            self.fields[f"{variable.key}-source"] = forms.ChoiceField(
                label=f"{variable.label}: value from", choices=sources
            )
            hint = f"Example from the template: “{variable.example}”. " if variable.example else ""
            self.fields[f"{variable.key}-value"] = forms.CharField(
                label=f"{variable.label}: attribute, column or text",
                max_length=VALUE_MAX,
                help_text=hint + "An attribute's name (e.g. first_name, or profile_name for "
                "the WhatsApp name), a column's name, or the text itself.",
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )

    def pairs(self) -> list[tuple[Variable, Any, Any]]:
        """Each variable with its two bound fields, for the template."""
        return [(v, self[f"{v.key}-source"], self[f"{v.key}-value"]) for v in self.variables]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for variable in self.variables:
            source = data.get(f"{variable.key}-source")
            value = str(data.get(f"{variable.key}-value") or "").strip()
            if source == self.COLUMN and value not in self.columns:
                names = ", ".join(self.columns)
                self.add_error(
                    f"{variable.key}-value", f"The uploaded list has no column “{value}” ({names})."
                )
            elif source == self.ATTRIBUTE and not value.replace("_", "").isalnum():
                self.add_error(
                    f"{variable.key}-value", "An attribute's name has letters, digits and _ only."
                )
        return data

    def mapping(self) -> dict[str, dict[str, str]]:
        """``{variable key: {"source": ..., "value": ...}}``, as the engine stores it."""
        return {
            v.key: {
                "source": str(self.cleaned_data[f"{v.key}-source"]),
                "value": str(self.cleaned_data[f"{v.key}-value"]).strip(),
            }
            for v in self.variables
        }


class ScheduleForm(forms.Form):
    """Step 5: now (once confirmed) or at a date and time of the agency's time zone."""

    NOW = "now"
    LATER = "later"

    when = forms.ChoiceField(
        label="When to send",
        choices=[(NOW, "As soon as I confirm"), (LATER, "At a date and time")],
        widget=forms.RadioSelect,
        initial=NOW,
        error_messages={"required": "Choose when to send."},
    )
    send_date = forms.DateField(
        label="Date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date like 2026-03-31."},
    )
    send_time = forms.TimeField(
        label="Time",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time like 09:30."},
    )

    def __init__(self, *args: Any, tz_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(tz_name)
        for name in ("send_date", "send_time"):
            self.fields[name].help_text = f"In the agency's time zone ({tz_name})."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["scheduled_at"] = None
        if data.get("when") != self.LATER:
            return data
        day = cast(date | None, data.get("send_date"))
        at = cast(time | None, data.get("send_time"))
        if day is None and "send_date" not in self.errors:
            self.add_error("send_date", "Enter the date to send on.")
        if at is None and "send_time" not in self.errors:
            self.add_error("send_time", "Enter the time to send at.")
        if day is None or at is None:
            return data
        scheduled = datetime.combine(day, at).replace(tzinfo=self.zone)
        if scheduled <= timezone.now():
            self.add_error("send_date", "That time has passed: choose a later one.")
            return data
        data["scheduled_at"] = scheduled
        return data


class ConfirmForm(forms.Form):
    """The review page's confirmation. ``plan`` is the fingerprint of the plan the admin
    looked at: if the audience changed since, the page is shown again instead of sending."""

    plan = forms.CharField(widget=forms.HiddenInput, max_length=128)
    split_across_days = forms.BooleanField(
        label="Send across several days, within the messaging limit each day",
        required=False,
    )


class StatusFilterForm(forms.Form):
    """A list's status filter (campaigns or recipients): an unknown status is no filter."""

    status = forms.ChoiceField(label="Status", required=False)

    def __init__(self, *args: Any, statuses: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", "All"), *statuses]

    def chosen(self) -> str | None:
        return (self.cleaned_data.get("status") or None) if self.is_valid() else None


class PricingForm(forms.Form):
    """The agency's Meta rates: one field per (pricing category, country group)."""

    def __init__(
        self,
        *args: Any,
        cells: list[tuple[str, str, str, Decimal | None]],
        currency: str,
        **kwargs: Any,
    ) -> None:
        """``cells``: (field name, category label, country group label, current rate)."""
        super().__init__(*args, **kwargs)
        self.cells = cells
        for name, category, group, rate in cells:
            self.fields[name] = forms.DecimalField(
                label=f"{category}, {group} ({currency} per message)",
                min_value=Decimal("0"),
                max_value=Decimal("10"),
                max_digits=8,
                decimal_places=4,
                initial=rate,
                required=False,
                error_messages={
                    "invalid": "Enter an amount like 0.025.",
                    "max_digits": "Enter an amount below 10 with at most 4 decimal places.",
                    "max_decimal_places": "Enter at most 4 decimal places.",
                },
            )

    def rates(self) -> dict[str, Decimal | None]:
        return {name: self.cleaned_data.get(name) for name, *_ in self.cells}
