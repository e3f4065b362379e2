"""The platform's URLs plus a test-only DELETE under /api/v1/ that deletes a conversation's
messages through the records service every delete must pass
(``records.holds.services.ensure_conversation_deletable``): no endpoint of the API deletes
records yet, and the held record's answer is the shared exception handler's."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bsp.urls import urlpatterns as platform_urlpatterns
from records.holds.services import ensure_conversation_deletable
from tenants.api.scopes import Scope
from tenants.permissions import Perm


class ConversationDeleteApi(APIView):
    required_perm = Perm.MANAGE_RECORDS
    required_scope = Scope.RECORDS_EXPORT

    def delete(self, request: Request, pk: int) -> Response:
        ensure_conversation_deletable(pk)  # HeldRecordError, before anything is deleted
        return Response(status=204)


urlpatterns = [
    path(
        "api/v1/test/conversations/<int:pk>/", ConversationDeleteApi.as_view(), name="test-delete"
    ),
    *platform_urlpatterns,
]
