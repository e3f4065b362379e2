"""Staff pages of consent (at /contacts/): the contacts directory, a contact's consent
history with its export, staff-recorded opt-ins and opt-outs, topics, and CSV imports.

Supervisors see (VIEW_CONTACTS); agency admins change (MANAGE_CONTACTS). Thin views:
forms validate, services act, selectors read; another agency's id is a 404.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontend.decorators import agency_perm_required
from messaging.consent import demo, imports, public, selectors, services, tasks
from messaging.consent.forms import DirectoryForm, ImportForm, StaffConsentForm, TopicForm
from messaging.consent.models import ConsentImport, ConsentTopic, ImportRow
from messaging.models import Consent, Contact
from records.audit import Actor, record_event
from tenants.http import MemberRequest
from tenants.permissions import Perm
from tenants.services import ApplicationError

T = "consent/"


def _can_manage(request: MemberRequest) -> bool:
    return request.membership is not None and request.membership.has_perm(Perm.MANAGE_CONTACTS)


def _contact(request: MemberRequest, pk: int) -> Contact:
    found = selectors.contact(request.agency, pk)
    if found is None:
        raise Http404
    return found


# --- Directory and contact ------------------------------------------------------------------


@agency_perm_required(Perm.VIEW_CONTACTS)
def directory(request: MemberRequest) -> HttpResponse:
    topics = list(selectors.topics(request.agency))
    form = DirectoryForm(request.GET or None, topics=topics)
    page = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        state = selectors.State(data["state"]) if data.get("state") else None
        page = selectors.contact_directory(
            request.agency,
            query=data.get("q", ""),
            state=state,
            topic=data.get("topic", ""),
            after=data.get("after"),
        )
    next_query = None
    if page is not None and page.next_after is not None:
        params = request.GET.copy()
        params["after"] = str(page.next_after)
        next_query = params.urlencode()
    context = {"form": form, "page": page, "next_query": next_query, "topics": topics}
    return render(request, T + "directory.html", context)


def _contact_page(
    request: MemberRequest, contact: Contact, form: StaffConsentForm | None, status: int = 200
) -> HttpResponse:
    topics = list(selectors.topics(request.agency))
    names = {t.slug: t.name for t in topics}
    history = selectors.history(contact)
    for consent in history:
        consent.topic_name = names.get(consent.topic, consent.topic)  # type: ignore[attr-defined]
    context = {
        "contact": contact,
        "states": selectors.states(contact, topics),
        "history": history,
        "form": form if form is not None else StaffConsentForm(topics=topics),
        "can_manage": _can_manage(request),
    }
    return render(request, T + "contact.html", context, status=status)


@agency_perm_required(Perm.VIEW_CONTACTS)
def contact_detail(request: MemberRequest, pk: int) -> HttpResponse:
    return _contact_page(request, _contact(request, pk), None)


@require_POST
@agency_perm_required(Perm.MANAGE_CONTACTS)
def contact_record(request: MemberRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = StaffConsentForm(request.POST, topics=selectors.topics(request.agency))
    if not form.is_valid():
        return _contact_page(request, contact, form, status=400)
    data = form.cleaned_data
    try:
        services.record_staff_consent(
            actor=Actor.from_request(request),
            contact=contact,
            status=data["status"],
            source=data["source"],
            topic=data["topic"],
            user=request.user,
            staff_name=data["staff_name"],
            note=data["note"],
        )
    except ApplicationError as exc:
        form.add_error(None, str(exc))
        return _contact_page(request, contact, form, status=400)
    what = "opt-in" if data["status"] == Consent.Status.OPTED_IN else "opt-out"
    messages.success(request, f"The {what} is recorded.")
    return redirect("contacts:contact", pk=contact.pk)


def _history_rows(contact: Contact) -> Iterator[dict[str, Any]]:
    for consent in reversed(selectors.history(contact)):  # oldest first: a record's order
        yield {
            "recorded_at": consent.recorded_at.isoformat(),
            "status": consent.status,
            "topic": consent.topic,
            "source": consent.source,
            "source_label": consent.get_source_display(),
            "recorded_by": consent.recorded_by.email if consent.recorded_by else "",
            "evidence": consent.evidence,
        }


@agency_perm_required(Perm.VIEW_CONTACTS)
def contact_export(request: MemberRequest, pk: int, fmt: str) -> HttpResponse:
    """The contact's whole consent history, for a records request (audited)."""
    contact = _contact(request, pk)
    with transaction.atomic():
        record_event(
            agency_id=request.agency.pk,
            actor=Actor.from_request(request),
            action="contact.consent_history_exported",
            target=contact,
            changes={"format": fmt},
        )
    rows = list(_history_rows(contact))
    stamp = timezone.now().strftime("%Y%m%d")
    name = f"consent-history-contact-{contact.pk}-{stamp}.{fmt}"
    if fmt == "json":
        body = {
            "agency": request.agency.name,
            "contact": {"id": contact.pk, "wa_id": contact.wa_id, "name": contact.profile_name},
            "exported_at": timezone.now(),
            "history": rows,
        }
        response = HttpResponse(
            json.dumps(body, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
        )
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow(
            ["recorded_at", "status", "topic", "source", "recorded_by", "evidence", "wa_id"]
        )
        for row in rows:
            writer.writerow(
                [
                    row["recorded_at"],
                    row["status"],
                    row["topic"],
                    row["source"],
                    row["recorded_by"],
                    imports._safe(json.dumps(row["evidence"], sort_keys=True)),
                    contact.wa_id or "",
                ]
            )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Topics -----------------------------------------------------------------------------------


def _topic(request: MemberRequest, pk: int) -> ConsentTopic:
    found = selectors.topic(request.agency, pk)
    if found is None:
        raise Http404
    return found


@agency_perm_required(Perm.VIEW_CONTACTS)
def topics(request: MemberRequest) -> HttpResponse:
    rows = [
        {"topic": t, "page_url": request.build_absolute_uri(public.page_path(t))}
        for t in selectors.topics(request.agency)
    ]
    context = {"rows": rows, "can_manage": _can_manage(request)}
    return render(request, T + "topics.html", context)


@agency_perm_required(Perm.MANAGE_CONTACTS)
def topic_create(request: MemberRequest) -> HttpResponse:
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.create_topic(
                actor=Actor.from_request(request), agency=request.agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The topic “{topic.name}” was created.")
            return redirect("contacts:topics")
    return render(request, T + "topic_form.html", {"form": form, "topic": None})


@agency_perm_required(Perm.MANAGE_CONTACTS)
def topic_edit(request: MemberRequest, pk: int) -> HttpResponse:
    topic = _topic(request, pk)
    initial = {
        "name": topic.name,
        "name_es": topic.name_es,
        "description": topic.description,
        "wording": topic.wording,
        "wording_es": topic.wording_es,
        "keywords": ", ".join(topic.keywords or []),
        "page_enabled": topic.page_enabled,
    }
    form = TopicForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_topic(
                actor=Actor.from_request(request), topic=topic, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The topic “{topic.name}” was saved.")
            return redirect("contacts:topics")
    return render(request, T + "topic_form.html", {"form": form, "topic": topic})


@agency_perm_required(Perm.VIEW_CONTACTS)
def topic_qr(request: MemberRequest, pk: int) -> HttpResponse:
    topic = _topic(request, pk)
    return public.qr_response(request.build_absolute_uri(public.page_path(topic)))


# --- Imports ----------------------------------------------------------------------------------


def _import(request: MemberRequest, pk: int) -> ConsentImport:
    found = selectors.consent_import(request.agency, pk)
    if found is None:
        raise Http404
    return found


def _queue(task: Any, consent_import: ConsentImport) -> None:
    # After the commit, so the worker finds the import in the state the view left it.
    transaction.on_commit(
        lambda: tasks.queue(task, import_id=consent_import.pk, agency_id=consent_import.agency_id)
    )


@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_list(request: MemberRequest) -> HttpResponse:
    topics_ = selectors.topics(request.agency)
    form = ImportForm(request.POST or None, request.FILES or None, topics=topics_)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > imports.MAX_BYTES:
                problems = [f"The file is larger than {imports.MAX_BYTES // (1024 * 1024)} MB."]
            else:
                try:
                    consent_import = imports.upload(
                        actor=Actor.from_request(request),
                        agency=request.agency,
                        user=request.user,
                        filename=upload.name or "upload.csv",
                        raw=upload.read(),
                        default_topic=form.cleaned_data["topic"],
                        overrides={"phone": form.cleaned_data["phone_column"]},
                    )
                except imports.InvalidFile as exc:
                    problems = exc.problems
                except ApplicationError as exc:
                    problems = [str(exc)]
                else:
                    _queue(tasks.preview_import, consent_import)
                    return redirect("contacts:import", pk=consent_import.pk)
        status = 400
    context = {
        "form": form,
        "problems": problems,
        "imports": selectors.imports(request.agency),
    }
    return render(request, T + "imports.html", context, status=status)


def _import_context(consent_import: ConsentImport) -> dict[str, Any]:
    labels = dict(ImportRow.Outcome.choices)
    counts = [
        {
            "outcome": outcome,
            "label": labels[outcome],
            "rows": consent_import.counts.get(outcome, 0),
        }
        for outcome in ImportRow.Outcome.values
        if consent_import.counts.get(outcome)
    ]
    problems = selectors.import_rows(
        consent_import,
        outcomes=[
            ImportRow.Outcome.INVALID_NUMBER,
            ImportRow.Outcome.DUPLICATE,
            ImportRow.Outcome.UNKNOWN_TOPIC,
            ImportRow.Outcome.OPTED_OUT,
        ],
        limit=20,
    )
    return {
        "import": consent_import,
        "counts": counts,
        "problem_rows": problems,
        "encoding_name": imports.ENCODING_NAMES.get(
            consent_import.encoding, consent_import.encoding
        ),
    }


@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_detail(request: MemberRequest, pk: int) -> HttpResponse:
    consent_import = _import(request, pk)
    return render(request, T + "import.html", _import_context(consent_import))


@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_progress(request: MemberRequest, pk: int) -> HttpResponse:
    """The progress panel alone (htmx polls it while the file is read or committed). Once
    reading ends the whole page changes (the preview, its buttons): htmx reloads it."""
    consent_import = _import(request, pk)
    response = render(request, T + "_import_progress.html", _import_context(consent_import))
    if (
        request.GET.get("shown") == ConsentImport.Status.READING
        and consent_import.status != ConsentImport.Status.READING
    ):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_commit(request: MemberRequest, pk: int) -> HttpResponse:
    consent_import = _import(request, pk)
    try:
        started = imports.start_commit(
            actor=Actor.from_request(request), consent_import=consent_import
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        _queue(tasks.commit_import, started)
        messages.success(request, "Recording the opt-ins: this page shows the progress.")
    return redirect("contacts:import", pk=consent_import.pk)


@require_POST
@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_reread(request: MemberRequest, pk: int) -> HttpResponse:
    """Queue the preview task again (a worker that was down lost nothing: the file is kept
    until it is read, and a second read of the same import stores nothing)."""
    consent_import = _import(request, pk)
    if consent_import.status == ConsentImport.Status.READING:
        _queue(tasks.preview_import, consent_import)
        messages.success(request, "Reading the file again.")
    return redirect("contacts:import", pk=consent_import.pk)


@require_POST
@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_discard(request: MemberRequest, pk: int) -> HttpResponse:
    consent_import = _import(request, pk)
    try:
        imports.discard(actor=Actor.from_request(request), consent_import=consent_import)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The import was discarded: nothing was recorded.")
    return redirect("contacts:imports")


@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_sample(request: MemberRequest) -> HttpResponse:
    """A sample list to try the import with: a few rows of each reason in the report."""
    response = HttpResponse(demo.SAMPLE_CSV.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sample-opt-ins.csv"'
    return response


@agency_perm_required(Perm.MANAGE_CONTACTS)
def import_report(request: MemberRequest, pk: int) -> HttpResponse:
    """The per-row report. Built whole inside the agency's scope (a streamed body would be
    read after the view returns, outside it): 100,000 rows are about 6 MB."""
    consent_import = _import(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    for line in imports.report_lines(consent_import):
        writer.writerow(line)
    name = f"import-{consent_import.pk}-report.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
