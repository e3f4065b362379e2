"""The platform's URLs plus a test-only POST endpoint under /api/v1/ that opts into
``Idempotency-Key`` (tests/api/test_idempotency.py)."""

from __future__ import annotations

import threading
import time

from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bsp.urls import urlpatterns as platform_urlpatterns
from records.audit import Actor, record_event
from tenants.api.idempotency import idempotent
from tenants.api.scopes import Scope
from tenants.http import agency_request
from tenants.permissions import Perm

CALLS: list[int] = []
CALLS_LOCK = threading.Lock()


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=100)
    slow = serializers.FloatField(required=False, default=0)


class NoteApi(APIView):
    """Writes one audit event per note (a real, visible side effect)."""

    required_perm = Perm.VIEW_AUDIT
    required_scope = Scope.AUDIT_READ

    @idempotent
    def post(self, request: Request) -> Response:
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time.sleep(data.validated_data["slow"])
        django_request = agency_request(request)
        event = record_event(
            agency_id=django_request.agency.pk,
            actor=Actor.from_request(django_request),
            action="test.note",
            changes={"text": data.validated_data["text"]},
        )
        with CALLS_LOCK:
            CALLS.append(event.pk)
        return Response({"id": event.pk, "text": data.validated_data["text"]}, status=201)


urlpatterns = [
    path("api/v1/test/notes/", NoteApi.as_view(), name="test-notes"),
    *platform_urlpatterns,
]
