"""The demo's template library (``seed_demo_templates``), and the records that start the
demo's simulator knowing what the platform has at Meta (``simulator_templates``).

The library is written the way an admin and Meta would have written it: drafts through
``services.save_draft``, submissions recorded as ``submit_template`` records Meta's answer
(the demo seeds before its simulator runs, so nothing is sent), and every decision of Meta
— approval, rejection with its reason, quality, pause — applied by the webhook handlers
themselves (``messaging.webhooks.account``) from the body Meta would post. The rows, their
versions, the audit trail and the ``template.*`` events are therefore those the running
platform produces; none is written by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from messaging.webhooks import account
from messaging.webhooks.changes import Change, Route
from records.audit import Actor
from templates_mgr import services
from templates_mgr.drafts import NAMED, TemplateDraft, compose
from templates_mgr.models import HeaderSample, MessageTemplate
from templates_mgr.prescreen import prescreen
from tenants.models import Agency, WhatsAppBusinessAccount
from tenants.scoping import system_scope

Status = MessageTemplate.Status
# Meta's handle of the newsletter's header sample (the Resumable Upload API's shape).
NEWSLETTER_HANDLE = "4::aW1hZ2UvanBlZw==:ARZdemoCountyNewsletterHeader"
# Not webhooks Meta sent: the handlers' audit records carry this instead of a stored event.
NO_STORED_WEBHOOK = 0


@dataclass(frozen=True)
class Meta:
    """One decision of Meta's after the submission, as its webhook says it."""

    field: str  # message_template_status_update / message_template_quality_update
    value: dict[str, Any]


def approved() -> Meta:
    return Meta("message_template_status_update", {"event": "APPROVED", "reason": "NONE"})


def quality(score: str, previous: str = "UNKNOWN") -> Meta:
    return Meta(
        "message_template_quality_update",
        {"previous_quality_score": previous, "new_quality_score": score},
    )


def rejected(reason: str, explanation: str, recommendation: str) -> Meta:
    info = {"reason": explanation, "recommendation": recommendation}
    return Meta(
        "message_template_status_update",
        {"event": "REJECTED", "reason": reason, "rejection_info": info},
    )


def paused(title: str) -> Meta:
    """Meta pauses a template whose quality fell; ``other_info`` names which pause."""
    return Meta(
        "message_template_status_update",
        {"event": "PAUSED", "reason": "NONE", "other_info": {"title": title}},
    )


@dataclass(frozen=True)
class Seed:
    """One translation: its first draft, whether it was submitted, what Meta then decided,
    and an edit saved after that (a pending edit, not yet submitted)."""

    draft: TemplateDraft
    submitted: bool = True
    meta: Sequence[Meta] = ()
    later_edit: TemplateDraft | None = None


# ---- the library --------------------------------------------------------------------------

FOOTER = "Demo County"
# The opt-in topics the consent demo seeds (messaging/consent/demo.py); a template without
# one goes to any opted-in citizen.
TOPICS = {
    "appointment_reminder": "appointments",
    "emergency_alert": "alerts",
    "community_newsletter": "news",
}
CONFIRM = [
    {"type": "QUICK_REPLY", "text": "Confirm"},
    {"type": "QUICK_REPLY", "text": "Reschedule"},
]
CONFIRM_ES = [
    {"type": "QUICK_REPLY", "text": "Confirmar"},
    {"type": "QUICK_REPLY", "text": "Cambiar la cita"},
]
APPOINTMENT_SAMPLES = {
    "first_name": "Maria",
    "office": "Clerk's Office",
    "appointment_date": "May 12",
    "appointment_time": "10:30 am",
}
APPOINTMENT_SAMPLES_ES = {
    "first_name": "María",
    "office": "del Secretario",
    "appointment_date": "12 de mayo",
    "appointment_time": "10:30",
}
PERMIT_SAMPLES = ["Maria", "BP-2026-0142"]
PERMIT_LINK = "https://demo-county.gov/permits/{{1}}"
ALERT_SAMPLES = ["Riverside and Oak Park", "Flash flood warning until 9 pm, avoid low roads."]
ALERT_SAMPLES_ES = [
    "Riverside y Oak Park",
    "Aviso de inundación hasta las 21 h, evite las calles bajas.",
]
ALERT_PHONE = {"type": "PHONE_NUMBER", "text": "Call the county", "phone_number": "+15550100311"}
ALERT_PHONE_ES = {**ALERT_PHONE, "text": "Llamar al condado"}


def _appointment(language: str, body: str, footer: str, buttons: list[dict[str, str]]) -> Seed:
    draft = compose(
        name="appointment_reminder",
        language=language,
        category="UTILITY",
        parameter_format=NAMED,
        topic=TOPICS["appointment_reminder"],
        body_text=body,
        body_examples=APPOINTMENT_SAMPLES_ES if language == "es" else APPOINTMENT_SAMPLES,
        footer_text=footer,
        buttons=buttons,
    )
    return Seed(draft, meta=(approved(), quality("GREEN")))


