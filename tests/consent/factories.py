"""Factories of the consent tests: topics, and business-initiated messages waiting to go."""

from __future__ import annotations

import factory

from messaging.consent.models import ConsentTopic
from messaging.models import Contact, Message
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import AgencyOwnedFactory, ConversationFactory


class TopicFactory(AgencyOwnedFactory[ConsentTopic]):
    class Meta:
        model = ConsentTopic

    slug = factory.Sequence(lambda n: f"topic{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")
    wording = "I agree to receive these messages from the agency on WhatsApp."
    page_enabled = True


def waiting_campaign_message(
    contact: Contact,
    *,
    template: MessageTemplate | None = None,
    status: str = Message.Status.QUEUED,
    campaign_id: int = 77,
) -> Message:
    """A campaign's business-initiated template message to ``contact``, not yet sent."""
    conversation = ConversationFactory(agency=contact.agency, contact=contact)
    with agency_scope(contact.agency):
        return Message.objects.create(
            agency=contact.agency,
            conversation=conversation,
            phone_number=conversation.phone_number,
            contact=contact,
            direction=Message.Direction.OUTBOUND,
            type="template",
            content={"type": "template", "template": {"name": "notice"}},
            template=template,
            status=status,
            business_initiated=True,
            sender_type=Message.SenderType.CAMPAIGN,
            campaign_id=campaign_id,
        )
