"""The demo's campaigns (``seed_demo_campaigns``): a flood warning sent earlier today and
completed, with its recipients, their messages and the counters the progress page shows;
a permit notice set up for next Monday at 9:00 and waiting on its review page; and the
agency's contract rates for two pricing categories.

Called by ``seed_demo`` inside ``agency_scope(agency)`` and a transaction, after the
templates and the consent demo. Only APPROVED templates are used, looked up now; with
none, nothing is seeded. Idempotent: a campaign of the same name is left as it is, and
rates are set only while the agency has none of its own.

Runs on SQLite (the demo's default) as on PostgreSQL: the completed campaign is written
through the ORM with each recipient decided by the send policy's own per-message check
(``policy.check_opt_in``) instead of the bulk audience statement, which is PostgreSQL's.
Its drafts, schedule and rates go through the services, so their audit records and
``campaign.*`` events are the real ones.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from messaging import policy, previews, reach
from messaging.campaigns import services
from messaging.campaigns.models import Campaign, CampaignRecipient, CampaignStats, PricingRate
from messaging.models import Contact, Conversation, Message
from messaging.whatsapp import builders
from records.audit import Actor, record_event
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import build_template_message, template_variables
from tenants.models import Agency, PhoneNumber

ALERT_NAME = "Flash flood warning — Riverside"
NOTICE_NAME = "Permits ready for collection"
# The agency's contract with its BSP: below Meta's list price for utility in North America.
RATES = [("north_america", "UTILITY", "0.0030"), ("north_america", "MARKETING", "0.0220")]
ALERT_VALUES = ["Riverside and Oak Park", "Flash flood warning until 9 pm, avoid low roads."]
# What Meta answered for each recipient, in turn (most read, some only delivered, one failed).
OUTCOMES = ["read", "read", "delivered", "read", "failed", "read", "delivered"]
UNDELIVERABLE = (131026, "The recipient cannot receive WhatsApp messages (131026).")


def seed_demo_campaigns(agency: Agency, actor: Actor) -> None:
    """See the module docstring."""
    number = PhoneNumber.objects.filter(agency=agency).order_by("pk").first()
    approved = list(
        MessageTemplate.objects.filter(
            status=MessageTemplate.Status.APPROVED,
            category__in=[MessageTemplate.Category.UTILITY, MessageTemplate.Category.MARKETING],
        ).order_by("name", "language")
    )
    if number is None or not approved:
        return
    mine = [t for t in approved if t.waba_id == number.waba_id]
    if not mine:
        return
    alert = _first(mine, "emergency_alert")
    others = [t for t in mine if t.pk != alert.pk]
    notice = _first(others, "permit_ready") if others else alert
    if not Campaign.objects.filter(name=ALERT_NAME).exists():
        _completed(agency, actor, number, alert)
    if not Campaign.objects.filter(name=NOTICE_NAME).exists():
        _ready_to_review(agency, actor, number, notice)
    if not PricingRate.objects.exists():
        for market, category, rate in RATES:
            services.set_pricing_rate(
                actor=actor, agency=agency, market=market, category=category, rate=rate
            )


def _first(templates: list[MessageTemplate], name: str) -> MessageTemplate:
    """The English ``name`` if approved, else any of that name, else the first."""
    named = [t for t in templates if t.name == name]
    english = [t for t in named if t.language.startswith("en")]
    return (english or named or templates)[0]


def _fixed_mapping(template: MessageTemplate, values: list[str]) -> dict[str, dict[str, str]]:
    """Each variable a fixed text: ``values`` in order, then the template's own samples."""
    mapping = {}
    for i, variable in enumerate(template_variables(template)):
        text = values[i] if i < len(values) else (variable.example or "Demo County")
        mapping[variable.key] = {"source": "fixed", "value": text}
    return mapping


def _citizen_mapping(template: MessageTemplate) -> dict[str, dict[str, str]]:
    """A person's first name from their WhatsApp profile; the rest the approved samples."""
    mapping = _fixed_mapping(template, [])
    for variable in template_variables(template):
        if variable.component == "body" and variable.name in ("1", "first_name"):
            mapping[variable.key] = {"source": "attribute", "value": "profile_name"}
            break
    return mapping


def _ready_to_review(
    agency: Agency, actor: Actor, number: PhoneNumber, template: MessageTemplate
) -> None:
    """A draft with everything chosen, for next Monday 9:00 in the agency's time zone: the
    admin opens its review, sees who gets it, who is left out and the cost, and confirms."""
    draft = services.create_campaign(
        actor=actor, agency=agency, name=NOTICE_NAME, phone_number=number, template=template
    )
    services.update_campaign(
        actor=actor,
        campaign=draft,
        audience={"source": "contacts", "topic": template.topic},
        variable_mapping=_citizen_mapping(template),
        scheduled_at=_next_monday_at_nine(agency),
    )


def _next_monday_at_nine(agency: Agency) -> datetime:
    try:
        zone = ZoneInfo(agency.timezone or "UTC")
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    today = timezone.now().astimezone(zone).date()
    monday = today + timedelta(days=(7 - today.weekday()) or 7)
    return datetime.combine(monday, time(9, 0), tzinfo=zone)


