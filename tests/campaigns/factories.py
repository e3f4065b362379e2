"""Factories of the campaign engine's tests: a number with an approved template, opted-in
citizens with a consent history, campaigns built through the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from messaging.campaigns import services
from messaging.campaigns.models import Campaign
from messaging.models import Consent, Contact
from messaging.policy import WHATSAPP_MARKETING_TOPIC
from records.audit import Actor
from templates_mgr.models import MessageTemplate
from tenants.models import BusinessPortfolio, PhoneNumber
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, ContactFactory, PhoneNumberFactory, TemplateFactory

ADMIN = Actor.system("test-admin")
BODY = "Hello {{1}}, your permit {{2}} is ready."
MAPPING = {
    "var_1": {"source": "attribute", "value": "profile_name"},
    "var_2": {"source": "attribute", "value": "permit"},
}


def number_with_tier(
    agency, tier: str = BusinessPortfolio.MessagingLimitTier.TIER_10K
) -> PhoneNumber:
    number = PhoneNumberFactory(agency=agency)
    with agency_scope(agency):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier=tier
        )
    return number


def template(number: PhoneNumber, category: str = "UTILITY", topic: str = "", **fields: Any):
    return TemplateFactory(
        agency=number.agency,
        waba=number.waba,
        category=category,
        topic=topic,
        components=[{"type": "BODY", "text": BODY, "example": {"body_text": [["Ana", "P-1"]]}}],
        **fields,
    )


_serial = iter(range(10_000_000))


def citizen(
    agency,
    *,
    wa_id: str | None = None,
    consents: tuple[tuple[str, str], ...] = (("", Consent.Status.OPTED_IN),),
    at: datetime | None = None,
    **attributes: Any,
) -> Contact:
    """A contact with a consent history: (topic, status) records, oldest first, a minute
    apart (the newest decides)."""
    wa_id = wa_id or f"1512555{next(_serial) % 10000:04d}"
    contact = ContactFactory(
        agency=agency,
        wa_id=wa_id,
        phone_e164=f"+{wa_id}",
        attributes={"permit": "P-7", **attributes},
    )
    start = (at or timezone.now()) - timedelta(minutes=len(consents) + 1)
    for i, (topic, status) in enumerate(consents):
        ConsentFactory(
            agency=agency,
            contact=contact,
            topic=topic,
            status=status,
            recorded_at=start + timedelta(minutes=i),
        )
    return contact


def marketing_off(contact: Contact) -> None:
    ConsentFactory(
        agency=contact.agency,
        contact=contact,
        topic=WHATSAPP_MARKETING_TOPIC,
        status=Consent.Status.OPTED_OUT,
        source=Consent.Source.WHATSAPP_PREFERENCES,
    )


def campaign(
    number: PhoneNumber,
    tmpl: MessageTemplate,
    *,
    audience: dict[str, Any] | None = None,
    mapping: dict[str, Any] | None = None,
    name: str = "Permit notices",
) -> Campaign:
    created = services.create_campaign(
        actor=ADMIN, agency=number.agency, name=name, phone_number=number, template=tmpl
    )
    return services.update_campaign(
        actor=ADMIN,
        campaign=created,
        audience=audience or {"source": "contacts"},
        variable_mapping=MAPPING if mapping is None else mapping,
    )


def many_citizens(agency, count: int, *, first: int = 15125550000, **attributes: Any) -> list[int]:
    """``count`` generally opted-in contacts, bulk-inserted; their ids."""
    now = timezone.now()
    with agency_scope(agency):
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    agency=agency,
                    wa_id=str(first + i),
                    phone_e164=f"+{first + i}",
                    profile_name=f"Citizen {i}",
                    attributes={"permit": f"P-{i}", **attributes},
                )
                for i in range(count)
            ],
            batch_size=5000,
        )
        Consent.objects.bulk_create(
            [
                Consent(
                    agency=agency,
                    contact=c,
                    topic="",
                    status=Consent.Status.OPTED_IN,
                    source=Consent.Source.IMPORT,
                    recorded_at=now - timedelta(days=1),
                )
                for c in contacts
            ],
            batch_size=5000,
        )
    return [c.pk for c in contacts]


def scheduled(c: Campaign, **kwargs: Any) -> Campaign:
    return services.schedule_campaign(actor=ADMIN, campaign=c, **kwargs)


def started(c: Campaign, **kwargs: Any) -> Campaign:
    """Scheduled, started and every chunk queued, in this process (no worker)."""
    c = scheduled(c, **kwargs)
    with agency_scope(c.agency_id):
        services.start_campaign(c.pk)
        while services.queue_pending(c.pk) == "more":
            pass
        return Campaign.objects.get(pk=c.pk)
