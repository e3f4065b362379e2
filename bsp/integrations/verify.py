"""The reference verifier of Civic Relay's webhook signatures (pure Python, no Django).

Every delivery carries::

    Civic-Relay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
    Civic-Relay-Event-Id: <the envelope's id>

where ``v1 = HMAC-SHA256(secret, f"{t}.{raw body}")``. A receiver recomputes it over the raw
request body (the bytes, before any JSON parsing), compares in constant time, and refuses
a timestamp more than ``tolerance`` seconds (5 minutes) from its clock: a captured delivery
cannot be replayed later. During a secret rotation several ``v1=`` values never appear:
rotate, then update the receiver (a rotation takes effect at once). Copy this file freely.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "Civic-Relay-Signature"
EVENT_ID_HEADER = "Civic-Relay-Event-Id"


class SignatureError(ValueError):
    """The delivery is not authentic (or too old): answer 400 and ignore it."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check ``header`` (the Civic-Relay-Signature value) against the raw ``body``; the
    signed timestamp. Raises ``SignatureError``."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the replay window")
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("signature mismatch")
    return timestamp
