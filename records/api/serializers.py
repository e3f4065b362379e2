"""What the records API reads (bodies) and answers: export jobs, public-records requests and
their productions.

Input serializers check shapes and ranges only; the ids they carry are resolved in the
agency by the view through the selectors (another agency's id names nothing there).
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from records.exports.models import ExportJob
from records.foia.models import ClockEvent, Production, RecordsRequest, RequestItem
from records.selection import Selection

MAX_ID = 2**62  # beyond PostgreSQL's bigint a lookup would fail, not miss
E164 = re.compile(r"\+?[0-9]{6,15}")


def an_id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- Exports ------------------------------------------------------------------------------


class SelectionSerializer(serializers.Serializer):
    """Which messages: every criterion narrows (AND); none at all is every message."""

    contact = serializers.CharField(
        required=False,
        max_length=32,
        help_text="The citizen's WhatsApp number, E.164 (`+14155550100`).",
    )
    conversation = an_id(required=False, help_text="A conversation's id.")
    phone_number = an_id(required=False, help_text="One of the agency's phone numbers (id).")
    label = an_id(  # type: ignore[assignment]  # a field named "label"
        required=False, help_text="Conversations carrying this inbox label (id)."
    )
    since = serializers.DateTimeField(
        required=False, help_text="Messages created at or after this time (inclusive)."
    )
    until = serializers.DateTimeField(
        required=False, help_text="Messages created before this time (exclusive)."
    )
    query = serializers.CharField(
        required=False,
        max_length=500,
        help_text='Full text: a quoted phrase ("permit renewal"), `or`, `-word` to leave out.',
    )
    hold = an_id(
        required=False, help_text="The messages a legal hold holds (or held, once released)."
    )

    def validate_contact(self, value: str) -> str:
        compact = "".join(ch for ch in value if ch not in " -().")
        if not E164.fullmatch(compact):
            raise serializers.ValidationError("Give the number in E.164, e.g. +14155550100.")
        return compact

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until <= since:
            raise serializers.ValidationError({"until": ["`until` comes after `since`."]})
        return attrs


def selection_of(data: dict[str, Any]) -> Selection:
    """The shared ``Selection`` of a validated ``SelectionSerializer``."""
    return Selection(
        contact_wa_id=data.get("contact", ""),
        conversation_id=data.get("conversation"),
        phone_number_id=data.get("phone_number"),
        since=data.get("since"),
        until=data.get("until"),
        label_id=data.get("label"),
        query=data.get("query", ""),
        hold_id=data.get("hold"),
    )


# The stored selection's keys (``Selection.to_json``) as the API names them.
_SELECTION_NAMES = {
    "contact_wa_id": "contact",
    "conversation_id": "conversation",
    "phone_number_id": "phone_number",
    "label_id": "label",
    "since": "since",
    "until": "until",
    "query": "query",
    "hold_id": "hold",
}


def selection_data(stored: dict[str, Any]) -> dict[str, Any]:
    return {_SELECTION_NAMES[k]: v for k, v in stored.items() if k in _SELECTION_NAMES}


class ExportCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=ExportJob.Format.choices, help_text="The package's format."
    )
    selection = SelectionSerializer(required=False)
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Printed on the package: the matter or request number, say.",
    )
    bates_prefix = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        default="",
        help_text="Numbers every message (every page of a PDF): `DMV-`. Empty: no Bates numbers.",
    )
    bates_start = serializers.IntegerField(
        required=False, min_value=0, max_value=10**9, default=1, help_text="The first number."
    )

    def validate_bates_prefix(self, value: str) -> str:
        if value and not value.isprintable():
            raise serializers.ValidationError("Use letters, digits and punctuation only.")
        return value


class ExportProgressSerializer(serializers.Serializer):
    processed = serializers.IntegerField(help_text="Messages written so far.")
    total = serializers.IntegerField(allow_null=True, help_text="Messages selected (once known).")
    percent = serializers.IntegerField(help_text="0-100 (100 only when done).")


class ExportLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    download = serializers.URLField(allow_null=True, help_text="Set once the status is `done`.")


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExportJob.Status.choices)
    format = serializers.ChoiceField(choices=ExportJob.Format.choices)
    title = serializers.CharField()
    selection = serializers.DictField(help_text="The selection as asked (the request's names).")
    bates_prefix = serializers.CharField()
    bates_start = serializers.IntegerField()
    bates_first = serializers.CharField(help_text="As stamped, once done.")
    bates_last = serializers.CharField()
    progress = ExportProgressSerializer()
    package_name = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True, help_text="Of the ZIP, once done.")
    sha256 = serializers.CharField(help_text="SHA-256 of the ZIP (hex), once done.")
    tagmanifest_sha256 = serializers.CharField(
        help_text="SHA-256 of the bag's signed tag manifest: names the package's content."
    )
    error = serializers.CharField(help_text="Why a `failed` job failed.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    links = ExportLinksSerializer()


def export_data(job: ExportJob, links: dict[str, str | None]) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "format": job.format,
        "title": job.title,
        "selection": selection_data(job.selection),
        "bates_prefix": job.bates_prefix,
        "bates_start": job.bates_start,
        "bates_first": job.bates_first,
        "bates_last": job.bates_last,
        "progress": {"processed": job.processed, "total": job.total, "percent": job.percent},
        "package_name": job.package_name,
        "size_bytes": job.size_bytes,
        "sha256": job.sha256,
        "tagmanifest_sha256": job.tagmanifest_sha256,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "links": links,
    }


# --- Public-records requests --------------------------------------------------------------


class JurisdictionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    response_days = serializers.IntegerField(help_text="Working days to respond.")
    extension_days = serializers.IntegerField(help_text="Working days of extension, at most.")
    routing_days = serializers.IntegerField(
        help_text="A request first received by another office starts its clock at the latest "
        "this many working days after that receipt (0: no such rule)."
    )
    citation = serializers.CharField()


class RecordsRequestCreateSerializer(serializers.Serializer):
    requester_name = serializers.CharField(max_length=200)
    requester_contact = serializers.CharField(
        max_length=300, help_text="Email, postal address or phone."
    )
    received_on = serializers.DateField(
        help_text="The day the office that answers received it (not in the future)."
    )
    first_received_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day another office of the agency first received it, if earlier.",
    )
    description = serializers.CharField(max_length=10_000, help_text="What is asked for.")
    jurisdiction = an_id(help_text="The law it is answered under (`/records-jurisdictions/`).")


class ClockSerializer(serializers.Serializer):
    due_on = serializers.DateField(allow_null=True, help_text="None while the clock is paused.")
    allowed_working_days = serializers.IntegerField(help_text="The jurisdiction's + extensions.")
    used_working_days = serializers.IntegerField()
    remaining_working_days = serializers.IntegerField(help_text="Negative once overdue.")
    paused_since = serializers.DateField(allow_null=True, help_text="Tolled since this day.")
    overdue = serializers.BooleanField()
    due_soon = serializers.BooleanField(help_text="Open, due within 3 working days.")


class ClockEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClockEvent.Kind.choices)
    on = serializers.DateField()
    days = serializers.IntegerField(help_text="Working days, for an extension.")
    reason = serializers.CharField()


class ItemCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Messages in the review set.")
    produced = serializers.IntegerField(help_text="Responsive or withheld in full.")
    by_decision = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text=f"Only on one request: {', '.join(RequestItem.Decision.values)}.",
    )


class RecordsRequestLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    productions = serializers.URLField()


class RecordsRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The tracking number: `2026-0007`.")
    status = serializers.ChoiceField(choices=RecordsRequest.Status.choices)
    requester_name = serializers.CharField()
    requester_contact = serializers.CharField()
    description = serializers.CharField()
    jurisdiction = JurisdictionSerializer()
    received_on = serializers.DateField()
    first_received_on = serializers.DateField(allow_null=True)
    clock = ClockSerializer()
    clock_events = ClockEventSerializer(
        many=True, required=False, help_text="Only on one request: extensions, pauses, resumes."
    )
    items = ItemCountsSerializer()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    links = RecordsRequestLinksSerializer()


def jurisdiction_data(j: Any) -> dict[str, Any]:
    return {
        "id": j.pk,
        "name": j.name,
        "response_days": j.response_days,
        "extension_days": j.extension_days,
        "routing_days": j.routing_days,
        "citation": j.citation,
    }


class ProductionLinksSerializer(serializers.Serializer):
    download = serializers.URLField(allow_null=True, help_text="Set once the status is `done`.")


class ProductionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Production.Status.choices)
    format = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Messages produced.")
    redaction_count = serializers.IntegerField()
    bates_prefix = serializers.CharField()
    bates_first = serializers.CharField()
    bates_last = serializers.CharField()
    tagmanifest_sha256 = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    links = ProductionLinksSerializer()


def production_data(p: Production, download: str | None) -> dict[str, Any]:
    return {
        "id": p.pk,
        "status": p.status,
        "format": p.fmt,
        "item_count": p.item_count,
        "redaction_count": p.redaction_count,
        "bates_prefix": p.bates_prefix,
        "bates_first": p.bates_first,
        "bates_last": p.bates_last,
        "tagmanifest_sha256": p.tagmanifest_sha256,
        "error": p.error,
        "created_at": p.created_at,
        "finished_at": p.finished_at,
        "links": {"download": download},
    }
