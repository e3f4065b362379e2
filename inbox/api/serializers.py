"""What the conversations API reads (query parameters, bodies) and answers.

Input serializers only validate shapes and ranges; ids are resolved in the agency by the
view through ``inbox.selectors`` (another agency's id is simply not found there).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.selectors import STATUSES, ConversationRow
from messaging import policy

MAX_ID = 2**62  # beyond PostgreSQL's bigint a lookup would fail, not miss
MAX_LABELS = 50


def e164(display: str) -> str:
    """``+1 555 0100`` → ``+15550100`` (Meta shows numbers spaced; the API speaks E.164)."""
    digits = "".join(ch for ch in display if ch.isdigit())
    return f"+{digits}" if digits else ""


def an_id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- Query parameters ---------------------------------------------------------------------


class ConversationFiltersSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[*STATUSES, "any"],
        default="any",
        help_text="One status, or `any` (the default: every status).",
    )
    assignee = serializers.CharField(
        required=False,
        max_length=20,
        help_text="A member's user id, or `none` for the unassigned ones.",
    )
    team = an_id(required=False, help_text="A team's id.")
    label = serializers.CharField(  # type: ignore[assignment]  # a field named "label"
        required=False, max_length=50, help_text="A label's id or its name."
    )
    phone_number = an_id(required=False, help_text="One of the agency's phone numbers (id).")
    contact = an_id(required=False, help_text="A contact's id.")
    updated_since = serializers.DateTimeField(
        required=False,
        help_text="Only conversations with a message (in or out) at or after this time.",
    )

    def validate_assignee(self, value: str) -> str:
        if value == "none":
            return value
        if not value.isdigit() or not 0 < int(value) < MAX_ID:
            raise serializers.ValidationError("A user id, or `none`.")
        return value


# --- Bodies --------------------------------------------------------------------------------


class AssignSerializer(serializers.Serializer):
    assignee = an_id(
        allow_null=True, help_text="The member's user id; null unassigns the conversation."
    )
    team = an_id(
        required=False,
        allow_null=True,
        help_text="A team's id; null: no team. Left out: the team stays as it is.",
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES)
    snooze_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="With `snoozed` (required then, in the future): when it reopens by itself.",
    )


@extend_schema_field(
    {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 50}]}
)
class LabelRefField(serializers.Field):
    """A label by id (a JSON number) or by name (a string)."""

    default_error_messages = {"invalid": "A label id or name."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) and 0 < data < MAX_ID:
            return data
        if isinstance(data, str) and 0 < len(data.strip()) <= 50:
            return data.strip()
        self.fail("invalid")
        raise AssertionError  # fail() raises

    def to_representation(self, value: Any) -> Any:
        return value


class LabelsSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=LabelRefField(),
        max_length=MAX_LABELS,
        allow_empty=True,
        help_text="Every label the conversation should have (by id or name); [] removes all.",
    )


class TextField(serializers.CharField):
    """A JSON string (DRF's CharField would take a number and make it text)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class NoteInputSerializer(serializers.Serializer):
    body = TextField(
        max_length=4000,
        help_text="Private to staff, never sent to WhatsApp. `@handle` mentions a colleague.",
    )


# --- Answers -------------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    """A member (a ``User``)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class ContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(help_text="E.164.")
    name = serializers.CharField(help_text="The citizen's WhatsApp profile name.")


class NumberRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(help_text="E.164.")
    name = serializers.CharField(help_text="The verified name citizens see.")


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WindowSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="Free-form messages may be sent now.")
    closes_at = serializers.DateTimeField(
        allow_null=True,
        help_text="24 hours after the citizen's last message (past: closed); null: never wrote.",
    )


class ConversationSerializer(serializers.Serializer):
    """A conversation as its row and its page show it."""

    id = serializers.IntegerField()
    # Not an enum here: the request body of .../status has the same choices, and two
    # components sharing a choice set named "status" need ENUM_NAME_OVERRIDES (settings).
    status = serializers.CharField(help_text="`open`, `pending`, `snoozed` or `resolved`.")
    snoozed_until = serializers.DateTimeField(allow_null=True)
    contact = ContactRefSerializer()
    phone_number = NumberRefSerializer()
    assignee = PersonSerializer(allow_null=True)
    team = TeamRefSerializer(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(), help_text="Names, sorted.")
    unread_count = serializers.IntegerField()
    waiting_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when the citizen's oldest unanswered message waits."
    )
    window = WindowSerializer(help_text="The 24-hour customer service window.")
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(
        allow_null=True, help_text="The last activity (a message in or out): the list's order."
    )
    last_inbound_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


def conversation_data(row: ConversationRow) -> dict[str, Any]:
    c = row.conversation
    team = {"id": c.team.pk, "name": c.team.name} if c.team is not None else None
    return {
        "id": c.pk,
        "status": c.status,
        "snoozed_until": c.snoozed_until,
        "contact": {
            "id": c.contact.pk,
            "phone": c.contact.phone_e164 or e164(c.contact.wa_id or ""),
            "name": c.contact.profile_name,
        },
        "phone_number": {
            "id": c.phone_number.pk,
            "phone": e164(c.phone_number.display_phone_number or ""),
            "name": c.phone_number.verified_name,
        },
        "assignee": c.assignee,
        "team": team,
        "labels": row.labels,
        "unread_count": c.unread_count,
        "waiting_since": c.waiting_since,
        "window": {
            "open": policy.window_is_open(c, timezone.now()),
            "closes_at": c.window_expires_at,
        },
        "created_at": c.created_at,
        "last_message_at": c.last_message_at,
        "last_inbound_at": c.last_inbound_at,
        "resolved_at": c.resolved_at,
    }


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField(source="conversation_id")
    body = serializers.CharField()
    author = PersonSerializer(
        allow_null=True,
        help_text="The member who wrote it; null when an API credential did (the audit trail "
        "names it) or the member was removed.",
    )
    author_label = serializers.CharField(
        help_text="Who wrote it when no member did, e.g. `API key “CRM”`; empty otherwise."
    )
    created_at = serializers.DateTimeField()
