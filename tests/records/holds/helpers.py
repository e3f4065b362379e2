"""Builders shared by the holds and retention tests."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bsp.events.models import DomainEvent
from inbox.models import ConversationLabel, Label, Note
from messaging.models import Conversation, Message
from records.audit import Actor
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory

OFFICER = Actor("user", "7", "officer@example.gov")


def say(conversation: Conversation, body: str = "Hello", at: datetime | None = None) -> Message:
    """An inbound message in ``conversation`` (dated ``at``), its conversation's last
    activity moved as the webhook path does."""
    at = at or timezone.now()
    with agency_scope(conversation.agency_id):
        message = InboundMessageFactory(
            agency=conversation.agency,
            conversation=conversation,
            content={"type": "text", "text": {"body": body}},
            received_at=at,
        )
        Message.objects.filter(pk=message.pk).update(created_at=at)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=at)
        message.refresh_from_db()
        conversation.refresh_from_db()
    return message


def conversation(agency, **kwargs) -> Conversation:
    return ConversationFactory(agency=agency, **kwargs)


def label(conversation: Conversation, name: str = "Flood claims") -> Label:
    with agency_scope(conversation.agency_id):
        found, _ = Label.objects.get_or_create(agency_id=conversation.agency_id, name=name)
        ConversationLabel.objects.create(
            agency_id=conversation.agency_id, conversation=conversation, label=found
        )
    return found


def note(conversation: Conversation, body: str = "Called back") -> Note:
    with agency_scope(conversation.agency_id):
        return Note.objects.create(
            agency_id=conversation.agency_id, conversation=conversation, body=body
        )


def events_of(agency, type_: str) -> list[DomainEvent]:
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(agency=agency, type=type_).order_by("sequence"))


def audit_of(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(agency=agency, action=action).order_by("sequence"))
