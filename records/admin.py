from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from records.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = [
        "created_at",
        "agency",
        "sequence",
        "actor_type",
        "actor_label",
        "action",
        "object_type",
        "object_id",
    ]
    list_filter = ["actor_type", "agency"]
    search_fields = ["action", "actor_label", "object_id", "request_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
