"""The template manager's pages: the library of a WABA's templates (translations side by
side, live status), the editor with its live preview, "Check and submit" (the pre-screen
before anything goes to Meta), a template's detail with its versions and the campaigns
using it, deletion, and the agency's banned terms.

Thin views: ``forms.EditorData`` reads the editor, ``services`` act (audited, one event
each), ``selectors`` read, ``validation``/``prescreen`` judge. Supervisors see every page
read-only (``VIEW_TEMPLATES``); agency admins change (``MANAGE_TEMPLATES``). Objects come
through the agency-scoped managers filtered by the member's agency: another agency's id is
a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from bsp.events.selectors import last_sequence
from frontend.decorators import agency_perm_required
from messaging.consent import selectors as consent_selectors
from records.audit import Actor
from templates_mgr import prescreen as screening
from templates_mgr import selectors, services
from templates_mgr.drafts import MEDIA_HEADER_FORMATS, TemplateDraft
from templates_mgr.forms import (
    BUTTON_TYPES,
    CATEGORIES,
    FLOW_ACTIONS,
    HEADER_FORMATS,
    LANGUAGE_NAMES,
    LANGUAGES,
    MAX_BUTTONS,
    MEDIA_FORMATS,
    OTP_TYPES,
    PARAMETER_FORMATS,
    EditorData,
    Problem,
    input_id,
    language_name,
)
from templates_mgr.models import MessageTemplate, TemplateVersion
from templates_mgr.preview import PreviewModel, render_preview, template_variables
from templates_mgr.validation import Violation
from tenants.http import MemberRequest
from tenants.models import WhatsAppBusinessAccount
from tenants.permissions import Perm
from tenants.services import ApplicationError

T = "templates_mgr/"
Status = MessageTemplate.Status
# A sample file for a media header: Meta's own limits are 5 MB (image), 16 MB (video) and
# 100 MB (document); the form refuses more than this before reading it into memory.
SAMPLE_MAX_BYTES = 16 * 1024 * 1024
SAMPLE_TYPES = {
    "IMAGE": {"image/jpeg", "image/png"},
    "VIDEO": {"video/mp4"},
    "DOCUMENT": {"application/pdf"},
}
# A tag's colours per status (USWDS utility classes with AA contrast on white text or ink).
STATUS_TAGS: dict[str, str] = {
    Status.APPROVED: "bg-success-darker",
    Status.PENDING: "bg-accent-warm-darker",
    Status.REJECTED: "bg-error-dark",
    Status.PAUSED: "bg-secondary-darker",
    Status.DISABLED: "bg-base-darkest",
    Status.DRAFT: "bg-primary-dark",
    Status.IN_APPEAL: "bg-accent-warm-darker",
    Status.FLAGGED: "bg-secondary-darker",
}
QUALITY_WORDS = {
    "GREEN": "High",
    "YELLOW": "Medium",
    "RED": "Low",
    "UNKNOWN": "Not rated yet",
    "": "Not rated yet",
}
# Meta takes an edit of a template it has reviewed (a new version saved since).
EDITABLE_AT_META = {Status.APPROVED, Status.REJECTED, Status.PAUSED}


# --- small view models ---------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """One translation as the library and detail pages show it."""

    template: MessageTemplate

    @property
    def tag_class(self) -> str:
        return STATUS_TAGS.get(self.template.status, "bg-base-dark")

    @property
    def status_label(self) -> str:
        return self.template.get_status_display()

    @property
    def quality(self) -> str:
        return QUALITY_WORDS.get(self.template.quality_score, self.template.quality_score)

    @property
    def language_label(self) -> str:
        return language_name(self.template.language)

    @property
    def rejection(self) -> dict[str, str]:
        """Meta's reason and recommendation, in words (empty unless rejected)."""
        if self.template.status != Status.REJECTED:
            return {}
        info = (
            self.template.rejection_info if isinstance(self.template.rejection_info, dict) else {}
        )
        reason = str(info.get("reason") or "")
        if not reason and self.template.rejected_reason not in ("", "NONE"):
            reason = self.template.rejected_reason.replace("_", " ").capitalize()
        return {
            "reason": reason or "Meta gave no reason.",
            "recommendation": str(info.get("recommendation") or ""),
        }


