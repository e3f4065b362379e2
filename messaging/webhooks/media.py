"""Inbound media: downloaded from Meta by a task (``messaging.download_inbound_media``),
checked against the type's size/MIME limits, stored with its SHA-256.

Contract: ``schedule_download(media_object)`` (called by ``inbound``; the task is enqueued
once the row is committed); ``download(media_pk)`` returns an outcome string or raises
``RetryDownload``.

``download`` in order: only a ``pending`` row is worked on (stored, rejected and failed are
final); a lease in the cache lets one worker at a time download it; the attempt is counted
on the row; a fresh URL is asked of Meta (``GET /{media-id}``: webhook URLs expire after 5
minutes), the announced type and size are checked against ``MEDIA_LIMITS`` before and the
bytes after the download; the SHA-256 is compared with what Meta announced; the file is
stored content-addressed under the agency's prefix. No transaction is open during the
network calls (style guide 2.5).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bsp.celery import CeleryQueue
from messaging.models import MediaObject
from messaging.whatsapp.client import CloudAPIClient
from messaging.whatsapp.errors import AuthError, CloudAPIError, PermanentError, RetryableError
from messaging.whatsapp.media import MEDIA_LIMITS, MediaLimit, base_mime, media_kind_for
from records.capture import alerts

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Longer than the two client calls (30 s each at most) plus writing up to 100 MB to storage.
LEASE_SECONDS = 300
# Graph codes for "this object does not exist": an unknown or expired media id (Meta keeps
# inbound media for 7 days, cloud-api.md §3).
_NO_SUCH_MEDIA = {33, 100}
# Where ``mimetypes`` has no extension, or an odd one (audio/ogg -> .oga).
_EXTENSIONS = {"audio/ogg": "ogg", "audio/amr": "amr", "video/3gpp": "3gp"}
_ERROR_MAX = MediaObject._meta.get_field("error").max_length or 300


class RetryDownload(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """The file breaks Meta's type or size limits; the message says how, in plain words."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Fetched:
    data: bytes
    mime_type: str
    announced_sha256: str  # hex, from GET /{media-id}


def schedule_download(media_object: MediaObject) -> None:
    """Enqueue the download on the ``media`` queue once the row is committed."""
    from messaging.tasks import download_inbound_media  # the tasks module imports this one

    kwargs = {"media_id": media_object.pk, "agency_id": media_object.agency_id}
    transaction.on_commit(
        lambda: download_inbound_media.apply_async(kwargs=kwargs, queue=CeleryQueue.MEDIA)
    )


def download(media_pk: int) -> str:
    """Download, check and store one media file (agency scope). Returns ``stored``,
    ``rejected``, ``failed``, ``missing`` or ``already_<status>``; raises ``RetryDownload``
    for a transient failure while attempts remain (the row counts them)."""
    media = MediaObject.objects.select_related("phone_number__waba").filter(pk=media_pk).first()
    if media is None:
        logger.warning("inbound media %s no longer exists", media_pk)
        return "missing"
    if media.status != MediaObject.Status.PENDING:
        return f"already_{media.status}"
    with download_lease(media_pk) as held:
        if not held:
            # Retry rather than drop: the holder may have died; its lease then expires.
            raise RetryDownload("Another worker is downloading this file.", LEASE_SECONDS)
        attempts = _count_attempt(media_pk)
        if attempts is None:
            return "already_done"
        return _attempt(media, attempts)


@contextmanager
def download_lease(media_pk: int) -> Iterator[bool]:
    """True while this worker alone may download the file.

    A lease in the cache rather than a row lock: no transaction stays open during the
    download, and the lease of a worker that died expires by itself."""
    key = f"civic:media-download:{media_pk}"
    token = uuid.uuid4().hex
    held = bool(cache.add(key, token, timeout=LEASE_SECONDS))
    try:
        yield held
    finally:
        if held and cache.get(key) == token:
            cache.delete(key)


