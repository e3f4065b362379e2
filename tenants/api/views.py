"""The REST API over agencies. Every queryset comes from the scoped default managers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework import serializers as serializers_
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.models import AuditEvent
from records.selectors import audit_events
from tenants.api import serializers
from tenants.api.pagination import CursorPagination
from tenants.api.permissions import ANY_SCOPE
from tenants.api.schema import ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Perm


class CurrentAgencyApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_AGENCY
    required_scope = ANY_SCOPE

    @extend_schema(
        summary="The agency of the credential",
        description="Any credential may read it. `trial`: sends go only to staff numbers.",
        responses=serializers.AgencySerializer,
        examples=[
            OpenApiExample(
                "Agency",
                value={
                    "id": 7,
                    "name": "Demo County",
                    "slug": "demo-county",
                    "timezone": "America/Chicago",
                    "status": "active",
                    "trial": False,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.AgencySerializer(agency_request(request).agency).data)


class CurrentCredentialApi(APIView):
    """The credential this request authenticated with: its kind and the scopes it may use."""

    schema = ApiAutoSchema()
    required_scope = ANY_SCOPE

    @extend_schema(
        summary="The credential of this request (its kind and scopes)",
        responses=serializers.CredentialSerializer,
        examples=[
            OpenApiExample(
                "Test key, by OAuth token",
                value={
                    "name": "Case system",
                    "prefix": "3fa85f64a1b2",
                    "kind": "test",
                    "scopes": ["messages:read", "messages:send"],
                    "token_expires_at": "2026-12-03T08:10:00Z",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        credential = agency_request(request).api_credential
        if credential is None:
            raise Http404
        token = credential.access_token
        data = {
            "name": credential.name,
            "prefix": credential.prefix,
            "kind": credential.kind,
            "scopes": sorted(credential.granted_scopes),
            "token_expires_at": token.expires_at if token is not None else None,
        }
        return Response(serializers.CredentialSerializer(data).data)


class ById(CursorPagination):
    ordering = "-id"


MEMBER_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "email": "sam.reyes@demo-county.gov",
    "role": "supervisor",
    "created_at": "2026-11-02T15:04:05Z",
}
PHONE_NUMBER_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "phone_number_id": "106540352242922",
    "display_phone_number": "+1 555-010-0100",
    "verified_name": "Demo County Permits",
    "quality_rating": "GREEN",
    "throughput_tier": 80,
    "status": "connected",
    "waba_id": "102290129340398",
}


def _example(name: str, value: dict[str, Any]) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, response_only=True)]


@extend_schema_view(
    get=extend_schema(
        summary="The agency's members (audit:read)",
        examples=_example("Member", MEMBER_EXAMPLE),
    )
)
class MembershipListApi(generics.ListAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_MEMBERS
    required_scope = Scope.AUDIT_READ  # who acts in the agency: oversight, like the trail
    serializer_class = serializers.MembershipSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")


@extend_schema_view(
    get=extend_schema(
        summary="One member (audit:read)", examples=_example("Member", MEMBER_EXAMPLE)
    )
)
class MembershipDetailApi(generics.RetrieveAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_MEMBERS
    required_scope = Scope.AUDIT_READ  # who acts in the agency: oversight, like the trail
    serializer_class = serializers.MembershipSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")


@extend_schema_view(
    get=extend_schema(
        summary="The agency's phone numbers (any credential)",
        examples=_example("Number", PHONE_NUMBER_EXAMPLE),
    )
)
class PhoneNumberListApi(generics.ListAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_AGENCY
    required_scope = ANY_SCOPE  # the numbers a key sends from
    serializer_class = serializers.PhoneNumberSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.select_related("waba")


@extend_schema_view(
    get=extend_schema(
        summary="One phone number (any credential)",
        examples=_example("Number", PHONE_NUMBER_EXAMPLE),
    )
)
class PhoneNumberDetailApi(generics.RetrieveAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_AGENCY
    required_scope = ANY_SCOPE  # the numbers a key sends from
    serializer_class = serializers.PhoneNumberSerializer

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.select_related("waba")


AUDIT_EVENT_EXAMPLE: dict[str, Any] = {
    "id": 9120,
    "sequence": 4410,
    "created_at": "2026-12-03T14:00:09Z",
    "actor_type": "worker",
    "actor_id": "",
    "actor_label": "records.export_job",
    "action": "records.export_built",
    "object_type": "records.exportpackage",
    "object_id": "demo-county-rsmf-3f2a9c0d1b7e",
    "changes": {"format": "rsmf", "messages": 214},
    "request_id": "",
    "ip_address": None,
    "prev_hash": "5e0c" + "0" * 60,
    "hash": "a41f" + "0" * 60,
}


class AuditEventFilters(serializers_.Serializer):
    """The audit trail's filters (query parameters); they combine (AND)."""

    action = serializers_.CharField(
        required=False,
        max_length=100,
        help_text="An action (`records.export_built`), or every action under a prefix "
        "ending in `.*` (`message.*`).",
    )
    actor_type = serializers_.ChoiceField(
        choices=AuditEvent.ActorType.choices,
        required=False,
        help_text="Who acted: `user`, `operator`, `api` (a credential), `worker`, `system`.",
    )
    object_type = serializers_.CharField(
        required=False, max_length=100, help_text="The changed object's type (`app.model`)."
    )
    object_id = serializers_.CharField(
        required=False, max_length=100, help_text="The changed object's id (with `object_type`)."
    )
    since = serializers_.DateTimeField(
        required=False, help_text="Events at or after this time (ISO 8601, inclusive)."
    )
    until = serializers_.DateTimeField(
        required=False, help_text="Events before this time (ISO 8601, exclusive)."
    )

    def validate_action(self, value: str) -> str:
        prefix = value.removesuffix(".*")
        if not prefix or "*" in prefix:
            raise serializers_.ValidationError(
                "Give an action, or a prefix ending in `.*` (`message.*`)."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until <= since:
            raise serializers_.ValidationError({"until": ["`until` comes after `since`."]})
        return attrs


@extend_schema_view(
    get=extend_schema(
        summary="The audit trail, newest first (audit:read)",
        description="Every event of the agency's hash-chained trail; the filters combine. A "
        "filter that is not valid (a date that does not parse, an unknown actor type) is a "
        "`400`.",
        parameters=[AuditEventFilters],
        examples=[
            OpenApiExample(
                "Exports built this month",
                value=AUDIT_EVENT_EXAMPLE,
                response_only=True,
            )
        ],
    )
)
class AuditEventListApi(generics.ListAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_AUDIT
    required_scope = Scope.AUDIT_READ
    serializer_class = serializers.AuditEventSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = AuditEventFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_events(**filters.validated_data)


@extend_schema_view(
    get=extend_schema(
        summary="One audit event (audit:read)",
        examples=[OpenApiExample("Event", value=AUDIT_EVENT_EXAMPLE, response_only=True)],
    )
)
class AuditEventDetailApi(generics.RetrieveAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_AUDIT
    required_scope = Scope.AUDIT_READ
    serializer_class = serializers.AuditEventSerializer

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.all()
