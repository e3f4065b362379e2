from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from tenants.api.scopes import SCOPE_DESCRIPTIONS

if TYPE_CHECKING:
    from rest_framework.request import Request

    from tenants.models import ApiCredential


class ApiKeyAuthentication(BaseAuthentication):
    """Integrators send ``Authorization: Bearer cr_...`` (the API key) or ``Bearer crt_...``
    (an OAuth 2.0 access token); AgencyMiddleware resolved either already.

    ``request.auth`` is the credential; with a token, ``credential.access_token`` is set and
    ``credential.granted_scopes`` are the token's.
    """

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiCredential] | None:
        credential = getattr(request._request, "api_credential", None)
        if credential is None:
            return None
        return (AnonymousUser(), credential)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents both ways in (drf-spectacular): the API key, and OAuth 2.0 client
    credentials, each listing the scope the operation needs."""

    target_class = "tenants.api.authentication.ApiKeyAuthentication"
    name = ["ApiKey", "OAuth2"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        from tenants.api.permissions import ANY_SCOPE, required_scope

        scope = required_scope(auto_schema.view, auto_schema.method)
        if scope is None:
            return []
        scopes = [] if scope == ANY_SCOPE else [scope]
        return [{"ApiKey": []}, {"OAuth2": scopes}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "An agency API key, `cr_<prefix>_<secret>`, from the API keys page, sent "
                    "as `Authorization: Bearer cr_...`. It acts with the scopes chosen when "
                    "it was created."
                ),
            },
            {
                "type": "oauth2",
                "description": (
                    "OAuth 2.0 client credentials (RFC 6749 §4.4): client id `cr_<prefix>`, "
                    "client secret the whole API key. The access token (`crt_...`, "
                    "`Authorization: Bearer crt_...`) carries the requested subset of the "
                    "key's scopes and expires after 10 minutes by default."
                ),
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "/api/v1/oauth/token/",
                        "scopes": {str(k): v for k, v in SCOPE_DESCRIPTIONS.items()},
                    }
                },
            },
        ]
