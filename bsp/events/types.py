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
# The template manager (templates_mgr.services): a draft saved or a new version, a template
# deleted, a header sample uploaded (status changes stay ``template.status``); the agency's
# banned terms for the pre-screen.
TEMPLATE_CHANGED: Final = "template.changed"
BANNED_TERM_CHANGED: Final = "banned_term.changed"
# Consent (messaging.consent.services): a batch of imported opt-ins (one event per batch,
# its contacts by topic in the payload), and a consent topic created or changed.
CONSENT_IMPORTED: Final = "consent.imported"
CONSENT_TOPIC_CHANGED: Final = "consent_topic.changed"
# A contact created, renamed or given attributes, or deleted (messaging.consent.services;
# the REST API's contacts). Subject {"contact": id}, payload {"change": ..., "fields": [...]}.
CONTACT_CHANGED: Final = "contact.changed"
# A CSV import of opt-ins previewed, started, committed or discarded (not its progress).
CONSENT_IMPORT_CHANGED: Final = "consent_import.changed"
# Campaigns (messaging.campaigns.services; campaign.progress from its stream consumer,
# at most once a second per campaign). Subject {"campaign": id}.
CAMPAIGN_CHANGED: Final = "campaign.changed"
CAMPAIGN_SCHEDULED: Final = "campaign.scheduled"
CAMPAIGN_STARTED: Final = "campaign.started"
CAMPAIGN_QUEUED: Final = "campaign.queued"  # one chunk of recipients queued or skipped
CAMPAIGN_PAUSED: Final = "campaign.paused"
CAMPAIGN_RESUMED: Final = "campaign.resumed"
CAMPAIGN_CANCELLED: Final = "campaign.cancelled"
CAMPAIGN_COMPLETED: Final = "campaign.completed"
CAMPAIGN_FAILED: Final = "campaign.failed"
CAMPAIGN_PROGRESS: Final = "campaign.progress"
PRICING_CHANGED: Final = "pricing.changed"
# Records (records.checkpoints): a signed checkpoint of an agency's records was written.
RECORDS_CHECKPOINT_SIGNED: Final = "records.checkpoint_signed"
# Capture (records.capture.alerts): an inbound file that could not be stored (failed after
# its retries, or rejected); subject {"media", "message", "conversation"}.
MEDIA_MISSING: Final = "media.missing"
# DLP (records.dlp.services): an agency's sensitive-data rule created, enabled or disabled.
DLP_RULE_CHANGED: Final = "dlp_rule.changed"

# Records, issue 12 (records.holds, .retention, .worm, .exports, .foia; DLP policy).
LEGAL_HOLD_PLACED: Final = "legal_hold.placed"  # subject {"hold": id}
LEGAL_HOLD_RELEASED: Final = "legal_hold.released"
LEGAL_HOLD_CHANGED: Final = "legal_hold.changed"  # records newly held (later arrivals)
FILE_PLAN_CHANGED: Final = "file_plan.changed"  # a record category or its instruction
DISPOSITION_ELIGIBLE: Final = "disposition.eligible"  # an eligibility report computed
DISPOSITION_APPROVED: Final = "disposition.approved"
DISPOSITION_EXECUTED: Final = "disposition.executed"  # destroyed/transferred; certificate
ARCHIVE_WRITTEN: Final = "archive.written"  # a conversation's WORM object stored
ARCHIVE_RETENTION_EXTENDED: Final = "archive.retention_extended"
ARCHIVE_LEGAL_HOLD: Final = "archive.legal_hold"  # a hold mirrored on a conversation's versions
ARCHIVE_DESTROYED: Final = "archive.destroyed"  # every version of a conversation deleted
ARCHIVE_POLICY_CHANGED: Final = "archive.policy_changed"  # an agency's archive policy set
EXPORT_CHANGED: Final = "export.changed"  # an export job requested, started, done, failed
EXPORT_PROGRESS: Final = "export.progress"
RECORDS_REQUEST_CHANGED: Final = "records_request.changed"  # public-records requests
DLP_FLAGGED: Final = "dlp.flagged"  # sensitive data found in a message (kinds, never values)
DLP_POLICY_CHANGED: Final = "dlp_policy.changed"  # an agency's DLP policy saved
DISPOSITION_REJECTED: Final = "disposition.rejected"  # an eligibility report rejected
# Integrator webhooks (bsp.integrations.services): a subscription created, updated, its
# secret rotated, disabled (by an admin, or by the sender after 24 h of failures: payload
# {"action": "disabled", "notify": "agency_admins", "reason", "failing_since"}), enabled,
# deleted, or a test event sent. Subject {"subscription": id}.
WEBHOOK_SUBSCRIPTION_CHANGED: Final = "webhook_subscription.changed"

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
        TEMPLATE_CHANGED,
        BANNED_TERM_CHANGED,
        CONSENT_IMPORTED,
        CONSENT_TOPIC_CHANGED,
        CONSENT_IMPORT_CHANGED,
        CAMPAIGN_CHANGED,
        CAMPAIGN_SCHEDULED,
        CAMPAIGN_STARTED,
        CAMPAIGN_QUEUED,
        CAMPAIGN_PAUSED,
        CAMPAIGN_RESUMED,
        CAMPAIGN_CANCELLED,
        CAMPAIGN_COMPLETED,
        CAMPAIGN_FAILED,
        CAMPAIGN_PROGRESS,
        PRICING_CHANGED,
        RECORDS_CHECKPOINT_SIGNED,
        MEDIA_MISSING,
        DLP_RULE_CHANGED,
        LEGAL_HOLD_PLACED,
        LEGAL_HOLD_RELEASED,
        LEGAL_HOLD_CHANGED,
        FILE_PLAN_CHANGED,
        DISPOSITION_ELIGIBLE,
        DISPOSITION_APPROVED,
        DISPOSITION_EXECUTED,
        ARCHIVE_WRITTEN,
        ARCHIVE_RETENTION_EXTENDED,
        EXPORT_CHANGED,
        EXPORT_PROGRESS,
        RECORDS_REQUEST_CHANGED,
        DLP_FLAGGED,
        ARCHIVE_LEGAL_HOLD,
        ARCHIVE_DESTROYED,
        ARCHIVE_POLICY_CHANGED,
        DLP_POLICY_CHANGED,
        DISPOSITION_REJECTED,
        WEBHOOK_SUBSCRIPTION_CHANGED,
    }
)
