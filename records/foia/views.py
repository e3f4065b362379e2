"""The public-records request pages (under ``/records/requests/``, namespace
``records_foia``), for records officers (``MANAGE_RECORDS``; anyone else gets a 403).

Thin views: forms check what was typed, ``services`` does the work and refuses in words
(``RequestError``, shown next to its field). Requests are fetched through the agency's own
rows: another agency's id is a 404. Every page works without JavaScript; the review page's
small script only fills the span form from a text selection.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from frontend.decorators import agency_perm_required
from inbox.admin_pages import selectors as inbox_selectors
from inbox.models import Label
from records.audit import Actor
from records.foia import selectors, services
from records.foia.errors import RequestError
from records.foia.forms import (
    ClockForm,
    DecisionForm,
    ExemptionCodeForm,
    ExtensionForm,
    FederalHolidaysForm,
    HolidayForm,
    IntakeForm,
    ItemDecisionForm,
    JurisdictionForm,
    MediaForm,
    PhraseForm,
    ProductionForm,
    SearchForm,
    SpanForm,
    StatusForm,
    code_choices,
)
from records.foia.models import AgencyHoliday, Jurisdiction, RecordsRequest, RequestItem
from tenants.http import MemberRequest
from tenants.permissions import Perm

T = "records/foia/"
REVIEW_PAGE = 200  # messages of the review set listed on the request page
SHOWS = [
    ("open", "Open"),
    ("overdue", "Overdue"),
    ("paused", "Clock paused"),
    ("closed", "Closed"),
    ("all", "All"),
]
ASSETS = {
    "review.js": "text/javascript; charset=utf-8",
    "foia.css": "text/css; charset=utf-8",
}
perm = agency_perm_required(Perm.MANAGE_RECORDS)


MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a larger id in a URL names nothing


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404("No such record.")
    return value


def _request(request: MemberRequest, pk: int) -> RecordsRequest:
    _id(pk)
    try:
        return selectors.request(request.agency, pk)
    except RecordsRequest.DoesNotExist:
        raise Http404("No such request in this agency.") from None


def _refused(form: Any, exc: RequestError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def _actor(request: MemberRequest) -> Actor:
    return Actor.from_request(request)


# --- List, intake, rules ------------------------------------------------------------------


@require_GET
@perm
def request_list(request: MemberRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    if show not in dict(SHOWS):
        show = "open"
    context = {
        "rows": selectors.request_list(request.agency, show=show),
        "dashboard": selectors.dashboard(request.agency),
        "show": show,
        "shows": SHOWS,
        "today": services.agency_today(request.agency),
    }
    return render(request, T + "list.html", context)


@perm
def create(request: MemberRequest) -> HttpResponse:
    jurisdictions = selectors.jurisdictions(request.agency)
    form = IntakeForm(
        request.POST if request.method == "POST" else None,
        jurisdictions=jurisdictions,
        initial={"received_on": services.agency_today(request.agency)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_request(
                request.agency,
                actor=_actor(request),
                created_by=request.user,
                **form.cleaned_data,
            )
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Request {created.number} recorded.")
            return redirect("records_foia:detail", created.pk)
    return render(request, T + "create.html", {"form": form, "has_rules": jurisdictions.exists()})


def _rules(request: MemberRequest, **forms: Any) -> HttpResponse:
    context = {
        "jurisdictions": selectors.jurisdictions(request.agency),
        "holidays": selectors.holidays(request.agency),
        "jurisdiction_form": forms.get("jurisdiction_form") or JurisdictionForm(),
        "code_form": forms.get("code_form") or ExemptionCodeForm(),
        "code_for": forms.get("code_for"),
        "holiday_form": forms.get("holiday_form") or HolidayForm(),
        "federal_form": forms.get("federal_form")
        or FederalHolidaysForm(
            prefix="federal", initial={"year": services.agency_today(request.agency).year}
        ),
    }
    return render(request, T + "rules.html", context)


@require_GET
@perm
def rules(request: MemberRequest) -> HttpResponse:
    return _rules(request)


@require_POST
@perm
def add_examples(request: MemberRequest) -> HttpResponse:
    created = services.ensure_example_jurisdictions(request.agency, actor=_actor(request))
    messages.success(request, f"{created} example jurisdiction{'s' if created != 1 else ''} added.")
    return redirect("records_foia:rules")


@require_POST
@perm
def add_jurisdiction(request: MemberRequest) -> HttpResponse:
    form = JurisdictionForm(request.POST)
    if form.is_valid():
        try:
            services.create_jurisdiction(request.agency, actor=_actor(request), **form.cleaned_data)
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, "Jurisdiction added.")
            return redirect("records_foia:rules")
    return _rules(request, jurisdiction_form=form)


@require_POST
@perm
def add_code(request: MemberRequest, pk: int) -> HttpResponse:
    jurisdiction = Jurisdiction.objects.filter(agency=request.agency, pk=_id(pk)).first()
    if jurisdiction is None:
        raise Http404("No such jurisdiction in this agency.")
    form = ExemptionCodeForm(request.POST, prefix=f"j{pk}")
    if form.is_valid():
        try:
            services.add_exemption_code(jurisdiction, actor=_actor(request), **form.cleaned_data)
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Code added to {jurisdiction.name}.")
            return redirect("records_foia:rules")
    return _rules(request, code_form=form, code_for=jurisdiction.pk)


@require_POST
@perm
def add_holiday(request: MemberRequest) -> HttpResponse:
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            services.add_holiday(request.agency, actor=_actor(request), **form.cleaned_data)
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, "Holiday added; open requests' due dates recomputed.")
            return redirect("records_foia:rules")
    return _rules(request, holiday_form=form)


@require_POST
@perm
def add_federal_holidays(request: MemberRequest) -> HttpResponse:
    form = FederalHolidaysForm(request.POST, prefix="federal")
    if form.is_valid():
        try:
            added = services.add_federal_holidays(
                request.agency, actor=_actor(request), year=form.cleaned_data["year"]
            )
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                f"{added} federal holiday{'s' if added != 1 else ''} of "
                f"{form.cleaned_data['year']} added; open requests' due dates recomputed.",
            )
            return redirect("records_foia:rules")
    return _rules(request, federal_form=form)


@require_POST
@perm
def remove_holiday(request: MemberRequest, pk: int) -> HttpResponse:
    holiday = AgencyHoliday.objects.filter(agency=request.agency, pk=_id(pk)).first()
    if holiday is None:
        raise Http404("No such holiday in this agency.")
    services.remove_holiday(holiday, actor=_actor(request))
    messages.success(request, "Holiday removed; open requests' due dates recomputed.")
    return redirect("records_foia:rules")


# --- The request page ---------------------------------------------------------------------


def _search_form(request: MemberRequest, data: Any = None) -> SearchForm:
    numbers = [
        (n.pk, n.display_phone_number or str(n.pk))
        for n in inbox_selectors.phone_numbers(request.agency)
    ]
    labels = [(label.pk, label.name) for label in Label.objects.filter(agency=request.agency)]
    return SearchForm(data, phone_numbers=numbers, labels=labels, prefix="search")


def _detail(request: MemberRequest, rr: RecordsRequest, **forms: Any) -> HttpResponse:
    codes = code_choices(rr.jurisdiction)
    decision = request.GET.get("decision", "")
    if decision not in RequestItem.Decision.values:
        decision = ""
    items = selectors.review_set(rr, decision=decision, limit=REVIEW_PAGE)
    context = {
        "rr": rr,
        "clock": services.request_clock(rr),
        "today": services.agency_today(rr.agency),
        "items": items,
        "shown_limit": REVIEW_PAGE,
        "counts": selectors.decision_counts(rr),
        "decisions": RequestItem.Decision.choices,
        "codes": rr.jurisdiction.codes.all(),
        "activities": rr.activities.all()[:50],
        "clock_events": rr.clock.all(),
        "productions": rr.productions.all(),
        "building": rr.productions.filter(status__in=["queued", "building"]).exists(),
        "extension_form": forms.get("extension_form") or ExtensionForm(prefix="ext"),
        "toll_form": forms.get("toll_form") or ClockForm(prefix="toll"),
        "resume_form": forms.get("resume_form") or ClockForm(prefix="resume"),
        "status_form": forms.get("status_form")
        or StatusForm(prefix="status", initial={"status": rr.status}),
        "search_form": forms.get("search_form") or _search_form(request),
        "decision_form": forms.get("decision_form")
        or DecisionForm(item_ids=[], codes=codes, prefix="review"),
        "phrase_form": forms.get("phrase_form") or PhraseForm(codes=codes, prefix="phrase"),
        "production_form": forms.get("production_form")
        or ProductionForm(
            prefix="prod",
            initial={
                "bates_prefix": rr.bates_prefix,
                "bates_start": services.next_bates_start(rr, rr.bates_prefix),
                "fmt": "pdf",
            },
        ),
        "hold_ids": rr.hold_id,
    }
    return render(request, T + "detail.html", context)


@require_GET
@perm
def detail(request: MemberRequest, pk: int) -> HttpResponse:
    return _detail(request, _request(request, pk))


def _act(
    request: MemberRequest,
    rr: RecordsRequest,
    form: Any,
    form_name: str,
    action: Any,
    done: str,
) -> HttpResponse:
    """Validate ``form``; run ``action(cleaned_data)``; a refusal goes next to the field."""
    if form.is_valid():
        try:
            result = action(form.cleaned_data)
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, done.format(result=result))
            return redirect("records_foia:detail", rr.pk)
    return _detail(request, rr, **{form_name: form})


@require_POST
@perm
def extend(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        ExtensionForm(request.POST, prefix="ext"),
        "extension_form",
        lambda d: services.extend(rr, actor=_actor(request), days=d["days"], reason=d["reason"]),
        "Extension recorded; new due date {result.due_on}.",
    )


@require_POST
@perm
def toll(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        ClockForm(request.POST, prefix="toll"),
        "toll_form",
        lambda d: services.toll(rr, actor=_actor(request), reason=d["reason"]),
        "Clock paused.",
    )


@require_POST
@perm
def resume(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        ClockForm(request.POST, prefix="resume"),
        "resume_form",
        lambda d: services.resume(rr, actor=_actor(request), reason=d["reason"]),
        "Clock resumed; due {result.due_on}.",
    )


@require_POST
@perm
def change_status(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        StatusForm(request.POST, prefix="status"),
        "status_form",
        lambda d: services.set_status(rr, actor=_actor(request), **d),
        "Status: {result.get_status_display}.",
    )


@require_POST
@perm
def search(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    form = _search_form(request, request.POST)
    tz = ZoneInfo(request.agency.timezone or "UTC")
    return _act(
        request,
        rr,
        form,
        "search_form",
        lambda d: services.run_search(rr, actor=_actor(request), selection=form.selection(tz)),
        "{result} messages added to the review set.",
    )


@require_POST
@perm
def decide(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    item_ids = list(rr.items.values_list("pk", flat=True))
    form = DecisionForm(
        request.POST, item_ids=item_ids, codes=code_choices(rr.jurisdiction), prefix="review"
    )
    return _act(
        request,
        rr,
        form,
        "decision_form",
        lambda d: services.decide(
            rr, actor=_actor(request), item_ids=d["items"], decision=d["decision"], code=d["code"]
        ),
        "{result} messages decided.",
    )


@require_POST
@perm
def redact_phrase(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        PhraseForm(request.POST, codes=code_choices(rr.jurisdiction), prefix="phrase"),
        "phrase_form",
        lambda d: services.redact_phrase(rr, actor=_actor(request), **d),
        "Phrase redacted in {result} places.",
    )


@require_POST
@perm
def produce(request: MemberRequest, pk: int) -> HttpResponse:
    rr = _request(request, pk)
    return _act(
        request,
        rr,
        ProductionForm(request.POST, prefix="prod"),
        "production_form",
        lambda d: services.request_production(rr, actor=_actor(request), **d),
        "Production of {result.item_count} messages asked for: it is being built, and listed "
        "below with its download link when ready.",
    )


@require_GET
@perm
def download(request: MemberRequest, pk: int, production: int) -> HttpResponse:
    rr = _request(request, pk)
    found = rr.productions.filter(pk=_id(production), status="done").first()
    if found is None:
        raise Http404("No such production of this request, or not built yet.")
    package = Path(found.path)
    folder = package.parent  # the signed package and its redaction log
    root = services.productions_dir().resolve()
    if not package.exists() or root not in folder.resolve().parents:
        raise Http404("The package is no longer on disk.")
    name = package.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{name}/{file.relative_to(folder).as_posix()}")
            info.date_time = (1980, 1, 1, 0, 0, 0)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    buffer.seek(0)
    return cast(HttpResponse, FileResponse(buffer, as_attachment=True, filename=f"{name}.zip"))


# --- One message's review and redaction ---------------------------------------------------


def _item(request: MemberRequest, rr: RecordsRequest, item: int) -> selectors.ItemView:
    _id(item)
    try:
        return selectors.item_view(rr, item)
    except RequestItem.DoesNotExist:
        raise Http404("No such message in this request's review set.") from None


def _item_page(
    request: MemberRequest, rr: RecordsRequest, view: selectors.ItemView, **forms: Any
) -> HttpResponse:
    codes = code_choices(rr.jurisdiction)
    ids = list(rr.items.values_list("pk", flat=True))
    index = ids.index(view.item.pk)
    context = {
        "rr": rr,
        "view": view,
        "codes": rr.jurisdiction.codes.all(),
        "span_form": forms.get("span_form") or SpanForm(codes=codes, prefix="span"),
        "media_form": forms.get("media_form") or MediaForm(codes=codes, prefix="media"),
        "decision_form": forms.get("decision_form")
        or ItemDecisionForm(
            codes=codes,
            prefix="decide",
            initial={
                "decision": view.item.decision if view.item.decision != "pending" else "responsive",
                "code": view.item.withheld_code,
            },
        ),
        "words_form": forms.get("words_form")
        or PhraseForm(codes=codes, prefix="words", label="Words to redact in this message"),
        "previous_item": ids[index - 1] if index > 0 else None,
        "next_item": ids[index + 1] if index + 1 < len(ids) else None,
        "position": index + 1,
        "total": len(ids),
    }
    return render(request, T + "item.html", context)


@require_GET
@perm
def item(request: MemberRequest, pk: int, item: int) -> HttpResponse:
    rr = _request(request, pk)
    return _item_page(request, rr, _item(request, rr, item))


def _item_act(
    request: MemberRequest, pk: int, item: int, form_name: str, make: Any, action: Any, done: str
) -> HttpResponse:
    rr = _request(request, pk)
    view = _item(request, rr, item)
    form = make(rr)
    if form.is_valid():
        try:
            action(rr, view, form.cleaned_data)
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, done)
            return redirect("records_foia:item", rr.pk, view.item.pk)
    return _item_page(request, rr, view, **{form_name: form})


@require_POST
@perm
def redact_span(request: MemberRequest, pk: int, item: int) -> HttpResponse:
    return _item_act(
        request,
        pk,
        item,
        "span_form",
        lambda rr: SpanForm(request.POST, codes=code_choices(rr.jurisdiction), prefix="span"),
        lambda rr, view, d: services.redact_span(
            rr, actor=_actor(request), item_id=view.item.pk, **d
        ),
        "Redaction added.",
    )


@require_POST
@perm
def decide_item(request: MemberRequest, pk: int, item: int) -> HttpResponse:
    """Decide this message, then go on to the next one of the review set (or back to the
    request after the last)."""
    rr = _request(request, pk)
    view = _item(request, rr, item)
    form = ItemDecisionForm(request.POST, codes=code_choices(rr.jurisdiction), prefix="decide")
    if form.is_valid():
        try:
            services.decide(
                rr,
                actor=_actor(request),
                item_ids=[view.item.pk],
                decision=form.cleaned_data["decision"],
                code=form.cleaned_data["code"],
            )
        except RequestError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Message #{view.message.pk} decided.")
            following = rr.items.filter(pk__gt=view.item.pk).order_by("pk").first()
            if following is not None:
                return redirect("records_foia:item", rr.pk, following.pk)
            return redirect("records_foia:detail", rr.pk)
    return _item_page(request, rr, view, decision_form=form)


@require_POST
@perm
def redact_words(request: MemberRequest, pk: int, item: int) -> HttpResponse:
    """Every occurrence of typed words in this message (no selection, no offsets needed)."""
    return _item_act(
        request,
        pk,
        item,
        "words_form",
        lambda rr: PhraseForm(
            request.POST,
            codes=code_choices(rr.jurisdiction),
            prefix="words",
            label="Words to redact in this message",
        ),
        lambda rr, view, d: services.redact_phrase(
            rr, actor=_actor(request), item_id=view.item.pk, **d
        ),
        "The words are redacted in this message.",
    )


@require_POST
@perm
def withhold_media(request: MemberRequest, pk: int, item: int) -> HttpResponse:
    return _item_act(
        request,
        pk,
        item,
        "media_form",
        lambda rr: MediaForm(request.POST, codes=code_choices(rr.jurisdiction), prefix="media"),
        lambda rr, view, d: services.withhold_media(
            rr, actor=_actor(request), item_id=view.item.pk, **d
        ),
        "The file is withheld from the production.",
    )


@require_POST
@perm
def remove_redaction(request: MemberRequest, pk: int, redaction: int) -> HttpResponse:
    rr = _request(request, pk)
    found = rr.redactions.filter(pk=_id(redaction)).first()
    if found is None:
        raise Http404("No such redaction on this request.")
    try:
        services.remove_redaction(rr, actor=_actor(request), redaction_id=found.pk)
    except RequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Redaction removed.")
    return redirect("records_foia:item", rr.pk, found.item_id)


@require_GET
@perm
def asset(request: MemberRequest, name: str) -> HttpResponse:
    """The pages' own script and style sheet (files of this package, under our CSP)."""
    if name not in ASSETS:
        raise Http404("No such file.")
    body = Path(__file__).with_name(name).read_bytes()
    response = HttpResponse(body, content_type=ASSETS[name])
    response["Cache-Control"] = "private, max-age=3600"
    return response
