"""Template writes. ``sync_templates`` reconciles our ``MessageTemplate`` rows with what Meta
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

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from bsp import events
from bsp.events import types as event_types
from messaging.whatsapp import CloudAPIClient, CloudAPIError, TemplateInfo
from messaging.whatsapp.client import TEMPLATE_FIELDS
from messaging.whatsapp.templates import normalize_language
from records.audit import Actor, record_event
from templates_mgr.models import MessageTemplate
from tenants.models import PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope, system_scope

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
