"""OpenAPI pieces every endpoint shares (drf-spectacular): the problem body, its usual
answers, and the rate-limit headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from tenants.api.problems import PROBLEM_CONTENT_TYPE, problem


class FieldErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="JSON Pointer into the request body.")
    detail = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="urn:civic-relay:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    code = serializers.CharField(help_text="Stable machine-readable reason.")
    errors = FieldErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    context = serializers.DictField(required=False, help_text="A refusal's details.")  # type: ignore[assignment]


_EXAMPLES = {
    400: ("validation_error", "The request has invalid fields."),
    401: ("invalid_token", "The API key or access token is invalid, expired or revoked."),
    403: ("insufficient_scope", "This request needs the scope audit:read."),
    404: ("not_found", "Not found."),
    409: (
        "idempotency_key_reused",
        "This Idempotency-Key was used for a different request. Use a new key for a new request.",
    ),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    422: ("window_closed", "The 24-hour customer service window is closed."),
    429: ("rate_limited", "This credential may make 100 requests per second (bursts of 200)."),
}


def problem_response(status: int) -> OpenApiResponse:
    code, detail = _EXAMPLES[status]
    example = problem(status=status, code=code, detail=detail, instance="/api/v1/...")
    if status == 400:
        example["errors"] = [
            {"pointer": "/text", "detail": "This field is required.", "code": "required"}
        ]
    return OpenApiResponse(
        response=ProblemSerializer,
        description=f"Problem details (`{code}` and others).",
        examples=[OpenApiExample(code, value=example, status_codes=[str(status)])],
    )


def problems(*statuses: int) -> dict[int, Any]:
    """The usual error answers of an endpoint: 401, 403, 429 and those given."""
    return {s: problem_response(s) for s in sorted({401, 403, 429, *statuses})}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Makes the POST safe to retry: the same key with the same body returns the original "
        "answer (`Idempotent-Replayed: true`); with another body, 409 "
        "`idempotency_key_reused`. 1-255 printable ASCII characters, kept 24 hours."
    ),
)


_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "The credential's burst (bucket capacity).",
    "RateLimit-Remaining": "Whole requests left right now.",
    "RateLimit-Reset": "Seconds until the bucket is full again.",
    "RateLimit-Policy": "`<burst>;w=<seconds to refill from empty>`.",
}


class ApiAutoSchema(AutoSchema):
    """Adds the problem answers to every operation a credential may call: 401, 403 and 429
    always, 404 with a path parameter, 400 with query parameters (filters, cursors), 400,
    409, 413, 415 and 422 with a body, 409 for DELETE (a held record)
    (``DEFAULT_SCHEMA_CLASS``); and the RateLimit-* headers (plus Retry-After on 429) to
    its answers."""

    def _get_response_headers_for_code(
        self, status_code: str, direction: Any = "response"
    ) -> dict[str, Any]:
        headers: dict[str, Any] = super()._get_response_headers_for_code(status_code, direction)
        if getattr(self.view, "required_scope", None) is None or status_code == "401":
            return headers
        for name, description in _RATE_LIMIT_HEADERS.items():
            headers.setdefault(name, {"schema": {"type": "string"}, "description": description})
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before retrying.",
            }
        return headers

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response" or getattr(self.view, "required_scope", None) is None:
            return responses
        statuses = {401, 403, 429}
        if "{" in self.path:
            statuses.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {400, 409, 413, 415, 422}
        if self.method == "DELETE":
            statuses.add(409)
        if any(p.get("in") == "query" for p in self._get_parameters()):
            statuses.add(400)
        for status in sorted(statuses):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    problem_response(status), str(status), [PROBLEM_CONTENT_TYPE], direction
                )
        return responses
