"""The file plan, disposition and certificate pages (under ``/records/retention/``,
namespace ``records_retention``). Records officers only (``MANAGE_RECORDS``); another
agency's rows are a 404. Thin views: forms check the input, the services the rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from frontend.decorators import agency_perm_required
from records.audit import Actor
from records.retention import selectors, services
from records.retention.forms import ApproveForm, CategoryForm, FiscalYearForm, RejectForm
from records.retention.models import DestructionCertificate, DispositionReport, RecordCategory
from tenants.http import MemberRequest
from tenants.permissions import Perm

T = "records/retention/"
ITEMS_PER_PAGE = 100


def _refused(form: Any, error: services.RetentionError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def plan(request: MemberRequest) -> HttpResponse:
    agency_id = request.agency.pk
    current = selectors.file_plan(agency_id)
    return render(
        request,
        T + "plan.html",
        {
            "section": "plan",
            "categories": selectors.categories(agency_id),
            "fiscal_form": FiscalYearForm(initial={"month": current.fiscal_year_start_month}),
        },
    )


@require_POST
@agency_perm_required(Perm.MANAGE_RECORDS)
def fiscal_year(request: MemberRequest) -> HttpResponse:
    form = FiscalYearForm(request.POST)
    if form.is_valid():
        services.set_fiscal_year_start(
            request.agency.pk, form.cleaned_data["month"], actor=Actor.from_request(request)
        )
        messages.success(request, "The fiscal year is saved.")
        return redirect("records_retention:plan")
    return render(
        request,
        T + "plan.html",
        {
            "section": "plan",
            "categories": selectors.categories(request.agency.pk),
            "fiscal_form": form,
        },
    )


def _category(request: MemberRequest, pk: int) -> RecordCategory:
    try:
        return selectors.category(request.agency.pk, pk)
    except RecordCategory.DoesNotExist:
        raise Http404("No such category in this agency.") from None


@require_http_methods(["GET", "POST"])
@agency_perm_required(Perm.MANAGE_RECORDS)
def category_form(request: MemberRequest, pk: int | None = None) -> HttpResponse:
    agency_id = request.agency.pk
    category = _category(request, pk) if pk is not None else None
    initial = CategoryForm.initial_of(category) if category else {}
    form = CategoryForm(request.POST or None, agency_id=agency_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_category(
                agency_id, form.data_(), actor=Actor.from_request(request), category=category
            )
        except services.RetentionError as error:
            _refused(form, error)
        else:
            messages.success(request, f"“{saved.name}” is saved in the file plan.")
            return redirect("records_retention:plan")
    return render(
        request, T + "category_form.html", {"section": "plan", "form": form, "category": category}
    )


@require_POST
@agency_perm_required(Perm.MANAGE_RECORDS)
def category_delete(request: MemberRequest, pk: int) -> HttpResponse:
    category = _category(request, pk)
    try:
        services.delete_category(request.agency.pk, category, actor=Actor.from_request(request))
    except services.RetentionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{category.name}” is removed from the file plan.")
    return redirect("records_retention:plan")


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def reports(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        T + "reports.html",
        {"section": "reports", "reports": selectors.reports(request.agency.pk)[:200]},
    )


def _report(request: MemberRequest, pk: int) -> DispositionReport:
    try:
        return selectors.report(request.agency.pk, pk)
    except DispositionReport.DoesNotExist:
        raise Http404("No such report in this agency.") from None


def _report_page(
    request: MemberRequest,
    report: DispositionReport,
    approve: ApproveForm | None = None,
    reject: RejectForm | None = None,
) -> HttpResponse:
    items = Paginator(selectors.report_items(report), ITEMS_PER_PAGE)
    page = items.get_page(request.GET.get("page"))
    authorities = sorted(
        set(selectors.report_items(report).values_list("category__authority", flat=True))
    )
    return render(
        request,
        T + "report.html",
        {
            "section": "reports",
            "report": report,
            "page": page,
            "authorities": authorities,
            "approve_form": approve or ApproveForm(),
            "reject_form": reject or RejectForm(),
        },
    )


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def report(request: MemberRequest, pk: int) -> HttpResponse:
    return _report_page(request, _report(request, pk))


@require_POST
@agency_perm_required(Perm.MANAGE_RECORDS)
def approve(request: MemberRequest, pk: int) -> HttpResponse:
    found = _report(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _report_page(request, found, approve=form)
    try:
        services.approve_report(request.agency.pk, found.pk, actor=Actor.from_request(request))
    except services.RetentionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, "Approved: the eligible records are being disposed of; held ones are kept."
        )
    return redirect("records_retention:report", found.pk)


@require_POST
@agency_perm_required(Perm.MANAGE_RECORDS)
def reject(request: MemberRequest, pk: int) -> HttpResponse:
    found = _report(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _report_page(request, found, reject=form)
    try:
        services.reject_report(
            request.agency.pk,
            found.pk,
            reason=form.cleaned_data["reason"],
            actor=Actor.from_request(request),
        )
    except services.RetentionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The report is rejected: nothing is disposed of.")
    return redirect("records_retention:report", found.pk)


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def certificates(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        T + "certificates.html",
        {"section": "certificates", "certificates": selectors.certificates(request.agency.pk)},
    )


@require_GET
@agency_perm_required(Perm.MANAGE_RECORDS)
def certificate(request: MemberRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.certificate(request.agency.pk, pk)
    except DestructionCertificate.DoesNotExist:
        raise Http404("No such certificate in this agency.") from None
    return render(
        request, T + "certificate.html", {"section": "certificates", "certificate": found}
    )
