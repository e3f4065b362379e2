"""Forms of the staff UI: they validate input; services in tenants/ do the work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from tenants.api.scopes import SCOPE_DESCRIPTIONS, Scope
from tenants.models import PhoneNumber, WhatsAppBusinessAccount
from tenants.permissions import Role
from tenants.services import ApplicationError, validate_new_password


class SwitchAgencyForm(forms.Form):
    agency_id = forms.IntegerField(label="Agency", min_value=1)


class InviteMemberForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.AGENT)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class MemberPhoneForm(forms.Form):
    phone = forms.CharField(label="WhatsApp number", max_length=32, required=False)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.user.email)


class RemoveMemberForm(forms.Form):
    """Confirms a removal; the leaver's API keys may first go to another admin."""

    transfer_to = MemberChoiceField(
        label="Transfer their API keys to",
        queryset=None,
        required=False,
        empty_label="Nobody: revoke the keys",
        help_text="Keys kept by another admin keep working; the others are revoked.",
    )

    def __init__(self, *args: Any, admins: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["transfer_to"]).queryset = admins


class SetPasswordForm(forms.Form):
    """The invitee's first password, checked by the platform's strong-password validators."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password, not only digits, "
        "and not similar to your email address.",
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password1(self) -> str:
        password = self.cleaned_data["password1"]
        user_model = get_user_model()
        # Unsaved: lets the similarity validator compare the password with the email.
        candidate = user_model(username=self.email, email=self.email)
        try:
            validate_new_password(password, candidate)
        except ApplicationError as exc:
            cause = exc.__cause__
            messages = getattr(cause, "messages", None) or [str(exc)]
            raise forms.ValidationError(messages) from exc
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


class ConnectWabaForm(forms.Form):
    waba_id = forms.CharField(
        label="WhatsApp Business Account ID", max_length=64, help_text="Digits, from Meta."
    )
    name = forms.CharField(label="Display name", max_length=200)
    business_id = forms.CharField(label="Business portfolio ID", max_length=64, required=False)
    business_name = forms.CharField(label="Business portfolio name", max_length=200, required=False)
    access_token = forms.CharField(
        label="Access token",
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text="A system-user token. It is stored encrypted and never shown again.",
    )
    app_secret = forms.CharField(
        label="App secret",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text="Only when the agency uses its own Meta app. It is never shown again.",
    )

    def clean_waba_id(self) -> str:
        return _digits(self.cleaned_data["waba_id"], "A WhatsApp Business Account ID")


class AddPhoneNumberForm(forms.Form):
    waba = forms.ModelChoiceField(
        label="WhatsApp Business Account",
        # The default manager is scoped to the current agency: other agencies' WABAs are
        # not valid choices.
        queryset=WhatsAppBusinessAccount.objects.none(),
    )
    phone_number_id = forms.CharField(
        label="Phone number ID", max_length=64, help_text="Digits, from Meta."
    )
    display_phone_number = forms.CharField(
        label="Display phone number", max_length=32, help_text="For example +1 555 010 0000."
    )
    verified_name = forms.CharField(label="Verified name", max_length=200)
    throughput_tier = forms.TypedChoiceField(
        label="Throughput tier",
        coerce=int,
        choices=PhoneNumber.ThroughputTier.choices,
        initial=PhoneNumber.ThroughputTier.STANDARD,
    )

    def __init__(self, *args: Any, wabas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["waba"]).queryset = wabas

    def clean_phone_number_id(self) -> str:
        return _digits(self.cleaned_data["phone_number_id"], "A phone number ID")


class ApiKeyForm(forms.Form):
    """A new API key: its name, what it may do (scopes) and whether it is a test key."""

    name = forms.CharField(
        label="Key name", max_length=100, help_text="What uses it, e.g. “Case system”."
    )
    scopes = forms.MultipleChoiceField(
        label="What the key may do",
        widget=forms.CheckboxSelectMultiple,
        required=False,  # none: the key reads the agency and its phone numbers only
    )
    kind = forms.ChoiceField(
        label="Kind of key",
        widget=forms.RadioSelect,
        initial="live",
        required=False,  # live unless chosen
        choices=[
            ("live", "Live: messages reach citizens"),
            ("test", "Test: messages go to the simulator only, never to Meta or a citizen"),
        ],
    )

    def __init__(self, *args: Any, grantable: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(grantable)
        field = cast(forms.MultipleChoiceField, self.fields["scopes"])
        field.choices = [
            (scope.value, f"{scope.value}: {SCOPE_DESCRIPTIONS[scope]}")
            for scope in Scope
            if scope.value in allowed
        ]


def _digits(value: str, what: str) -> str:
    value = value.strip()
    if not value.isdigit():
        raise forms.ValidationError(f"{what} contains only digits.")
    return value
