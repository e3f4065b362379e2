"""Template reads for the pages and the API: the library (translations of one name side by
side), one name's translations, a template's versions, the campaigns that use it, the
agency's banned terms. Every read runs in the caller's agency scope (the models' managers
refuse to run without one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from templates_mgr.drafts import TemplateDraft
from templates_mgr.models import BannedTerm, HeaderSample, MessageTemplate, TemplateVersion

Status = MessageTemplate.Status
# Campaigns that may still send (messaging.campaigns.models.Campaign.Status values).
ACTIVE_CAMPAIGN_STATUSES = ("draft", "scheduled", "queuing", "sending", "paused")
# What the library hides unless asked for by status.
HIDDEN_STATUSES = (Status.DELETED,)


@dataclass
class LibraryEntry:
    """One template name on one WABA, with its translations (English, Spanish…)."""

    name: str
    waba_id: int
    # Meta's language code → that translation, in language order (en_US, es…).
    translations: dict[str, MessageTemplate] = field(default_factory=dict)

    @property
    def category(self) -> str:
        first = next(iter(self.translations.values()), None)
        return first.category if first else ""

    @property
    def languages(self) -> list[str]:
        return list(self.translations)

    @property
    def statuses(self) -> dict[str, str]:
        return {code: t.status for code, t in self.translations.items()}

    def translation(self, language: str) -> MessageTemplate | None:
        wanted = language.replace("-", "_").lower()
        return next(
            (
                t
                for code, t in self.translations.items()
                if code.replace("-", "_").lower() == wanted
            ),
            None,
        )


def templates(
    agency: Any,
    *,
    waba: Any = None,
    status: str | None = None,
    category: str | None = None,
    language: str | None = None,
    search: str = "",
) -> QuerySet[MessageTemplate]:
    """The agency's template translations, filtered; deleted ones only when asked for."""
    rows = MessageTemplate.objects.filter(agency_id=_pk(agency)).select_related("waba")
    if waba is not None:
        rows = rows.filter(waba_id=_pk(waba))
    # Deleted translations only when asked for by status.
    rows = rows.filter(status=status) if status else rows.exclude(status__in=HIDDEN_STATUSES)
    if category:
        rows = rows.filter(category=category)
    if language:
        rows = rows.filter(language__iexact=language.replace("-", "_"))
    search = search.strip()
    if search:
        rows = rows.filter(Q(name__icontains=search.replace(" ", "_")) | Q(name__icontains=search))
    return rows.order_by("waba_id", "name", "language")


def library(
    agency: Any,
    waba: Any = None,
    status: str | None = None,
    category: str | None = None,
    language: str | None = None,
    search: str = "",
) -> list[LibraryEntry]:
    """Templates grouped by (WABA, name): each entry holds the name's translations that
    match the filters, ordered by language (so en_US and es sit side by side)."""
    entries: dict[tuple[int, str], LibraryEntry] = {}
    rows = templates(
        agency, waba=waba, status=status, category=category, language=language, search=search
    )
    for template in rows:
        key = (template.waba_id, template.name)
        entry = entries.setdefault(key, LibraryEntry(template.name, template.waba_id))
        entry.translations[template.language] = template
    return list(entries.values())


def translations(waba: Any, name: str) -> list[MessageTemplate]:
    """Every language of ``name`` on ``waba`` (deleted ones included: history)."""
    return list(MessageTemplate.objects.filter(waba_id=_pk(waba), name=name).order_by("language"))


def versions(template: MessageTemplate) -> list[TemplateVersion]:
    """The template's saved and submitted versions, newest first."""
    return list(TemplateVersion.objects.filter(template=template).order_by("-number"))


def campaigns_using(template: MessageTemplate, *, active_only: bool = True) -> QuerySet[Any]:
    """Campaigns that send ``template`` (by default those that still may: draft, scheduled,
    queuing, sending, paused)."""
    rows = template.campaigns.all()  # messaging.campaigns' Campaign (related_name)
    if active_only:
        rows = rows.filter(status__in=ACTIVE_CAMPAIGN_STATUSES)
    return rows.order_by("-created_at")


def banned_terms(agency: Any) -> QuerySet[BannedTerm]:
    return BannedTerm.objects.filter(agency_id=_pk(agency)).order_by("term")


def header_sample(waba: Any, handle: str) -> HeaderSample | None:
    """The uploaded sample behind a header handle (its file name and type for the preview)."""
    if not handle:
        return None
    return HeaderSample.objects.filter(waba_id=_pk(waba), handle=handle).order_by("-pk").first()


def approved_for_sending(agency: Any, waba: Any = None) -> QuerySet[MessageTemplate]:
    """What a sender may choose (the composer, campaigns)."""
    rows = MessageTemplate.objects.filter(agency_id=_pk(agency), status=Status.APPROVED)
    if waba is not None:
        rows = rows.filter(waba_id=_pk(waba))
    return rows.order_by("name", "language")


def current_draft(template: MessageTemplate) -> TemplateDraft:
    """What the editor shows and ``submit_template`` sends: a pending edit (a version saved
    after the template was submitted) if there is one, else the template as it is."""
    pending = pending_edit(template)
    if pending is not None:
        return TemplateDraft(
            name=pending.name,
            language=pending.language,
            category=pending.category,
            parameter_format=pending.parameter_format,
            components=tuple(pending.components),
            topic=pending.topic,
        )
    return TemplateDraft.from_template(template)


def pending_edit(template: MessageTemplate) -> TemplateVersion | None:
    """The newest version when it is a saved edit of an already submitted template."""
    if template.status == Status.DRAFT or template.pk is None:
        return None
    latest = template.versions.order_by("-number").first()
    if latest is not None and latest.action == TemplateVersion.Action.SAVED:
        return latest
    return None


def _pk(obj: Any) -> Any:
    return getattr(obj, "pk", obj)


__all__ = (
    "LibraryEntry",
    "approved_for_sending",
    "banned_terms",
    "campaigns_using",
    "current_draft",
    "header_sample",
    "library",
    "pending_edit",
    "templates",
    "translations",
    "versions",
)


def template_of(agency: Any, pk: int) -> MessageTemplate | None:
    """One of the agency's templates (the REST API's detail), or None."""
    return (
        MessageTemplate.objects.filter(agency_id=_pk(agency), pk=pk).select_related("waba").first()
    )


def waba_of(agency: Any, waba_id: str | None) -> Any:
    """The agency's WABA with Meta's id ``waba_id``; without one, its only WABA (None when
    it has none, or several and none was named)."""
    from tenants.models import WhatsAppBusinessAccount

    wabas = WhatsAppBusinessAccount.objects.filter(agency_id=_pk(agency))
    if waba_id:
        return wabas.filter(waba_id=waba_id).first()
    found = list(wabas[:2])
    return found[0] if len(found) == 1 else None
