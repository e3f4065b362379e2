"""The campaign pages (under ``/campaigns/``, namespace ``campaigns``): the list, the set-up
wizard (one page and one submit per step, no JavaScript needed), the review before sending,
the live progress page with its recipients and CSV report, and the agency's Meta rates.

Supervisors view (``VIEW_CAMPAIGNS``), agency admins run them (``RUN_CAMPAIGNS``). Thin
views: forms check what was typed or uploaded, the engine (``services``, ``planning``,
``selectors``) does the rest; every refusal is a ``CampaignError`` shown in words. Campaigns
are fetched through the agency's own rows: another agency's id is a 404.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from bsp.events.selectors import last_sequence
from frontend.decorators import agency_perm_required
from inbox.admin_pages import selectors as inbox_selectors
from messaging.campaigns import planning, selectors, services
from messaging.campaigns.forms import (
    AudienceForm,
    ConfirmForm,
    DetailsForm,
    MappingForm,
    PricingForm,
    ScheduleForm,
    StatusFilterForm,
    TemplateForm,
)
from messaging.campaigns.models import Campaign, SkipReason
from messaging.consent import selectors as consent_selectors
from records.audit import Actor
from templates_mgr.preview import render_preview, template_variables
from tenants.http import MemberRequest
from tenants.permissions import Perm
from tenants.services import ApplicationError

T = "campaigns/"
RECIPIENTS_PER_PAGE = 50

# The wizard's steps: (url name, label). "review" is the last, before the confirmation.
STEPS = [
    ("edit", "Name and number"),
    ("template", "Template"),
    ("audience", "Audience"),
    ("variables", "Variables"),
    ("schedule", "Schedule"),
    ("review", "Review"),
]
# The recipients table's filter: what a recipient's row can show (the engine's words).
RECIPIENT_STATUSES = [
    ("pending", "Waiting"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]


def _campaign(request: MemberRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign(request.agency, pk)
    except Campaign.DoesNotExist:
        raise Http404("No such campaign in this agency.") from None


def _editable(request: MemberRequest, pk: int) -> Campaign:
    """The campaign to change in the wizard; a started one is no longer changed (Http404 is
    not right for it: the caller redirects with ``NotEditable``)."""
    campaign = _campaign(request, pk)
    if not campaign.is_editable:
        raise NotEditable(campaign)
    return campaign


class NotEditable(Exception):  # a control-flow signal for wizard_step, not an error
    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign


def _wizard(campaign: Campaign | None, current: str) -> dict[str, Any]:
    names = [name for name, _ in STEPS]
    index = names.index(current)
    steps = []
    for i, (name, label) in enumerate(STEPS):
        state = "complete" if i < index else "current" if i == index else ""
        url = reverse(f"campaigns:{name}", args=[campaign.pk]) if campaign else ""
        steps.append({"label": label, "state": state, "url": url})
    back = steps[index - 1]["url"] if index > 0 else ""
    return {
        "steps": steps,
        "number": index + 1,
        "total": len(STEPS),
        "label": STEPS[index][1],
        "back_url": back,
    }


def _step(
    request: MemberRequest, template: str, campaign: Campaign | None, current: str, **context: Any
) -> HttpResponse:
    context.update(campaign=campaign, wizard=_wizard(campaign, current))
    return render(request, T + template, context)


def _next(campaign: Campaign, step: str) -> HttpResponse:
    return redirect(f"campaigns:{step}", campaign.pk)


def _refused(form: Any, exc: ApplicationError) -> None:
    """A refusal of the engine next to the field it is about (``CampaignError.field``)."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


