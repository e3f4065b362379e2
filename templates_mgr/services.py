"""Template writes: the editor's (``save_draft``, ``submit_template``, ``delete_template``,
``upload_header_sample``, banned terms) and Meta's (``sync_templates``, and
``publish_template_status`` that the webhooks share).

The editor's writes each refuse a suspended agency, run in one transaction, and leave one
audit record and one domain event: ``template.changed`` for a saved draft or version, a
deletion or an uploaded sample; ``template.status`` when the status moves (a submission);
``banned_term.changed`` for the agency's list. A Cloud API refusal becomes a
``TemplateError`` with Meta's words, never a 500, and is kept as a version of its own.

``sync_templates`` reconciles our ``MessageTemplate`` rows with what Meta
lists for a WABA (every page of ``GET /{waba-id}/message_templates``), so a status webhook
that never arrived (or arrived for a template we did not know yet) heals on the next pass.

Meta is the source of truth for what it lists:
- a listed translation we know (by Meta's id, else by name + language that holds no other
  id) takes Meta's status, category, components, parameter format, quality and rejection
  reason; one we do not know (created in WhatsApp Manager) is added;
- a translation we had submitted (it has Meta's id) that Meta no longer lists was deleted
  there: it becomes DELETED. Drafts (never submitted) are ours alone and untouched.
Every changed row is audited; a status change also publishes ``template.status`` on the
event stream, in the same transaction. A second pass over an unchanged WABA writes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types as event_types
from messaging.whatsapp import CloudAPIClient, CloudAPIError, TemplateInfo
from messaging.whatsapp.client import TEMPLATE_FIELDS
from messaging.whatsapp.errors import InvalidMessageError, RetryableError
from messaging.whatsapp.media import MEDIA_LIMITS, base_mime, check_upload
from messaging.whatsapp.templates import normalize_language
from records.audit import Actor, record_event
from templates_mgr.drafts import TemplateDraft
from templates_mgr.models import BannedTerm, HeaderSample, MessageTemplate, TemplateVersion
from templates_mgr.prescreen import Finding, prescreen
from templates_mgr.selectors import campaigns_using, current_draft
from templates_mgr.validation import Violation, validate
from tenants.models import Agency, PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope, system_scope
from tenants.services import ApplicationError, ensure_agency_active

logger = logging.getLogger(__name__)

ACTOR = Actor.worker("templates_mgr.sync_templates")
Status = MessageTemplate.Status
LIST_FIELDS = f"{TEMPLATE_FIELDS},rejected_reason"
# Meta's list words → our status. REINSTATED means usable again; anything else unknown
# keeps the current status (and is logged).
_STATUSES: dict[str, str] = {
    **{status.value: status.value for status in Status if status != Status.DRAFT},
    "REINSTATED": Status.APPROVED,
}


@dataclass
class SyncReport:
    """What one pass did, per WABA and in total (for the command and the task's log)."""

    wabas: int = 0
    listed: int = 0
    created: int = 0
    updated: int = 0
    status_changed: int = 0
    deleted: int = 0
    failed_wabas: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        for name in ("wabas", "listed", "created", "updated", "status_changed", "deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed_wabas.extend(other.failed_wabas)


# What a citizen-facing sender cares about: whether the template can be sent, how Meta rates
# it, what it is billed as.
TEMPLATE_FIELDS_WATCHED = frozenset({"status", "quality_score", "category", "rejected_reason"})


def publish_template_status(
    template: MessageTemplate, changed: dict[str, list[Any]], *, source: str
) -> None:
    """``template.status`` on the event stream when ``changed`` (field → [old, new]) touches
    its status, quality, category or rejection reason; call inside the transaction that
    made the change. The one producer of the event: webhooks and the sync both call it."""
    watched = {name: pair for name, pair in changed.items() if name in TEMPLATE_FIELDS_WATCHED}
    if not watched:
        return
    events.publish(
        agency_id=template.agency_id,
        type=event_types.TEMPLATE_STATUS,
        subject={"template": template.pk, "waba": template.waba_id},
        payload={
            "name": template.name,
            "language": template.language,
            "status": template.status,
            "previous_status": watched.get("status", [template.status])[0],
            "rejected_reason": template.rejected_reason,
            "quality_score": template.quality_score,
            "category": template.category,
            "source": source,
            "changed": watched,
        },
    )


def sync_all_templates(*, page_size: int = 100) -> SyncReport:
    """Every WABA of every agency, each in its own agency scope; one WABA's failure (a
    revoked token, Meta unavailable) is reported and does not stop the others."""
    with system_scope():
        wabas = list(WhatsAppBusinessAccount.objects.values_list("pk", "agency_id"))
    report = SyncReport()
    for waba_pk, agency_id in wabas:
        with agency_scope(agency_id):
            report.add(sync_templates(waba_pk, page_size=page_size))
    return report


def sync_templates(waba_pk: int, *, page_size: int = 100) -> SyncReport:
    """Pull one WABA's templates from Meta (all pages) into ``MessageTemplate``. Runs in the
    WABA's agency scope."""
    waba = WhatsAppBusinessAccount.objects.get(pk=waba_pk)
    report = SyncReport(wabas=1)
    client = _client(waba)
    if client is None:
        logger.warning("template sync: WABA %s has no access token", waba.waba_id)
        report.failed_wabas.append(waba.waba_id)
        return report
    try:
        listed = list(client.iter_templates(waba.waba_id, limit=page_size, fields=LIST_FIELDS))
    except CloudAPIError as exc:
        # Nothing is written from a partial listing: a missing page is not a deletion.
        logger.warning("template sync failed for WABA %s: %s", waba.waba_id, exc)
        report.failed_wabas.append(waba.waba_id)
        return report
    report.listed = len(listed)
    with transaction.atomic():
        _reconcile(waba, listed, report)
    return report


def _client(waba: WhatsAppBusinessAccount) -> CloudAPIClient | None:
    number = PhoneNumber.objects.filter(waba=waba).order_by("pk").first()
    token = waba.access_token or (number.access_token if number else "")
    if not token:
        return None
    # Template calls are WABA-level: the phone number id only labels the client.
    return CloudAPIClient(number.phone_number_id if number else "", token)


def _reconcile(
    waba: WhatsAppBusinessAccount, listed: Iterable[TemplateInfo], report: SyncReport
) -> None:
    rows = list(MessageTemplate.objects.select_for_update().filter(waba=waba))
    by_id = {t.meta_template_id: t for t in rows if t.meta_template_id}
    by_translation = {(t.name, normalize_language(t.language)): t for t in rows}
    seen: set[int] = set()
    for info in listed:
        local = by_id.get(info.id)
        if local is None:
            candidate = by_translation.get((info.name, normalize_language(info.language)))
            if candidate is not None and candidate.meta_template_id in ("", info.id):
                local = candidate
        if local is None:
            local = _create(waba, info, report)
            if local is None:
                continue
        else:
            _update(local, info, report)
        seen.add(local.pk)
    for template in rows:
        gone = template.meta_template_id and template.pk not in seen
        if gone and template.status != Status.DELETED:
            _write(template, {"status": Status.DELETED}, report, reason="not listed by Meta")
            report.deleted += 1


def _fields(info: TemplateInfo, current_status: str) -> dict[str, Any]:
    status = _STATUSES.get(info.status.upper())
    if status is None:
        logger.warning("template sync: status %r not known; kept", info.status[:40])
        status = current_status
    fields: dict[str, Any] = {
        "status": status,
        "meta_template_id": info.id,
        "components": list(info.components),
        "parameter_format": info.parameter_format,
        "quality_score": (info.quality_score or "")[:16],
        "rejected_reason": (info.rejected_reason or "")[:200] if status == Status.REJECTED else "",
    }
    if info.category in MessageTemplate.Category.values:
        fields["category"] = info.category
    return fields


def _create(
    waba: WhatsAppBusinessAccount, info: TemplateInfo, report: SyncReport
) -> MessageTemplate | None:
    fields = _fields(info, Status.PENDING)
    if "category" not in fields:
        logger.warning("template sync: %s has category %r; skipped", info.name, info.category)
        return None
    template = MessageTemplate.objects.create(
        agency_id=waba.agency_id, waba=waba, name=info.name, language=info.language, **fields
    )
    record_event(
        agency_id=waba.agency_id,
        actor=ACTOR,
        action="template.imported",
        target=template,
        changes={"name": info.name, "language": info.language, "status": template.status},
    )
    report.created += 1
    return template


def _update(template: MessageTemplate, info: TemplateInfo, report: SyncReport) -> None:
    if _write(template, _fields(info, template.status), report, reason="listed by Meta"):
        report.updated += 1


def _write(
    template: MessageTemplate, updates: dict[str, Any], report: SyncReport, *, reason: str
) -> bool:
    diff = {
        name: [getattr(template, name), new]
        for name, new in updates.items()
        if getattr(template, name) != new
    }
    if not diff:
        return False
    for name, (_, new) in diff.items():
        setattr(template, name, new)
    template.save(update_fields=[*diff, "updated_at"])
    changed_status = "status" in diff
    record_event(
        agency_id=template.agency_id,
        actor=ACTOR,
        action="template.status_changed" if changed_status else "template.synced",
        target=template,
        changes={
            **{k: v for k, v in diff.items() if k != "components"},
            **({"components": "changed"} if "components" in diff else {}),
            "reason": reason,
        },
    )
    if changed_status:
        report.status_changed += 1
    publish_template_status(template, diff, source="sync")
    return True


# =========================================================================== the editor's writes


class TemplateError(ApplicationError):
    """A refused template action, in words the admin can act on."""


class TemplateInvalid(TemplateError):
    """The draft breaks Meta's rules: ``violations`` say which, field by field."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        fields = ", ".join(dict.fromkeys(v.field for v in violations))
        super().__init__(f"The template needs changes before it can be submitted ({fields}).")


class PrescreenBlocked(TemplateError):
    """The pre-screen found content Meta or policy forbids; submitting anyway needs a
    justification (kept in the audit trail)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        labels = ", ".join(dict.fromkeys(f.category_label.lower() for f in findings))
        super().__init__(
            f"The pre-screen found content WhatsApp or government policy does not allow "
            f"({labels}). Change it, or explain why it is needed to submit anyway."
        )


class TemplateInUse(TemplateError):
    """Deleting a template that campaigns still use: ``campaigns`` lists them."""

    def __init__(self, campaigns: list[Any]) -> None:
        self.campaigns = campaigns
        names = ", ".join(f"“{c.name}”" for c in campaigns[:5])
        more = f" and {len(campaigns) - 5} more" if len(campaigns) > 5 else ""
        super().__init__(
            f"{len(campaigns)} campaign(s) use this template ({names}{more}): once it is "
            "deleted at Meta they cannot send it. Confirm to delete it anyway."
        )


class SubmissionFailed(TemplateError):
    """Meta refused the call; the message is Meta's explanation."""


EDIT_LIMITS = ((timedelta(hours=24), 1), (timedelta(days=30), 10))  # cloud-api.md §4.3
_EDITABLE = (Status.APPROVED, Status.REJECTED, Status.PAUSED)
# Resumable-upload samples for a media header (Meta accepts these for header_handle).
HEADER_SAMPLE_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4",),
    "document": ("application/pdf",),
}


def _audit(actor: Actor, action: str, target: Any, changes: dict[str, Any]) -> None:
    record_event(
        agency_id=target.agency_id, actor=actor, action=action, target=target, changes=changes
    )


def _publish_changed(template: MessageTemplate, action: str, **extra: Any) -> None:
    events.publish(
        agency_id=template.agency_id,
        type=event_types.TEMPLATE_CHANGED,
        subject={"template": template.pk, "waba": template.waba_id},
        payload={
            "action": action,
            "name": template.name,
            "language": template.language,
            "status": template.status,
            **extra,
        },
    )


def validate_draft(
    draft: TemplateDraft, *, waba: WhatsAppBusinessAccount, template: MessageTemplate | None = None
) -> list[Violation]:
    """Every rule of ``validation.validate`` plus the name being free in this WABA for the
    language (another translation of the same name is fine)."""
    violations = validate(draft)
    if draft.name and draft.language:
        taken = _translation(waba, draft.name, draft.language, exclude=template)
        if taken is not None:
            violations.append(
                Violation(
                    "name",
                    "name_taken",
                    f"This account already has a template “{draft.name}” in "
                    f"{draft.language}: choose another name, or edit that one.",
                )
            )
    return violations


def _translation(
    waba: WhatsAppBusinessAccount,
    name: str,
    language: str,
    exclude: MessageTemplate | None = None,
) -> MessageTemplate | None:
    wanted = normalize_language(language)
    rows = MessageTemplate.objects.filter(waba=waba, name=name)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return next((t for t in rows if normalize_language(t.language) == wanted), None)


def _add_version(
    template: MessageTemplate,
    actor: Actor,
    action: str,
    draft: TemplateDraft,
    *,
    meta_response: dict[str, Any] | None = None,
    justification: str = "",
    findings: list[Finding] | None = None,
) -> TemplateVersion:
    last = template.versions.order_by("-number").values_list("number", flat=True).first()
    return TemplateVersion.objects.create(
        agency_id=template.agency_id,
        template=template,
        number=(last or 0) + 1,
        action=action,
        name=draft.name,
        language=draft.language,
        category=draft.category,
        parameter_format=draft.parameter_format,
        components=[dict(c) for c in draft.components],
        topic=draft.topic,
        status=template.status,
        meta_response=meta_response or {},
        justification=justification,
        findings=[dataclasses.asdict(f) for f in findings or []],
        actor_type=actor.type,
        actor_id=str(actor.id)[:64],
        actor_label=actor.label[:200],
    )


def save_draft(
    *,
    actor: Actor,
    agency: Agency,
    waba: WhatsAppBusinessAccount,
    draft: TemplateDraft,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Save ``draft``: a new DRAFT template, or — ``template`` given — a new version of it.

    A draft never submitted takes the new content itself. A submitted one keeps what Meta
    has (sends still match Meta's copy) and holds the new version as a pending edit until
    ``submit_template``; its name and language are Meta's identity and cannot change. The
    draft need not be valid yet (``validate_draft`` says what is missing), only unique."""
    ensure_agency_active(agency)
    with agency_scope(agency), transaction.atomic():
        waba = WhatsAppBusinessAccount.objects.get(pk=waba.pk)  # the agency's, or DoesNotExist
        if template is not None:
            template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
            if template.waba_id != waba.pk:
                raise TemplateError("A template stays on the WhatsApp account it was made for.")
        if _translation(waba, draft.name, draft.language, exclude=template) is not None:
            raise TemplateError(
                f"This account already has a template “{draft.name}” in {draft.language}: "
                "choose another name, or edit that one."
            )
        if template is None:
            template = _create_draft(actor, agency, waba, draft)
        elif template.status == Status.DRAFT:
            _update_draft(actor, template, draft)
        else:
            _save_pending_edit(actor, template, draft)
    return template


def _create_draft(
    actor: Actor, agency: Agency, waba: WhatsAppBusinessAccount, draft: TemplateDraft
) -> MessageTemplate:
    try:
        with transaction.atomic():
            template = MessageTemplate.objects.create(
                agency=agency,
                waba=waba,
                name=draft.name,
                language=draft.language,
                category=_category(draft),
                parameter_format=_parameter_format(draft),
                components=[dict(c) for c in draft.components],
                topic=draft.topic[:64],
                status=Status.DRAFT,
            )
    except IntegrityError as exc:  # a colleague saved the same name meanwhile
        raise TemplateError(
            f"This account already has a template “{draft.name}” in {draft.language}."
        ) from exc
    version = _add_version(template, actor, TemplateVersion.Action.SAVED, draft)
    _audit(
        actor,
        "template.draft_created",
        template,
        {"name": draft.name, "language": draft.language, "version": version.number},
    )
    _publish_changed(template, "created", version=version.number)
    return template


def _category(draft: TemplateDraft) -> str:
    return draft.category if draft.category in MessageTemplate.Category.values else "UTILITY"


def _parameter_format(draft: TemplateDraft) -> str:
    formats = MessageTemplate.ParameterFormat.values
    return draft.parameter_format if draft.parameter_format in formats else "POSITIONAL"


def _update_draft(actor: Actor, template: MessageTemplate, draft: TemplateDraft) -> None:
    before = TemplateDraft.from_template(template)
    template.name = draft.name
    template.language = draft.language
    template.category = _category(draft)
    template.parameter_format = _parameter_format(draft)
    template.components = [dict(c) for c in draft.components]
    template.topic = draft.topic[:64]
    template.save()
    version = _add_version(template, actor, TemplateVersion.Action.SAVED, draft)
    _audit(
        actor,
        "template.draft_saved",
        template,
        {"version": version.number, "changed": _changed_parts(before, draft)},
    )
    _publish_changed(template, "saved", version=version.number)


def _save_pending_edit(actor: Actor, template: MessageTemplate, draft: TemplateDraft) -> None:
    if draft.name != template.name or normalize_language(draft.language) != normalize_language(
        template.language
    ):
        raise TemplateError(
            "A submitted template keeps its name and language. To offer it in another "
            "language, add a translation (a new template with the same name)."
        )
    if template.status in (Status.DELETED, Status.PENDING_DELETION):
        raise TemplateError("This template was deleted; create a new one instead.")
    before = current_draft(template)
    version = _add_version(template, actor, TemplateVersion.Action.SAVED, draft)
    _audit(
        actor,
        "template.edit_saved",
        template,
        {"version": version.number, "changed": _changed_parts(before, draft)},
    )
    _publish_changed(template, "edit_saved", version=version.number)


def _changed_parts(before: TemplateDraft, after: TemplateDraft) -> list[str]:
    parts = [
        name
        for name in ("name", "language", "category", "parameter_format", "topic")
        if getattr(before, name) != getattr(after, name)
    ]
    for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
        if before.component(kind) != after.component(kind):
            parts.append(kind.lower())
    return parts


def submit_template(
    *, actor: Actor, template: MessageTemplate, justification: str = ""
) -> MessageTemplate:
    """Send the template (or its pending edit) to Meta for review; status PENDING.

    Refused before any call: ``TemplateInvalid`` (Meta's rules), ``PrescreenBlocked`` (the
    pre-screen's findings, unless ``justification`` explains them: the override is audited
    as ``template.prescreen_overridden`` with the findings), or a ``TemplateError`` when
    Meta would not accept an edit now (only APPROVED, REJECTED or PAUSED templates can be
    edited; an approved one once a day and 10 times a month; its category stays).
    A Cloud API refusal is kept as a version and raised as ``SubmissionFailed``."""
    ensure_agency_active(template.agency)
    justification = justification.strip()
    failure: SubmissionFailed | None = None
    with agency_scope(template.agency_id), transaction.atomic():
        # The row lock serialises a double click: the second submit sees PENDING.
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        draft = current_draft(template)
        editing = bool(template.meta_template_id) and template.status != Status.DRAFT
        _check_submittable(template, draft, editing)
        violations = validate_draft(draft, waba=template.waba, template=template)
        if violations:
            raise TemplateInvalid(violations)
        findings = prescreen(draft, template.agency)
        if findings and not justification:
            raise PrescreenBlocked(findings)
        client = _client(template.waba)
        if client is None:
            raise TemplateError(
                "This WhatsApp account has no access token: connect it again, then submit."
            )
        try:
            answer = _call_meta(client, template, draft, editing)
        except CloudAPIError as exc:
            failure = _record_failure(actor, template, draft, exc, findings, justification)
        else:
            _record_submission(actor, template, draft, editing, answer, findings, justification)
    if failure is not None:
        raise failure
    return template


def _check_submittable(template: MessageTemplate, draft: TemplateDraft, editing: bool) -> None:
    if not editing:
        if template.status != Status.DRAFT:
            raise TemplateError(
                f"This template is {template.get_status_display().lower()}; only drafts "
                "and reviewed templates can be submitted."
            )
        return
    if template.status not in _EDITABLE:
        raise TemplateError(
            f"Meta accepts edits of approved, rejected or paused templates only; this one is "
            f"{template.get_status_display().lower()}. Try again once Meta has decided."
        )
    if template.status == Status.APPROVED:
        if draft.category != template.category:
            raise TemplateError(
                "An approved template's category cannot change: create a new template for "
                "the other category."
            )
        now = timezone.now()
        edits = template.versions.filter(action=TemplateVersion.Action.EDIT_SUBMITTED)
        for window, limit in EDIT_LIMITS:
            if edits.filter(created_at__gt=now - window).count() >= limit:
                days = "24 hours" if window <= timedelta(hours=24) else f"{window.days} days"
                raise TemplateError(
                    f"Meta allows {limit} edit(s) of an approved template per {days}; "
                    "this one has reached it. Try again later, or create a new template."
                )


def _call_meta(
    client: CloudAPIClient, template: MessageTemplate, draft: TemplateDraft, editing: bool
) -> dict[str, Any]:
    request = draft.create_request()
    if editing:
        category = draft.category if draft.category != template.category else None
        client.edit_template(
            template.meta_template_id, components=request["components"], category=category
        )
        return {"success": True, "id": template.meta_template_id, "status": Status.PENDING}
    created = client.create_template(template.waba.waba_id, **request)
    return {"id": created.id, "status": created.status, "category": created.category}


def _record_submission(
    actor: Actor,
    template: MessageTemplate,
    draft: TemplateDraft,
    editing: bool,
    answer: dict[str, Any],
    findings: list[Finding],
    justification: str,
) -> None:
    old_status = template.status
    status = _STATUSES.get(str(answer.get("status", "")).upper(), Status.PENDING)
    template.name, template.language = draft.name, draft.language
    template.category = str(answer.get("category") or draft.category)
    if template.category not in MessageTemplate.Category.values:
        template.category = draft.category
    template.parameter_format = _parameter_format(draft)
    template.components = [dict(c) for c in draft.components]
    template.topic = draft.topic[:64]
    template.meta_template_id = str(answer["id"])
    template.status = status
    template.rejected_reason = ""
    template.rejection_info = {}
    template.save()
    action = TemplateVersion.Action.EDIT_SUBMITTED if editing else TemplateVersion.Action.SUBMITTED
    version = _add_version(
        template,
        actor,
        action,
        draft,
        meta_response=answer,
        justification=justification,
        findings=findings,
    )
    _audit(
        actor,
        "template.edit_submitted" if editing else "template.submitted",
        template,
        {
            "version": version.number,
            "status": [old_status, status],
            "meta_template_id": template.meta_template_id,
        },
    )
    if findings:
        _audit(
            actor,
            "template.prescreen_overridden",
            template,
            {
                "version": version.number,
                "justification": justification,
                "findings": [dataclasses.asdict(f) for f in findings],
            },
        )
    publish_template_status(template, {"status": [old_status, status]}, source="submission")


def _record_failure(
    actor: Actor,
    template: MessageTemplate,
    draft: TemplateDraft,
    exc: CloudAPIError,
    findings: list[Finding],
    justification: str,
) -> SubmissionFailed:
    explanation = meta_explanation(exc)
    answer = {"error": {"code": exc.code, "subcode": exc.subcode, "message": explanation}}
    version = _add_version(
        template,
        actor,
        TemplateVersion.Action.SUBMIT_FAILED,
        draft,
        meta_response=answer,
        justification=justification,
        findings=findings,
    )
    _audit(
        actor,
        "template.submit_failed",
        template,
        {"version": version.number, "error": answer["error"]},
    )
    _publish_changed(template, "submit_failed", version=version.number)
    logger.info("template submission refused by Meta: code=%s", exc.code)
    return SubmissionFailed(f"Meta did not accept the template: {explanation}")


def meta_explanation(exc: CloudAPIError) -> str:
    """Meta's words for a refusal, in the order Meta means them for people."""
    for text in (getattr(exc, "user_message", None), getattr(exc, "details", None)):
        if text:
            return str(text)[:500]
    if isinstance(exc, RetryableError):
        return "Meta could not be reached just now. Nothing was submitted; try again shortly."
    return str(exc.message or "an unexplained error")[:500]


def delete_template(
    *, actor: Actor, template: MessageTemplate, confirm: bool = False
) -> MessageTemplate | None:
    """Delete this translation at Meta (others of the same name stay); the row becomes
    DELETED and keeps its history. A draft never submitted is simply removed (None).

    Raises ``TemplateInUse`` listing the campaigns that still use it, unless ``confirm``."""
    ensure_agency_active(template.agency)
    with agency_scope(template.agency_id), transaction.atomic():
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        if template.status == Status.DELETED:
            return template  # already done (a double click)
        using = list(campaigns_using(template))
        if using and not confirm:
            raise TemplateInUse(using)
        if not template.meta_template_id:
            _delete_draft(actor, template, using)
            return None if template.pk is None else template
        client = _client(template.waba)
        if client is None:
            raise TemplateError("This WhatsApp account has no access token: connect it again.")
        try:
            client.delete_template(
                template.waba.waba_id, name=template.name, template_id=template.meta_template_id
            )
        except CloudAPIError as exc:
            if exc.code != 100 or "not found" not in str(exc.message).lower():
                raise TemplateError(
                    f"Meta did not delete the template: {meta_explanation(exc)}"
                ) from exc
            # Already gone at Meta (deleted in WhatsApp Manager): finish the job here.
        old_status = template.status
        template.status = Status.DELETED
        template.save(update_fields=["status", "updated_at"])
        _audit(
            actor,
            "template.deleted",
            template,
            {"status": [old_status, Status.DELETED], "campaigns": [c.pk for c in using]},
        )
        publish_template_status(
            template, {"status": [old_status, Status.DELETED]}, source="deletion"
        )
    return template


def _delete_draft(actor: Actor, template: MessageTemplate, using: list[Any]) -> None:
    if using:  # campaigns keep a reference: keep the row, marked deleted
        template.status = Status.DELETED
        template.save(update_fields=["status", "updated_at"])
        _audit(actor, "template.deleted", template, {"status": ["DRAFT", Status.DELETED]})
        _publish_changed(template, "deleted")
        return
    _audit(
        actor,
        "template.draft_deleted",
        template,
        {"name": template.name, "language": template.language},
    )
    _publish_changed(template, "deleted")
    template.delete()


def upload_header_sample(
    *,
    actor: Actor,
    waba: WhatsAppBusinessAccount,
    content: bytes,
    mime_type: str,
    filename: str,
) -> str:
    """Upload a media header's sample through Meta's Resumable Upload API and return the
    ``header_handle`` for the draft's ``example``. The type and size are checked first (JPEG
    or PNG images up to 5 MB, MP4 videos up to 16 MB, PDF documents up to 100 MB); an
    interrupted upload resumes from the offset Meta reports."""
    ensure_agency_active(waba.agency)
    mime = base_mime(mime_type or "")
    kind = next((k for k, types in HEADER_SAMPLE_TYPES.items() if mime in types), None)
    if kind is None:
        raise TemplateError(
            "A header sample must be a JPEG or PNG image, an MP4 video or a PDF document."
        )
    try:
        check_upload(len(content), mime, kind)
    except InvalidMessageError as exc:
        limit = MEDIA_LIMITS[kind].max_bytes // (1024 * 1024)
        if not content:
            raise TemplateError("The file is empty: choose the sample file again.") from exc
        raise TemplateError(f"A header {kind} can be at most {limit} MB.") from exc
    app_id = _app_id()
    with agency_scope(waba.agency_id):
        client = _client(waba)
    if client is None:
        raise TemplateError("This WhatsApp account has no access token: connect it again.")
    name = _safe_filename(filename, kind)
    try:
        handle = _resumable_upload(client, app_id, name, mime, content)
    except CloudAPIError as exc:
        raise TemplateError(f"Meta did not accept the file: {meta_explanation(exc)}") from exc
    with agency_scope(waba.agency_id), transaction.atomic():
        sample = HeaderSample.objects.create(
            agency_id=waba.agency_id,
            waba=waba,
            handle=handle,
            filename=name,
            mime_type=mime,
            size=len(content),
        )
        _audit(
            actor,
            "template.header_sample_uploaded",
            sample,
            {"filename": name, "mime_type": mime, "size": len(content), "waba": waba.pk},
        )
        events.publish(
            agency_id=waba.agency_id,
            type=event_types.TEMPLATE_CHANGED,
            subject={"header_sample": sample.pk, "waba": waba.pk},
            payload={"action": "header_sample_uploaded", "mime_type": mime, "size": len(content)},
        )
    return handle


def _app_id() -> str:
    app_id = str(getattr(settings, "WHATSAPP_APP_ID", "") or "")
    if not app_id:
        raise TemplateError(
            "Uploads need the platform's Meta app id (setting WHATSAPP_APP_ID); ask the "
            "platform operator to configure it."
        )
    return app_id


def _safe_filename(filename: str, kind: str) -> str:
    base = re.sub(r"[^\w.\- ]", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return base.strip()[:200] or f"sample-{kind}"


def _resumable_upload(
    client: CloudAPIClient, app_id: str, name: str, mime: str, content: bytes
) -> str:
    session = client.create_upload_session(app_id, name, len(content), mime)
    try:
        return client.upload_file(session, content)
    except RetryableError:
        # The connection broke mid-file: ask Meta how much arrived and send the rest.
        offset = client.upload_offset(session)
        return client.upload_file(session, content[offset:], offset=offset)


# ---- banned terms -------------------------------------------------------------------------


def add_banned_term(*, actor: Actor, agency: Agency, term: str, note: str = "") -> BannedTerm:
    """Add a word or phrase the pre-screen flags in this agency's templates."""
    ensure_agency_active(agency)
    cleaned = " ".join(term.split())
    if not cleaned:
        raise TemplateError("Write the word or phrase to ban.")
    if len(cleaned) > 100:
        raise TemplateError("A banned term can be at most 100 characters.")
    if not any(c.isalnum() for c in cleaned):
        raise TemplateError("A banned term needs at least one letter or digit.")
    with agency_scope(agency), transaction.atomic():
        if BannedTerm.objects.filter(term__iexact=cleaned).exists():
            raise TemplateError(f"“{cleaned}” is already on the list.")
        try:
            with transaction.atomic():
                row = BannedTerm.objects.create(
                    agency=agency,
                    term=cleaned,
                    note=note.strip()[:200],
                    created_by_label=actor.label[:200],
                )
        except IntegrityError as exc:
            raise TemplateError(f"“{cleaned}” is already on the list.") from exc
        _audit(actor, "template.banned_term_added", row, {"term": cleaned})
        events.publish(
            agency_id=agency.pk,
            type=event_types.BANNED_TERM_CHANGED,
            subject={"banned_term": row.pk},
            payload={"action": "added", "term": cleaned},
        )
    return row


def remove_banned_term(*, actor: Actor, term: BannedTerm) -> None:
    ensure_agency_active(term.agency)
    with agency_scope(term.agency_id), transaction.atomic():
        row = BannedTerm.objects.select_for_update().filter(pk=term.pk).first()
        if row is None:
            return  # already removed
        _audit(actor, "template.banned_term_removed", row, {"term": row.term})
        events.publish(
            agency_id=row.agency_id,
            type=event_types.BANNED_TERM_CHANGED,
            subject={"banned_term": row.pk},
            payload={"action": "removed", "term": row.term},
        )
        row.delete()
