from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication

if TYPE_CHECKING:
    from rest_framework.request import Request


class ApiKeyAuthentication(BaseAuthentication):
    """Integrators send ``Authorization: Bearer cr_...``; AgencyMiddleware resolved it already."""

    def authenticate(self, request: Request):
        credential = getattr(request._request, "api_credential", None)
        if credential is None:
            return None
        return (AnonymousUser(), credential)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
