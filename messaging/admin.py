"""Operators' view of webhook ingestion: every stored event with its outcome, counts by
status (and of rejected signatures, which are never stored), and "reprocess"."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import rejected_signature_count
from records.audit import Actor, record_event

BODY_PREVIEW_BYTES = 64 * 1024


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "status",
        "change_count",
        "attempts",
        "verified_with",
        "processed_at",
        "problem_summary",
    ]
    list_filter = ["status", "verified_with"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
    actions = ["reprocess"]
    fields = (  # a tuple: readonly_fields takes the very same
        "received_at",
        "status",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "verified_with",
        "signature",
        "change_count",
        "error",
        "problems_pretty",
        "body_pretty",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # viewing and the reprocess action only: the body is evidence

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        return super().get_queryset(request).defer("body")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        counts = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())
        extra_context = {
            **(extra_context or {}),
            "status_counts": [
                (label, counts.get(status, 0)) for status, label in WebhookEvent.Status.choices
            ],
            "rejected_signatures": rejected_signature_count(),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="Problems")
    def problem_summary(self, event: WebhookEvent) -> str:
        if event.error:
            return event.error[:120]
        return "; ".join(str(problem.get("reason")) for problem in event.problems)[:120]

    @admin.display(description="Problems")
    def problems_pretty(self, event: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.problems, indent=2))

    @admin.display(description="Body (as received)")
    def body_pretty(self, event: WebhookEvent) -> str:
        raw = bytes(event.body)
        try:
            text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except ValueError:
            text = raw.decode("utf-8", errors="replace")
        suffix = "\n… (truncated)" if len(text) > BODY_PREVIEW_BYTES else ""
        return format_html("<pre>{}{}</pre>", text[:BODY_PREVIEW_BYTES], suffix)

    @admin.action(description="Reprocess the selected events")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        outcomes = [processing.reprocess(event.pk) for event in queryset.only("pk")]
        record_event(
            agency_id=None,
            actor=Actor.from_request(request),
            action="webhook_event.reprocessed_by_operator",
            changes={"event_ids": [event.pk for event in queryset.only("pk")]},
        )
        self.message_user(
            request, f"Reprocessed {len(outcomes)} event(s): {', '.join(outcomes)}", messages.INFO
        )
