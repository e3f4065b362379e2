"""In-memory state of the simulated Cloud API. One event loop owns it: no locks needed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PhoneNumber:
    id: str
    display_phone_number: str
    waba_id: str
    access_token: str
    callback_url: str | None = None
    app_secret: str = ""
    verify_token: str | None = None
    verified_name: str = "Civic Relay Demo"
    throughput_mps: float | None = None  # None: the config default
    token_revoked: bool = False
    # Marketing Messages API (cloud-api.md §7.6): whether the business accepted its terms
    # (else /marketing_messages answers 131055), and whether Meta disabled marketing
    # templates through /messages for the WABA (131063).
    marketing_messages_onboarded: bool = True
    cloud_api_marketing_disabled: bool = False

    def public(self) -> dict[str, Any]:
        """Control-API view; the token is shown because tests register it themselves."""
        return {
            "id": self.id,
            "display_phone_number": self.display_phone_number,
            "waba_id": self.waba_id,
            "access_token": self.access_token,
            "callback_url": self.callback_url,
            "app_secret": self.app_secret,
            "verify_token": self.verify_token,
            "verified_name": self.verified_name,
            "throughput_mps": self.throughput_mps,
            "token_revoked": self.token_revoked,
            "marketing_messages_onboarded": self.marketing_messages_onboarded,
            "cloud_api_marketing_disabled": self.cloud_api_marketing_disabled,
        }


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    parameter_format: str = "POSITIONAL"
    status: str = "PENDING"
    rejected_reason: str | None = None
    quality_score: str = "UNKNOWN"
    message_send_ttl_seconds: int | None = None
    created_at: float = field(default_factory=time.time)

    def graph(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": self.components,
            "parameter_format": self.parameter_format,
            "quality_score": {"score": self.quality_score, "date": int(self.created_at)},
        }
        if self.status == "REJECTED":
            out["rejected_reason"] = self.rejected_reason or "NONE"
        if self.message_send_ttl_seconds is not None:
            out["message_send_ttl_seconds"] = self.message_send_ttl_seconds
        return out


@dataclass
class Media:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes
    sha256: str
    filename: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass
class SentMessage:
    """A message the business sent, as the simulator accepted it."""

    wamid: str
    phone_number_id: str
    to: str
    wa_id: str
    type: str
    payload: dict[str, Any]
    accepted_at: float
    rendered_text: str | None = None  # template body with parameters filled in
    endpoint: str = "messages"  # or "marketing_messages" (the Marketing Messages API)
    # Planned (monotonic due time, status, error code or None): statuses are visible in
    # introspection once due, whether or not a callback URL is configured.
    timeline: list[tuple[float, str, int | None]] = field(default_factory=list)

    def statuses(self, now: float) -> list[dict[str, Any]]:
        return [
            {"status": status, "error_code": code}
            for due, status, code in self.timeline
            if due <= now
        ]

    def public(self, now: float) -> dict[str, Any]:
        statuses = self.statuses(now)
        return {
            "id": self.wamid,
            "phone_number_id": self.phone_number_id,
            "to": self.to,
            "wa_id": self.wa_id,
            "type": self.type,
            "payload": self.payload,
            "rendered_text": self.rendered_text,
            "endpoint": self.endpoint,
            "timestamp": int(self.accepted_at),
            "statuses": statuses,
            "status": statuses[-1]["status"] if statuses else "accepted",
        }


class TokenBucket:
    """Classic token bucket; ``take`` returns 0 when allowed, else seconds to wait."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = time.monotonic()

    def take(self, now: float) -> float:
        # max(): ``now`` may predate the bucket when it was created during this request.
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = max(now, self.updated)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class SimState:
    numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    sent: dict[str, list[SentMessage]] = field(default_factory=dict)
    by_wamid: dict[str, SentMessage] = field(default_factory=dict)
    inbound: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (phone_number_id, wa_id) -> wall time of the user's latest message
    windows: dict[tuple[str, str], float] = field(default_factory=dict)
    citizen_names: dict[str, str] = field(default_factory=dict)
    # (waba_id, wa_id) -> business-scoped user id (BSUID) reported in contacts[].user_id
    user_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    not_on_whatsapp: set[str] = field(default_factory=set)
    throughput: dict[str, TokenBucket] = field(default_factory=dict)
    pair_limits: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def number_for_token(self, token: str) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.access_token == token]

    def numbers_in_waba(self, waba_id: str) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.waba_id == waba_id]

    def bump(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1
