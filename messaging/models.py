"""Contacts (citizens), their consent, conversations and messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.scoping import AgencyOwnedModel


class Contact(AgencyOwnedModel):
    """A citizen on WhatsApp, as one agency knows them.

    ``wa_id`` is the WhatsApp id (the phone's digits). Since Meta's 2026 change a user can be
    identified by a business-scoped user id without a phone number, so both are optional
    but at least one is present.
    """

    wa_id = models.CharField(max_length=32, null=True, blank=True)
    business_scoped_user_id = models.CharField(max_length=128, null=True, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True)
    profile_name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    unreachable_at = models.DateTimeField(null=True, blank=True)  # 131026: not on WhatsApp
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "wa_id"],
                condition=models.Q(wa_id__isnull=False),
                name="contact_unique_wa_id",
            ),
            models.UniqueConstraint(
                fields=["agency", "business_scoped_user_id"],
                condition=models.Q(business_scoped_user_id__isnull=False),
                name="contact_unique_bsuid",
            ),
            models.CheckConstraint(
                condition=models.Q(wa_id__isnull=False)
                | models.Q(business_scoped_user_id__isnull=False),
                name="contact_has_an_identity",
            ),
        ]

    def __str__(self) -> str:
        return self.profile_name or self.phone_e164 or self.wa_id or "contact"


class Consent(AgencyOwnedModel):
    """One recorded consent change (the history is kept; the newest record decides).

    ``topic`` "" is consent for the agency as a whole; a topic (e.g. "road_closures") narrows
    an opt-in. An opt-out without a topic stops every business-initiated message.
    """

    class Status(models.TextChoices):
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

    class Source(models.TextChoices):
        KEYWORD = "keyword", "Keyword in a WhatsApp message"
        WHATSAPP_PREFERENCES = "whatsapp", "WhatsApp marketing preferences"
        IMPORT = "import", "Imported list"
        STAFF = "staff", "Recorded by staff"
        API = "api", "API"
        WEB_FORM = "web_form", "Web form"
        SMS_KEYWORD = "sms_keyword", "Keyword in a text message (SMS)"
        PAPER = "paper", "Paper form (recorded by staff)"
        PHONE = "phone", "Phone call (recorded by staff)"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    topic = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    evidence = models.JSONField(default=dict, blank=True)  # message id, form id, import row…
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["contact", "topic", "-recorded_at"], name="consent_latest")]

    def __str__(self) -> str:
        return f"{self.status} {self.topic or '(all)'}"


class Conversation(AgencyOwnedModel):
    """All messages between one business number and one contact."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"  # waiting on someone else (the citizen, a colleague)
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.PROTECT, related_name="conversations"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    window_expires_at = models.DateTimeField(null=True, blank=True)  # 24 h after last inbound
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The team inbox's workflow (inbox.services changes these; the webhook path bumps
    # unread_count/waiting_since/last_preview in the UPDATE that moves the window).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "inbox.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Since when the citizen's oldest unanswered message has waited (cleared by a reply).
    waiting_since = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)  # citizen's messages no agent opened
    last_preview = models.CharField(max_length=160, blank=True)  # the list's snippet
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number", "contact"], name="conversation_unique_pair"
            )
        ]
        indexes = [
            # The inbox list walks these in its order (newest activity, then id: the keyset).
            models.Index(
                fields=["agency", "status", "-last_message_at", "-id"], name="conversation_inbox"
            ),
            models.Index(
                fields=["agency", "-last_message_at", "-id"],
                condition=models.Q(last_message_at__isnull=False),
                name="conversation_recent",
            ),
            models.Index(
                fields=["agency", "assignee", "status", "-last_message_at", "-id"],
                name="conversation_by_assignee",
            ),
            models.Index(
                fields=["agency", "team", "status", "-last_message_at", "-id"],
                name="conversation_by_team",
            ),
            models.Index(
                fields=["agency", "team", "-last_message_at", "-id"],
                condition=models.Q(last_message_at__isnull=False),
                name="conversation_team_recent",
            ),
            models.Index(
                fields=["agency", "status", "waiting_since"],
                condition=models.Q(waiting_since__isnull=False),
                name="conversation_waiting",
            ),
            models.Index(
                fields=["snoozed_until"],
                condition=models.Q(status="snoozed"),
                name="conversation_snoozed",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Message(AgencyOwnedModel):
    """One message in or out. Outbound messages move queued → sending → accepted → sent →
    delivered → read (or failed); each step's time is kept in its own column."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted by WhatsApp"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"
        # Bulk (campaign) messages only: not sent while their campaign is paused, and never
        # sent once withdrawn (campaign cancelled, or the citizen opted out before the send).
        HELD = "held", "Held (campaign paused)"
        CANCELLED = "cancelled", "Cancelled before sending"

    class SenderType(models.TextChoices):
        CONTACT = "contact", "Citizen"
        USER = "user", "Staff"
        API = "api", "API client"
        CAMPAIGN = "campaign", "Campaign"
        AUTOMATION = "automation", "Automation"
        SYSTEM = "system", "System"

    class Route(models.TextChoices):
        MESSAGES = "messages", "Cloud API (/messages)"
        MARKETING_MESSAGES = "marketing_messages", "Marketing Messages API (/marketing_messages)"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    type = models.CharField(max_length=32)
    content = models.JSONField(default=dict)  # the Cloud API message object, without `to`
    template = models.ForeignKey(
        "templates_mgr.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    reply_to_wamid = models.CharField(max_length=200, blank=True)
    # Inbound: Meta's `context` (quoted message, forwarded flags, referred product) and
    # `referral` (click-to-WhatsApp ad), as received.
    context = models.JSONField(default=dict, blank=True)
    referral = models.JSONField(default=dict, blank=True)
    media = models.ForeignKey(
        "messaging.MediaObject",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    # A citizen edited or deleted (revoked) their message: the record keeps every version.
    edited_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    content_history = models.JSONField(default=list, blank=True)
    # Status webhooks: Meta's pricing and conversation objects, kept as received.
    pricing = models.JSONField(default=dict, blank=True)
    meta_conversation = models.JSONField(default=dict, blank=True)
    wamid = models.CharField(max_length=200, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    business_initiated = models.BooleanField(default=False)  # a template outside the window
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)  # for staff, plain words
    error_details = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    sender_type = models.CharField(max_length=16, choices=SenderType.choices)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_credential = models.ForeignKey(
        "tenants.ApiCredential", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign_id = models.BigIntegerField(null=True, blank=True)
    # Which Cloud API endpoint sends it, decided when it is queued (policy.route_for): the
    # drain reads it from the row instead of looking the template and the agency up again.
    route = models.CharField(max_length=24, choices=Route.choices, default=Route.MESSAGES)
    # Sent with a test API key: the worker sends it to the Cloud API simulator
    # (TEST_MODE_GRAPH_API_BASE_URL), never to Meta or a citizen (messaging.delivery).
    sandbox = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)  # inbound: Meta's timestamp

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number", "wamid"],
                condition=models.Q(wamid__isnull=False),
                name="message_unique_wamid",
            ),
            models.UniqueConstraint(
                fields=["agency", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="message_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_thread"),
            # The sweeper looks for rows stuck in queued/sending.
            models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["queued", "sending"]),
                name="message_in_flight",
            ),
            models.Index(fields=["agency", "-created_at"], name="message_reporting"),
            # Inbound edits/revokes that may arrive before their original (webhooks).
            models.Index(
                fields=["conversation"],
                condition=models.Q(type__in=["revoke", "edit"]),
                name="message_change_notices",
            ),
            # Drainers claim a number's queued messages in id order (claim_batch).
            models.Index(
                fields=["phone_number", "id"],
                condition=models.Q(status="queued"),
                name="message_queued_per_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.status}"


class MediaObject(AgencyOwnedModel):
    """A media file received from a citizen: downloaded from Meta by a task, checked against
    the type's size and MIME limits, stored (local disk or S3) with its SHA-256."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for download"
        STORED = "stored", "Stored"
        REJECTED = "rejected", "Rejected (size or type)"
        FAILED = "failed", "Download failed"

    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.PROTECT, related_name="+"
    )
    meta_media_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=16)  # image, video, audio, document, sticker
    mime_type = models.CharField(max_length=128, blank=True)
    meta_sha256 = models.CharField(max_length=128, blank=True)  # as Meta announced it
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    storage_key = models.CharField(max_length=512, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # hex digest of what we stored
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    stored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number", "meta_media_id"], name="media_unique_meta_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.meta_media_id} ({self.status})"