def storage_key(media: MediaObject, sha256_hex: str, mime_type: str) -> str:
    """Content-addressed under the agency's prefix: two agencies never share a key."""
    month = media.created_at.strftime("%Y/%m")
    return f"agencies/{media.agency_id}/media/{month}/{sha256_hex}.{_extension(mime_type)}"


# --- one attempt ----------------------------------------------------------------------------


def _attempt(media: MediaObject, attempts: int) -> str:
    try:
        fetched = _fetch(media)
    except _Refused as exc:
        return _finish(media.pk, MediaObject.Status.REJECTED, error=str(exc))
    except _Transient as exc:
        if attempts >= MAX_ATTEMPTS:
            error = f"Gave up after {attempts} attempts. Last error: {exc}"
            return _finish(media.pk, MediaObject.Status.FAILED, error=error)
        _note_error(media.pk, str(exc))
        raise RetryDownload(str(exc), exc.retry_after) from exc
    except PermanentError as exc:
        return _finish(media.pk, MediaObject.Status.FAILED, error=_permanent_reason(exc))

    digest = hashlib.sha256(fetched.data).hexdigest()
    announced = [media.meta_sha256, fetched.announced_sha256]
    if any(_differs(value, digest) for value in announced):
        error = "The file is corrupted: its SHA-256 does not match the one Meta announced."
        return _finish(media.pk, MediaObject.Status.FAILED, error=error)
    key = _store(storage_key(media, digest, fetched.mime_type), fetched.data, digest)
    return _finish(
        media.pk,
        MediaObject.Status.STORED,
        storage_key=key,
        size_bytes=len(fetched.data),
        sha256=digest,
        mime_type=media.mime_type or fetched.mime_type,
        stored_at=timezone.now(),
        error="",
    )


def _fetch(media: MediaObject) -> _Fetched:
    """A fresh URL from Meta, the limits checked on what Meta announces, then the bytes."""
    if media.mime_type:  # the webhook already named the type: refuse without calling Meta
        _limit_for(media.kind, media.mime_type, None)
    number = media.phone_number
    client = CloudAPIClient(
        number.phone_number_id, number.bearer_token(), log_label=str(media.agency_id)
    )
    try:
        info = client.get_media(media.meta_media_id)
    except RetryableError as exc:
        raise _Transient(_plain(exc.reason), exc.retry_after) from exc
    mime = info.mime_type or media.mime_type
    limit = _limit_for(media.kind, mime, info.file_size or None)
    try:
        data = client.download_media(info.url, max_bytes=limit.max_bytes)
    except RetryableError as exc:
        raise _Transient(_plain(exc.reason), exc.retry_after) from exc
    except AuthError:
        raise
    except PermanentError as exc:
        if exc.code is not None:
            raise
        # The CDN answered 4xx without a Graph error, e.g. the 5-minute URL expired.
        reason = "Meta's download link did not work; a new one will be requested."
        raise _Transient(reason, 1.0) from exc
    except CloudAPIError as exc:  # the client's max_bytes guard: more bytes than announced
        raise _Refused(_too_large(media.kind, None, limit)) from exc
    _limit_for(media.kind, mime, len(data))  # the bytes, not the announcement, decide
    return _Fetched(data=data, mime_type=mime, announced_sha256=info.sha256)


def _limit_for(kind: str, mime_type: str, size: int | None) -> MediaLimit:
    """The type's limit (cloud-api.md §3), or ``_Refused`` saying why the file breaks it."""
    limit = MEDIA_LIMITS.get(kind)
    if limit is None:  # a kind we do not know: go by the MIME type
        kind = media_kind_for(mime_type) or kind
        limit = MEDIA_LIMITS.get(kind)
    mime = base_mime(mime_type)
    if limit is None or mime not in limit.mime_types:
        shown = mime or "untyped"
        raise _Refused(f"WhatsApp does not accept {shown} files for {kind or 'media'} messages.")
    if size is not None and size <= 0:
        raise _Refused("The file is empty.")
    if size is not None and size > limit.max_bytes:
        raise _Refused(_too_large(kind, size, limit))
    return limit


