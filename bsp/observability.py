"""Request ids: assigned per HTTP request, logged on every line, carried into Celery tasks."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class IdentifiedRequest(HttpRequest):
    """A request past ``RequestIdMiddleware`` (for type hints only)."""

    request_id: str


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the proxy or makes one; echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: IdentifiedRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _add_request_id_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and _request_id.get():
        headers.setdefault("request_id", _request_id.get())


def _restore_request_id(task: Any = None, **_: Any) -> None:
    request_id = getattr(task.request, "request_id", None) if task else None
    _request_id.set(request_id or f"task-{getattr(task.request, 'id', '') or ''}")


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_prerun

    before_task_publish.connect(_add_request_id_header, weak=False)
    task_prerun.connect(_restore_request_id, weak=False)
