"""The webhook subscriptions API's bodies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bsp.integrations.events import ALL as EVENT_TYPES
from bsp.integrations.models import Delivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "events",
            "secret_hint",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "created_at",
            "updated_at",
        ]


class SubscriptionWriteSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), allow_empty=False
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class SubscriptionPatchSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
        allow_empty=False,
        required=False,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: keep it.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField(help_text="The new signing secret, shown once.")


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "type",
            "sequence",
            "status",
            "attempts",
            "last_status_code",
            "last_latency_ms",
            "last_error",
            "next_attempt_at",
            "event_created_at",
            "created_at",
            "finished_at",
        ]