def _managing(request: MemberRequest) -> bool:
    return request.membership.has_perm(Perm.MANAGE_TEMPLATES)


def _wabas(request: MemberRequest) -> list[WhatsAppBusinessAccount]:
    return list(WhatsAppBusinessAccount.objects.filter(agency=request.agency).order_by("pk"))


def _waba(request: MemberRequest, pk: Any) -> WhatsAppBusinessAccount:
    return get_object_or_404(WhatsAppBusinessAccount.objects.filter(agency=request.agency), pk=pk)


def _template(request: MemberRequest, pk: int) -> MessageTemplate:
    rows = MessageTemplate.objects.filter(agency=request.agency).select_related("waba")
    return get_object_or_404(rows, pk=pk)


# --- library -------------------------------------------------------------------------------


@require_GET
@agency_perm_required(Perm.VIEW_TEMPLATES)
def library(request: MemberRequest) -> HttpResponse:
    wabas = _wabas(request)
    chosen = request.GET.get("waba", "")
    if chosen:
        if not str(chosen).isdigit():
            raise Http404("No such WhatsApp Business Account")
        waba: WhatsAppBusinessAccount | None = _waba(request, chosen)
    else:
        waba = wabas[0] if wabas else None
    filters = {
        "status": _one_of(request.GET.get("status"), [s for s, _ in Status.choices]),
        "category": _one_of(request.GET.get("category"), [c for c, _ in CATEGORIES]),
        "language": str(request.GET.get("language", "")).replace("\x00", "").strip()[:16],
        "search": str(request.GET.get("q", "")).replace("\x00", "").strip()[:100],
    }
    groups = selectors.library(request.agency, waba=waba, **filters) if waba else []
    languages = _languages(groups)
    rows = [
        {
            "group": group,
            "category": _category_label(group.category),
            "source": next(iter(group.translations.values())),
            "cells": [
                (code, language_name(code), _translation(group.translations.get(code)))
                for code in languages
            ],
        }
        for group in groups
    ]
    context = {
        "wabas": wabas,
        "waba": waba,
        "rows": rows,
        "languages": [(code, language_name(code)) for code in languages],
        "filters": filters,
        "filtered": any(filters.values()),
        "statuses": [(s, label) for s, label in Status.choices if s != Status.DELETED],
        "categories": CATEGORIES,
        "language_choices": LANGUAGES,
        "managing": _managing(request),
        "stream_after": last_sequence(request.agency.pk),
    }
    return render(request, T + "library.html", context)


def _translation(template: MessageTemplate | None) -> Translation | None:
    return Translation(template) if template is not None else None


def _languages(groups: list[Any]) -> list[str]:
    """The library's columns: English and Spanish first, then the others found."""
    found: list[str] = []
    for group in groups:
        for code in group.translations:
            if code not in found:
                found.append(code)
    order = {code: i for i, (code, _) in enumerate(LANGUAGES)}
    return sorted(found, key=lambda code: (order.get(code, len(order)), code))


def _one_of(value: Any, allowed: list[str]) -> str:
    value = str(value or "").strip()
    return value if value in allowed else ""


@require_GET
@agency_perm_required(Perm.VIEW_TEMPLATES)
def status_fragment(request: MemberRequest, pk: int) -> HttpResponse:
    """The translation's status as the library's cell (or the detail page's block, with
    ``?part=detail``): what the live page swaps in on a ``template.status`` event."""
    template = _template(request, pk)
    name = "_status_detail.html" if request.GET.get("part") == "detail" else "_cell.html"
    return render(request, T + name, {"cell": Translation(template), "code": template.language})


# --- detail --------------------------------------------------------------------------------


