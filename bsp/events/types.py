"""The event types of the stream. A type names what changed, in the past tense of the
domain; consumers switch on it. Later issues add theirs here (assignment, campaigns…)."""

from __future__ import annotations

from typing import Final

MESSAGE_RECEIVED: Final = "message.received"
MESSAGE_STATUS: Final = "message.status"
MESSAGE_EDITED: Final = "message.edited"
MESSAGE_REVOKED: Final = "message.revoked"
CONVERSATION_CREATED: Final = "conversation.created"
CONVERSATION_WINDOW_OPENED: Final = "conversation.window_opened"
CONSENT_CHANGED: Final = "consent.changed"
TEMPLATE_STATUS: Final = "template.status"
PHONE_NUMBER_CHANGED: Final = "phone_number.changed"

ALL: Final = frozenset(
    {
        MESSAGE_RECEIVED,
        MESSAGE_STATUS,
        MESSAGE_EDITED,
        MESSAGE_REVOKED,
        CONVERSATION_CREATED,
        CONVERSATION_WINDOW_OPENED,
        CONSENT_CHANGED,
        TEMPLATE_STATUS,
        PHONE_NUMBER_CHANGED,
    }
)
