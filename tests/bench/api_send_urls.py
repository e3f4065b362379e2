"""Benchmark-only URLs: the platform plus ``/bench/api-bare``, an authenticated DRF view with
the send endpoint's authentication, scope check and rate limit, answering a constant. It is
the baseline of bench/api_send.py; it is never in the production URLconf."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bsp.urls import urlpatterns as platform_urlpatterns
from tenants.api.schema import ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.permissions import Perm


class BareApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.REPLY
    required_scope = Scope.MESSAGES_SEND

    def post(self, request: Request) -> Response:
        request.data  # noqa: B018  (parse the body, as the send view does)
        return Response({"ok": True}, status=202)


urlpatterns = [path("bench/api-bare", BareApi.as_view()), *platform_urlpatterns]
