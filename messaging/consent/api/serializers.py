"""What the contacts and consent API reads (query parameters, bodies) and answers.

Numbers come in as people write them and are read by the app's own rules
(``messaging.wa_ids.to_wa_id``: international, or national in the agency's region); they
go out in E.164. Input serializers validate shapes and sizes; the view resolves ids in the
agency (another agency's id is simply not found).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from messaging.consent import selectors
from messaging.consent.services import NAME_MAX
from messaging.models import Consent, Contact

MAX_ID = 2**62  # beyond PostgreSQL's bigint a lookup would fail, not miss
ATTRIBUTES_MAX = 50
ATTRIBUTE_KEY_MAX = 64
ATTRIBUTE_VALUE_MAX = 500
EVIDENCE_MAX = 2000
ORDERINGS = {
    "-created_at": ("-id",),
    "created_at": ("id",),
    "name": ("profile_name", "id"),
    "-name": ("-profile_name", "-id"),
}


def e164(contact: Contact) -> str | None:
    if contact.phone_e164:
        return contact.phone_e164
    return f"+{contact.wa_id}" if contact.wa_id else None


# --- Query parameters ---------------------------------------------------------------------


class ContactFiltersSerializer(serializers.Serializer):
    phone = serializers.CharField(
        required=False,
        max_length=40,
        help_text="One number, in any format (`+1 415 555 0123`, `(415) 555-0123` read in "
        "the agency's country, `0044…`). A number that is not valid is a 400.",
    )
    q = serializers.CharField(
        required=False, max_length=100, help_text="Part of the contact's name."
    )
    topic = serializers.SlugField(
        required=False,
        max_length=64,
        help_text="With `state`: the consent topic's slug (left out: the agency as a whole).",
    )
    state = serializers.ChoiceField(
        choices=[s.value for s in selectors.State],
        required=False,
        help_text="Contacts whose consent (for `topic`) is `opted_in`, `opted_out` or `none`.",
    )
    ordering = serializers.ChoiceField(
        choices=list(ORDERINGS),
        default="-created_at",
        help_text="`-created_at` (newest first, the default), `created_at`, `name`, `-name`.",
    )


def _storable(text: str) -> bool:
    """PostgreSQL's jsonb takes neither NUL nor text that is not UTF-8 (a lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _attributes(value: Any, *, allow_null_values: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise serializers.ValidationError("An object of names and values.")
    if len(value) > ATTRIBUTES_MAX:
        raise serializers.ValidationError(f"At most {ATTRIBUTES_MAX} attributes.")
    for key, item in value.items():
        if not _storable(key) or (isinstance(item, str) and not _storable(item)):
            raise serializers.ValidationError("Null characters and lone surrogates are refused.")
        if not key or len(key) > ATTRIBUTE_KEY_MAX:
            raise serializers.ValidationError(
                f"An attribute's name has 1 to {ATTRIBUTE_KEY_MAX} characters."
            )
        if item is None and allow_null_values:
            continue
        if isinstance(item, (bool, int, float)):
            continue
        if isinstance(item, str) and len(item) <= ATTRIBUTE_VALUE_MAX:
            continue
        raise serializers.ValidationError(
            f"{key!r}: a string of at most {ATTRIBUTE_VALUE_MAX} characters, a number or a boolean."
        )
    return value


class ContactInputSerializer(serializers.Serializer):
    phone = serializers.CharField(
        max_length=40,
        help_text="The citizen's number, E.164 preferred (`+14155550123`); a national number "
        "is read in the agency's country.",
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=NAME_MAX, default="")
    attributes = serializers.JSONField(
        required=False,
        default=dict,
        help_text=f"Up to {ATTRIBUTES_MAX} names with a string (≤ {ATTRIBUTE_VALUE_MAX} "
        "characters), number or boolean.",
    )

    def validate_attributes(self, value: Any) -> dict[str, Any]:
        return _attributes(value, allow_null_values=False)


class ContactPatchSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=NAME_MAX)
    attributes = serializers.JSONField(
        required=False,
        help_text="Merged into the contact's: a name set to `null` is removed.",
    )

    def validate_attributes(self, value: Any) -> dict[str, Any]:
        return _attributes(value, allow_null_values=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Give `name` and/or `attributes`.")
        return attrs


class ConsentInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Consent.Status.choices)
    topic = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="A consent topic's slug; left out or empty: the agency as a whole.",
    )
    evidence = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=EVIDENCE_MAX,
        default="",
        help_text="How the citizen said it (your system's record, a form id…), kept with "
        "the record.",
    )


# --- Answers -------------------------------------------------------------------------------


class TopicStateSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text='The topic\'s slug; "" = the agency as a whole.')
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=[s.value for s in selectors.State])


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(allow_null=True, help_text="E.164.")
    wa_id = serializers.CharField(allow_null=True, help_text="The WhatsApp id (digits).")
    name = serializers.CharField()
    attributes = serializers.DictField()
    unreachable_at = serializers.DateTimeField(
        allow_null=True, help_text="When WhatsApp said this number is not on WhatsApp."
    )
    created_at = serializers.DateTimeField()


class ContactDetailSerializer(ContactSerializer):
    consent = TopicStateSerializer(many=True, help_text="The state overall and per topic.")


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "phone": e164(contact),
        "wa_id": contact.wa_id,
        "name": contact.profile_name,
        "attributes": contact.attributes or {},
        "unreachable_at": contact.unreachable_at,
        "created_at": contact.created_at,
    }


def contact_detail_data(contact: Contact, states: list[selectors.TopicState]) -> dict[str, Any]:
    return {
        **contact_data(contact),
        "consent": [{"topic": s.topic, "name": s.name, "state": s.state.value} for s in states],
    }


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Consent.Status.choices)
    topic = serializers.CharField(help_text='"" = the agency as a whole.')
    source = serializers.ChoiceField(choices=Consent.Source.choices)  # type: ignore[assignment]
    recorded_by = serializers.CharField(
        allow_null=True, help_text="The staff member's email, if one recorded it."
    )
    evidence = serializers.DictField()


def consent_data(consent: Consent) -> dict[str, Any]:
    user = consent.recorded_by
    return {
        "id": consent.pk,
        "recorded_at": consent.recorded_at,
        "status": consent.status,
        "topic": consent.topic,
        "source": consent.source,
        "recorded_by": (user.email or user.get_username()) if user is not None else None,
        "evidence": consent.evidence or {},
    }


class RecordedConsentSerializer(serializers.Serializer):
    event = ConsentSerializer()
    state = serializers.ChoiceField(
        choices=[s.value for s in selectors.State],
        help_text="The contact's state for the topic now (as the send policy sees it).",
    )


class ConsentTopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    page_enabled = serializers.BooleanField(help_text="Citizens may opt in on a hosted page.")