def wizard_step(view: Any) -> Any:
    """A step of a campaign that can no longer change sends the admin to its progress page."""

    def wrapper(request: MemberRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotEditable as stopped:
            messages.info(
                request,
                f"“{stopped.campaign.name}” is {stopped.campaign.get_status_display().lower()}: "
                "it can no longer be changed.",
            )
            return redirect("campaigns:detail", stopped.campaign.pk)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# --- The list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bars:
    """Sent / delivered / read as the progress bars draw them: each includes those further
    along (a read message was delivered and sent), out of the messages to send."""

    total: int
    sent: int
    delivered: int
    read: int

    @property
    def bars(self) -> list[tuple[str, int, str]]:
        return [
            ("Sent", self.sent, "sent"),
            ("Delivered", self.delivered, "delivered"),
            ("Read", self.read, "read"),
        ]


def _bars(progress: Any) -> Bars:
    read = int(progress.read)
    delivered = int(progress.delivered) + read
    sent = int(progress.sent) + delivered
    to_send = max(0, int(progress.recipients) - int(progress.skipped))
    return Bars(total=to_send, sent=sent, delivered=delivered, read=read)


def _creator(campaign: Campaign) -> str:
    user = campaign.created_by
    if user is None:
        return "Unknown"
    return user.get_full_name() or user.email


@require_GET
@agency_perm_required(Perm.VIEW_CAMPAIGNS)
def campaign_list(request: MemberRequest) -> HttpResponse:
    form = StatusFilterForm(request.GET, statuses=list(Campaign.Status.choices))
    status = form.chosen()
    rows = [
        {
            "campaign": campaign,
            "url": reverse("campaigns:detail", args=[campaign.pk]),
            "status_label": campaign.get_status_display(),
            "progress": _bars(selectors.campaign_progress(campaign)),
            "created_by": _creator(campaign),
            "id_text": str(campaign.pk),
        }
        for campaign in selectors.campaign_list(request.agency, status=status)
    ]
    context = {
        "form": form,
        "status": status or "",
        "rows": rows,
        "may_run": request.membership.has_perm(Perm.RUN_CAMPAIGNS),
        "tz_name": request.agency.timezone,
    }
    return render(request, T + "list.html", context)


# --- The wizard --------------------------------------------------------------------------


def _details_form(request: MemberRequest, **kwargs: Any) -> DetailsForm:
    return DetailsForm(
        request.POST if request.method == "POST" else None,
        phone_numbers=inbox_selectors.phone_numbers(request.agency),
        **kwargs,
    )


@agency_perm_required(Perm.RUN_CAMPAIGNS)
def create(request: MemberRequest) -> HttpResponse:
    form = _details_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(
                actor=Actor.from_request(request),
                agency=request.agency,
                name=form.cleaned_data["name"],
                phone_number=form.cleaned_data["phone_number"],
                created_by=request.user,
            )
        except ApplicationError as exc:
            _refused(form, exc)
        else:
            return _next(campaign, "template")
    return _step(request, "wizard/details.html", None, "edit", form=form)


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def edit(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _editable(request, pk)
    initial = {"name": campaign.name, "phone_number": campaign.phone_number_id}
    form = _details_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(
                actor=Actor.from_request(request), campaign=campaign, **form.cleaned_data
            )
        except ApplicationError as exc:
            _refused(form, exc)
        else:
            return _next(campaign, "template")
    return _step(request, "wizard/details.html", campaign, "edit", form=form)


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def template(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _editable(request, pk)
    templates = selectors.approved_templates(campaign.phone_number)
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        templates=templates,
        initial={"template": campaign.template_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(
                actor=Actor.from_request(request),
                campaign=campaign,
                template=form.cleaned_data["template"],
            )
        except ApplicationError as exc:
            _refused(form, exc)
        else:
            return _next(campaign, "audience")
    chosen = str(form["template"].value() or "")
    choices = [
        {
            "template": found,
            # The template's own samples: what Meta approved it with.
            "preview": render_preview(
                found, {v.key: v.example for v in template_variables(found) if v.example}
            ),
            "selected": str(found.pk) == chosen,
        }
        for found in templates
    ]
    return _step(request, "wizard/template.html", campaign, "template", form=form, choices=choices)


def _audience_initial(campaign: Campaign) -> dict[str, Any]:
    audience = campaign.audience or {}
    attributes = audience.get("attributes") or [{}]
    label_ids = audience.get("label_ids") or [None]
    return {
        "source": audience.get("source") or AudienceForm.CONTACTS,
        "topic": audience.get("topic", ""),
        "label": label_ids[0],
        "attribute_key": attributes[0].get("key", ""),
        "attribute_value": attributes[0].get("value", ""),
    }


def _upload_of(request: MemberRequest, campaign: Campaign) -> Any:
    upload_id = (campaign.audience or {}).get("upload_id")
    return selectors.upload(request.agency, int(upload_id)) if upload_id else None


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def audience(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _editable(request, pk)
    upload = _upload_of(request, campaign)
    topics = [(t.slug, t.name) for t in consent_selectors.topics(request.agency)]
    form = AudienceForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        topics=topics,
        labels=inbox_selectors.labels(request.agency),
        has_csv=upload is not None,
        initial=_audience_initial(campaign),
    )
    problems: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = Actor.from_request(request)
        uploaded = data.get("csv_file")
        if uploaded is not None:
            result = services.upload_audience_csv(
                actor=actor,
                agency=request.agency,
                file=uploaded,
                filename=uploaded.name or "",
                uploaded_by=request.user,
            )
            if result.upload is None:
                form.add_error("csv_file", result.error or "The file could not be read.")
            else:
                upload, problems = result.upload, list(result.problems)
        if not form.errors:
            label = data.get("label")
            key = data.get("attribute_key")
            chosen = {
                "source": data["source"],
                "topic": data.get("topic", ""),
                "label_ids": [label.pk] if label else [],
                "attributes": [{"key": key, "value": data["attribute_value"]}] if key else [],
                "upload_id": upload.pk if upload is not None else None,
            }
            try:
                services.update_campaign(actor=actor, campaign=campaign, audience=chosen)
            except ApplicationError as exc:
                _refused(form, exc)
            else:
                if not problems:
                    return _next(campaign, "variables")
                # A list with bad rows: shown here before going on (the good rows are kept).
                messages.warning(
                    request,
                    f"{upload.problem_count} row(s) of {upload.filename} will not be used: "
                    "see the list below. Continue, or upload a corrected file.",
                )
                form = AudienceForm(
                    topics=topics,
                    labels=inbox_selectors.labels(request.agency),
                    has_csv=True,
                    initial=_audience_initial(campaign),
                )
    elif upload is not None:
        problems = list(selectors.upload_problems(upload))
    return _step(
        request,
        "wizard/audience.html",
        campaign,
        "audience",
        form=form,
        upload=_upload_view(upload, problems) if upload is not None else None,
    )


def _upload_view(upload: Any, problems: list[Any]) -> dict[str, Any]:
    return {
        "filename": upload.filename,
        "row_count": upload.row_count,
        "columns": upload.columns,
        "problem_count": upload.problem_count,
        "problems": [
            {"row": p.row_number, "value": p.value, "reason": p.label or p.reason} for p in problems
        ],
    }


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def variables(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _editable(request, pk)
    if campaign.template is None:
        messages.info(request, "Choose the template first: its variables are filled here.")
        return _next(campaign, "template")
    upload = _upload_of(request, campaign)
    columns = list(upload.columns) if upload is not None else []
    fields = template_variables(campaign.template)
    initial: dict[str, str] = {}
    for key, mapped in (campaign.variable_mapping or {}).items():
        initial[f"{key}-source"] = str(mapped.get("source", ""))
        initial[f"{key}-value"] = str(mapped.get("value", ""))
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        variables=fields,
        columns=columns,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(
                actor=Actor.from_request(request),
                campaign=campaign,
                variable_mapping=form.mapping(),
            )
        except ApplicationError as exc:
            _refused(form, exc)
        else:
            if request.POST.get("then") == "preview":
                return redirect(reverse("campaigns:variables", args=[pk]) + "#recipient-previews")
            return _next(campaign, "schedule")
    samples = [
        {"name": sample.name or sample.wa_id, "preview": sample.preview, "problem": ""}
        for sample in planning.preview_recipients(campaign, n=3)
    ]
    return _step(
        request,
        "wizard/variables.html",
        campaign,
        "variables",
        form=form,
        samples=samples,
        campaign_has_mapping=bool(campaign.variable_mapping) or not fields,
    )


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def schedule(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _editable(request, pk)
    tz_name = request.agency.timezone
    at = campaign.scheduled_at
    initial: dict[str, Any] = {"when": ScheduleForm.LATER if at else ScheduleForm.NOW}
    if at is not None:
        local = at.astimezone(ScheduleForm(tz_name=tz_name).zone)
        initial.update(send_date=local.date(), send_time=local.time().replace(second=0))
    form = ScheduleForm(
        request.POST if request.method == "POST" else None, tz_name=tz_name, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(
                actor=Actor.from_request(request),
                campaign=campaign,
                scheduled_at=form.cleaned_data["scheduled_at"],
            )
        except ApplicationError as exc:
            _refused(form, exc)
        else:
            return _next(campaign, "review")
    return _step(request, "wizard/schedule.html", campaign, "schedule", form=form, tz_name=tz_name)


# --- Review and confirmation -------------------------------------------------------------


def _fingerprint(plan: Any) -> str:
    """What the admin agreed to: who gets it, who is skipped, what it costs. A confirmation
    of another plan (the audience changed meanwhile) shows the new one instead of sending."""
    parts = [
        str(plan.will_send),
        repr(sorted(plan.skipped.items())),
        str(plan.cost.total if plan.cost else ""),
        str(plan.tier.days_needed if plan.tier else ""),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _skip_rows(plan: Any) -> list[dict[str, Any]]:
    labels = dict(_skip_labels())
    return [
        {
            "code": code,
            "label": labels.get(code, code),
            "count": count,
            "samples": plan.skipped_samples.get(code, []),
        }
        for code, count in sorted(plan.skipped.items(), key=lambda item: -item[1])
        if count
    ]


def _skip_labels() -> Iterable[tuple[str, str]]:
    return SkipReason.choices


@agency_perm_required(Perm.RUN_CAMPAIGNS)
@wizard_step
def review(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if campaign.status != Campaign.Status.DRAFT:
        # Confirmed already (this is the second click of a double submit, or a back button).
        if request.method == "POST":
            messages.info(request, f"“{campaign.name}” is already confirmed.")
        return redirect("campaigns:detail", campaign.pk)
    plan = planning.plan_campaign(campaign)
    fingerprint = _fingerprint(plan)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None, initial={"plan": fingerprint}
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["plan"] != fingerprint:
            messages.warning(
                request,
                "The audience or its costs changed since the page was shown: "
                "check the figures again before confirming.",
            )
            form = ConfirmForm(initial={"plan": fingerprint})
        else:
            try:
                services.schedule_campaign(
                    actor=Actor.from_request(request),
                    campaign=campaign,
                    at=campaign.scheduled_at,
                    split_across_days=form.cleaned_data["split_across_days"],
                )
            except ApplicationError as exc:
                _refused(form, exc)
            else:
                when = "at the scheduled time" if campaign.scheduled_at else "now"
                messages.success(request, f"“{campaign.name}” is confirmed: it sends {when}.")
                return redirect("campaigns:detail", campaign.pk)
    context = {
        "form": form,
        "plan": plan,
        "skips": _skip_rows(plan),
        "skipped_total": sum(plan.skipped.values()),
        "tz_name": request.agency.timezone,
    }
    return _step(request, "review.html", campaign, "review", **context)


# --- Progress ----------------------------------------------------------------------------


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    progress = selectors.campaign_progress(campaign)
    labels = dict(_skip_labels())
    skipped = [
        (labels.get(code, code), count)
        for code, count in sorted(progress.skipped_by_reason.items(), key=lambda i: -i[1])
        if count
    ]
    failed = sorted(progress.failed_by_reason.items(), key=lambda item: -item[1])
    return {
        "campaign": campaign,
        "progress": progress,
        "bars": _bars(progress),
        "skipped_reasons": skipped,
        "failed_reasons": [(reason, count) for reason, count in failed if count],
    }


def _cursor(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def _page_url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}#recipients-heading"


@require_GET
@agency_perm_required(Perm.VIEW_CAMPAIGNS)
def detail(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    form = StatusFilterForm(request.GET, statuses=RECIPIENT_STATUSES)
    status = form.chosen()
    cursor = _cursor(request.GET.get("after"))
    page = selectors.recipients(campaign, status=status, cursor=cursor, limit=RECIPIENTS_PER_PAGE)
    query: dict[str, str] = {"status": status} if status else {}
    here = reverse("campaigns:detail", args=[pk])
    context = {
        **_progress_context(campaign),
        "filter_form": form,
        "status": status or "",
        "page": page,
        "next_url": _page_url(here, {**query, "after": str(page.next_cursor)})
        if page.next_cursor
        else "",
        "first_url": _page_url(here, query) if cursor else "",
        "per_page": RECIPIENTS_PER_PAGE,
        "created_by": _creator(campaign),
        "may_run": request.membership.has_perm(Perm.RUN_CAMPAIGNS),
        "stream_after": last_sequence(request.agency.pk),
        "tz_name": request.agency.timezone,
    }
    return render(request, T + "detail.html", context)


@require_GET
@agency_perm_required(Perm.VIEW_CAMPAIGNS)
def progress_fragment(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    context = {
        **_progress_context(campaign),
        "may_run": request.membership.has_perm(Perm.RUN_CAMPAIGNS),
    }
    response = render(request, T + "_progress.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _act(request: MemberRequest, pk: int, action: Any, done: str) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        action(actor=Actor.from_request(request), campaign=campaign)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{campaign.name}” {done}.")
    return redirect("campaigns:detail", campaign.pk)


@require_POST
@agency_perm_required(Perm.RUN_CAMPAIGNS)
def pause(request: MemberRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.pause_campaign, "is paused: nothing more is sent")


@require_POST
@agency_perm_required(Perm.RUN_CAMPAIGNS)
def resume(request: MemberRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.resume_campaign, "is sending again")


@agency_perm_required(Perm.RUN_CAMPAIGNS)
def cancel(request: MemberRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        return _act(request, pk, services.cancel_campaign, "is cancelled: nothing more is sent")
    campaign = _campaign(request, pk)
    if not campaign.can_cancel:
        messages.info(request, f"“{campaign.name}” is {campaign.get_status_display().lower()}.")
        return redirect("campaigns:detail", campaign.pk)
    context = {"campaign": campaign, **_progress_context(campaign)}
    return render(request, T + "confirm_cancel.html", context)


# --- The CSV report ----------------------------------------------------------------------


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Line:
    """The file-like ``csv.writer`` writes one row into; the row is returned, not kept."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """RFC 4180 lines (CRLF, quotes doubled, fields with commas/quotes/line breaks quoted)."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


@require_GET
@agency_perm_required(Perm.VIEW_CAMPAIGNS)
def report_csv(request: MemberRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    name = slugify(campaign.name)[:60] or "campaign"
    response = StreamingHttpResponse(
        csv_lines(selectors.report_csv_rows(campaign)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-{name}.csv"'
    response["Cache-Control"] = "no-store"
    # Streamed (a 100,000-row report is never held in memory); Django serves both kinds.
    return cast(HttpResponse, response)


# --- Pricing -----------------------------------------------------------------------------


def _pricing_cells(table: list[Any]) -> list[tuple[str, str, str, Any]]:
    return [
        (f"{row.market}__{row.category}", row.category.title(), row.market_label, row.rate)
        for row in table
    ]


@agency_perm_required(Perm.RUN_CAMPAIGNS)
def pricing(request: MemberRequest) -> HttpResponse:
    table = list(selectors.pricing_table(request.agency))
    currency = table[0].currency if table else "USD"
    form = PricingForm(
        request.POST if request.method == "POST" else None,
        cells=_pricing_cells(table),
        currency=currency,
    )
    if request.method == "POST" and request.POST.get("reset") == "1":
        services.reset_pricing_rates(actor=Actor.from_request(request), agency=request.agency)
        messages.success(request, "Meta's published rates apply again.")
        return redirect("campaigns:pricing")
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        changed = 0
        try:
            for row in table:
                rate = form.cleaned_data.get(f"{row.market}__{row.category}")
                if rate is not None and rate != row.rate:
                    services.set_pricing_rate(
                        actor=actor,
                        agency=request.agency,
                        market=row.market,
                        category=row.category,
                        rate=rate,
                    )
                    changed += 1
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{changed} rate(s) saved." if changed else "No change.")
            return redirect("campaigns:pricing")
    categories = list(dict.fromkeys(row.category for row in table))
    markets: dict[str, dict[str, Any]] = {}
    for row in table:
        entry = markets.setdefault(row.market, {"label": row.market_label, "cells": {}})
        entry["cells"][row.category] = {
            "field": form[f"{row.market}__{row.category}"],
            "overridden": row.overridden,
        }
    grid = [
        {"label": m["label"], "cells": [m["cells"].get(c) for c in categories]}
        for m in markets.values()
    ]
    context = {
        "form": form,
        "categories": [c.title() for c in categories],
        "grid": grid,
        "currency": currency,
    }
    return render(request, T + "pricing.html", context)
