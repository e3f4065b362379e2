"""``X-Hub-Signature-256`` verification (cloud-api.md §5.3): HMAC-SHA256 of the raw body with
the app secret, compared in constant time before anything parses the body.

The platform's own Meta app signs almost everything. An agency that brings its own Meta
app has that app's secret on its WABA; those secrets are tried only when the platform's
does not match, and only for the WABAs the body names. Such a secret vouches for its own
WABA only: processing quarantines whatever else the body names (``processing.vouches_for``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings

from tenants.context import system_scope
from tenants.models import WhatsAppBusinessAccount

PLATFORM = "platform"
_SECRETS_TTL = 60.0
_own_app_secrets: tuple[float, dict[str, str]] = (0.0, {})


def signature_for(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _matches(body: bytes, header: str, app_secret: str) -> bool:
    given = header.strip().lower().encode("utf-8", "replace")
    return bool(app_secret) and hmac.compare_digest(signature_for(body, app_secret).encode(), given)


def verify(body: bytes, header: str | None) -> str | None:
    """Who signed the body: ``"platform"``, ``"waba:<id>"``, or None (reject it). Never
    raises, whatever the body: it is not authenticated yet."""
    if not header or not isinstance(header, str) or not header.lower().startswith("sha256="):
        return None
    if _matches(body, header, settings.WHATSAPP_APP_SECRET):
        return PLATFORM
    secrets = own_app_secrets()
    if not secrets:
        return None
    for waba_id in _named_wabas(body):
        if waba_id in secrets and _matches(body, header, secrets[waba_id]):
            return f"waba:{waba_id}"
    return None


def own_app_secrets() -> dict[str, str]:
    """WABA id → app secret for agencies with their own Meta app (cached for a minute)."""
    global _own_app_secrets
    loaded_at, secrets = _own_app_secrets
    if time.monotonic() - loaded_at > _SECRETS_TTL:
        with system_scope():
            wabas = WhatsAppBusinessAccount.objects.exclude(app_secret="")
            secrets = {waba.waba_id: waba.app_secret for waba in wabas}
        _own_app_secrets = (time.monotonic(), secrets)
    return secrets


def forget_cached_secrets() -> None:
    global _own_app_secrets
    _own_app_secrets = (0.0, {})


def _named_wabas(body: bytes) -> list[str]:
    """The WABA ids of the body's entries, to pick which own app secrets to try. The body
    is anyone's at this point: nested too deeply, not JSON, any shape — never an
    exception, only no ids."""
    try:
        entries = json.loads(body).get("entry") or []
        named = [entry.get("id") for entry in entries[:50] if isinstance(entry, dict)]
        # Each secret once: an HMAC of an 8 MB body per repetition would be a cheap way to
        # make us burn CPU on an unauthenticated request.
        return list(dict.fromkeys(str(i) for i in named if isinstance(i, str | int)))
    except Exception:  # RecursionError, ValueError, AttributeError, TypeError, …
        return []
