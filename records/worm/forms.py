"""The archive policy form: what a records officer chooses for the agency. The service
checks again (``ArchiveError``)."""

from __future__ import annotations

from django import forms

from records.worm.models import LockMode


class PolicyForm(forms.Form):
    mode = forms.ChoiceField(
        label="Lock mode of new versions",
        choices=LockMode.choices,
        help_text=(
            "Archived versions keep the lock they were written with: a lock is never weakened."
        ),
    )
    active_days = forms.IntegerField(
        label="Days without activity before a conversation is archived",
        min_value=0,
        max_value=3650,
    )
    minimum_retention_days = forms.IntegerField(
        label="Minimum retention, in days, while the file plan gives no date",
        min_value=1,
        max_value=36500,
        help_text=(
            "No longer than the file plan's shortest retention for conversations: a version "
            "is never destroyed before it, whatever the file plan later says."
        ),
    )
