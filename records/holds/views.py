"""The legal holds pages (under ``/records/holds/``, namespace ``records_holds``): the list,
placing a hold (a selection form with a live count of what it covers), a hold's page with
its coverage and the release form. Records officers only (``MANAGE_RECORDS``); another
agency's hold is a 404. Thin views: the services do the work and refuse in words."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from frontend.decorators import agency_perm_required
from records.audit import Actor
from records.holds import selectors, services
from records.holds.forms import HoldForm, ReleaseForm, SelectionForm
from records.holds.models import LegalHold
from records.selection import Selection
from tenants.http import MemberRequest
from tenants.permissions import Perm

T = "records/holds/"
STATUSES = [("", "All holds"), ("open", "Open"), ("released", "Released")]


def _hold(request: MemberRequest, pk: int) -> LegalHold:
    try:
        return selectors.hold(request.agency.pk, pk)
    except LegalHold.DoesNotExist:
        raise Http404("No such hold in this agency.") from None


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def hold_list(request: MemberRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in {value for value, _ in STATUSES}:
        status = ""
    rows = selectors.holds(request.agency.pk, status)
    return render(
        request,
        T + "list.html",
        {"rows": rows, "status": status, "statuses": STATUSES, "section": "holds"},
    )


@require_http_methods(["GET", "POST"])
@agency_perm_required(Perm.MANAGE_RECORDS)
def hold_new(request: MemberRequest) -> HttpResponse:
    agency = request.agency
    form = HoldForm(request.POST or None, agency_id=agency.pk, tz=agency.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            owner = form.cleaned_data.get("owner")
            hold = services.place_hold(
                agency.pk,
                matter_id=form.cleaned_data["matter_id"],
                reason=form.cleaned_data["reason"],
                owner_id=owner.pk if owner else None,
                selection=form.selection(),
                actor=Actor.from_request(request),
            )
        except services.HoldError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"The hold for matter {hold.matter_id} is in place.")
            return redirect("records_holds:detail", hold.pk)
    coverage = _coverage(request, form) if form.is_bound and form.is_valid() else None
    return render(request, T + "new.html", {"form": form, "coverage": coverage, "section": "holds"})


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def hold_preview(request: MemberRequest) -> HttpResponse:
    """The live count of the place form (htmx, on every change of a selection field)."""
    agency = request.agency
    form = SelectionForm(request.GET, agency_id=agency.pk, tz=agency.timezone)
    coverage = _coverage(request, form) if form.is_valid() else None
    return render(request, T + "_preview.html", {"coverage": coverage, "form": form})


def _coverage(request: MemberRequest, form: SelectionForm) -> dict[str, object]:
    selection: Selection = form.selection()
    found = selectors.selection_coverage(request.agency.pk, selection)
    return {
        "messages": found.messages,
        "conversations": found.conversations,
        "describe": selection.describe(),
    }


@require_http_methods(["GET", "POST"])
@agency_perm_required(Perm.MANAGE_RECORDS)
def hold_detail(request: MemberRequest, pk: int) -> HttpResponse:
    hold = _hold(request, pk)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST":
        if not hold.is_open:
            messages.info(request, f"The hold for matter {hold.matter_id} is already released.")
            return redirect("records_holds:detail", hold.pk)
        if form.is_valid():
            try:
                services.release_hold(
                    hold.pk, reason=form.cleaned_data["reason"], actor=Actor.from_request(request)
                )
            except services.HoldError as error:
                form.add_error("reason", str(error))
            else:
                messages.success(request, f"The hold for matter {hold.matter_id} is released.")
                return redirect("records_holds:detail", hold.pk)
    try:
        selection = Selection.from_json(hold.selection).describe()
    except ValueError:
        selection = "(unreadable selection)"
    return render(
        request,
        T + "detail.html",
        {
            "hold": hold,
            "coverage": selectors.hold_coverage(hold),
            "conversations": selectors.held_conversations(hold),
            "selection": selection,
            "form": form,
            "section": "holds",
        },
    )
