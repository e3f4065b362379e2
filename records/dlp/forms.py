"""The policy page's forms (agency admins). Every value is checked here or by the service;
a refused value is a form error next to its field, never an exception."""

from __future__ import annotations

from typing import Any

from django import forms

from bsp.sensitive_data import KIND_LABELS
from records.dlp.models import AUTO_REPLY_MAX, BUILT_IN_KINDS, DlpPolicy, SensitiveDataRule
from records.dlp.services import override_role_choices, reveal_role_choices

_KIND_CHOICES = [
    (kind, KIND_LABELS[kind][0].upper() + KIND_LABELS[kind][1:]) for kind in BUILT_IN_KINDS
]


class PolicyForm(forms.Form):
    outbound_block = forms.BooleanField(
        label="Check outgoing messages and stop those that carry sensitive data",
        required=False,
        help_text="Inbox replies, API sends and campaigns (a campaign skips the recipient).",
    )
    outbound_kinds = forms.MultipleChoiceField(
        label="Data that stops an outgoing message",
        choices=_KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The agency's own rules with the action “block” stop messages too.",
    )
    override_roles = forms.MultipleChoiceField(
        label="Roles that may send it anyway, with a justification",
        choices=override_role_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The justification is recorded in the audit log with the kinds found.",
    )
    inbound_flag = forms.BooleanField(
        label="Flag incoming messages that carry sensitive data",
        required=False,
        help_text="The kinds found are stored beside the message, never the values.",
    )
    inbound_mask = forms.BooleanField(
        label="Mask sensitive data in the inbox",
        required=False,
        help_text="Shown as •••-••-1234. The stored record is never changed.",
    )
    reveal_roles = forms.MultipleChoiceField(
        label="Roles that may reveal masked data",
        choices=reveal_role_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each reveal is recorded in the audit log.",
    )
    phi_hints = forms.BooleanField(
        label="Also flag possible health information (hints for reviewers; never masked)",
        required=False,
    )
    auto_reply_enabled = forms.BooleanField(
        label="Reply automatically asking the citizen not to send such data",
        required=False,
    )
    auto_reply_text = forms.CharField(
        label="Automatic reply",
        required=False,
        max_length=AUTO_REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent inside the 24-hour window, through the normal send path.",
    )
    auto_reply_hours = forms.IntegerField(
        label="At most once per conversation every (hours)",
        min_value=1,
        max_value=720,
        error_messages=dict.fromkeys(
            ("required", "invalid", "min_value", "max_value"),
            "Give a number of hours from 1 to 720 (30 days).",
        ),
    )

    @classmethod
    def of(cls, policy: DlpPolicy, data: Any = None) -> PolicyForm:
        initial = {
            name: getattr(policy, name)
            for name in (
                "outbound_block",
                "outbound_kinds",
                "override_roles",
                "inbound_flag",
                "inbound_mask",
                "reveal_roles",
                "phi_hints",
                "auto_reply_enabled",
                "auto_reply_text",
                "auto_reply_hours",
            )
        }
        return cls(data, initial=initial)

    def clean_auto_reply_text(self) -> str:
        text = self.cleaned_data.get("auto_reply_text") or ""
        return text.replace("\x00", "").strip()


class RuleForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    pattern = forms.CharField(
        label="Regular expression",
        required=False,
        max_length=2000,
        help_text="Either a regular expression or keywords. Patterns that could take minutes "
        "on one message (such as (a+)+) are refused.",
    )
    keywords = forms.CharField(
        label="Keywords",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; matched as whole words, in any case.",
    )
    action = forms.ChoiceField(
        label="When a message matches", choices=SensitiveDataRule.Action.choices
    )
    direction = forms.ChoiceField(
        label="Messages checked", choices=SensitiveDataRule.Direction.choices
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in ("name", "pattern", "keywords"):
            if isinstance(data.get(key), str):
                data[key] = data[key].replace("\x00", "")
        if bool(data.get("pattern", "").strip()) == bool(data.get("keywords", "").strip()):
            self.add_error("pattern", "Give either a regular expression or keywords, not both.")
        return data
