"""One error body for the whole API: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.services import AgencySuspended, ApplicationError


class AgencySuspendedError(exceptions.PermissionDenied):
    default_code = "agency_suspended"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AgencySuspended):
        exc = AgencySuspendedError(str(exc))
    elif isinstance(exc, ApplicationError):
        exc = exceptions.ValidationError({"detail": str(exc)}, code="refused")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    detail = response.data
    message = detail.get("detail") if isinstance(detail, dict) else None
    response.data = {
        "error": {
            "code": code,
            "message": str(message or getattr(exc, "default_detail", "Request failed.")),
            "details": detail if message is None else {},
        }
    }
    return response
