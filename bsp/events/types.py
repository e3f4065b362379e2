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
# Outbound: a message was queued for sending (by staff, the API, a campaign, an automation).
MESSAGE_QUEUED: Final = "message.queued"
# The team inbox (inbox.services).
CONVERSATION_ASSIGNED: Final = "conversation.assigned"
CONVERSATION_STATUS: Final = "conversation.status"
CONVERSATION_LABELS: Final = "conversation.labels"
CONVERSATION_READ: Final = "conversation.read"
NOTE_ADDED: Final = "note.added"
AGENT_AVAILABILITY: Final = "agent.availability"
# The inbox's settings (inbox.admin_pages.services).
TEAM_CHANGED: Final = "team.changed"
LABEL_CHANGED: Final = "label.changed"
CANNED_RESPONSE_CHANGED: Final = "canned_response.changed"
BUSINESS_HOURS_CHANGED: Final = "business_hours.changed"
AGENCY_CHANGED: Final = "agency.changed"

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
        MESSAGE_QUEUED,
        CONVERSATION_ASSIGNED,
        CONVERSATION_STATUS,
        CONVERSATION_LABELS,
        CONVERSATION_READ,
        NOTE_ADDED,
        AGENT_AVAILABILITY,
        TEAM_CHANGED,
        LABEL_CHANGED,
        CANNED_RESPONSE_CHANGED,
        BUSINESS_HOURS_CHANGED,
        AGENCY_CHANGED,
    }
)