def _permit(language: str, body: str, label: str, meta: Sequence[Meta]) -> Seed:
    button = {"type": "URL", "text": label, "url": PERMIT_LINK, "example": [PERMIT_SAMPLES[1]]}
    draft = compose(
        name="permit_ready",
        language=language,
        category="UTILITY",
        body_text=body,
        body_examples=PERMIT_SAMPLES,
        footer_text=FOOTER,
        buttons=[button],
    )
    return Seed(draft, meta=meta)


def _alert(language: str, header: str, body: str, footer: str, phone: dict[str, str]) -> Seed:
    draft = compose(
        name="emergency_alert",
        language=language,
        category="UTILITY",
        topic=TOPICS["emergency_alert"],
        header_format="TEXT",
        header_text=header,
        body_text=body,
        body_examples=ALERT_SAMPLES_ES if language == "es" else ALERT_SAMPLES,
        footer_text=footer,
        buttons=[phone],
    )
    return Seed(draft, meta=(approved(),))


def _newsletter(language: str, body: str, label: str, **seed: Any) -> Seed:
    draft = compose(
        name="community_newsletter",
        language=language,
        category="MARKETING",
        topic=TOPICS["community_newsletter"],
        header_format="IMAGE",
        header_handle=NEWSLETTER_HANDLE,
        body_text=body,
        body_examples=["María", "junio"] if language == "es" else ["Maria", "June"],
        footer_text=FOOTER,
        buttons=[{"type": "URL", "text": label, "url": "https://demo-county.gov/newsletter"}],
    )
    return Seed(draft, **seed)


def library() -> list[Seed]:
    """What the demo agency has: approved reminders, permits and alerts in English and
    Spanish, a Spanish permit notice Meta is still reviewing, a newsletter Meta paused (and
    its Spanish translation, a draft), a tax notice Meta rejected, and an alert edit saved
    but not yet submitted."""
    alert_en = _alert(
        "en_US",
        "Emergency alert",
        "Demo County alert for {{1}}: {{2}} Follow official instructions and call 911 in an "
        "emergency.",
        "Demo County Emergency Management",
        ALERT_PHONE,
    )
    edited_alert = compose(
        name="emergency_alert",
        language="en_US",
        category="UTILITY",
        topic=TOPICS["emergency_alert"],
        header_format="TEXT",
        header_text="Emergency alert",
        body_text="Demo County alert for {{1}}: {{2}} Follow official instructions, listen to "
        "local radio for updates and call 911 in an emergency.",
        body_examples=ALERT_SAMPLES,
        footer_text="Demo County Emergency Management",
        buttons=[ALERT_PHONE],
    )
    return [
        _appointment(
            "en_US",
            "Hello {{first_name}}, this is a reminder of your appointment at the {{office}} on "
            "{{appointment_date}} at {{appointment_time}}. Please confirm, or choose a new time.",
            FOOTER,
            CONFIRM,
        ),
        _appointment(
            "es",
            "Hola {{first_name}}, le recordamos su cita en la oficina {{office}} el "
            "{{appointment_date}} a las {{appointment_time}}. Confírmela o elija otra hora.",
            "Condado de Demo",
            CONFIRM_ES,
        ),
        _permit(
            "en_US",
            "Hello {{1}}, your permit {{2}} is approved. Download it below or pick it up at the "
            "Permits Office, Monday to Friday, 8 am to 5 pm.",
            "View the permit",
            (approved(), quality("GREEN")),
        ),
        _permit(
            "es",
            "Hola {{1}}, su permiso {{2}} está aprobado. Descárguelo abajo o recójalo en la "
            "Oficina de Permisos, de lunes a viernes, de 8 a 17 h.",
            "Ver el permiso",
            (),  # Meta has not decided yet
        ),
        Seed(alert_en.draft, meta=alert_en.meta, later_edit=edited_alert),
        _alert(
            "es",
            "Alerta de emergencia",
            "Alerta del Condado de Demo para {{1}}: {{2}} Siga las instrucciones oficiales y "
            "llame al 911 en una emergencia.",
            "Manejo de Emergencias del Condado",
            ALERT_PHONE_ES,
        ),
        _newsletter(
            "en_US",
            "Hello {{1}}! The {{2}} issue of the Demo County newsletter is out: park concerts, "
            "library events and the road works near you.",
            "Read it",
            meta=(
                approved(),
                quality("YELLOW"),
                quality("RED", previous="YELLOW"),
                paused("FIRST_PAUSE"),
            ),
        ),
        _newsletter(
            "es",
            "¡Hola {{1}}! Ya salió el boletín de {{2}} del Condado de Demo: conciertos en los "
            "parques, actividades de la biblioteca y las obras cerca de usted.",
            "Leerlo",
            submitted=False,
        ),
        Seed(
            compose(
                name="property_tax_discount",
                language="en_US",
                category="UTILITY",
                body_text="Hello {{1}}, pay your {{2}} property tax before March 31 and save 2%. "
                "Pay online or at the Treasurer's Office.",
                body_examples=["Maria", "2026"],
                footer_text=FOOTER,
            ),
            meta=(
                rejected(
                    "INCORRECT_CATEGORY",
                    "An offer of a discount is marketing, not a utility message.",
                    "Submit it again as a marketing template, or leave the discount out.",
                ),
            ),
        ),
    ]