class ParkedStatus(AgencyOwnedModel):
    """A status webhook for a wamid we have not recorded yet (it can beat our own send task's
    write): kept here and applied when the wamid appears."""

    phone_number = models.ForeignKey(
        "tenants.PhoneNumber", on_delete=models.CASCADE, related_name="+"
    )
    wamid = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    payload = models.JSONField()
    webhook_event = models.ForeignKey(
        "messaging.WebhookEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number", "wamid", "status"], name="parked_status_unique"
            )
        ]

    def __str__(self) -> str:
        return f"parked {self.status} for {self.wamid}"


class WebhookEvent(models.Model):
    """One POST from Meta, stored verbatim before it is acknowledged (platform-wide: a POST
    can carry changes for several agencies; processing routes each change to its agency).

    Only platform operators see this table; agencies see the messages it produced."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, waiting for processing"
        PROCESSING = "processing", "Being processed"
        PROCESSED = "processed", "Processed"
        QUARANTINED = "quarantined", "Quarantined (a change could not be routed)"
        RETRYING = "retrying", "Failed, will be retried"
        FAILED = "failed", "Failed, needs an operator"

    received_at = models.DateTimeField()
    body = models.BinaryField()  # the exact bytes Meta signed
    signature = models.CharField(max_length=100, blank=True)
    verified_with = models.CharField(max_length=80)  # "platform" or "waba:<id>"
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    change_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)  # unroutable changes, with reasons
    processed_at = models.DateTimeField(null=True, blank=True)
    # Retrying: when to try again. Processing: when the drainer's claim expires.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweeper looks for events nobody processed.
            models.Index(
                fields=["received_at"],
                condition=models.Q(status__in=["received", "retrying"]),
                name="webhook_event_pending",
            ),
            models.Index(fields=["status", "-received_at"], name="webhook_event_by_status"),
        ]

    def __str__(self) -> str:
        return f"webhook event {self.pk} ({self.status})"


class ReachedContact(AgencyOwnedModel):
    """A citizen reached by a business-initiated message, per business portfolio, with the
    latest time they were (Meta's messaging limit, cloud-api.md §7.3: unique users in a
    moving 24 h per portfolio). One row per (portfolio, contact), upserted in the transaction
    that queues the message, so the count of rows newer than 24 h is the reach; see
    ``messaging.reach``. ``portfolio_key`` is the portfolio's id, or 0 for the agency's
    WABAs that have no portfolio yet (they share one bucket, as they always did)."""

    portfolio_key = models.BigIntegerField()
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reached_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "portfolio_key", "contact"], name="reached_contact_unique"
            )
        ]
        indexes = [
            # The count: rows of one portfolio newer than 24 h (an index-only range scan).
            models.Index(
                fields=["agency", "portfolio_key", "reached_at"], name="reached_contact_window"
            )
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} reached {self.reached_at:%Y-%m-%d %H:%M}"
