"""The callback URL Meta posts to. It does one thing: store the exact bytes, then say 200.

No ORM in the hot path: one INSERT, then a best-effort wake-up of a drainer. If the database is
down the answer is 503 (Meta retries); if the broker is down the event waits in its table
for the sweeper. Processing happens in ``messaging.webhooks.processing``."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from messaging.webhooks import processing, signature

logger = logging.getLogger(__name__)

SIGNATURE_REJECTED_METRIC = "civic:metrics:webhook_signature_rejected"

_INSERT = (
    "INSERT INTO messaging_webhookevent"
    " (received_at, body, signature, verified_with, status, attempts, change_count, error,"
    " problems)"
    " VALUES (%s, %s, %s, %s, 'received', 0, 0, '', '[]') RETURNING id"
)


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verification_handshake(request)
    if request.method == "POST":
        return _receive(request)
    return HttpResponse(status=405, headers={"Allow": "GET, POST"})


def _verification_handshake(request: HttpRequest) -> HttpResponse:
    """Meta's subscription check (cloud-api.md §5.2): echo the challenge as plain text."""
    expected = settings.WHATSAPP_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    logger.warning("webhook verification handshake refused")
    return _logged(HttpResponse("Verification failed.", status=403, content_type="text/plain"))


def _logged(response: HttpResponse) -> HttpResponse:
    """We logged it already: Django's own line for a 4xx would quote the request with its
    query string, where the handshake carries a verify token."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _receive(request: HttpRequest) -> HttpResponse:
    limit = settings.WHATSAPP_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return HttpResponse("Payload too large.", status=413, content_type="text/plain")
    body = _read_body(request, limit, declared.isdigit())
    if len(body) > limit:
        return HttpResponse("Payload too large.", status=413, content_type="text/plain")
    header = request.headers.get("X-Hub-Signature-256", "")
    verified_with = signature.verify(body, header)
    if verified_with is None:
        _count_rejection()
        logger.warning("webhook signature rejected", extra={"bytes": len(body)})
        return HttpResponse("Invalid signature.", status=401, content_type="text/plain")
    try:
        event_id = store_event(body, header, verified_with)
    except DatabaseError:
        logger.exception("webhook not stored: database unavailable")
        return HttpResponse("Temporarily unavailable.", status=503, headers={"Retry-After": "5"})
    _wake_drainer(event_id)
    return HttpResponse("OK", content_type="text/plain")


def _read_body(request: HttpRequest, limit: int, has_length: bool) -> bytes:
    """Up to ``limit + 1`` bytes of the body (not request.body: its 2.5 MB cap is below
    Meta's 3 MB). A chunked request has no Content-Length, so Django reads nothing of it;
    when the server has de-chunked and terminated the stream (gunicorn says so with
    ``wsgi.input_terminated``), read it to its end ourselves, still no more than the limit."""
    if has_length or not request.META.get("wsgi.input_terminated"):  # META is the WSGI environ
        return request.read(limit + 1)
    stream, parts, size = request.META["wsgi.input"], [], 0
    while size <= limit:
        part = stream.read(min(65536, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def store_event(body: bytes, header: str, verified_with: str) -> int:
    with connection.cursor() as cursor:
        # Adapted as the ORM adapts it: SQLite (the demo) compares naive UTC text.
        received_at = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(_INSERT, [received_at, body, header[:100], verified_with])
        return cursor.fetchone()[0]


def _wake_drainer(event_id: int) -> None:
    """Best effort: when Redis or the broker is down the sweeper finds the event later."""
    try:
        processing.wake_drainer()
    except Exception:  # any broker failure; the event is safe in the database
        logger.warning("webhook event %s stored; no drainer woken", event_id, exc_info=True)


def _count_rejection() -> None:
    try:
        cache.add(SIGNATURE_REJECTED_METRIC, 0, timeout=None)
        cache.incr(SIGNATURE_REJECTED_METRIC)
    except Exception:  # a metric must never turn a 401 into a 500
        logger.warning("could not count a rejected webhook signature", exc_info=True)


def rejected_signature_count() -> int:
    try:
        return int(cache.get(SIGNATURE_REJECTED_METRIC) or 0)
    except Exception:
        return 0
