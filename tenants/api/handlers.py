"""Django's error views, answering in the problem format under ``/api/``.

An API client asking for a path no view matches (``/api/v1/contacts/abc/``), or hitting
an unhandled error, gets ``application/problem+json`` like every other API error, never the
HTML page a browser gets. Everywhere else Django's own views render the site's templates
(``404.html``, ``500.html``...). Installed as ``handler404`` etc. in ``bsp.urls``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from tenants.api.problems import problem_response

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = "The request could not be understood."
        return problem_response(request, status=400, code="bad_request", detail=detail)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = "You do not have access to this."
        return problem_response(request, status=403, code="permission_denied", detail=detail)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status=404, code="not_found", detail="Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest, *args: Any) -> HttpResponse:
    if _is_api(request):
        detail = "Something went wrong on our side; it has been logged."
        return problem_response(request, status=500, code="server_error", detail=detail)
    return defaults.server_error(request)
