"""Agencies (tenants), their staff and their WhatsApp connection."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from tenants.crypto import EncryptedTextField
from tenants.permissions import Perm, Role, role_has_perm
from tenants.scoping import AgencyOwnedModel


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/Chicago).")


class Agency(models.Model):
    """A government agency: the tenant. Managed by platform operators."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True)
    # Keywords, besides the standard ones (STOP, BAJA…), that opt a citizen out; and whether
    # START/UNSTOP (and equivalents) may opt them back in.
    extra_opt_out_keywords = models.JSONField(default=list, blank=True)
    keyword_opt_in_allowed = models.BooleanField(default=True)
    # Send MARKETING templates through Meta's Marketing Messages API (/marketing_messages)
    # instead of /messages; the agency must have accepted Meta's terms for it first.
    # Utility and authentication templates always go through /messages.
    marketing_messages_api = models.BooleanField(default=False)
    # A new agency starts in trial mode (sends only to its own staff's numbers) until a
    # platform operator approves it going live; agencies older than the flag are live.
    live_approved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def in_trial(self) -> bool:
        return not self.live_approved


class Membership(AgencyOwnedModel):
    """A user's place in an agency, with one role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    # The member's own WhatsApp number: while the agency is in trial mode, sends may go to
    # its staff's numbers only (messaging.policy.trial_recipients).
    phone_e164 = models.CharField(
        "WhatsApp number",
        max_length=32,
        blank=True,
        help_text="The member's own WhatsApp number in international format (+1 512 555 0100). "
        "An agency in trial mode may send to its members' numbers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="membership_unique_user")
        ]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency_id} ({self.role})"

    def has_perm(self, perm: Perm) -> bool:
        return role_has_perm(self.role, perm)


class Invitation(AgencyOwnedModel):
    """An emailed invitation to join an agency with a role. Only the token's hash is kept."""

    email = models.EmailField()
    role = models.CharField(max_length=32, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(Lower("email"), "agency", name="invitation_email_idx")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class BusinessPortfolio(AgencyOwnedModel):
    """The agency's Meta business portfolio; its messaging-limit tier is shared by all numbers."""

    class MessagingLimitTier(models.TextChoices):
        TIER_250 = "TIER_250", "250 contacts / 24 h"
        TIER_2K = "TIER_2K", "2,000 contacts / 24 h"
        TIER_10K = "TIER_10K", "10,000 contacts / 24 h"
        TIER_100K = "TIER_100K", "100,000 contacts / 24 h"
        UNLIMITED = "TIER_UNLIMITED", "Unlimited"

    business_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    messaging_limit_tier = models.CharField(
        max_length=16, choices=MessagingLimitTier.choices, default=MessagingLimitTier.TIER_250
    )
    # Meta's time (unix seconds) of the newest webhook that reported each field: an older
    # one, delivered late, leaves the field alone (messaging/webhooks/account.py).
    webhook_times = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "business_id"], name="portfolio_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.business_id})"


class WhatsAppBusinessAccount(AgencyOwnedModel):
    """A WABA. ``waba_id`` is unique platform-wide: a WABA lives on one platform only."""

    portfolio = models.ForeignKey(
        BusinessPortfolio, on_delete=models.PROTECT, related_name="wabas", null=True, blank=True
    )
    waba_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    access_token = EncryptedTextField(blank=True)
    app_secret = EncryptedTextField(blank=True)  # only when the agency brings its own Meta app
    # From `account_update` webhooks: Meta's restrictions and bans, as last reported.
    restrictions = models.JSONField(default=list, blank=True)  # [{restriction_type, expiration}]
    ban_state = models.CharField(max_length=32, blank=True)
    # Meta's time (unix seconds) of the newest webhook that reported each field: an older
    # one, delivered late, leaves the field alone (messaging/webhooks/account.py).
    webhook_times = models.JSONField(default=dict, blank=True)
    # Notices that change no field (violations, partner events), by fingerprint → when
    # first seen: a redelivery is recognised and recorded only once.
    webhook_notices = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "WhatsApp Business Account"

    def __str__(self) -> str:
        return f"{self.name} ({self.waba_id})"


