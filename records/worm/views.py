"""The records officers' archive page: what the WORM archive holds, read-only
and the agency's archive policy (``MANAGE_RECORDS``; anyone else gets a 403). Thin: the
filter or the form, then ``selectors`` and ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from frontend.decorators import agency_perm_required
from records.audit import Actor
from records.worm import selectors, services
from records.worm.forms import PolicyForm
from tenants.http import MemberRequest
from tenants.permissions import Perm
from tenants.scoping import agency_scope

PAGE_SIZE = 50


@agency_perm_required(Perm.MANAGE_RECORDS)
def objects(request: MemberRequest) -> HttpResponse:
    """Every archived object version of the agency (or of one conversation, ``?conversation=``),
    with its lock and legal hold."""
    agency = request.agency
    raw = request.GET.get("conversation", "").strip()
    conversation_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    invalid = bool(raw) and conversation_id is None
    with agency_scope(agency):
        rows = selectors.objects(agency.pk, conversation_id)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        policy = selectors.policy(agency.pk)
    context = {
        "agency": agency,
        "page": page,
        "policy": policy,
        "conversation_id": conversation_id,
        "conversation_query": raw if not invalid else "",
        "invalid": invalid,
    }
    return render(request, "records/worm/objects.html", context, status=400 if invalid else 200)


@agency_perm_required(Perm.MANAGE_RECORDS)
@require_http_methods(["GET", "POST"])
def policy(request: MemberRequest) -> HttpResponse:
    agency = request.agency
    with agency_scope(agency):
        current = selectors.policy(agency.pk)
    initial = {
        "mode": current.mode,
        "active_days": current.active_days,
        "minimum_retention_days": current.minimum_retention_days,
    }
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_policy(agency.pk, actor=Actor.from_request(request), **form.cleaned_data)
        except services.ArchiveError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The archive policy is saved; new versions follow it.")
            return redirect("records_worm:objects")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "policy": current}
    return render(request, "records/worm/policy.html", context, status=status)
