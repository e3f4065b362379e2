"""The hosted opt-in page (``/optin/<agency>/<topic>/``): public, no sign-in, English and
Spanish, works without JavaScript.

Abuse protection without a third-party CAPTCHA:

- a signed form token (agency, topic, issue time) that expires after ``TOKEN_MAX_AGE`` and
  is refused if the form came back sooner than ``MIN_FILL_SECONDS`` (a script posts at once);
- a honeypot field people never see (a bot that fills it is told "thank you" and nothing is
  recorded);
- limits in the shared cache (Redis in production): per IP address, per agency, and per
  phone number (which answers exactly like a success, so the page never tells whether a
  number is subscribed); the first two answer ``429``.

The consent is recorded by ``services.record_web_form_opt_in`` with the exact wording shown
and its hash, the time, the IP address and the user agent as evidence.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import segno
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from messaging.consent.models import ConsentTopic
from tenants.models import Agency, PhoneNumber

TOKEN_SALT = "consent.optin"  # noqa: S105  (a signing namespace, not a secret)
TOKEN_MAX_AGE = 2 * 60 * 60  # a form left open for two hours must be reloaded
MIN_FILL_SECONDS = 3
# (limit, window in seconds)
PER_IP = (10, 10 * 60)
PER_AGENCY = (300, 10 * 60)
PER_PHONE = (3, 24 * 60 * 60)
LANGUAGES = ("en", "es")


def page_path(topic: ConsentTopic) -> str:
    return f"/optin/{topic.agency.slug}/{topic.slug}/"


def language_of(request: HttpRequest) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    return chosen if chosen in LANGUAGES else "en"


def wording(topic: ConsentTopic, language: str) -> str:
    return (topic.wording_es if language == "es" and topic.wording_es else topic.wording).strip()


def topic_name(topic: ConsentTopic, language: str) -> str:
    return topic.name_es if language == "es" and topic.name_es else topic.name


# --- The form token -------------------------------------------------------------------------


def issue_token(topic: ConsentTopic, language: str) -> str:
    return signing.dumps(
        {"a": topic.agency_id, "t": topic.pk, "l": language, "i": time.time()}, salt=TOKEN_SALT
    )


class TokenProblem(Exception):
    pass


def check_token(token: str, topic: ConsentTopic) -> dict[str, Any]:
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise TokenProblem("expired") from exc
    except signing.BadSignature as exc:
        raise TokenProblem("invalid") from exc
    if (
        not isinstance(value, dict)
        or value.get("a") != topic.agency_id
        or value.get("t") != topic.pk
    ):
        raise TokenProblem("invalid")
    issued = value.get("i")
    if not isinstance(issued, int | float) or time.time() - issued < MIN_FILL_SECONDS:
        raise TokenProblem("too_fast")
    return value


# --- Rate limits ------------------------------------------------------------------------------


def _over(key: str, limit_window: tuple[int, int]) -> bool:
    """Count one more hit in a fixed window; True once the limit is passed."""
    limit, window = limit_window
    cache.add(key, 0, timeout=window)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        hits = 1
    return hits > limit


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def over_request_limits(request: HttpRequest, agency: Agency) -> bool:
    ip_hash = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    over_ip = _over(f"optin:ip:{ip_hash}", PER_IP)
    over_agency = _over(f"optin:agency:{agency.pk}", PER_AGENCY)
    return over_ip or over_agency


def over_phone_limit(agency: Agency, wa_id: str) -> bool:
    digest = hashlib.sha256(f"{agency.pk}:{wa_id}".encode()).hexdigest()[:32]
    return _over(f"optin:phone:{digest}", PER_PHONE)


# --- WhatsApp link and QR codes ---------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppLink:
    number: str  # as shown, e.g. "+1 555 0100"
    url: str  # https://wa.me/15550100?text=ALERTS


def whatsapp_link(topic: ConsentTopic) -> WhatsAppLink | None:
    """A wa.me link to the agency's first connected number, pre-filled with the topic's
    first keyword (sending it opts in: messaging.webhooks.keywords)."""
    numbers = PhoneNumber.objects.filter(agency_id=topic.agency_id).order_by("pk")
    number = next((n for n in numbers if n.can_send), None)
    if number is None:
        return None
    digits = "".join(ch for ch in number.display_phone_number if ch.isdigit())
    if not digits:
        return None
    url = f"https://wa.me/{digits}"
    if topic.keywords:
        url += f"?text={quote(str(topic.keywords[0]))}"
    return WhatsAppLink(number.display_phone_number, url)


def qr_response(data: str) -> HttpResponse:
    """An SVG QR code of ``data`` (served as a file: an <img> under our CSP)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=8, border=2, title=data)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response