class PhoneNumber(AgencyOwnedModel):
    """A business phone number. One number can be registered on one platform only."""

    class QualityRating(models.TextChoices):
        GREEN = "GREEN", "High"
        YELLOW = "YELLOW", "Medium"
        RED = "RED", "Low"
        UNKNOWN = "UNKNOWN", "Unknown"

    class ThroughputTier(models.IntegerChoices):
        STANDARD = 80, "80 messages/second"
        HIGH = 1000, "1,000 messages/second"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        PENDING = "pending", "Pending registration"
        DISCONNECTED = "disconnected", "Disconnected (token rejected)"
        FLAGGED = "flagged", "Flagged"
        RESTRICTED = "restricted", "Restricted"
        BANNED = "banned", "Banned"

    waba = models.ForeignKey(
        WhatsAppBusinessAccount, on_delete=models.PROTECT, related_name="phone_numbers"
    )
    phone_number_id = models.CharField(max_length=64, unique=True)
    display_phone_number = models.CharField(max_length=32)
    verified_name = models.CharField(max_length=200)
    quality_rating = models.CharField(
        max_length=8, choices=QualityRating.choices, default=QualityRating.UNKNOWN
    )
    throughput_tier = models.PositiveIntegerField(
        choices=ThroughputTier.choices, default=ThroughputTier.STANDARD
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    # What it was when Meta banned it, so a reinstatement gives that back.
    status_before_ban = models.CharField(max_length=16, choices=Status.choices, blank=True)
    # Meta's time (unix seconds) of the newest webhook that reported each field: an older
    # one, delivered late, leaves the field alone (messaging/webhooks/account.py).
    webhook_times = models.JSONField(default=dict, blank=True)
    access_token = EncryptedTextField(blank=True)  # overrides the WABA's token when set
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_phone_number"]

    def __str__(self) -> str:
        return f"{self.verified_name} {self.display_phone_number}"

    @property
    def can_send(self) -> bool:
        return self.status == self.Status.CONNECTED

    def bearer_token(self) -> str:
        return self.access_token or self.waba.access_token


class ApiCredential(AgencyOwnedModel):
    """An integrator's API key. The key is shown once; only its SHA-256 is kept.

    What it may do is its ``scopes`` (``tenants.api.scopes.Scope`` values), nothing else;
    ``role`` is kept only as a record of what keys created before scopes could do.
    """

    class Kind(models.TextChoices):
        # A test key's sends go to the Cloud API simulator, never to Meta or a citizen.
        LIVE = "live", "Live"
        TEST = "test", "Test"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.INTEGRATOR)
    scopes = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LIVE)
    # Requests per second and burst of this key's token bucket; the settings'
    # API_RATE_LIMIT_PER_SECOND / API_RATE_LIMIT_BURST when empty.
    rate_limit_per_second = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_burst = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    # The request's OAuth access token, when it came with one rather than the raw key
    # (set by AgencyMiddleware; never stored): its scopes narrow the credential's.
    access_token: ApiAccessToken | None = None

    def has_perm(self, perm: Perm) -> bool:
        return role_has_perm(self.role, perm)

    @property
    def is_test(self) -> bool:
        return self.kind == self.Kind.TEST

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes this request may use: the token's when it came with one."""
        if self.access_token is not None:
            return frozenset(self.access_token.scopes) & frozenset(self.scopes)
        return frozenset(self.scopes)

    def has_scope(self, scope: str) -> bool:
        return scope in self.granted_scopes


class ApiAccessToken(AgencyOwnedModel):
    """A short-lived OAuth 2.0 bearer token (client credentials grant) of an API credential.

    Only the SHA-256 of the token is kept; it carries a subset of the credential's scopes
    and dies with the credential (revoking the key ends its tokens at once).
    """

    credential = models.ForeignKey(ApiCredential, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="apitoken_expires")]

    def __str__(self) -> str:
        return f"token of {self.credential_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(AgencyOwnedModel):
    """A POST made with an ``Idempotency-Key``: the request's fingerprint and its answer.

    ``principal`` is who sent it (``credential:<id>`` or ``user:<id>``): keys are theirs
    alone. The row is inserted in the transaction that runs the request, so a concurrent
    duplicate waits on the unique index and then replays the stored answer.
    """

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "principal", "key"], name="idempotency_key_unique"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
