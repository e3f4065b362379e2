"""Forms of the conversation page's side panel. Choices are the agency's own rows, so an id
of another agency's row is simply not a valid choice."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from inbox import selectors
from inbox.models import Label, Team
from messaging.models import Consent, Conversation
from tenants.models import Agency


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Assign to", required=False)
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(u.pk): u for u in selectors.assignable_members(agency)}
        self.teams = {str(t.pk): t for t in selectors.teams_of_agency(agency)}
        assignee, team = self.fields["assignee"], self.fields["team"]
        assert isinstance(assignee, forms.ChoiceField) and isinstance(team, forms.ChoiceField)  # noqa: S101
        assignee.choices = [("", "Nobody (unassigned)")] + [
            (pk, u.get_full_name() or u.email) for pk, u in self.members.items()
        ]
        team.choices = [("", "No team")] + [(pk, t.name) for pk, t in self.teams.items()]

    def chosen_assignee(self) -> User | None:
        return self.members.get(self.cleaned_data.get("assignee") or "")

    def chosen_team(self) -> Team | None:
        return self.teams.get(self.cleaned_data.get("team") or "")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Conversation.Status.choices)
    snooze_until = forms.DateTimeField(
        label="Snooze until",
        required=False,
        help_text="In your agency's time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("status") == Conversation.Status.SNOOZED:
            until = cleaned.get("snooze_until")
            if until is None:
                self.add_error("snooze_until", "Choose when the conversation should reopen.")
            elif until <= timezone.now():
                self.add_error("snooze_until", "Choose a time in the future.")
        return cleaned


class LabelsForm(forms.Form):
    labels = forms.ModelMultipleChoiceField(
        label="Labels",
        queryset=Label.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels"].queryset = Label.objects.filter(agency=agency)  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Private note",
        max_length=4000,
        help_text="Only staff see notes. Mention a colleague with @ and their email name.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsentForm(forms.Form):
    status = forms.ChoiceField(label="Record", choices=Consent.Status.choices)
    topic = forms.CharField(
        label="Topic",
        required=False,
        max_length=64,
        help_text="Leave empty for all messages from the agency.",
    )
    evidence = forms.CharField(
        label="How did they tell you?",
        max_length=500,
        help_text="For example: phone call on the help line, paper form at the front desk.",
    )
