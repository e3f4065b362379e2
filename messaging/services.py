"""Sending: the one path every outbound message takes (inbox, API, campaigns, automations).

``send_message`` checks the policy, stores the message as ``queued`` (with the
conversation's snippet and, for a reply by staff or the API, the end of the citizen's wait),
publishes ``message.queued`` and hands its id to a Celery task after commit; the task
(``deliver_message``) sends it through the Cloud API client. See README "Sending" for the
delivery semantics.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging import delivery, policy, previews, reach
from messaging.models import Contact, Conversation, MediaObject, Message
from messaging.policy import SendRefused
from messaging.whatsapp import builders
from messaging.whatsapp.client import CloudAPIClient
from records.audit import Actor, record_event
from records.dlp import outbound as dlp_outbound
from records.dlp.masking import mask_preview
from tenants.models import Agency, ApiCredential, Membership, PhoneNumber
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

    @property
    def sandbox(self) -> bool:
        """A test API key's send: it goes to the Cloud API simulator, never to Meta."""
        return self.credential is not None and self.credential.is_test

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
    justification: str = "",
    media: MediaObject | None = None,
) -> Message:
    """Queue ``message`` for ``to`` if Meta's rules and the agency's DLP policy allow it;
    raise SendRefused otherwise.

    ``justification``: why a message the DLP policy would refuse must go anyway (accepted
    from a staff member whose role the policy lets override; recorded and audited).
    Idempotent per ``idempotency_key``: a repeated call returns the first message. Call it
    outside an enclosing transaction so that a refusal's audit event is kept. ``media``: our
    copy of the file a media message sends (shown in the thread, downloadable).
    """
    with agency_scope(agency):
        if idempotency_key:
            existing = Message.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                message_row = _check_and_queue(
                    agency,
                    sender,
                    to,
                    message,
                    phone_number,
                    idempotency_key,
                    reply_to_wamid,
                    justification,
                    media,
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
    justification: str = "",
    media: MediaObject | None = None,
) -> Message:
    now = timezone.now()
    number = number or default_phone_number(agency)
    policy.check_sender(agency, number)
    wa_id = policy.normalize_recipient(to)
    policy.check_trial_recipient(agency, wa_id)
    contact = get_or_create_contact(agency=agency, wa_id=wa_id)
    policy.check_recipient(contact)
    conversation = Conversation.objects.filter(phone_number=number, contact=contact).first()
    decision = _check_content(agency, number, contact, conversation, message, now)
    stored = builders.stored_form(message)
    dlp_found = policy.check_sensitive_data(
        agency, stored, justification=justification, role=lambda: _sender_role(agency, sender)
    )
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
        content=stored,
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
        media=media,
        sandbox=sender.sandbox,
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
    if dlp_found is not None:  # kinds and offsets beside the message, audited, published
        dlp_outbound.record(
            message=row,
            found=dlp_found,
            actor=sender.actor,
            justification=justification,
            user_id=sender.user.pk if sender.user else None,
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
        # The list's snippet never shows a validated number in full (records.dlp.masking).
        "last_preview": mask_preview(previews.preview(row.type, row.content)),
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


def _sender_role(agency: Agency, sender: Sender) -> str | None:
    """The sending staff member's role in the agency (None for API, campaigns, system)."""
    if sender.user is None:
        return None
    return (
        Membership.objects.filter(agency=agency, user=sender.user)
        .values_list("role", flat=True)
        .first()
    )


def _audit_refusal(agency: Agency, sender: Sender, to: str, refusal: SendRefused) -> None:
    changes: dict[str, Any] = {"to": to, "rule": refusal.rule.value, "reason": refusal.message}
    dlp = refusal.rule == policy.Rule.SENSITIVE_DATA
    if dlp:  # the kinds found, never the values (the reason names them in words)
        changes["kinds"] = list(refusal.details.get("kinds", []))
    with transaction.atomic():
        record_event(
            agency_id=agency.pk,
            actor=sender.actor,
            action="message.refused",
            object_type="messaging.message",
            changes=changes,
        )
        if dlp:
            dlp_outbound.record_blocked(agency.pk, changes["kinds"], sender.type)


# --- Media an integrator uploads to send ---------------------------------------------------


@dataclass(frozen=True)
class OutboundFile:
    """A file checked against WhatsApp's limits (``inbox.composer.attachments``)."""

    kind: str  # image, video, audio, document, sticker
    mime_type: str
    filename: str
    content: bytes
    sha256: str


def sandbox_base_url() -> str:
    """Where test keys' requests go (the Cloud API simulator); "" when none is configured
    (production): the worker then records sandbox messages as sent without any request."""
    return str(getattr(settings, "TEST_MODE_GRAPH_API_BASE_URL", "") or "")


def upload_media(
    *, agency: Agency, number: PhoneNumber, file: OutboundFile, sandbox: bool = False
) -> MediaObject:
    """Upload ``file`` to the Cloud API for ``number`` and keep our copy, as the inbox's
    composer does for an agent's attachment: the id returned sends it (``image.id``...).

    A sandbox upload (test key) goes to the simulator, or nowhere when none is configured;
    raises CloudAPIError when the Cloud API refuses the file. No transaction is open during
    the upload."""
    with agency_scope(agency):
        policy.check_sender(agency, number)
        if sandbox and not sandbox_base_url():
            meta_media_id = f"sandbox-{file.sha256[:24]}-{timezone.now():%Y%m%d%H%M%S%f}"
        else:
            base_url = sandbox_base_url() if sandbox else None
            client = CloudAPIClient(
                number.phone_number_id, number.bearer_token(), base_url=base_url
            )
            uploaded = client.upload_media(
                file.content, file.mime_type, filename=file.filename, kind=file.kind
            )
            meta_media_id = uploaded.id
        now = timezone.now()
        key = store_outbound_file(agency, file, now)
        return MediaObject.objects.create(
            agency=agency,
            phone_number=number,
            meta_media_id=meta_media_id,
            kind=file.kind,
            mime_type=file.mime_type,
            filename=file.filename,
            status=MediaObject.Status.STORED,
            storage_key=key,
            size_bytes=len(file.content),
            sha256=file.sha256,
            stored_at=now,
        )


def store_outbound_file(agency: Agency, file: OutboundFile, now: datetime) -> str:
    """Content-addressed under the agency's prefix, beside the composer's attachments."""
    ext = mimetypes.guess_extension(file.mime_type) or ".bin"
    key = f"agencies/{agency.pk}/media/outbound/{now:%Y/%m}/{file.sha256}{ext}"
    if default_storage.exists(key):
        return key  # the same bytes, sent before
    return default_storage.save(key, ContentFile(file.content))
