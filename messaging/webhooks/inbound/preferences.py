"""``user_preferences`` (marketing stop/resume inside WhatsApp) → consent records."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from bsp.events import types
from messaging import policy
from messaging.consent.services import WITHDRAWABLE
from messaging.models import Consent, Contact, Message
from messaging.webhooks.changes import Change, InvalidChange, unix_time
from messaging.webhooks.inbound.batch import (
    COMPONENT,
    _Batch,
    _identity,
    _items,
    _profile_name,
)
from messaging.webhooks.inbound.contacts import (
    _contact,
)
from records.audit import Actor, record_event
from templates_mgr.models import MessageTemplate

logger = logging.getLogger(__name__)


MARKETING_WITHDRAWN_REASON = "Turned off marketing messages in WhatsApp before sending"
_PREFERENCE_STATUS = {
    "stop": Consent.Status.OPTED_OUT,
    "resume": Consent.Status.OPTED_IN,
    "signup": Consent.Status.OPTED_IN,  # the citizen asked for this business's offers
}


def handle_user_preferences(change: Change) -> None:
    """A citizen stopped (or resumed) marketing messages inside WhatsApp: Meta will refuse
    our marketing templates (131050) until they resume, so the policy refuses them first."""
    batch = _Batch.of(change)
    for item in _items(change.value, "user_preferences"):
        status = _PREFERENCE_STATUS.get(str(item.get("value", "")).lower())
        if item.get("category") != "marketing_messages" or status is None:
            logger.info("user preference ignored: %s/%s", item.get("category"), item.get("value"))
            continue
        wa_id = _identity(item.get("wa_id"), 32)
        user_id = _identity(item.get("user_id"), 128)
        if not (wa_id or user_id):
            raise InvalidChange("a user preference names no user (wa_id / user_id)")
        contact = _contact(batch, wa_id, user_id, _profile_name(batch.profile(wa_id, user_id)))
        _record_preference(batch, contact, status, item)
    batch.flush()


def _record_preference(batch: _Batch, contact: Contact, status: str, item: dict[str, Any]) -> None:
    recorded_at = min(unix_time(item.get("timestamp")) or timezone.now(), timezone.now())
    # Serializes two deliveries of the same preference, so the check below is exact.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    consents = Consent.objects.filter(
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        source=Consent.Source.WHATSAPP_PREFERENCES,
    )
    if consents.filter(status=status, recorded_at=recorded_at).exists():
        return  # a redelivery
    consent = Consent.objects.create(
        agency_id=batch.agency_id,
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        status=status,
        source=Consent.Source.WHATSAPP_PREFERENCES,
        evidence={**item, "phone_number_id": batch.change.route.phone_number_id},
        recorded_at=recorded_at,
    )
    withdrawn = _withdraw_marketing(batch, contact) if status == Consent.Status.OPTED_OUT else 0
    record_event(
        agency_id=batch.agency_id,
        actor=Actor.system(COMPONENT),
        action=f"consent.{status}",
        target=consent,
        changes={
            "contact": contact.pk,
            "topic": policy.WHATSAPP_MARKETING_TOPIC,
            "source": Consent.Source.WHATSAPP_PREFERENCES.value,
            **({"withdrawn_messages": withdrawn} if withdrawn else {}),
        },
    )
    batch.publish(
        types.CONSENT_CHANGED,
        {"consent": consent.pk, "contact": contact.pk},
        {
            "status": status,
            "topic": consent.topic,
            "source": consent.source,
            "recorded_at": consent.recorded_at,
        },
    )


def _withdraw_marketing(batch: _Batch, contact: Contact) -> int:
    """ "Stop promotions" withdraws the marketing templates still waiting (queued or held)
    for the citizen, as ``consent.services.withdraw_pending`` does for an opt-out: Meta would
    fail them with 131050, window or not. Locked, so a sender that claimed one first wins
    (that one is on its way). One ``message.status`` (→ cancelled) each, published with the
    consent change; how many."""
    pending = Message.objects.filter(
        contact=contact,
        direction=Message.Direction.OUTBOUND,
        status__in=WITHDRAWABLE,
        template__category=MessageTemplate.Category.MARKETING,
    )
    rows = list(
        pending.select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "conversation_id", "status", "campaign_id")
    )
    if not rows:
        return 0
    Message.objects.filter(pk__in=[row[0] for row in rows]).update(
        status=Message.Status.CANCELLED, error_reason=MARKETING_WITHDRAWN_REASON
    )
    now = timezone.now()
    for pk, conversation_id, previous, campaign_id in rows:
        subject = {"message": pk, "conversation": conversation_id, "contact": contact.pk}
        if campaign_id is not None:
            subject["campaign"] = campaign_id
        batch.publish(
            types.MESSAGE_STATUS,
            subject,
            {
                "status": Message.Status.CANCELLED.value,
                "previous": previous,
                "at": now,
                "error_reason": MARKETING_WITHDRAWN_REASON,
            },
        )
    return len(rows)
