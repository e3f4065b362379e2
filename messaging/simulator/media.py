"""Simulated media store rules (cloud-api.md §3).

The MIME/size table is kept separately from the client's on purpose: if one of them is wrong,
the tests that run the client against the simulator show the disagreement.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from messaging.simulator import sample_media
from messaging.simulator.graph import GraphError, invalid_parameter

MB = 1024 * 1024
UPLOAD_MAX = 100 * MB

TYPES: dict[str, tuple[tuple[str, ...], int]] = {
    "audio": (("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MB),
    "document": (
        (
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        100 * MB,
    ),
    "image": (("image/jpeg", "image/png"), 5 * MB),
    "sticker": (("image/webp",), 500 * 1024),
    "video": (("video/mp4", "video/3gpp"), 16 * MB),
}

# Small but well-formed-looking payloads for media that simulated citizens "send".
_MAGIC = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "video/mp4": b"\x00\x00\x00\x18ftypmp42",
    "audio/ogg": b"OggS\x00\x02",
    "application/pdf": b"%PDF-1.4\n",
}
_PICTURES = {"image/jpeg": sample_media.JPEG, "image/webp": sample_media.WEBP}
DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "audio/ogg": "ogg",
    "application/pdf": "pdf",
}


def base_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def kind_for(mime: str) -> str | None:
    base = base_mime(mime)
    for kind, (mimes, _) in TYPES.items():
        if base in mimes:
            return kind
    return None


def check_upload(mime: str, size: int) -> None:
    kind = kind_for(mime)
    if kind is None:
        allowed = ", ".join(m for mimes, _ in TYPES.values() for m in mimes)
        raise invalid_parameter(
            f"Param file must be a file with one of the following types: {allowed}"
        )
    limit = TYPES[kind][1]
    if size == 0:
        raise GraphError(131053, "Media upload error", details="Uploaded file is empty.")
    if size > min(limit, UPLOAD_MAX):
        raise GraphError(
            131053,
            "Media upload error",
            details=f"File size {size} exceeds the {kind} limit of {limit} bytes.",
        )


def fake_content(mime: str, label: str) -> bytes:
    """What a simulated citizen's media file holds: a real picture for images and stickers
    (the label after the picture's end keeps each file's hash its own), a recognisable
    header for the other types."""
    base = base_mime(mime)
    tail = f"simulated media {label}\n".encode() * 8
    if base in _PICTURES:
        return _PICTURES[base] + tail
    return _MAGIC.get(base, b"") + tail


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url_signature(secret: str, media_id: str, expires: int) -> str:
    message = f"{media_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_url(base: str, secret: str, media_id: str, mime: str, ttl: float) -> str:
    """Like lookaside.fbsbx.com URLs: expiring, and useless without the bearer token."""
    expires = int(time.time() + ttl)
    ext = EXTENSIONS.get(base_mime(mime), "bin")
    sig = url_signature(secret, media_id, expires)
    return (
        f"{base.rstrip('/')}/whatsapp_business/attachments/"
        f"?mid={media_id}&ext={expires}&hash={sig}&type={ext}"
    )
