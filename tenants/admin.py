"""The platform operators' console (Django admin, superusers only, in the system scope).

Saves go through the audit trail. Secrets are write-only: the form takes a new value, the
change list never shows one.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.http import HttpRequest

from records.audit import Actor, record_event
from tenants import models

SECRET_FIELDS = ("access_token", "app_secret")


class AuditedAdmin(admin.ModelAdmin):
    def get_actions(self, request: HttpRequest) -> dict:
        # Bulk deletion would bypass delete_model, and with it the audit trail.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        agency_id = obj.pk if isinstance(obj, models.Agency) else getattr(obj, "agency_id", None)
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        action = f"{obj._meta.model_name}.{'changed' if change else 'created'}_by_operator"
        record_event(
            agency_id=agency_id,
            actor=Actor.from_request(request),
            action=action,
            target=obj,
            changes=changes,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        agency_id = getattr(obj, "agency_id", None)
        record_event(
            agency_id=agency_id,
            actor=Actor.from_request(request),
            action=f"{obj._meta.model_name}.deleted_by_operator",
            target=obj,
        )
        super().delete_model(request, obj)


class SecretsWriteOnlyForm(forms.ModelForm):
    """Secret fields render empty; leaving one empty keeps the stored value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            if name in self.fields:
                self.fields[name] = forms.CharField(
                    required=False,
                    widget=forms.PasswordInput(render_value=False),
                    help_text="Write-only. Leave empty to keep the current value.",
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in SECRET_FIELDS:
            if name in cleaned and not cleaned[name] and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(models.Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["name", "slug", "status", "live_approved", "timezone", "created_at"]
    list_filter = ["status", "live_approved"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from tenants.services import set_agency_status

        status = _status_change(obj, form, change)
        super().save_model(request, obj, form, change)
        if status is not None:
            set_agency_status(actor=Actor.from_request(request), agency=obj, status=status)


@admin.register(models.Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "agency", "role", "phone_e164", "created_at"]
    list_filter = ["role", "agency"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]

    def delete_model(self, request: HttpRequest, obj: models.Membership) -> None:
        from tenants.services import end_all_sessions

        super().delete_model(request, obj)
        end_all_sessions(obj.user)  # a removed member is signed out everywhere


@admin.register(models.BusinessPortfolio)
class BusinessPortfolioAdmin(AuditedAdmin):
    list_display = ["name", "business_id", "agency", "messaging_limit_tier"]
    readonly_fields = ["webhook_times"]  # kept by the account webhooks


@admin.register(models.WhatsAppBusinessAccount)
class WabaAdmin(AuditedAdmin):
    form = SecretsWriteOnlyForm
    list_display = ["name", "waba_id", "agency"]
    search_fields = ["waba_id", "name"]
    # Kept by the account webhooks (messaging/webhooks/account.py), not by hand.
    readonly_fields = ["webhook_times", "webhook_notices"]


@admin.register(models.PhoneNumber)
class PhoneNumberAdmin(AuditedAdmin):
    form = SecretsWriteOnlyForm
    list_display = [
        "display_phone_number",
        "verified_name",
        "agency",
        "status",
        "quality_rating",
        "throughput_tier",
    ]
    list_filter = ["status", "quality_rating", "throughput_tier"]
    search_fields = ["phone_number_id", "display_phone_number"]
    readonly_fields = ["status_before_ban", "webhook_times"]  # kept by the account webhooks

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from tenants.services import set_phone_number_status

        status = _status_change(obj, form, change)
        super().save_model(request, obj, form, change)
        if status is not None:
            set_phone_number_status(
                actor=Actor.from_request(request),
                number=obj,
                status=status,
                reason="changed by a platform operator",
            )


def _status_change(obj: Any, form: Any, change: bool) -> str | None:
    """A status edited in the console: the new value, with the old one put back on ``obj``
    so that the save keeps it and the service makes the change (the facts it keeps, its
    event on the stream), as for every other path."""
    if not change or "status" not in form.changed_data:
        return None
    new_status: str = obj.status
    obj.status = form.initial["status"]
    return new_status


@admin.register(models.ApiCredential)
class ApiCredentialAdmin(AuditedAdmin):
    list_display = ["name", "prefix", "agency", "kind", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    readonly_fields = ["prefix", "key_hash", "scopes", "kind"]


# allauth registers an Authenticator admin whose change form shows ``data``: the TOTP secret
# and recovery-code seed. Operators only need to see who has which factor, and to remove
# one when a member lost their phone (audited like every deletion here).
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = ["user", "type", "created_at", "last_used_at"]  # never ``data``
    readonly_fields = ["user", "type", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a factor is enrolled by its owner, never typed in by an operator

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
