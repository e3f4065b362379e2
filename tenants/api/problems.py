"""RFC 9457 problem details: the one error format of the REST API.

Every error answer is ``application/problem+json``::

    {"type": "urn:civic-relay:problem:insufficient_scope", "title": "Insufficient scope",
     "status": 403, "detail": "This request needs the scope audit:read.",
     "instance": "/api/v1/audit-events/", "code": "insufficient_scope"}

``code`` is the stable, machine-readable reason (an extension member, also the last part
of ``type``); field errors add ``errors``: ``[{"pointer": "/phone", "detail": "...",
"code": "invalid"}]`` (JSON Pointers into the request body). Refusals of a service carry the
rule as ``code`` (``window_closed``, ``no_opt_in``, ``tier_limit``...).

This module imports nothing of the platform, so that middleware can answer in the same
format before any view runs.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:civic-relay:problem:"

TITLES: dict[str, str] = {
    "insufficient_scope": "Insufficient scope",
    "invalid_token": "Invalid credentials",
    "agency_suspended": "Agency suspended",
    "idempotency_key_reused": "Idempotency key reused",
    "idempotency_key_invalid": "Invalid Idempotency-Key",
    "rate_limited": "Too many requests",
    "validation_error": "Invalid request",
    "parse_error": "Malformed request body",
    "payload_too_large": "Request body too large",
    "mfa_required": "Two-factor authentication required",
    "temporarily_unavailable": "Temporarily unavailable",
}


def title_for(code: str, status: int) -> str:
    if code in TITLES:
        return TITLES[code]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str = "",
    errors: list[dict[str, str]] | None = None,
    title: str = "",
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title or title_for(code, status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return body


def problem_response(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> HttpResponse:
    """A plain Django response in the problem format (for middleware, before DRF)."""
    instance = request.path if request is not None else ""
    body = problem(status=status, code=code, detail=detail, instance=instance, **extensions)
    response = HttpResponse(
        json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )
    return response
