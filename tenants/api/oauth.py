"""OAuth 2.0 client credentials grant (RFC 6749 §4.4), the token endpoint only.

``POST /api/v1/oauth/token/`` with ``grant_type=client_credentials`` (form-encoded), the
client authenticated by HTTP Basic (``client_id:client_secret``, RFC 6749 §2.3.1) or by
``client_id`` / ``client_secret`` in the body. The client id is ``cr_<prefix>`` (or the bare
prefix), the secret the whole API key. An optional ``scope`` (space-separated) narrows the
key's scopes; asking for one the key lacks is ``invalid_scope``. The answer (RFC 6749
§5.1)::

    {"access_token": "crt_...", "token_type": "Bearer", "expires_in": 600,
     "scope": "messages:read messages:send"}

with ``Cache-Control: no-store``. Errors follow RFC 6749 §5.2 (``{"error":
"invalid_client", "error_description": ...}``), not problem details: OAuth clients expect
them. Tokens are opaque (256 random bits), kept only as SHA-256, die with their key, and
see only their key's agency.

Why not django-oauth-toolkit: its tokens and applications are platform-wide tables keyed
by a user, its validator resolves them outside our agency scope (row-level security), and
it would be a second credential store beside ``ApiCredential``. The grant is a few dozen
lines over the credential we already verify.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.audit import Actor
from records.models import AuditEvent
from tenants.api.scopes import parse_scopes
from tenants.selectors import find_api_credential
from tenants.services import ApplicationError, issue_access_token

_TOKEN_RESPONSE = inline_serializer(
    "AccessToken",
    {
        "access_token": serializers.CharField(),
        "token_type": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
        "scope": serializers.CharField(),
    },
)
_TOKEN_REQUEST = inline_serializer(
    "AccessTokenRequest",
    {
        "grant_type": serializers.ChoiceField(choices=["client_credentials"]),
        "scope": serializers.CharField(required=False),
        "client_id": serializers.CharField(required=False),
        "client_secret": serializers.CharField(required=False),
    },
)
_OAUTH_ERROR = inline_serializer(
    "OAuthError",
    {"error": serializers.CharField(), "error_description": serializers.CharField()},
)


def _oauth_error(status: int, error: str, description: str) -> Response:
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="api"'
    return Response(
        {"error": error, "error_description": description}, status=status, headers=headers
    )


def _form(request: Request) -> Mapping[str, Any]:
    """The request's parameters; a JSON body that is not an object has none."""
    data = request.data
    return data if isinstance(data, Mapping) else {}


def _client(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
        return (unquote(client_id), unquote(secret)) if sep else None
    data = _form(request)
    form_id, form_secret = data.get("client_id"), data.get("client_secret")
    if isinstance(form_id, str) and isinstance(form_secret, str):
        return form_id, form_secret
    return None


class TokenApi(APIView):
    """Issues an access token for an API key (client credentials grant)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser, JSONParser]

    @extend_schema(
        operation_id="oauth_token",
        summary="Get an access token (OAuth 2.0 client credentials)",
        request={"application/x-www-form-urlencoded": _TOKEN_REQUEST},
        responses={
            200: _TOKEN_RESPONSE,
            400: OpenApiResponse(_OAUTH_ERROR, description="RFC 6749 §5.2 error"),
            401: OpenApiResponse(_OAUTH_ERROR, description="invalid_client"),
        },
        examples=[
            OpenApiExample(
                "Token",
                value={
                    "access_token": "crt_3q2-7wEXAMPLE",
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "scope": "messages:read messages:send",
                },
                response_only=True,
            )
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = _form(request)
        if data.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."
            )
        client = _client(request)
        if client is None:
            return _oauth_error(401, "invalid_client", "Client authentication is missing.")
        client_id, secret = client
        credential = find_api_credential(secret)
        if credential is None or client_id.removeprefix("cr_") != credential.prefix:
            return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
        requested = data.get("scope")
        scopes = None
        if requested is not None:
            parsed = parse_scopes(requested) if isinstance(requested, str) else None
            if not parsed:
                return _oauth_error(400, "invalid_scope", "Unknown or empty scope.")
            scopes = {str(s) for s in parsed}
        actor = Actor(
            AuditEvent.ActorType.API,
            str(credential.pk),
            credential.name,
            request.META.get("REMOTE_ADDR") or None,
        )
        try:
            token, raw = issue_access_token(actor=actor, credential=credential, scopes=scopes)
        except ApplicationError as exc:
            return _oauth_error(400, "invalid_scope", str(exc))
        expires_in = round((token.expires_at - token.created_at).total_seconds())
        body = {
            "access_token": raw,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": " ".join(token.scopes),
        }
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
