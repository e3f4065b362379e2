"""The records officers' export pages: choose records and a format, follow the job, download
the signed package. Thin: the form, then ``services``; reads through ``selectors``."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from frontend.decorators import agency_perm_required
from records.audit import Actor, record_event
from records.exports import selectors, services
from records.exports.forms import ExportForm
from records.exports.models import ExportJob
from tenants.http import MemberRequest
from tenants.permissions import Perm


@agency_perm_required(Perm.MANAGE_RECORDS)
@require_http_methods(["GET", "POST"])
def exports(request: MemberRequest) -> HttpResponse:
    form = ExportForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = services.request_export(
            request.agency.pk,
            selection=form.selection(),
            fmt=data["format"],
            title=data["title"],
            bates_prefix=data["bates_prefix"],
            bates_start=data["bates_start"] if data["bates_start"] is not None else 1,
            requested_by_id=request.user.pk,
            actor=Actor.from_request(request),
        )
        return redirect("records_exports:job", pk=job.pk)
    jobs = selectors.recent_jobs(request.agency.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "records/exports/index.html", {"form": form, "jobs": jobs}, status=status
    )


def _job(request: MemberRequest, pk: int) -> ExportJob:
    found = selectors.job(request.agency.pk, pk)
    if found is None:
        raise Http404("No such export")
    return found


@agency_perm_required(Perm.MANAGE_RECORDS)
def job(request: MemberRequest, pk: int) -> HttpResponse:
    found = _job(request, pk)
    return render(
        request, "records/exports/job.html", {"job": found, "selection": _describe(found)}
    )


@agency_perm_required(Perm.MANAGE_RECORDS)
def job_progress(request: MemberRequest, pk: int) -> HttpResponse:
    return render(request, "records/exports/_progress.html", {"job": _job(request, pk)})


@agency_perm_required(Perm.MANAGE_RECORDS)
def download(request: MemberRequest, pk: int) -> HttpResponse:
    found = _job(request, pk)
    if found.status != ExportJob.Status.DONE or not found.storage_key:
        raise Http404("The package is not ready")
    try:
        handle = default_storage.open(found.storage_key, "rb")
    except OSError:
        raise Http404("The package file is missing") from None
    with transaction.atomic():
        record_event(
            agency_id=request.agency.pk,
            actor=Actor.from_request(request),
            action="records.export_downloaded",
            target=found,
            changes={"package": found.package_name, "sha256": found.sha256},
        )
    response = FileResponse(handle, as_attachment=True, filename=f"{found.package_name}.zip")
    # The decorator is typed for plain responses; a streamed one works the same way.
    return response  # type: ignore[return-value]


def _describe(found: ExportJob) -> str:
    from records.selection import InvalidSelection, Selection

    try:
        return Selection.from_json(found.selection).describe()
    except InvalidSelection:
        return "(unreadable selection)"
