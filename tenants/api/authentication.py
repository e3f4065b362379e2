from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

if TYPE_CHECKING:
    from rest_framework.request import Request

    from tenants.models import ApiCredential


class ApiKeyAuthentication(BaseAuthentication):
    """Integrators send ``Authorization: Bearer cr_...``; AgencyMiddleware resolved it already."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiCredential] | None:
        credential = getattr(request._request, "api_credential", None)
        if credential is None:
            return None
        return (AnonymousUser(), credential)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the API key in the OpenAPI schema (drf-spectacular)."""

    target_class = "tenants.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An agency API key, `cr_<prefix>_<secret>`, from the API keys page.",
        }
