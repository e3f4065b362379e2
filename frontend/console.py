"""The platform operators' console: where a superuser lands, outside any agency.

A read-only overview (agencies and their status, webhook ingestion health, the records'
capture and signed checkpoints) with links to
the Django admin, where operators act. Reads are cross-agency, through the selectors.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.selectors import webhook_health
from records.selectors import records_health
from tenants.selectors import agencies_overview


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only platform operators see the console.")
    context = {
        "agencies": agencies_overview(),
        "webhooks": webhook_health(),
        "records": records_health(),
    }
    return render(request, "frontend/console.html", context)
