"""Sending: the one path every outbound message takes (inbox, API, campaigns, automations).

``send_message`` checks the policy, stores the message as ``queued`` (with the
conversation's snippet and, for a reply by staff or the API, the end of the citizen's wait),
publishes ``message.queued`` and hands its id to a Celery task after commit; the task
(``deliver_message``) sends it through the Cloud API client. See README "Sending" for the
delivery semantics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging import delivery, policy, previews, reach
from messaging.models import Contact, Conversation, Message
from messaging.policy import SendRefused
from messaging.whatsapp import builders
from records.audit import Actor, record_event
from tenants.models import Agency, ApiCredential, PhoneNumber
from tenants.scoping import agency_scope


@dataclass(frozen=True)
class Sender:
    """Who asks for the send: decides the audit actor, the sender columns and (through the
    sender type) the queue."""

    type: str  # Message.SenderType
    actor: Actor
    user: User | None = None
    credential: ApiCredential | None = None
    campaign_id: int | None = None

    @classmethod
    def staff(cls, user: User, actor: Actor) -> Sender:
        return cls(Message.SenderType.USER, actor, user=user)

    @classmethod
    def api(cls, credential: ApiCredential, actor: Actor) -> Sender:
        return cls(Message.SenderType.API, actor, credential=credential)

    @classmethod
    def campaign(cls, campaign_id: int) -> Sender:
        return cls(Message.SenderType.CAMPAIGN, Actor.system("campaign"), campaign_id=campaign_id)

    @classmethod
    def system(cls, component: str) -> Sender:
        return cls(Message.SenderType.SYSTEM, Actor.system(component))


def default_phone_number(agency: Agency) -> PhoneNumber:
    number = PhoneNumber.objects.filter(agency=agency).select_related("waba__portfolio")
    found = number.filter(status=PhoneNumber.Status.CONNECTED).first() or number.first()
    if found is None:
        raise SendRefused(
            policy.Rule.SENDER_UNAVAILABLE, f"{agency.name} has no WhatsApp number connected yet."
        )
    return found


def get_or_create_contact(*, agency: Agency, wa_id: str, profile_name: str = "") -> Contact:
    contact, _ = Contact.objects.get_or_create(
        agency=agency,
        wa_id=wa_id,
        defaults={"phone_e164": f"+{wa_id}", "profile_name": profile_name},
    )
    return contact


def send_message(
    *,
    agency: Agency,
    sender: Sender,
    to: str,
    message: builders.OutboundMessage,
    phone_number: PhoneNumber | None = None,
    idempotency_key: str | None = None,
    reply_to_wamid: str = "",
) -> Message:
    """Queue ``message`` for ``to`` if Meta's rules allow it; raise SendRefused otherwise.

    Idempotent per ``idempotency_key``: a repeated call returns the first message. Call it
    outside an enclosing transaction so that a refusal's audit event is kept.
    """
    with agency_scope(agency):
        if idempotency_key:
            existing = Message.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                message_row = _check_and_queue(
                    agency, sender, to, message, phone_number, idempotency_key, reply_to_wamid
                )
        except SendRefused as refusal:
            _audit_refusal(agency, sender, to, refusal)
            raise
        except IntegrityError:
            if idempotency_key:  # a concurrent call with the same key won the race
                return Message.objects.get(idempotency_key=idempotency_key)
            raise
    return message_row


def _check_and_queue(
    agency: Agency,
    sender: Sender,
    to: str,
    message: builders.OutboundMessage,
    number: PhoneNumber | None,
    idempotency_key: str | None,
    reply_to_wamid: str,
) -> Message:
    now = timezone.now()
    number = number or default_phone_number(agency)
    policy.check_sender(agency, number)
    wa_id = policy.normalize_recipient(to)
    contact = get_or_create_contact(agency=agency, wa_id=wa_id)
    policy.check_recipient(contact)
    conversation = Conversation.objects.filter(phone_number=number, contact=contact).first()
    decision = _check_content(agency, number, contact, conversation, message, now)
    if conversation is None:
        conversation = Conversation.objects.create(
            agency=agency, phone_number=number, contact=contact
        )
    row = Message.objects.create(
        agency=agency,
        conversation=conversation,
        phone_number=number,
        contact=contact,
        direction=Message.Direction.OUTBOUND,
        type=message.message_type,
        content=builders.stored_form(message),
        template=decision.template,
        reply_to_wamid=reply_to_wamid,
        status=Message.Status.QUEUED,
        business_initiated=decision.business_initiated,
        idempotency_key=idempotency_key,
        sender_type=sender.type,
        sender_user=sender.user,
        sender_credential=sender.credential,
        campaign_id=sender.campaign_id,
        route=delivery.route_for(agency, decision.template),
    )
    if decision.business_initiated:
        # With the message, in its transaction, under the portfolio's lock (check_tier).
        reach.record_reached(number.waba.portfolio_id, [contact.pk], row.created_at)
    Conversation.objects.filter(pk=conversation.pk).update(**_conversation_moves(sender, row, now))
    if sender.type in _ANSWERS:
        record_event(
            agency_id=agency.pk,
            actor=sender.actor,
            action="message.queued",
            target=row,
            changes={
                "to": wa_id,
                "type": row.type,
                "template": decision.template.name if decision.template else None,
            },
        )
    _publish_queued(row)  # last: publishing holds the agency's event counter until commit
    transaction.on_commit(lambda: delivery.enqueue_delivery(row))
    return row


# Who answers the citizen: staff and integrators. Campaigns, automations and the system
# speak on their own, so the citizen's question still waits for a person.
_ANSWERS = (Message.SenderType.USER, Message.SenderType.API)


def _conversation_moves(sender: Sender, row: Message, now: datetime) -> dict[str, Any]:
    """The conversation's list columns after queueing ``row``: the latest activity and its
    snippet, and no longer waiting once staff or an integrator answered."""
    updates: dict[str, Any] = {
        "last_message_at": now,
        "last_preview": previews.preview(row.type, row.content),
    }
    if sender.type in _ANSWERS:
        updates["waiting_since"] = None
    return updates


def _publish_queued(row: Message) -> None:
    events.publish(
        agency_id=row.agency_id,
        type=types.MESSAGE_QUEUED,
        subject={
            "message": row.pk,
            "conversation": row.conversation_id,
            "contact": row.contact_id,
            "phone_number": row.phone_number_id,
        },
        payload={
            "type": row.type,
            "sender_type": row.sender_type,
            "sender_user": row.sender_user_id,
            "campaign": row.campaign_id,
            "business_initiated": row.business_initiated,
        },
    )


def _check_content(
    agency: Agency,
    number: PhoneNumber,
    contact: Contact,
    conversation: Conversation | None,
    message: builders.OutboundMessage,
    now: Any,
) -> policy.SendDecision:
    if not isinstance(message, builders.Template):
        policy.check_window(agency, conversation, now)
        policy.check_restrictions(number, now, business_initiated=False)
        return policy.SendDecision(business_initiated=False)
    template = policy.find_template(number, message)
    policy.check_template_parameters(template, message)
    # Meta refuses marketing to a citizen who turned it off, window open or not (131050).
    policy.check_marketing_preference(contact, template)
    policy.check_marketing_destination(contact, template)
    if policy.window_is_open(conversation, now):
        policy.check_restrictions(number, now, business_initiated=False)
        return policy.SendDecision(business_initiated=False, template=template)
    policy.check_opt_in(contact, template.topic)
    policy.check_restrictions(number, now, business_initiated=True)
    # Serializes business-initiated sends of one portfolio, so the reach count is exact.
    reach.lock(number.waba.portfolio_id)
    policy.check_tier(number, contact, now)
    return policy.SendDecision(business_initiated=True, template=template)


def _audit_refusal(agency: Agency, sender: Sender, to: str, refusal: SendRefused) -> None:
    record_event(
        agency_id=agency.pk,
        actor=sender.actor,
        action="message.refused",
        object_type="messaging.message",
        changes={"to": to, "rule": refusal.rule.value, "reason": refusal.message},
    )
