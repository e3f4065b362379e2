"""The campaigns API's bodies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from messaging.campaigns.models import Campaign


class CampaignSerializer(serializers.ModelSerializer):
    template = serializers.IntegerField(source="template_id", allow_null=True)
    phone_number = serializers.IntegerField(source="phone_number_id")
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "phone_number",
            "template",
            "audience",
            "variable_mapping",
            "scheduled_at",
            "split_across_days",
            "started_at",
            "failure_reason",
            "created_at",
            "updated_at",
            "progress",
        ]

    def get_progress(self, campaign: Campaign) -> dict[str, Any] | None:
        progress = self.context.get("progress", {}).get(campaign.pk)
        if progress is None:
            return None
        return {
            "recipients": progress.recipients,
            "to_send": progress.to_send,
            "queued": progress.queued,
            "held": progress.held,
            "sent": progress.sent,
            "delivered": progress.delivered,
            "read": progress.read,
            "failed": progress.failed,
            "skipped": progress.skipped,
            "cancelled": progress.cancelled,
            "percent_done": progress.percent_done,
            "skipped_by_reason": progress.skipped_by_reason,
            "failed_by_reason": progress.failed_by_reason,
        }


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone_number = serializers.IntegerField(min_value=1, max_value=2**62)
    template = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    audience = serializers.DictField(
        required=False,
        help_text='{"source": "contacts", "topic": "", "label_ids": [], "attributes": '
        '[{"key": "ward", "value": "3"}]}',
    )
    variable_mapping = serializers.DictField(
        required=False,
        help_text='{"1": {"source": "attribute"|"column"|"fixed", "value": "first_name"}}',
    )


class ScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    split_across_days = serializers.BooleanField(required=False, default=False)


class RecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    wa_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)


class RecipientPageSerializer(serializers.Serializer):
    next_cursor = serializers.IntegerField(allow_null=True)
    results = RecipientSerializer(many=True)
