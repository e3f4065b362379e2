"""The away message: a citizen who writes outside the number's business hours is told so,
at most once per conversation per cooldown.

A handler of the inbox's event-stream consumer (``inbox.consumers``): on
``message.received`` from a citizen it runs inside the dispatcher's transaction, so the
``AwayReply`` row (the cooldown's memory) and the queued message commit with the cursor,
and a redelivered event finds the row and sends nothing (the message's idempotency key,
derived from the citizen's message, backs that up).

The reply is free-form text inside the customer-service window: the citizen just wrote.
A message older than ``MAX_AGE`` (a late or replayed webhook, a stream that was stuck) gets
no away message — it would answer something written long ago — and never one older than
the window. If the policy refuses the send anyway, that is a log line and nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from bsp.events import types
from inbox.admin_pages.hours import agency_zone, is_open
from inbox.models import AwayReply, BusinessHours
from messaging import policy
from messaging.models import Message
from messaging.policy import SendRefused
from messaging.services import Sender, send_message
from messaging.whatsapp import builders
from records.audit import Actor

logger = logging.getLogger(__name__)

COMPONENT = "away_message"
MAX_AGE = min(timedelta(hours=1), policy.WINDOW)
# What a citizen sends that is not a request for an answer (or not theirs at all).
_NOT_A_REQUEST = frozenset({"reaction", "system", "errors", "edit", "revoke"})


def wants(event: dict[str, Any]) -> bool:
    """A citizen's own message that asks for an answer (the only kind that gets one)."""
    payload = event["payload"]
    return (
        event["type"] == types.MESSAGE_RECEIVED
        and payload.get("sender_type") == Message.SenderType.CONTACT
        and payload.get("type") not in _NOT_A_REQUEST
    )


def numbers_with_hours(numbers: set[Any]) -> set[int]:
    """Of these phone numbers, those with business hours switched on (one query)."""
    numbers.discard(None)
    if not numbers:
        return set()
    return set(
        BusinessHours.objects.filter(phone_number_id__in=numbers, enabled=True).values_list(
            "phone_number_id", flat=True
        )
    )


def handle(event: dict[str, Any]) -> None:
    """The consumer's entry point: reply to a citizen's message outside business hours."""
    if not wants(event):
        return
    subject = event["subject"]
    number = subject.get("phone_number")
    if (
        number is not None
        and not BusinessHours.objects.filter(phone_number_id=number, enabled=True).exists()
    ):
        return  # the common case, in one indexed lookup
    reply_if_closed(subject["message"])


def reply_if_closed(message_pk: int, *, now: datetime | None = None) -> Message | None:
    """Send the away message for the citizen's message ``message_pk`` if it is due; the
    queued reply, or None."""
    now = now or timezone.now()
    inbound = (
        Message.objects.select_related(
            "agency", "conversation", "contact", "phone_number__waba__portfolio"
        )
        .filter(pk=message_pk, direction=Message.Direction.INBOUND)
        .first()
    )
    if inbound is None or inbound.sender_type != Message.SenderType.CONTACT:
        return None
    hours = BusinessHours.objects.filter(phone_number_id=inbound.phone_number_id).first()
    if hours is None or not hours.enabled or not hours.away_message.strip():
        return None
    if not inbound.agency.is_active:
        return None  # read-only: sending would only be refused
    written = inbound.received_at or inbound.created_at
    if written < now - MAX_AGE:
        logger.info("no away message for message %s: written at %s", inbound.pk, written)
        return None
    zone = agency_zone(inbound.agency.timezone)
    if is_open(hours.weekly, written, zone) or is_open(hours.weekly, now, zone):
        return None
    conversation = inbound.conversation
    if not policy.window_is_open(conversation, now):
        return None
    last = AwayReply.objects.select_for_update().filter(conversation=conversation).first()
    cooldown = timedelta(hours=hours.away_cooldown_hours)
    if last is not None and last.sent_at > now - cooldown:
        return None
    return _send(inbound, hours, last, now)


def _send(
    inbound: Message, hours: BusinessHours, last: AwayReply | None, now: datetime
) -> Message | None:
    contact = inbound.contact
    if not contact.wa_id:
        logger.info("no away message for message %s: the contact has no wa_id", inbound.pk)
        return None
    try:
        reply = send_message(
            agency=inbound.agency,
            sender=Sender(type=Message.SenderType.AUTOMATION, actor=Actor.system(COMPONENT)),
            to=contact.wa_id,
            message=builders.Text(body=hours.away_message.strip()[:4096]),
            phone_number=inbound.phone_number,
            idempotency_key=f"away-message:{inbound.pk}",
        )
    except SendRefused as refusal:
        logger.info(
            "away message for message %s refused (%s): %s",
            inbound.pk,
            refusal.rule.value,
            refusal.message,
        )
        return None
    if last is None:
        AwayReply.objects.create(
            agency_id=inbound.agency_id, conversation=inbound.conversation, sent_at=now
        )
    else:
        AwayReply.objects.filter(pk=last.pk).update(sent_at=now)
    return reply