# ---- seeding ------------------------------------------------------------------------------


def seed_demo_templates(agency: Agency, actor: Actor) -> None:
    """Give the demo agency's WhatsApp Business Account its template library, once.

    Call inside ``agency_scope(agency)`` and a transaction (``seed_demo`` does). Idempotent:
    if any template of the library's names is on the account (in any state, deleted ones
    included), nothing is written, so a second run changes nothing and a template the admin
    deleted or edited in the demo is not brought back."""
    waba = WhatsAppBusinessAccount.objects.filter(agency=agency).order_by("pk").first()
    if waba is None:
        raise services.TemplateError("Seed the demo's WhatsApp Business Account first.")
    seeds = library()
    names = {seed.draft.name for seed in seeds}
    if MessageTemplate.objects.filter(waba=waba, name__in=names).exists():
        return
    HeaderSample.objects.create(
        agency=agency,
        waba=waba,
        handle=NEWSLETTER_HANDLE,
        filename="newsletter-header.jpg",
        mime_type="image/jpeg",
        size=48_213,
    )
    for seed in seeds:
        _seed(agency, waba, actor, seed)


def _seed(agency: Agency, waba: WhatsAppBusinessAccount, actor: Actor, seed: Seed) -> None:
    template = services.save_draft(actor=actor, agency=agency, waba=waba, draft=seed.draft)
    if not seed.submitted:
        return
    _record_submission(actor, template, seed.draft)
    # Meta's webhooks carry unix seconds: each decision a second after the one before, all
    # in the past, so a real webhook from the simulator is never taken for an older one.
    start = timezone.now() - timedelta(seconds=len(seed.meta) + 1)
    for step, meta in enumerate(seed.meta, start=1):
        _webhook(template, meta, start + timedelta(seconds=step))
    if seed.later_edit is not None:
        template.refresh_from_db()
        services.save_draft(
            actor=actor, agency=agency, waba=waba, draft=seed.later_edit, template=template
        )


def _record_submission(actor: Actor, template: MessageTemplate, draft: TemplateDraft) -> None:
    """What ``submit_template`` records when Meta accepts a new template for review. The
    same checks run first: a library Meta's rules or the pre-screen would stop is a bug."""
    violations = services.validate_draft(draft, waba=template.waba, template=template)
    findings = prescreen(draft, template.agency)
    if violations or findings:
        raise services.TemplateError(f"{draft.name} ({draft.language}): {violations or findings}")
    answer = {
        "id": meta_template_id(template),
        "status": Status.PENDING,
        "category": draft.category,
    }
    services._record_submission(actor, template, draft, False, answer, [], "")


def _webhook(template: MessageTemplate, meta: Meta, at: Any) -> None:
    handler = {
        "message_template_status_update": account.handle_template_status,
        "message_template_quality_update": account.handle_template_quality,
    }[meta.field]
    value = {
        "message_template_id": int(template.meta_template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "message_template_category": template.category,
        **meta.value,
    }
    route = Route(template.agency_id, template.waba_id, template.waba.waba_id)
    change = Change(NO_STORED_WEBHOOK, meta.field, value, route, at)
    handler(change)


def meta_template_id(template: MessageTemplate) -> str:
    """A stable id of Meta's shape (digits) for a seeded translation."""
    key = f"{template.waba_id}:{template.name}:{template.language}".encode()
    return str(10**15 + int(hashlib.sha256(key).hexdigest()[:12], 16) % 10**15)


# ---- the simulator ------------------------------------------------------------------------


def simulator_templates() -> list[dict[str, Any]]:
    """Every translation the platform has at Meta, as the simulator's template records
    (``SimConfig.templates``), for ``run_simulator``: the demo's simulator keeps nothing
    across restarts, and without these it would refuse sends of approved templates (132001)
    and its listing would make the hourly sync mark every one deleted."""
    gone = (Status.DRAFT, Status.DELETED, Status.PENDING_DELETION)
    with system_scope():
        rows = (
            MessageTemplate.objects.exclude(meta_template_id="")
            .exclude(status__in=gone)
            .select_related("waba")
            .order_by("pk")
        )
        return [
            {
                "id": t.meta_template_id,
                "waba_id": t.waba.waba_id,
                "name": t.name,
                "language": t.language,
                "category": t.category,
                "components": t.components,
                "parameter_format": t.parameter_format,
                "status": t.status,
                "quality_score": t.quality_score or "UNKNOWN",
                "rejected_reason": t.rejected_reason or None,
            }
            for t in rows
        ]