def _completed(
    agency: Agency, actor: Actor, number: PhoneNumber, template: MessageTemplate
) -> None:
    """The alert as the engine leaves a finished campaign: a recipient per contact (sent,
    or skipped with the send policy's reason), each sent one's message with Meta's outcome,
    the counters, and the campaign completed."""
    mapping = _fixed_mapping(template, ALERT_VALUES)
    campaign = services.create_campaign(
        actor=actor, agency=agency, name=ALERT_NAME, phone_number=number, template=template
    )
    campaign = services.update_campaign(
        actor=actor,
        campaign=campaign,
        audience={"source": "contacts", "topic": template.topic},
        variable_mapping=mapping,
    )
    values = {key: spec["value"] for key, spec in mapping.items()}
    content = builders.stored_form(build_template_message(template, values))
    now = timezone.now()
    start = now - timedelta(minutes=40)
    counts: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    reached = []
    contacts = Contact.objects.filter(wa_id__isnull=False).order_by("pk")
    for i, contact in enumerate(contacts):
        reason = _skip_reason(contact, template)
        if reason:
            skipped[reason] += 1
            CampaignRecipient.objects.create(
                agency=agency,
                campaign=campaign,
                contact=contact,
                wa_id=contact.wa_id or "",
                raw=f"+{contact.wa_id}",
                variables=values,
                skip_reason=reason,
                status=CampaignRecipient.Status.SKIPPED,
            )
            continue
        outcome = OUTCOMES[i % len(OUTCOMES)]
        message = _message(agency, number, contact, template, content, campaign, outcome, start, i)
        counts[outcome] += 1
        reached.append(contact.pk)
        CampaignRecipient.objects.create(
            agency=agency,
            campaign=campaign,
            contact=contact,
            wa_id=contact.wa_id or "",
            raw=f"+{contact.wa_id}",
            variables=values,
            status=CampaignRecipient.Status.QUEUED,
            message=message,
        )
    # They were reached today: the messaging limit counts them (messaging.reach).
    reach.record_reached(number.waba.portfolio_id, reached, start)
    _finish(actor, campaign, counts, skipped, start, now)


def _skip_reason(contact: Contact, template: MessageTemplate) -> str:
    """The send policy's per-message answer (the bulk statement gives the same)."""
    if contact.unreachable_at is not None:
        return "unreachable"
    try:
        policy.check_opt_in(contact, template.topic)
    except policy.SendRefused as refusal:
        return "opted_out" if refusal.rule == policy.Rule.OPTED_OUT else "no_opt_in"
    return ""


def _message(
    agency: Agency,
    number: PhoneNumber,
    contact: Contact,
    template: MessageTemplate,
    content: dict,
    campaign: Campaign,
    outcome: str,
    start: datetime,
    i: int,
) -> Message:
    conversation, _ = Conversation.objects.get_or_create(
        agency=agency, phone_number=number, contact=contact
    )
    sent = start + timedelta(seconds=2 + i)
    failed = outcome == "failed"
    message = Message.objects.create(
        agency=agency,
        conversation=conversation,
        phone_number=number,
        contact=contact,
        direction=Message.Direction.OUTBOUND,
        type="template",
        content=content,
        template=template,
        status=outcome,
        business_initiated=True,
        sender_type=Message.SenderType.CAMPAIGN,
        campaign_id=campaign.pk,
        wamid=f"wamid.demo-campaign-{campaign.pk}-{contact.pk}",
        accepted_at=sent - timedelta(seconds=1),
        sent_at=None if failed else sent,
        delivered_at=None if failed else sent + timedelta(seconds=3),
        read_at=sent + timedelta(minutes=4 + i) if outcome == "read" else None,
        failed_at=sent if failed else None,
        error_code=UNDELIVERABLE[0] if failed else None,
        error_reason=UNDELIVERABLE[1] if failed else "",
    )
    if conversation.last_message_at is None or conversation.last_message_at < sent:
        conversation.last_message_at = sent
        conversation.last_preview = previews.preview("template", content)
        conversation.save(update_fields=["last_message_at", "last_preview"])
    return message


def _finish(
    actor: Actor,
    campaign: Campaign,
    counts: Counter[str],
    skipped: Counter[str],
    start: datetime,
    now: datetime,
) -> None:
    sent = sum(counts.values())
    failed = (
        {f"{UNDELIVERABLE[0]}: {UNDELIVERABLE[1]}": counts["failed"]} if counts["failed"] else {}
    )
    CampaignStats.objects.filter(campaign=campaign).update(
        recipients=sent + sum(skipped.values()),
        delivered=counts["delivered"],
        read=counts["read"],
        failed=counts["failed"],
        skipped=sum(skipped.values()),
        skipped_by_reason=dict(skipped),
        failed_by_reason=failed,
        progress_published_at=now,
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.COMPLETED,
        scheduled_at=start,
        started_at=start,
        resolved=True,
        completed_at=start + timedelta(minutes=3),
    )
    record_event(
        agency_id=campaign.agency_id,
        actor=actor,
        action="campaign.completed",
        target=campaign,
        changes={"demo": True, "sent": sent, "skipped": dict(skipped), **counts},
    )
