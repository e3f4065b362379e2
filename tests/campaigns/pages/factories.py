"""Factories of the campaign pages' tests: campaigns in each state, their counters and
recipients, as the engine leaves them (the engine's own tests cover how it gets there)."""

from __future__ import annotations

import factory

from messaging.campaigns import models
from messaging.models import Message
from tests.factories import (
    AgencyOwnedFactory,
    InboundMessageFactory,
    PhoneNumberFactory,
    TemplateFactory,
    UserFactory,
)


class CampaignFactory(AgencyOwnedFactory[models.Campaign]):
    class Meta:
        model = models.Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    phone_number = factory.SubFactory(PhoneNumberFactory, agency=factory.SelfAttribute("..agency"))
    template = factory.SubFactory(
        TemplateFactory,
        agency=factory.SelfAttribute("..agency"),
        waba=factory.SelfAttribute("..phone_number.waba"),
    )
    status = models.Campaign.Status.DRAFT
    created_by = factory.SubFactory(UserFactory)
    audience = factory.LazyFunction(
        lambda: {"source": "contacts", "topic": "", "label_ids": [], "attributes": []}
    )


class CampaignStatsFactory(AgencyOwnedFactory[models.CampaignStats]):
    class Meta:
        model = models.CampaignStats

    campaign = factory.SubFactory(CampaignFactory, agency=factory.SelfAttribute("..agency"))


class CampaignRecipientFactory(AgencyOwnedFactory[models.CampaignRecipient]):
    class Meta:
        model = models.CampaignRecipient

    campaign = factory.SubFactory(CampaignFactory, agency=factory.SelfAttribute("..agency"))
    wa_id = factory.Sequence(lambda n: f"1512555{n % 10000:04d}")
    raw = factory.LazyAttribute(lambda r: f"+{r.wa_id}")
    status = models.CampaignRecipient.Status.PENDING


class CampaignMessageFactory(InboundMessageFactory):
    """A campaign's template message to a citizen (its status is the recipient's state)."""

    direction = Message.Direction.OUTBOUND
    type = "template"
    content = factory.LazyFunction(lambda: {"type": "template", "template": {"name": "notice"}})
    status = Message.Status.SENT
    sender_type = Message.SenderType.CAMPAIGN
    wamid = factory.Sequence(lambda n: f"wamid.campaign{n:08d}")
    received_at = None  # type: ignore[assignment]
    business_initiated = True
