"""``Idempotency-Key`` for POSTs (draft-ietf-httpapi-idempotency-key-header).

A view method opts in with ``@idempotent``::

    class MessageListApi(APIView):
        @idempotent
        def post(self, request): ...

With the header, the first request runs inside a transaction that also inserts the key's
row (``IdempotencyKey``: who sent it, the key, the SHA-256 of method + path + body) and
stores the answer (status and body). Then:

- the same key with the same body: the stored answer again, with ``Idempotent-Replayed:
  true``, and the view does not run;
- the same key with another body (or path): ``409`` problem ``idempotency_key_reused``;
- two at once: the second waits on the unique index until the first commits, then replays
  its answer (exactly one runs);
- the view failing (an exception, or a 5xx answer): nothing is stored and the view's own
  changes roll back with the row, so a retry runs again (a refusal raised as an exception,
  a 4xx problem, is simply refused again). Answers the view returns (2xx, 4xx) are stored.

Keys are the sender's (``credential:<id>`` or ``user:<id>``) and expire after
``IDEMPOTENCY_KEY_HOURS`` (24): expired rows are ignored, then purged by beat
(``tenants.api.tasks.purge_expired_api_state``). Without the header the view runs as
usual. A key is 1-255 printable ASCII characters.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api.exceptions import ApiProblem
from tenants.http import agency_request
from tenants.models import IdempotencyKey

HEADER = "Idempotency-Key"
Handler = Callable[..., Response]


def key_hours() -> int:
    return int(getattr(settings, "IDEMPOTENCY_KEY_HOURS", 24))


def _principal(request: Request) -> str | None:
    django_request = agency_request(request)
    if django_request.api_credential is not None:
        return f"credential:{django_request.api_credential.pk}"
    if django_request.membership is not None:
        return f"user:{django_request.membership.user_id}"
    return None


def _fingerprint(request: Request) -> str:
    try:
        body = request._request.body
    except RequestDataTooBig as exc:
        raise ApiProblem(413, "payload_too_large", "The request body is too large.") from exc
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _valid(key: str) -> bool:
    return 0 < len(key) <= 255 and all(32 <= ord(c) < 127 for c in key)


def _replay(row: IdempotencyKey, request_hash: str) -> Response:
    if row.request_hash != request_hash:
        raise ApiProblem(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request. Use a new key for a new "
            "request.",
        )
    data = json.loads(row.response_body) if row.response_body else None
    response = Response(data, status=row.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler: Handler) -> Handler:
    """Make a view method (``post``) honour ``Idempotency-Key``."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        principal = _principal(request)
        if key is None or principal is None:
            return handler(view, request, *args, **kwargs)
        if not _valid(key):
            raise ApiProblem(
                400,
                "idempotency_key_invalid",
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            )
        request_hash = _fingerprint(request)
        agency = agency_request(request).agency
        fresh_after = timezone.now() - timedelta(hours=key_hours())
        lookup = {"agency": agency, "principal": principal, "key": key}
        existing = IdempotencyKey.objects.filter(**lookup).first()
        if existing is not None and existing.created_at > fresh_after:
            return _replay(existing, request_hash)
        if existing is not None:  # expired: the key may be used again (one query, not two)
            IdempotencyKey.objects.filter(pk=existing.pk, created_at__lte=fresh_after).delete()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(
                        **lookup, request_hash=request_hash, status_code=0
                    )
            except IntegrityError:
                # Another request with this key committed while we waited on the index.
                return _replay(IdempotencyKey.objects.get(**lookup), request_hash)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            row.status_code = response.status_code
            if response.data is not None:
                row.response_body = JSONRenderer().render(response.data).decode()
            row.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper
