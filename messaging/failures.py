"""What a failed send says about the world, acted on once — whether Meta refused the send
at once (``delivery``) or reported the failure later in a status webhook (``statuses``).

The caller fails the message row its own way (a send fails the row; a late status must not
fail a row already delivered on another device) and calls ``act_on_error`` only when the
failure is new, so a redelivered webhook never acts twice."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from messaging.models import Contact, Conversation
from messaging.whatsapp.errors import (
    AuthError,
    CloudAPIError,
    RecipientUndeliverableError,
    WindowClosedError,
)
from records.audit import Actor
from tenants.models import PhoneNumber


def act_on_error(
    error: CloudAPIError | None,
    *,
    number: PhoneNumber | int,
    conversation_pk: int,
    contact_pk: int,
    at: datetime | None = None,
) -> None:
    """131047 closes our record of the window (unless the citizen wrote after the failure
    at ``at``), 131026 marks the contact unreachable, 190 disconnects the number."""
    now = timezone.now()
    at = at or now
    if isinstance(error, WindowClosedError):
        # Meta knows better than our record, unless the citizen wrote after the failure.
        Conversation.objects.filter(pk=conversation_pk, window_expires_at__gt=now).filter(
            Q(last_inbound_at=None) | Q(last_inbound_at__lt=at)
        ).update(window_expires_at=now)
    elif isinstance(error, RecipientUndeliverableError):
        Contact.objects.filter(pk=contact_pk, unreachable_at=None).update(unreachable_at=now)
    elif isinstance(error, AuthError):
        phone = number if isinstance(number, PhoneNumber) else PhoneNumber.objects.get(pk=number)
        disconnect_number(phone, reason=error.reason or str(error))


def disconnect_number(number: PhoneNumber, *, reason: str) -> None:
    """Meta rejected the token (190): a tenants service (it emails the admins after commit)."""
    from tenants.services import disconnect_phone_number

    disconnect_phone_number(
        actor=Actor.worker("messaging.deliver_message"), number=number, reason=reason
    )
