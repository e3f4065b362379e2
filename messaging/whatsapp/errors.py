"""One exception hierarchy for everything the Cloud API can answer with.

Meta's own error-code page says to branch on the numeric ``code`` (plus ``details``), never on
the HTTP status or the title, so classification is a single dict keyed by code (``_RULES``).
Reference: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/
and ../shared/cloud-api.md section 6.

    CloudAPIError
    ├── RetryableError            retry after ``retry_after`` seconds (throughput, 5xx, ...)
    │   └── TransportError        timeout / connection failure: no Graph error object at all
    └── PermanentError            do not retry; mark the message failed
        ├── AuthError             190 & co: flag the phone number as disconnected
        ├── WindowClosedError     131047: send an approved template instead
        ├── RecipientUndeliverableError   131026: not on WhatsApp / old app / ToS
        ├── TemplateError         132xxx: template missing, unapproved, wrong parameters
        └── PolicyError           integrity, opt-out, marketing caps, payment

``InvalidMessageError`` is separate: it is raised by the request builders *before* any HTTP
call, so it is a programming/input error, not something Meta said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InvalidMessageError(ValueError):
    """A request failed local validation; ``field`` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class CloudAPIError(Exception):
    """An error answered by the Graph API (or a failure to reach it)."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        reason: str | None = None,
        user_title: str | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        # Short sentence for staff; never contains message content.
        self.reason = reason or "The WhatsApp Cloud API returned an error."
        # Meta's own explanation for people (``error_user_title``/``error_user_msg``), sent
        # with template and upload refusals.
        self.user_title = user_title
        self.user_message = user_message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code is not None else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"message={self.message!r}, fbtrace_id={self.fbtrace_id!r})"
        )


class RetryableError(CloudAPIError):
    kind = "retryable"

    def __init__(self, message: str, *, retry_after: float = 5.0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransportError(RetryableError):
    """Timeout or connection failure: Meta may or may not have accepted the request.

    ``maybe_delivered`` is False only when the request provably never left (no connection
    could be made): only then is re-sending a message safe from duplicates.
    """

    kind = "transport"

    def __init__(self, message: str, *, maybe_delivered: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_delivered = maybe_delivered


class PermanentError(CloudAPIError):
    kind = "permanent"


class AuthError(PermanentError):
    """The token is invalid, expired or lacks permission: the number must be reconnected."""

    kind = "auth"


class WindowClosedError(PermanentError):
    kind = "window_closed"


class RecipientUndeliverableError(PermanentError):
    kind = "recipient_undeliverable"


class TemplateError(PermanentError):
    kind = "template"


class PolicyError(PermanentError):
    kind = "policy"


@dataclass(frozen=True)
class _Rule:
    cls: type[CloudAPIError]
    reason: str
    retry_after: float = 0.0


# Classification by Meta's numeric code (cloud-api.md §6.2). Retry delays are our policy:
# Meta publishes none except the pair limit's 4^X schedule, whose first step is used here.
_RULES: dict[int, _Rule] = {
    # -- auth: the stored token no longer works; staff must reconnect the number
    0: _Rule(AuthError, "The access token is invalid. Reconnect the phone number."),
    190: _Rule(AuthError, "The access token expired or was revoked. Reconnect the phone number."),
    10: _Rule(AuthError, "The app lacks permission for this WhatsApp account."),
    131005: _Rule(AuthError, "Access denied for this WhatsApp account."),
    # -- retryable: overload, rate limits, transient failures
    1: _Rule(RetryableError, "Meta reported an unknown API error; retrying.", 30),
    2: _Rule(RetryableError, "Meta's service is temporarily unavailable; retrying.", 30),
    4: _Rule(RetryableError, "The app hit Meta's API call rate limit; retrying later.", 60),
    80007: _Rule(RetryableError, "The account hit Meta's hourly management-call limit.", 3600),
    130429: _Rule(RetryableError, "The number's sending rate limit was reached; retrying.", 1),
    131000: _Rule(RetryableError, "Something went wrong at Meta; retrying.", 10),
    131016: _Rule(RetryableError, "Meta's service is temporarily unavailable; retrying.", 30),
    131056: _Rule(RetryableError, "Too many messages to this person too fast; retrying.", 4),
    131057: _Rule(RetryableError, "The account is in maintenance mode; retrying.", 60),
    133004: _Rule(RetryableError, "Meta's server is temporarily unavailable; retrying.", 30),
    2494100: _Rule(RetryableError, "The number is being migrated; retrying.", 120),
    # -- the 24-hour customer-service window is closed
    131047: _Rule(
        WindowClosedError,
        "More than 24 hours since the person last wrote; only a template can be sent.",
    ),
    # -- the recipient cannot receive WhatsApp messages
    131026: _Rule(
        RecipientUndeliverableError,
        "The recipient cannot receive this message (not on WhatsApp or outdated app).",
    ),
    # -- policy / integrity / opt-out / billing
    368: _Rule(PolicyError, "The account is temporarily blocked for policy violations."),
    130472: _Rule(PolicyError, "The recipient is part of a Meta marketing experiment."),
    130497: _Rule(PolicyError, "Messaging users in this country is restricted."),
    131031: _Rule(PolicyError, "The WhatsApp account is locked."),
    131042: _Rule(PolicyError, "There is a payment problem on the WhatsApp account."),
    131048: _Rule(PolicyError, "Meta's spam rate limit was hit; sending is restricted."),
    131049: _Rule(PolicyError, "Meta chose not to deliver this marketing message."),
    131050: _Rule(PolicyError, "The recipient stopped marketing messages."),
    # -- permanent: bad request or unusable resource
    3: _Rule(PermanentError, "The account lacks the capability for this call."),
    33: _Rule(PermanentError, "The phone number or object does not exist."),
    100: _Rule(PermanentError, "Meta rejected a parameter of the request."),
    131008: _Rule(PermanentError, "A required parameter is missing."),
    131009: _Rule(PermanentError, "A parameter value is not valid."),
    131021: _Rule(PermanentError, "The recipient is the sending number itself."),
    131030: _Rule(PermanentError, "The recipient is not in the test number's allowed list."),
    131037: _Rule(PermanentError, "The number has no approved display name."),
    131045: _Rule(PermanentError, "The number's certificate is invalid; re-register it."),
    131051: _Rule(PermanentError, "This message type is not supported."),
    131052: _Rule(PermanentError, "The person's media could not be downloaded."),
    131053: _Rule(PermanentError, "The media could not be uploaded or fetched."),
    133010: _Rule(PermanentError, "The phone number is not registered on the Cloud API."),
    135000: _Rule(PermanentError, "Meta reported a generic user error."),
}

_TEMPLATE_REASONS: dict[int, str] = {
    132000: "The number of template parameters does not match the template.",
    132001: "The template does not exist in this language or is not approved.",
    132005: "The filled-in template text is too long.",
    132007: "The template content violates a WhatsApp policy.",
    132008: "A template parameter has the wrong format.",
    132012: "A template parameter has the wrong format.",
    132015: "The template is paused because of low quality.",
    132016: "The template is disabled because of low quality.",
}


def _rule_for(code: int | None, http_status: int | None) -> _Rule:
    if code is not None:
        if code in _RULES:
            return _RULES[code]
        if 132000 <= code <= 132999:  # every 132xxx is a template problem
            reason = _TEMPLATE_REASONS.get(code, "The template could not be used.")
            return _Rule(TemplateError, reason)
        if 200 <= code <= 299:  # Graph "API permission" family
            return _Rule(AuthError, "The app lacks a permission for this WhatsApp account.")
    if http_status is not None and http_status >= 500:
        return _Rule(RetryableError, "Meta answered with a server error; retrying.", 10)
    return _Rule(PermanentError, "The WhatsApp Cloud API rejected the request.")


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_text(value: Any) -> str | None:
    return str(value)[:1000] if isinstance(value, str) and value else None


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
) -> CloudAPIError:
    """Build the right exception from a Graph error.

    Accepts the synchronous body ``{"error": {...}}``, its inner object, or a webhook error
    object (``{code, title, message, error_data: {details}, href}`` from ``statuses[].errors``).
    ``retry_after`` (e.g. from a Retry-After header) overrides the per-code default.
    """
    inner = payload.get("error", payload)
    err: Mapping[str, Any] = inner if isinstance(inner, Mapping) else {}
    code = _as_int(err.get("code"))
    error_data = err.get("error_data")
    details = error_data.get("details") if isinstance(error_data, Mapping) else None
    message = str(err.get("message") or err.get("title") or "Unknown Graph API error")
    rule = _rule_for(code, http_status)
    cls = rule.cls
    if cls is PermanentError and err.get("is_transient") is True:
        cls = RetryableError  # Graph marks some otherwise-unknown errors as transient
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": _as_int(err.get("error_subcode")),
        "error_type": err.get("type"),
        "details": details,
        "fbtrace_id": err.get("fbtrace_id"),
        "http_status": http_status,
        "reason": rule.reason,
        "user_title": _as_text(err.get("error_user_title")),
        "user_message": _as_text(err.get("error_user_msg")),
    }
    if issubclass(cls, RetryableError):
        delay = retry_after if retry_after is not None else (rule.retry_after or 5.0)
        return cls(message, retry_after=delay, **kwargs)
    return cls(message, **kwargs)


def classify_code(code: int, *, http_status: int | None = None) -> type[CloudAPIError]:
    """The exception class a Graph error code maps to (for async webhook errors too)."""
    return _rule_for(code, http_status).cls
