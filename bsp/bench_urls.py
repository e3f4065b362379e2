"""Benchmark-only URLs (bsp.settings.bench): the platform plus a bare view, the baseline the
webhook benchmark compares ingestion with (same server, same middleware, no work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bsp.urls import urlpatterns as platform_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    request.read()  # any view must at least consume the body
    return HttpResponse("OK", content_type="text/plain")


urlpatterns = [path("bench/bare", bare), *platform_urlpatterns]
