"""The demo's consent: three topics with their hosted pages and keywords, a few citizens
with a history (so the directory, a contact's page and the import's "opted out earlier"
reason have something to show), and a sample CSV for the admin to import
(``demo_opt_ins.csv``, offered on the import page).

Every record goes through the services the running platform uses (``create_topic``,
``record_consent``), so the audit trail and the ``consent.*`` events are the real ones.
Idempotent: a topic that exists is left as it is, and a citizen who has a history gets no
second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from messaging.consent import selectors, services
from messaging.models import Consent, Contact
from records.audit import Actor
from tenants.models import Agency

SAMPLE_CSV = Path(__file__).with_name("demo_opt_ins.csv")

TOPICS: list[dict[str, Any]] = [
    {
        "slug": "appointments",
        "name": "Appointment reminders",
        "name_es": "Recordatorios de citas",
        "description": "A reminder the day before an appointment with a county office.",
        "wording": "I agree to receive appointment reminders from Demo County on WhatsApp. "
        "Reply STOP APPOINTMENTS at any time to stop them.",
        "wording_es": "Acepto recibir recordatorios de citas del Condado Demo por WhatsApp. "
        "Responda STOP APPOINTMENTS en cualquier momento para dejar de recibirlos.",
        "keywords": ["APPOINTMENTS"],
        "page_enabled": True,
    },
    {
        "slug": "alerts",
        "name": "Emergency alerts",
        "name_es": "Alertas de emergencia",
        "description": "Severe weather, floods, boil-water notices and road closures.",
        "wording": "I agree to receive emergency alerts from Demo County on WhatsApp. "
        "Reply STOP ALERTS at any time to stop them.",
        "wording_es": "Acepto recibir alertas de emergencia del Condado Demo por WhatsApp. "
        "Responda STOP ALERTS en cualquier momento para dejar de recibirlas.",
        "keywords": ["ALERTS"],
        "page_enabled": True,
    },
    {
        "slug": "news",
        "name": "Community news",
        "name_es": "Noticias de la comunidad",
        "description": "A monthly newsletter about county events and services (marketing).",
        "wording": "I agree to receive Demo County's monthly community newsletter on WhatsApp. "
        "Reply STOP NEWS at any time to stop it.",
        "wording_es": "Acepto recibir el boletín mensual del Condado Demo por WhatsApp. "
        "Responda STOP NEWS en cualquier momento para dejar de recibirlo.",
        "keywords": ["NEWS"],
        "page_enabled": True,
    },
]


@dataclass(frozen=True)
class _Step:
    status: str
    source: str
    topic: str
    days_ago: int
    evidence: dict[str, Any]


IN, OUT = Consent.Status.OPTED_IN.value, Consent.Status.OPTED_OUT.value
ALERTS_PAGE = "/optin/demo-county/alerts/"
# (wa_id, name, history oldest first). Rosa opted out: the sample CSV lists her again, and
# the import's report says it will not opt her in.
CITIZENS: list[tuple[str, str, list[_Step]]] = [
    (
        "12025550191",
        "Elena Petrova",
        [
            _Step(
                IN, Consent.Source.WEB_FORM, "alerts", 30, {"page": "/optin/demo-county/alerts/"}
            ),
            _Step(IN, Consent.Source.KEYWORD, "appointments", 12, {"keyword": "APPOINTMENTS"}),
        ],
    ),
    (
        "12025550192",
        "Marcus Bell",
        [_Step(IN, Consent.Source.PAPER, "", 45, {"staff_name": "J. Alvarez", "note": "Form 7"})],
    ),
    (
        "12025550193",
        "Rosa Méndez",
        [
            _Step(IN, Consent.Source.KEYWORD, "alerts", 60, {"keyword": "ALERTS"}),
            _Step(OUT, Consent.Source.KEYWORD, "alerts", 5, {"keyword": "STOP ALERTS"}),
        ],
    ),
]


def seed_demo_consent(agency: Agency, actor: Actor) -> None:
    """Topics, demo citizens with a history, and the same for contacts already there.
    Call inside ``agency_scope(agency)`` and a transaction."""
    for spec in TOPICS:
        if selectors.topic_by_slug(agency, spec["slug"]) is None:
            services.create_topic(actor=actor, agency=agency, **spec)
    for wa_id, name, steps in CITIZENS:
        contact = services.contact_for_wa_id(agency, wa_id, name=name)
        _give_history(actor, contact, steps)
    # Citizens who wrote in before (the simulator's): a web-form opt-in to alerts each.
    others = Contact.objects.filter(agency=agency).exclude(wa_id__in=[c[0] for c in CITIZENS])
    for contact in others.order_by("pk")[:5]:
        web_form = _Step(IN, Consent.Source.WEB_FORM, "alerts", 3, {"page": ALERTS_PAGE})
        _give_history(actor, contact, [web_form])


def _give_history(actor: Actor, contact: Contact, steps: list[_Step]) -> None:
    if Consent.objects.filter(contact=contact).exists():
        return  # seeded before, or the citizen has a real history: never add to it
    now = timezone.now()
    for step in steps:
        services.record_consent(
            actor=actor,
            contact=contact,
            status=step.status,
            source=step.source,
            topic=step.topic,
            evidence={**step.evidence, "demo": True},
            recorded_at=now - timedelta(days=step.days_ago),
        )
