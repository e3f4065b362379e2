"""Media limits and result types (cloud-api.md §3).

Checked before upload so an oversize or unsupported file fails fast with a named field instead
of a 131053 from Meta after the bytes went over the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from messaging.whatsapp.errors import InvalidMessageError

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimit:
    mime_types: frozenset[str]
    max_bytes: int


MEDIA_LIMITS: dict[str, MediaLimit] = {
    "audio": MediaLimit(
        frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MB
    ),
    "document": MediaLimit(
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "image": MediaLimit(frozenset({"image/jpeg", "image/png"}), 5 * MB),
    # Static stickers are capped at 100 KB and animated at 500 KB; we cannot tell them apart
    # without decoding the WebP, so the looser cap applies and Meta enforces the other.
    "sticker": MediaLimit(frozenset({"image/webp"}), 500 * 1024),
    "video": MediaLimit(frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
}

UPLOAD_MAX_BYTES = 100 * MB


def base_mime(mime_type: str) -> str:
    """``audio/ogg; codecs=opus`` -> ``audio/ogg``."""
    return mime_type.split(";", 1)[0].strip().lower()


def media_kind_for(mime_type: str) -> str | None:
    mime = base_mime(mime_type)
    for kind, limit in MEDIA_LIMITS.items():
        if mime in limit.mime_types:
            return kind
    return None


def check_upload(size: int, mime_type: str, kind: str | None = None) -> str:
    """Validate an upload against the per-type MIME and size table; returns the media kind."""
    mime = base_mime(mime_type or "")
    if kind is None:
        kind = media_kind_for(mime)
        if kind is None:
            raise InvalidMessageError("file.mime_type", f"{mime or 'empty'} is not supported")
    limit = MEDIA_LIMITS.get(kind)
    if limit is None:
        raise InvalidMessageError("file.kind", f"unknown media kind {kind!r}")
    if mime not in limit.mime_types:
        allowed = ", ".join(sorted(limit.mime_types))
        raise InvalidMessageError("file.mime_type", f"{kind} must be one of: {allowed}")
    if size <= 0:
        raise InvalidMessageError("file", "is empty")
    if size > limit.max_bytes:
        raise InvalidMessageError(
            "file.size", f"{size} bytes exceeds the {kind} limit of {limit.max_bytes} bytes"
        )
    return kind


@dataclass(frozen=True)
class UploadedMedia:
    id: str


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MediaInfo:
        # file_size is a string in current docs and an int in older examples.
        return cls(
            id=str(data["id"]),
            url=str(data["url"]),
            mime_type=str(data.get("mime_type", "")),
            sha256=str(data.get("sha256", "")),
            file_size=int(data.get("file_size") or 0),
        )