def _too_large(kind: str, size: int | None, limit: MediaLimit) -> str:
    allowed = f"WhatsApp allows {kind} files up to {_limit_text(limit.max_bytes)}"
    if size is None:
        return f"The file is larger than Meta announced; {allowed}."
    return f"The file is {size:,} bytes; {allowed}."


def _limit_text(size: int) -> str:
    """``5 MB``, ``500 KB``: Meta's table, in its own units."""
    mb = 1024 * 1024
    if size % mb == 0:
        return f"{size // mb} MB"
    if size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size:,} bytes"


def _permanent_reason(exc: PermanentError) -> str:
    if not isinstance(exc, AuthError) and exc.code in _NO_SUCH_MEDIA:
        return "Meta no longer has this file: the media id is unknown or expired (7 days)."
    return exc.reason


def _plain(reason: str) -> str:
    """The client's reasons say "retrying"; whether we retry is decided here."""
    return reason.replace("; retrying later.", ".").replace("; retrying.", ".")


def _differs(announced: str, sha256_hex: str) -> bool:
    expected = _digest_bytes(announced)
    return expected is not None and expected != bytes.fromhex(sha256_hex)


def _digest_bytes(value: str) -> bytes | None:
    """Meta announces base64 in webhooks and hex from ``GET /{media-id}``; None if absent
    or in neither form (then there is nothing to compare with)."""
    value = value.strip()
    if not value:
        return None
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(
            value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        logger.warning("unreadable sha256 announced by Meta: %r", value[:80])
        return None
    return raw


# --- storage and the row --------------------------------------------------------------------


def _store(key: str, data: bytes, sha256_hex: str) -> str:
    """Save under ``key`` and return the name used; never overwrites a different file."""
    if default_storage.exists(key):
        if _stored_digest(key) == sha256_hex:
            return key  # the same bytes are already there (the same file sent again)
        # Something else sits under a content address: keep it, store ours beside it.
        stem, dot, ext = key.rpartition(".")
        key = f"{stem}-{uuid.uuid4().hex[:8]}{dot}{ext}"
    # FileSystemStorage (and S3 with file overwrite off) pick a free name if one appeared.
    return default_storage.save(key, ContentFile(data))


def _stored_digest(key: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(key, "rb") as stored:
        for chunk in stored.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def _extension(mime_type: str) -> str:
    mime = base_mime(mime_type)
    return _EXTENSIONS.get(mime) or (mimetypes.guess_extension(mime) or ".bin").lstrip(".")


def _count_attempt(media_pk: int) -> int | None:
    """Count the attempt before the network calls, so a worker that dies mid-download
    still uses one up; None when the row is no longer pending."""
    pending = MediaObject.objects.filter(pk=media_pk, status=MediaObject.Status.PENDING)
    if not pending.update(attempts=F("attempts") + 1):
        return None
    return MediaObject.objects.values_list("attempts", flat=True).get(pk=media_pk)


def _note_error(media_pk: int, reason: str) -> None:
    """The last transient error, visible to staff while the row waits for its retry."""
    MediaObject.objects.filter(pk=media_pk, status=MediaObject.Status.PENDING).update(
        error=reason[:_ERROR_MAX]
    )


def _finish(media_pk: int, status: str, **fields: Any) -> str:
    """The row's final status; a file that ends uncaptured raises the capture alert in the
    same transaction (records.capture.alerts: Meta's media ids expire after 7 days)."""
    if "error" in fields:
        fields["error"] = fields["error"][:_ERROR_MAX]
    pending = MediaObject.objects.filter(pk=media_pk, status=MediaObject.Status.PENDING)
    with transaction.atomic():
        agency_id = pending.values_list("agency_id", flat=True).first()
        if agency_id is None or not pending.update(status=status, **fields):
            return "already_done"
        if status != MediaObject.Status.STORED:
            alerts.media_not_captured(
                media_pk=media_pk,
                agency_id=agency_id,
                status=status,
                reason=fields.get("error", ""),
            )
    return str(status)
