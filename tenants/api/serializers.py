from __future__ import annotations

from rest_framework import serializers

from records.models import AuditEvent
from tenants.models import Agency, Membership, PhoneNumber


class AgencySerializer(serializers.ModelSerializer):
    trial = serializers.BooleanField(
        source="in_trial",
        read_only=True,
        help_text="Trial mode: sends only to the agency's own staff until operators approve it.",
    )

    class Meta:
        model = Agency
        fields = ["id", "name", "slug", "timezone", "status", "trial"]


class CredentialSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    kind = serializers.ChoiceField(choices=["live", "test"])
    scopes = serializers.ListField(child=serializers.CharField())
    token_expires_at = serializers.DateTimeField(allow_null=True)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "created_at"]


class PhoneNumberSerializer(serializers.ModelSerializer):
    waba_id = serializers.CharField(source="waba.waba_id")

    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "phone_number_id",
            "display_phone_number",
            "verified_name",
            "quality_rating",
            "throughput_tier",
            "status",
            "waba_id",
        ]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "sequence",
            "created_at",
            "actor_type",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "changes",
            "request_id",
            "ip_address",
            "prev_hash",
            "hash",
        ]