@require_GET
@agency_perm_required(Perm.VIEW_TEMPLATES)
def detail(request: MemberRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    context = {
        "template": template,
        "cell": Translation(template),
        "preview": _sample_preview(template, template.waba),
        "translations": [
            Translation(t) for t in selectors.translations(template.waba, template.name)
        ],
        "versions": _version_rows(selectors.versions(template)),
        "pending": selectors.pending_edit(template),
        "campaigns": list(selectors.campaigns_using(template)),
        "managing": _managing(request),
        "submittable": _submittable(template),
        "stream_after": last_sequence(request.agency.pk),
    }
    return render(request, T + "detail.html", context)


def _category_label(category: str) -> str:
    if category in MessageTemplate.Category.values:
        return str(MessageTemplate.Category(category).label)
    return category


def _submittable(template: MessageTemplate) -> bool:
    """A draft, or a reviewed template with a new version saved since (``services``
    refuses the rest with its reason)."""
    if template.status == Status.DRAFT:
        return True
    return template.status in EDITABLE_AT_META and selectors.pending_edit(template) is not None


def _unsaved(draft: TemplateDraft) -> MessageTemplate:
    """A draft as an unsaved row, for ``render_preview`` (never saved)."""
    return MessageTemplate(
        name=draft.name,
        language=draft.language,
        category=draft.category,
        parameter_format=draft.parameter_format,
        components=[dict(c) for c in draft.components],
    )


def _sample_preview(template: MessageTemplate, waba: WhatsAppBusinessAccount) -> PreviewModel:
    """The template filled with the samples given to Meta, a media header's included (its
    uploaded file's name; without it the preview would say the media is still to choose)."""
    values = {v.key: v.example for v in template_variables(template)}
    return render_preview(template, values, sample_name=_header_sample_name(template, waba))


def _header_sample_name(template: MessageTemplate, waba: WhatsAppBusinessAccount) -> str:
    header = TemplateDraft.from_template(template).header or {}
    if str(header.get("format", "")).upper() not in MEDIA_HEADER_FORMATS:
        return ""
    example = header.get("example")
    handles = example.get("header_handle") if isinstance(example, dict) else None
    handle = str(handles[0]) if isinstance(handles, list) and handles else ""
    if not handle:
        return ""  # not uploaded yet: the preview says so, and the check page why
    sample = selectors.header_sample(waba, handle)
    # A template synced from Meta has a sample there that was never uploaded through us.
    return sample.filename if sample is not None else "the sample given to Meta"


@dataclass(frozen=True)
class VersionRow:
    version: TemplateVersion
    changed: list[str]

    @property
    def meta_answer(self) -> str:
        answer = self.version.meta_response
        if not isinstance(answer, dict) or not answer:
            return ""
        if answer.get("error"):
            error = answer["error"]
            return str(error.get("message") if isinstance(error, dict) else error)[:300]
        status = str(answer.get("status", ""))
        label = Status(status).label if status in Status.values else status
        return f"Accepted for review ({label})" if label else "Accepted for review"


_PART_WORDS = {
    "name": "name",
    "language": "language",
    "category": "category",
    "parameter_format": "variable format",
    "topic": "opt-in topic",
    "header": "header",
    "body": "body",
    "footer": "footer",
    "buttons": "buttons",
}


def _version_rows(versions: list[TemplateVersion]) -> list[VersionRow]:
    """Each version with what it changed from the one before (newest first)."""
    rows: list[VersionRow] = []
    for index, version in enumerate(versions):
        older = versions[index + 1] if index + 1 < len(versions) else None
        if older is None:
            changed = ["first version"]
        else:
            changed = [_PART_WORDS[part] for part in _changed(older, version)]
        rows.append(VersionRow(version, changed))
    return rows


def _version_draft(version: TemplateVersion) -> TemplateDraft:
    components = version.components if isinstance(version.components, list) else []
    return TemplateDraft(
        name=version.name,
        language=version.language,
        category=version.category,
        parameter_format=version.parameter_format,
        components=tuple(c for c in components if isinstance(c, dict)),
        topic=version.topic,
    )


def _changed(older: TemplateVersion, newer: TemplateVersion) -> list[str]:
    before, after = _version_draft(older), _version_draft(newer)
    parts = [
        name
        for name in ("name", "language", "category", "parameter_format", "topic")
        if getattr(before, name) != getattr(after, name)
    ]
    parts += [
        kind.lower()
        for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS")
        if before.component(kind) != after.component(kind)
    ]
    return parts


def _editor_of(template: MessageTemplate) -> EditorData:
    """The editor filled with the template's newest version (a pending edit, if any)."""
    draft = selectors.current_draft(template)
    editor = EditorData.from_components(
        name=draft.name,
        language=draft.language,
        category=draft.category,
        parameter_format=draft.parameter_format,
        topic=draft.topic,
        components=[dict(c) for c in draft.components],
    )
    sample = selectors.header_sample(template.waba, editor.header_handle)
    if sample is not None:
        editor.header_filename = sample.filename
    return editor


# --- editor --------------------------------------------------------------------------------


@dataclass
class EditorPage:
    """What the editor template draws: the data, each input's messages, the summary."""

    editor: EditorData
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (input id, message)

    @classmethod
    def build(cls, editor: EditorData, problems: Sequence[Problem | Violation]) -> EditorPage:
        page = cls(editor)
        for problem in problems:
            target = input_id(problem.field, editor)
            page.errors.setdefault(target, []).append(problem.message)
            page.summary.append((target, problem.message))
        return page

    def buttons(self) -> list[dict[str, Any]]:
        rows = []
        for index, button in enumerate(self.editor.buttons):
            prefix = f"id_button_{index}_"
            errors = {
                key[len(prefix) :]: messages
                for key, messages in self.errors.items()
                if key.startswith(prefix)
            }
            rows.append({"index": index, "number": index + 1, "data": button, "errors": errors})
        return rows

    def samples(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "value": value,
                "id": f"id_sample_body_{name}",
                "input_name": f"sample_body_{name}",
                "label": f"Sample for {{{{{name}}}}}",
                "errors": self.errors.get(f"id_sample_body_{name}", []),
            }
            for name, value in self.editor.body_samples.items()
        ]


