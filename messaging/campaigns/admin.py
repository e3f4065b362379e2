"""Campaigns in the operators' console (superusers, in the system scope like the rest of
the admin): read-only. Agency admins run campaigns and edit pricing rates on the campaign
pages, where every change is audited and published; an operator only looks (a support
question, "why was this citizen skipped?")."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from messaging.campaigns import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatsInline(admin.StackedInline):
    model = models.CampaignStats
    can_delete = False
    fields = readonly_fields = (
        "recipients",
        "queued",
        "held",
        "accepted",
        "sent",
        "delivered",
        "read",
        "failed",
        "cancelled",
        "skipped",
        "skipped_by_reason",
        "failed_by_reason",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "agency", "status", "template", "scheduled_at", "created_at"]
    list_filter = ["status", "agency"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["agency", "template"]
    inlines = [StatsInline]


@admin.register(models.CampaignRecipient)
class CampaignRecipientAdmin(ReadOnlyAdmin):
    list_display = ["wa_id", "raw", "campaign", "agency", "status", "skip_reason", "updated_at"]
    list_filter = ["status", "skip_reason"]
    search_fields = ["wa_id", "raw"]
    raw_id_fields = ["campaign", "contact", "message"]
    list_select_related = ["campaign", "agency"]
    # A campaign has up to hundreds of thousands of recipients: no COUNT(*) of the table.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.CampaignRecipient]:
        return super().get_queryset(request).defer("variables")


@admin.register(models.AudienceUpload)
class AudienceUploadAdmin(ReadOnlyAdmin):
    list_display = [
        "filename",
        "agency",
        "row_count",
        "valid_count",
        "problem_count",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["agency"]
    ordering = ["-created_at"]


@admin.register(models.PricingRate)
class PricingRateAdmin(ReadOnlyAdmin):
    list_display = ["agency", "market", "category", "rate", "currency", "updated_at"]
    list_filter = ["agency", "category", "market"]
