"""Factories for the composer's tests: conversations with an open or a closed window, saved
replies, and approved templates with every kind of variable."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from inbox.models import CannedResponse
from templates_mgr.models import MessageTemplate
from tests.factories import AgencyOwnedFactory, ConversationFactory, TemplateFactory


class OpenConversationFactory(ConversationFactory):
    """The citizen wrote an hour ago: 23 hours of the customer-service window are left."""

    last_inbound_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    window_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=23))
    last_message_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


class ClosedConversationFactory(ConversationFactory):
    """The citizen last wrote two days ago: the window closed a day ago."""

    last_inbound_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    window_expires_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    last_message_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))


class CannedResponseFactory(AgencyOwnedFactory[CannedResponse]):
    class Meta:
        model = CannedResponse

    shortcut = factory.Sequence(lambda n: f"reply{n}")
    title = factory.Sequence(lambda n: f"Saved reply {n}")
    body = "Thank you for writing to us."


def case_update_components() -> list[dict]:
    """A header, a body with two positional variables, a footer and a URL button."""
    return [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Case {{1}}",
            "example": {"header_text": ["A-1"]},
        },
        {
            "type": "BODY",
            "text": "Hello {{1}}, your case {{2}} was updated.",
            "example": {"body_text": [["Ana", "A-1"]]},
        },
        {"type": "FOOTER", "text": "City of Springfield"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track it", "url": "https://city.example.gov/cases/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Thanks"},
            ],
        },
    ]


class CaseUpdateTemplateFactory(TemplateFactory):
    name = factory.Sequence(lambda n: f"case_update_{n}")
    components = factory.LazyFunction(case_update_components)
    status = MessageTemplate.Status.APPROVED