def _editor_context(
    request: MemberRequest,
    page: EditorPage,
    *,
    waba: WhatsAppBusinessAccount,
    mode: str,
    template: MessageTemplate | None,
    focus: str = "",
) -> dict[str, Any]:
    editor = page.editor
    return {
        "page": page,
        "editor": editor,
        "errors": page.errors,
        "button_rows": page.buttons(),
        "sample_rows": page.samples(),
        "sample_keys": ",".join(editor.body_samples),
        "preview": render_preview(editor.preview_template(), editor.preview_values()),
        "waba": waba,
        "mode": mode,
        "template": template,
        "focus": focus,
        "header_formats": HEADER_FORMATS,
        "media_formats": sorted(MEDIA_FORMATS),
        "button_types": BUTTON_TYPES,
        "otp_types": OTP_TYPES,
        "flow_actions": FLOW_ACTIONS,
        "categories": CATEGORIES,
        "parameter_formats": PARAMETER_FORMATS,
        "languages": LANGUAGES,
        "topics": _topic_choices(request, editor.topic),
        "max_buttons": MAX_BUTTONS,
        "name_fixed": mode in ("edit", "translate"),
        "language_fixed": mode == "edit",
    }


def _topic_choices(request: MemberRequest, current: str) -> list[tuple[str, str]]:
    """The agency's consent topics (Contacts → Consent topics) to restrict a template to; a
    topic the template already carries stays choosable even if it was not created there."""
    choices = [("", "Any opt-in (no topic)")]
    choices += [(t.slug, t.name) for t in consent_selectors.topics(request.agency)]
    if current and current not in {slug for slug, _ in choices}:
        choices.append((current, f"{current} (not one of the agency's topics)"))
    return choices


