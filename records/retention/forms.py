"""Forms of the file plan and disposition pages. They check the shape of the input; the
services (``RetentionError``) check the rules (authority required, review-only kinds…)."""

from __future__ import annotations

import calendar
from typing import Any, cast

from django import forms

from inbox.models import Team
from records.holds.forms import NumberChoice
from records.retention.models import RecordCategory
from records.retention.services import CategoryData
from tenants.models import PhoneNumber


class CategoryForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    code = forms.CharField(
        label="File code", max_length=40, required=False, help_text="Your file plan's code."
    )
    kind = forms.ChoiceField(label="Records", choices=RecordCategory.Kind.choices)
    phone_number = NumberChoice(
        label="Only on this WhatsApp number",
        required=False,
        queryset=PhoneNumber.objects.none(),
        help_text="Conversations and notes only; leave empty for every number.",
    )
    team = forms.ModelChoiceField(
        label="Only for this team",
        required=False,
        queryset=Team.objects.none(),
        help_text="Conversations and notes only; leave empty for every team.",
    )
    description = forms.CharField(
        label="Description",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    authority = forms.CharField(
        label="Disposition authority",
        max_length=200,
        help_text="The schedule item that allows the disposition, e.g. GRS 6.1 item 011 or "
        "your state schedule's number.",
        error_messages={"required": "Give the disposition authority (e.g. GRS 6.1 item 011)."},
    )
    cutoff = forms.ChoiceField(label="Cutoff", choices=RecordCategory.Cutoff.choices)
    retain_years = forms.IntegerField(
        label="Keep for (years)", min_value=0, max_value=100, initial=0
    )
    retain_months = forms.IntegerField(label="and months", min_value=0, max_value=1200, initial=0)
    retain_days = forms.IntegerField(label="and days", min_value=0, max_value=10000, initial=0)
    action = forms.ChoiceField(
        label="Then",
        choices=RecordCategory.Action.choices,
        help_text="Audit events and consent records can only be reviewed or transferred.",
    )

    def __init__(self, *args: Any, agency_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = cast(NumberChoice, self.fields["phone_number"])
        numbers.queryset = PhoneNumber.objects.filter(agency_id=agency_id).order_by(
            "display_phone_number"
        )
        teams = cast(forms.ModelChoiceField, self.fields["team"])
        teams.queryset = Team.objects.filter(agency_id=agency_id)

    @classmethod
    def initial_of(cls, category: RecordCategory) -> dict[str, Any]:
        return {
            "name": category.name,
            "code": category.code,
            "kind": category.kind,
            "phone_number": category.phone_number_id,
            "team": category.team_id,
            "description": category.description,
            "authority": category.authority,
            "cutoff": category.cutoff,
            "retain_years": category.retain_years,
            "retain_months": category.retain_months,
            "retain_days": category.retain_days,
            "action": category.action,
        }

    def data_(self) -> CategoryData:
        data = self.cleaned_data
        number, team = data.get("phone_number"), data.get("team")
        return CategoryData(
            name=data["name"],
            code=data.get("code") or "",
            kind=data["kind"],
            phone_number_id=number.pk if number else None,
            team_id=team.pk if team else None,
            description=data.get("description") or "",
            authority=data["authority"],
            cutoff=data["cutoff"],
            retain_years=data.get("retain_years") or 0,
            retain_months=data.get("retain_months") or 0,
            retain_days=data.get("retain_days") or 0,
            action=data["action"],
        )


class FiscalYearForm(forms.Form):
    month = forms.TypedChoiceField(
        label="The fiscal year starts in",
        coerce=int,
        choices=[(m, calendar.month_name[m]) for m in range(1, 13)],
    )


class ApproveForm(forms.Form):
    confirm = forms.BooleanField(
        label="I approve the disposition of the eligible records under the authorities listed",
        error_messages={"required": "Tick the box to approve."},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why the report is rejected",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
