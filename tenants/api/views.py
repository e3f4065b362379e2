"""The REST API over agencies. Every queryset comes from the scoped default managers."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, pagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.models import AuditEvent
from tenants.api import serializers
from tenants.http import agency_request
from tenants.models import Membership, PhoneNumber
from tenants.permissions import Perm


class CurrentAgencyApi(APIView):
    required_perm = Perm.VIEW_AGENCY

    @extend_schema(responses=serializers.AgencySerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.AgencySerializer(agency_request(request).agency).data)


class ById(pagination.CursorPagination):
    ordering = "-id"


class MembershipListApi(generics.ListAPIView):
    required_perm = Perm.MANAGE_MEMBERS
    serializer_class = serializers.MembershipSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")


class MembershipDetailApi(generics.RetrieveAPIView):
    required_perm = Perm.MANAGE_MEMBERS
    serializer_class = serializers.MembershipSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")


class PhoneNumberListApi(generics.ListAPIView):
    required_perm = Perm.VIEW_AGENCY
    serializer_class = serializers.PhoneNumberSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.select_related("waba")


class PhoneNumberDetailApi(generics.RetrieveAPIView):
    required_perm = Perm.VIEW_AGENCY
    serializer_class = serializers.PhoneNumberSerializer

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.select_related("waba")


class AuditEventListApi(generics.ListAPIView):
    required_perm = Perm.VIEW_AUDIT
    serializer_class = serializers.AuditEventSerializer
    pagination_class = ById

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.all()


class AuditEventDetailApi(generics.RetrieveAPIView):
    required_perm = Perm.VIEW_AUDIT
    serializer_class = serializers.AuditEventSerializer

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.all()
