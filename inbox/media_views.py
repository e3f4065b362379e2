"""Citizens' media, served only to signed-in members of the agency that received it.

A citizen chooses the bytes and, through WhatsApp, the announced type: a file served
inline could be HTML or SVG that runs in our origin. So only images, videos and audio of
an allow-list are served inline, with their stored type; everything else is an attachment
(documents with their own type, anything unexpected as ``application/octet-stream``), and
every response carries ``nosniff`` and a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import IO
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.views.decorators.http import require_safe

from frontend.decorators import agency_perm_required
from messaging.models import MediaObject
from messaging.whatsapp.media import MEDIA_LIMITS, base_mime
from tenants.http import MemberRequest
from tenants.permissions import Perm

# Served inline (players and thumbnails need it). Never SVG, HTML, XML or PDF.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "video/mp4",
        "video/3gpp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
    }
)
# Documents WhatsApp accepts keep their type, as a download.
ATTACHMENT_TYPES = MEDIA_LIMITS["document"].mime_types - {"text/html"}
_RANGE_KINDS = ("video/", "audio/")
_PK_MAX = 2**63 - 1
_CHUNK = 64 * 1024
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


@require_safe
@agency_perm_required(Perm.VIEW_INBOX)
def media(request: MemberRequest, pk: int) -> HttpResponse:
    """``/inbox/media/<pk>/``: a stored file of the current agency, or 404."""
    # The decorator is typed for plain responses; a streamed one works the same way.
    return _serve(request, pk)  # type: ignore[return-value]


def _serve(request: MemberRequest, pk: int) -> HttpResponseBase:
    if pk > _PK_MAX:
        raise Http404
    found = MediaObject.objects.filter(pk=pk, status=MediaObject.Status.STORED).first()
    if found is None or not found.storage_key:
        raise Http404
    try:
        stored = default_storage.open(found.storage_key, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    mime = base_mime(found.mime_type)
    inline = mime in INLINE_TYPES and request.GET.get("download") != "1"
    known = mime in INLINE_TYPES or mime in ATTACHMENT_TYPES
    content_type = mime if known else "application/octet-stream"
    size = found.size_bytes
    wanted = request.headers.get("Range", "")
    if inline and wanted and size and mime.startswith(_RANGE_KINDS):
        response: HttpResponseBase = _ranged(stored, wanted, size, content_type)
    else:
        response = FileResponse(stored, content_type=content_type)
        if size:
            response["Content-Length"] = str(size)
    if inline:
        response["Content-Disposition"] = "inline"
    else:
        response["Content-Disposition"] = attachment(download_name(found))
    response["Accept-Ranges"] = "bytes" if inline and mime.startswith(_RANGE_KINDS) else "none"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _ranged(
    stored: IO[bytes], header: str, size: int, content_type: str
) -> HttpResponse | StreamingHttpResponse:
    """One ``bytes=start-end`` range (what media players ask for); 416 when unsatisfiable.
    Several ranges or an unreadable header: the whole file, as HTTP allows."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if match is None or match.groups() == ("", ""):
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            _chunks(stored, 0, size), content_type=content_type
        )
        response["Content-Length"] = str(size)
        return response
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # the last N bytes
        start = max(size - int(last), 0)
        end = size - 1
    if start >= size or start > end:
        stored.close()
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return response
    response = StreamingHttpResponse(
        _chunks(stored, start, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response


def _chunks(stored: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        stored.seek(start)
        remaining = length
        while remaining > 0:
            chunk = stored.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stored.close()


def download_name(found: MediaObject) -> str:
    """The citizen's filename, made harmless (no path, quotes or control characters), or
    ``<kind>-<id>.<extension of the stored file>``."""
    name = unicodedata.normalize("NFC", found.filename or "")
    name = _UNSAFE_FILENAME.sub("_", name).strip(" ._")[:150]
    if name:
        return name
    extension = found.storage_key.rpartition(".")[2] if "." in found.storage_key else "bin"
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:10] or "bin"
    return f"{found.kind or 'media'}-{found.pk}.{extension}"


def attachment(name: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients and the exact name in ``filename*``."""
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    ascii_name = _UNSAFE_FILENAME.sub("_", ascii_name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