def _render_editor(
    request: MemberRequest, page: EditorPage, status: int = 200, **kw: Any
) -> HttpResponse:
    return render(request, T + "editor.html", _editor_context(request, page, **kw), status=status)


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def create(request: MemberRequest, waba_pk: int) -> HttpResponse:
    waba = _waba(request, waba_pk)
    if request.method != "POST":
        return _render_editor(
            request, EditorPage(EditorData()), waba=waba, mode="create", template=None
        )
    return _editor_post(request, waba=waba, mode="create", template=None)


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def edit(request: MemberRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    if request.method != "POST":
        editor = _editor_of(template)
        return _render_editor(
            request, EditorPage(editor), waba=template.waba, mode="edit", template=template
        )
    return _editor_post(request, waba=template.waba, mode="edit", template=template)


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def translate(request: MemberRequest, pk: int) -> HttpResponse:
    source = _template(request, pk)
    if request.method != "POST":
        editor = _editor_of(source).as_translation()
        wanted = str(request.GET.get("language", ""))
        if wanted in LANGUAGE_NAMES:
            editor.language = wanted
        return _render_editor(
            request, EditorPage(editor), waba=source.waba, mode="translate", template=source
        )
    return _editor_post(request, waba=source.waba, mode="translate", template=source)


def _editor_post(
    request: MemberRequest,
    *,
    waba: WhatsAppBusinessAccount,
    mode: str,
    template: MessageTemplate | None,
) -> HttpResponse:
    editor = EditorData.from_post(request.POST)
    if template is not None:  # a version or a translation keeps the name (Meta's key)
        editor.name = template.name
        if mode == "edit":
            editor.language = template.language
    action = str(request.POST.get("action", "save"))[:40]
    render_again: dict[str, Any] = {"waba": waba, "mode": mode, "template": template}
    upload = request.FILES.get("header_file")
    if upload is not None:
        _upload_sample(request, waba, editor, upload)
    focus = editor.apply(action)
    if focus is not None or action in ("refresh", "upload"):
        page = EditorPage.build(editor, editor.problems)
        return _render_editor(request, page, focus=focus or "", **render_again)
    draft = editor.draft()
    existing = template if mode == "edit" else None
    violations: list[Violation] = []
    if action == "check":
        violations = services.validate_draft(draft, waba=waba, template=existing)
    if editor.problems or violations:
        page = EditorPage.build(editor, [*editor.problems, *violations])
        return _render_editor(request, page, status=422, **render_again)
    try:
        saved = services.save_draft(
            actor=Actor.from_request(request),
            agency=request.agency,
            waba=waba,
            draft=draft,
            template=existing,
        )
    except ApplicationError as exc:
        page = EditorPage.build(editor, [Problem("name", "refused", str(exc))])
        return _render_editor(request, page, status=422, **render_again)
    if action == "check":
        return redirect("templates_mgr:submit", saved.pk)
    left = services.validate_draft(draft, waba=waba, template=saved)
    if left:
        count = len(left)
        things = "one thing" if count == 1 else f"{count} things"
        messages.warning(
            request,
            f"“{saved.name}” ({language_name(saved.language)}) was saved as a draft; "
            f"{things} to fix before it can be submitted.",
        )
    else:
        messages.success(request, f"“{saved.name}” ({language_name(saved.language)}) was saved.")
    return redirect("templates_mgr:detail", saved.pk)


def _upload_sample(
    request: MemberRequest, waba: WhatsAppBusinessAccount, editor: EditorData, upload: UploadedFile
) -> None:
    """A media header's sample, sent through Meta's resumable upload; its handle stays in
    the form (hidden) from then on. A refused file is named next to the file input."""
    fmt = editor.header_format
    filename = str(upload.name or "sample")[:200]
    mime_type = str(upload.content_type or "").split(";")[0].strip().lower()
    problem = ""
    if fmt not in MEDIA_FORMATS:
        problem = "Choose an image, video or document header before uploading a sample."
    elif (upload.size or 0) > SAMPLE_MAX_BYTES:
        problem = "The sample file is too large: at most 16 MB."
    elif not upload.size:
        problem = "The sample file is empty."
    elif mime_type not in SAMPLE_TYPES[fmt]:
        allowed = ", ".join(sorted(SAMPLE_TYPES[fmt]))
        problem = f"A {fmt.lower()} header's sample must be one of: {allowed}."
    if not problem:
        try:
            editor.header_handle = services.upload_header_sample(
                actor=Actor.from_request(request),
                waba=waba,
                content=upload.read(),
                mime_type=mime_type,
                filename=filename,
            )
            editor.header_filename = filename
            return
        except ApplicationError as exc:
            problem = str(exc)
    editor.problems.append(Problem("header.example", "upload", problem))


@require_POST
@agency_perm_required(Perm.MANAGE_TEMPLATES)
def preview(request: MemberRequest) -> HttpResponse:
    """The phone preview for the editor's current fields (htmx, on input). When the body's
    variables changed since the page drew its sample fields, the new fields come along
    out of band (``hx-swap-oob``) with what was typed kept."""
    editor = EditorData.from_post(request.POST)
    keys = ",".join(editor.body_samples)
    page = EditorPage(editor)
    context = {
        "preview": render_preview(editor.preview_template(), editor.preview_values()),
        "sample_rows": page.samples(),
        "sample_keys": keys,
        "editor": editor,
        "samples_changed": keys != str(request.POST.get("sample_keys", "")),
    }
    return render(request, T + "_preview_response.html", context)


# --- check and submit ----------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def submit(request: MemberRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    draft = selectors.current_draft(template)
    submittable = _submittable(template)
    violations = services.validate_draft(draft, waba=template.waba, template=template)
    findings = screening.prescreen(draft, request.agency)
    justification = ""
    error = ""
    if request.method == "POST" and submittable:
        justification = str(request.POST.get("justification", "")).replace("\x00", "").strip()
        if len(justification) > 2000:
            error = "Keep the justification under 2,000 characters."
        elif findings and not justification:
            error = "Explain why this template may be sent despite the findings above."
        else:
            try:
                services.submit_template(
                    actor=Actor.from_request(request),
                    template=template,
                    justification=justification,
                )
            except services.TemplateInvalid as exc:
                violations = list(exc.violations)
            except services.PrescreenBlocked as exc:
                findings = list(exc.findings)
                error = "Explain why this template may be sent despite the findings above."
            except ApplicationError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    f"“{template.name}” ({language_name(template.language)}) was sent to Meta "
                    "for review. Its status changes here when Meta answers.",
                )
                return redirect("templates_mgr:detail", template.pk)
    context = {
        "template": template,
        "cell": Translation(template),
        "violations": [(v, _field_label(v.field)) for v in violations],
        "findings": [
            (f, screening.CATEGORY_LABELS.get(f.category, f.category), _field_label(f.field))
            for f in findings
        ],
        "preview": _sample_preview(_unsaved(draft), template.waba),
        "justification": justification,
        "error": error,
        "submittable": submittable,
    }
    status = 422 if request.method == "POST" and (error or violations) else 200
    return render(request, T + "submit.html", context, status=status)


