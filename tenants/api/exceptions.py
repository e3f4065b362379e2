"""The API's exception handler: every error becomes an RFC 9457 problem (``problems.py``).

Refusals raised by services become ``422`` problems whose ``code`` is the refusal's: an
exception with a ``rule`` attribute (``messaging.policy.SendRefused``: ``window_closed``,
``no_opt_in``, ``tier_limit``...) or a ``code`` attribute (``ApplicationError``
subclasses) — read by duck typing, since tenants sits below the apps that raise them. Their
``details`` (if any) are the ``context`` member; an ``http_status`` attribute overrides
``422`` (``records.holds.HeldRecordError``: ``409 record_held``). ``ApiProblem`` lets a
view raise any status and code directly.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from tenants.api.problems import PROBLEM_CONTENT_TYPE, problem
from tenants.services import AgencySuspended, ApplicationError

REFUSAL_STATUS = 422


class ApiProblem(exceptions.APIException):
    """Raise from a view: ``ApiProblem(409, "conflict_code", "What happened.")``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail, code)
        self.status_code = status
        self.problem_code = code
        self.headers = headers or {}
        self.extensions = extensions


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This request needs the scope {scope}.", self.default_code)
        self.scope = scope


class AgencySuspendedError(exceptions.PermissionDenied):
    default_code = "agency_suspended"


def _pointer(path: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)


def field_errors(detail: Any, path: list[str] | None = None) -> list[dict[str, str]]:
    """DRF's nested ``get_full_details()`` flattened to ``[{pointer, detail, code}]``."""
    path = path or []
    if isinstance(detail, dict) and set(detail) == {"message", "code"}:
        message, code = str(detail["message"]), str(detail["code"])
        return [{"pointer": _pointer(path), "detail": message, "code": code}]
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = path if key == "non_field_errors" else [*path, str(key)]
            out.extend(field_errors(value, sub))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            nested = isinstance(value, dict) and set(value) != {"message", "code"}
            out.extend(field_errors(value, [*path, str(index)] if nested else path))
    return out


def _refusal_code(exc: Exception) -> str | None:
    rule = getattr(exc, "rule", None)
    if isinstance(rule, str):
        return str(rule)
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    extensions: dict[str, Any] = {}
    if isinstance(exc, AgencySuspended):
        status, code, detail = 403, "agency_suspended", str(exc)
    elif isinstance(exc, ApiProblem):
        status, code, detail = exc.status_code, exc.problem_code, str(exc.detail)
        headers, extensions = exc.headers, dict(exc.extensions)
        errors = list(extensions.pop("errors", None) or [])  # field errors, as validation's
    elif isinstance(exc, DjangoValidationError):
        status, code, detail = 400, "validation_error", "The request has invalid fields."
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        errors = [
            {
                "pointer": _pointer([k] if k not in ("", "__all__") else []),
                "detail": m,
                "code": "invalid",
            }
            for k, ms in messages.items()
            for m in ms
        ]
    elif isinstance(exc, exceptions.ValidationError):
        status, code, detail = 400, "validation_error", "The request has invalid fields."
        errors = field_errors(exc.get_full_details())
    elif isinstance(exc, DataError):
        # A value the database cannot hold (a NUL character in a filter, say): the client's.
        status, code = 400, "bad_request"
        detail = "The request holds a value the platform cannot store or search for."
    elif isinstance(exc, RequestDataTooBig):
        status, code, detail = 413, "payload_too_large", "The request body is too large."
    elif isinstance(exc, SuspiciousOperation):
        status, code, detail = 400, "bad_request", "The request could not be understood."
    elif isinstance(exc, Http404):
        status, code, detail = 404, "not_found", "Not found."
    elif isinstance(exc, DjangoPermissionDenied):
        status, code, detail = 403, "permission_denied", "You do not have access to this."
    elif isinstance(exc, exceptions.APIException):
        status = exc.status_code
        plain = not isinstance(exc.detail, (dict, list))
        detail = str(exc.detail) if plain else "Request failed."
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        if isinstance(exc, InsufficientScope):
            headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{exc.scope}"'
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(max(1, round(wait)))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    elif isinstance(exc, ApplicationError) or _refusal_code(exc) is not None:
        declared = getattr(exc, "http_status", None)
        status = declared if isinstance(declared, int) else REFUSAL_STATUS
        code = _refusal_code(exc) or "refused"
        detail = str(getattr(exc, "message", "") or exc)
        details = getattr(exc, "details", None)
        if isinstance(details, dict) and details:
            extensions["context"] = {k: _jsonable(v) for k, v in details.items()}
    else:
        return None
    body = problem(
        status=status, code=code, detail=detail, instance=instance, errors=errors, **extensions
    )
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
