"""The integrator event types and how they map from the stream's (``bsp.events.types``).

Integrators see a stable, small vocabulary; the stream's internal types may grow freely.
``conversation.resolved`` is derived: a ``conversation.status`` event whose new status is
``resolved``. ``webhook.test`` is what the page's "Send a test event" delivers.
"""

from __future__ import annotations

from typing import Any, Final

from bsp.events import types

MESSAGE_RECEIVED: Final = "message.received"
MESSAGE_STATUS: Final = "message.status"
CONVERSATION_CREATED: Final = "conversation.created"
CONVERSATION_ASSIGNED: Final = "conversation.assigned"
CONVERSATION_RESOLVED: Final = "conversation.resolved"
CONSENT_CHANGED: Final = "consent.changed"
TEMPLATE_STATUS: Final = "template.status"
CAMPAIGN_COMPLETED: Final = "campaign.completed"
TEST: Final = "webhook.test"

CHOICES: Final = (
    (MESSAGE_RECEIVED, "A citizen's message was received"),
    (MESSAGE_STATUS, "An outbound message's status changed (sent, delivered, read, failed)"),
    (CONVERSATION_CREATED, "A conversation was created"),
    (CONVERSATION_ASSIGNED, "A conversation was assigned"),
    (CONVERSATION_RESOLVED, "A conversation was resolved"),
    (CONSENT_CHANGED, "A contact's consent changed (opt-in, opt-out)"),
    (TEMPLATE_STATUS, "A message template's review status changed"),
    (CAMPAIGN_COMPLETED, "A campaign completed"),
)
ALL: Final = frozenset(name for name, _ in CHOICES)

# Stream type → integrator type (conversation.status is handled in ``integrator_type``).
_DIRECT: Final = {
    types.MESSAGE_RECEIVED: MESSAGE_RECEIVED,
    types.MESSAGE_STATUS: MESSAGE_STATUS,
    types.CONVERSATION_CREATED: CONVERSATION_CREATED,
    types.CONVERSATION_ASSIGNED: CONVERSATION_ASSIGNED,
    types.CONSENT_CHANGED: CONSENT_CHANGED,
    types.TEMPLATE_STATUS: TEMPLATE_STATUS,
    types.CAMPAIGN_COMPLETED: CAMPAIGN_COMPLETED,
}


def integrator_type(stream_type: Any, payload: dict[str, Any]) -> str | None:
    """The integrator type a stream event becomes, or None if integrators never see it."""
    if stream_type == types.CONVERSATION_STATUS:
        return CONVERSATION_RESOLVED if payload.get("status") == "resolved" else None
    return _DIRECT.get(stream_type) if isinstance(stream_type, str) else None


def ordering_key(subject: dict[str, Any]) -> str:
    """Deliveries about one conversation go in order; others are independent."""
    conversation = subject.get("conversation")
    if isinstance(conversation, int) or (isinstance(conversation, str) and conversation.isdigit()):
        return f"conversation:{int(conversation)}"
    return ""