_FIELD_WORDS = {
    "name": "Name",
    "language": "Language",
    "category": "Category",
    "topic": "Opt-in topic",
    "header": "Header",
    "body": "Body",
    "footer": "Footer",
    "buttons": "Buttons",
}


def _field_label(path: str) -> str:
    """A field path in words: "buttons.1.url" → "Button 2: url"."""
    parts = path.split(".")
    if parts[0] == "buttons" and len(parts) > 1 and parts[1].isdigit():
        label = f"Button {int(parts[1]) + 1}"
        rest = parts[2:]
    else:
        label = _FIELD_WORDS.get(parts[0], parts[0].capitalize())
        rest = parts[1:]
    if rest and rest[0] not in ("text",):
        label += f" ({' '.join(rest).replace('_', ' ')})"
    return label


# --- delete --------------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def delete(request: MemberRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    campaigns = selectors.campaigns_using(template)
    if request.method == "POST":
        try:
            services.delete_template(
                actor=Actor.from_request(request), template=template, confirm=True
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("templates_mgr:detail", template.pk)
        messages.success(
            request, f"“{template.name}” ({language_name(template.language)}) was deleted."
        )
        return redirect(f"{reverse('templates_mgr:library')}?waba={template.waba_id}")
    context = {"template": template, "cell": Translation(template), "campaigns": campaigns}
    return render(request, T + "delete.html", context)


# --- banned terms --------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEMPLATES)
def banned_terms(request: MemberRequest) -> HttpResponse:
    error = ""
    term = note = ""
    if request.method == "POST":
        term = str(request.POST.get("term", "")).replace("\x00", "").strip()
        note = str(request.POST.get("note", "")).replace("\x00", "").strip()
        try:
            added = services.add_banned_term(
                actor=Actor.from_request(request), agency=request.agency, term=term, note=note
            )
        except ApplicationError as exc:
            error = str(exc)
        else:
            messages.success(request, f"“{added.term}” was added to the banned terms.")
            return redirect("templates_mgr:banned_terms")
    context = {
        "terms": selectors.banned_terms(request.agency),
        "term": term[:200],
        "note": note[:200],
        "error": error,
    }
    return render(request, T + "banned_terms.html", context, status=422 if error else 200)


@require_POST
@agency_perm_required(Perm.MANAGE_TEMPLATES)
def banned_term_delete(request: MemberRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(selectors.banned_terms(request.agency), pk=pk)
    try:
        services.remove_banned_term(actor=Actor.from_request(request), term=term)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{term.term}” was removed from the banned terms.")
    return redirect("templates_mgr:banned_terms")
