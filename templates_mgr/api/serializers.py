"""The templates API's bodies: a template as stored, and a draft as Meta's create request."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from templates_mgr.models import MessageTemplate

CATEGORY = MessageTemplate.Category.choices
FORMAT = MessageTemplate.ParameterFormat.choices


class TemplateSerializer(serializers.ModelSerializer):
    waba_id = serializers.CharField(source="waba.waba_id", read_only=True)

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "waba_id",
            "name",
            "language",
            "category",
            "parameter_format",
            "components",
            "topic",
            "status",
            "quality_score",
            "rejected_reason",
            "meta_template_id",
            "created_at",
            "updated_at",
        ]


class DraftSerializer(serializers.Serializer):
    """Meta's create-template request (cloud-api.md §4): the same components."""

    waba_id = serializers.CharField(
        required=False, max_length=64, help_text="The WABA; the agency's only one by default."
    )
    name = serializers.RegexField(r"^[a-z0-9_]{1,512}$", help_text="Lower case, digits, _.")
    language = serializers.RegexField(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")
    category = serializers.ChoiceField(choices=CATEGORY)
    parameter_format = serializers.ChoiceField(choices=FORMAT, default="POSITIONAL")
    components = serializers.ListField(
        child=serializers.DictField(), max_length=10, allow_empty=False
    )
    topic = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")


class DraftUpdateSerializer(serializers.Serializer):
    """A new version: components (and category/format while still a draft)."""

    category = serializers.ChoiceField(choices=CATEGORY, required=False)
    parameter_format = serializers.ChoiceField(choices=FORMAT, required=False)
    components = serializers.ListField(
        child=serializers.DictField(), max_length=10, allow_empty=False, required=False
    )
    topic = serializers.CharField(required=False, allow_blank=True, max_length=64)


class SubmitSerializer(serializers.Serializer):
    justification = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Why it must go despite the pre-screen's findings (audited).",
    )


def as_component_list(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(dict(c) for c in value)
