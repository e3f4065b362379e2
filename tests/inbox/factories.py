"""Factories of the inbox's rows (teams, labels, notes…) and conversations in a state."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from inbox import models
from messaging import models as messaging_models
from tests.factories import (
    AgencyOwnedFactory,
    ConversationFactory,
    InboundMessageFactory,
    UserFactory,
)


class TeamFactory(AgencyOwnedFactory[models.Team]):
    class Meta:
        model = models.Team

    name = factory.Sequence(lambda n: f"Team {n}")


class TeamMemberFactory(AgencyOwnedFactory[models.TeamMember]):
    class Meta:
        model = models.TeamMember

    team = factory.SubFactory(TeamFactory, agency=factory.SelfAttribute("..agency"))
    user = factory.SubFactory(UserFactory)


class LabelFactory(AgencyOwnedFactory[models.Label]):
    class Meta:
        model = models.Label

    name = factory.Sequence(lambda n: f"label-{n}")


class CannedResponseFactory(AgencyOwnedFactory[models.CannedResponse]):
    class Meta:
        model = models.CannedResponse

    shortcut = factory.Sequence(lambda n: f"reply{n}")
    title = "Opening hours"
    body = "We are open Monday to Friday, 8 am to 5 pm."


class ActiveConversationFactory(ConversationFactory):
    """A conversation a citizen wrote in a minute ago (window open, waiting, unread)."""

    last_message_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    last_inbound_at = factory.SelfAttribute("last_message_at")
    window_expires_at = factory.LazyAttribute(lambda c: c.last_message_at + timedelta(hours=24))
    waiting_since = factory.SelfAttribute("last_message_at")
    unread_count = 1
    last_preview = "Hello, is the pool open today?"


def citizen_message(conversation: messaging_models.Conversation, text: str, **fields):
    return InboundMessageFactory(
        agency=conversation.agency,
        conversation=conversation,
        content={"type": "text", "text": {"body": text}},
        **fields,
    )
