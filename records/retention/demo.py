"""Demo data for holds and retention (``seed_demo`` calls ``seed``, after the WORM archive's
seed): a file plan with General Records Schedule citations, one open legal hold, and an
eligibility report waiting for a records officer (a 2018 conversation past its seven
years, plus whatever else of the demo is due). Idempotent: an agency that has a file plan
is left as it is."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from messaging.models import Contact, Conversation, Message
from records.audit import Actor
from records.holds.models import LegalHold
from records.holds.services import place_hold
from records.retention.models import RecordCategory
from records.retention.services import (
    CategoryData,
    compute_eligibility,
    save_category,
    set_fiscal_year_start,
)
from records.selection import Selection
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope

DEMO_ACTOR = Actor.system("demo")
Kind = RecordCategory.Kind
Cutoff = RecordCategory.Cutoff
Action = RecordCategory.Action

FILE_PLAN = [
    CategoryData(
        name="Citizen conversations (non-Capstone staff)",
        code="CR-100",
        kind=Kind.CONVERSATIONS,
        authority="GRS 6.1 item 011",
        cutoff=Cutoff.CALENDAR_YEAR,
        retain_years=7,
        action=Action.DESTROY,
        description="WhatsApp conversations of staff who are not Capstone officials: "
        "temporary, destroy when 7 years old.",
    ),
    CategoryData(
        name="Staff notes on conversations",
        code="CR-110",
        kind=Kind.NOTES,
        authority="GRS 5.2 item 020",
        cutoff=Cutoff.CONVERSATION_RESOLVED,
        retain_years=1,
        action=Action.DESTROY,
        description="Intermediary notes: destroy one year after the conversation is resolved.",
    ),
    CategoryData(
        name="Audit trail",
        code="CR-900",
        kind=Kind.AUDIT_EVENTS,
        authority="GRS 3.2 item 031",
        cutoff=Cutoff.FISCAL_YEAR,
        retain_years=6,
        action=Action.REVIEW,
        description="System access records: reviewed, kept (the hash chain stays whole).",
    ),
    CategoryData(
        name="Messaging consent",
        code="CR-910",
        kind=Kind.CONSENT,
        authority="GRS 6.5 item 020",
        cutoff=Cutoff.CALENDAR_YEAR,
        retain_years=3,
        action=Action.REVIEW,
        description="Opt-in and opt-out records: reviewed, kept as proof of consent.",
    ),
]
OLD_CONVERSATION_AT = datetime(2018, 6, 12, 15, 4, tzinfo=UTC)


def seed(agency: Agency) -> None:
    with agency_scope(agency):
        if RecordCategory.objects.filter(agency=agency).exists():
            return
    set_fiscal_year_start(agency.pk, 10, actor=DEMO_ACTOR)
    for data in FILE_PLAN:
        save_category(agency.pk, data, actor=DEMO_ACTOR)
    _old_conversation(agency)
    with agency_scope(agency):
        held = LegalHold.objects.filter(agency=agency).exists()
    if not held:
        place_hold(
            agency.pk,
            matter_id="LIT-2026-014",
            reason="Flood damage claims v. the County: preserve every message about "
            "flooding or basements (counsel's letter of 3 November).",
            owner_id=None,
            selection=Selection(query="flood or flooded or basement"),
            actor=DEMO_ACTOR,
        )
    compute_eligibility(agency.pk)


def _old_conversation(agency: Agency) -> None:
    """A 2018 conversation, past its seven years: the report has one record to approve."""
    with agency_scope(agency), transaction.atomic():
        number = PhoneNumber.objects.filter(agency=agency).order_by("pk").first()
        if number is None:
            return
        contact, _ = Contact.objects.get_or_create(
            agency=agency,
            wa_id="15125550187",
            defaults={"phone_e164": "+15125550187", "profile_name": "R. Alvarez"},
        )
        chat, created = Conversation.objects.get_or_create(
            agency=agency, phone_number=number, contact=contact
        )
        if not created:
            return
        message = Message.objects.create(
            agency=agency,
            conversation=chat,
            phone_number=number,
            contact=contact,
            direction=Message.Direction.INBOUND,
            type="text",
            content={"type": "text", "text": {"body": "Is the recycling center open Saturday?"}},
            status=Message.Status.RECEIVED,
            sender_type=Message.SenderType.CONTACT,
            wamid="wamid.demo-2018-recycling",
            received_at=OLD_CONVERSATION_AT,
        )
        Message.objects.filter(pk=message.pk).update(created_at=OLD_CONVERSATION_AT)
        Conversation.objects.filter(pk=chat.pk).update(
            created_at=OLD_CONVERSATION_AT,
            last_message_at=OLD_CONVERSATION_AT,
            last_inbound_at=OLD_CONVERSATION_AT,
            status=Conversation.Status.RESOLVED,
            resolved_at=OLD_CONVERSATION_AT,
            last_preview="Is the recycling center open Saturday?",
        )
