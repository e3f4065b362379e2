"""An agent's attachment, checked against WhatsApp's media limits before anything is uploaded.

The type is read from the file's first bytes (its signature), not from its name or the
browser's Content-Type: a ``.jpg`` that is really a script is refused as what it is. The
size limits are Meta's, from ``messaging.whatsapp.media.MEDIA_LIMITS`` (cloud-api.md §3):
image JPEG/PNG 5 MB; video MP4/3GPP 16 MB; audio AAC/MP4/MPEG/AMR/OGG (Opus) 16 MB;
document PDF/Word/Excel/PowerPoint/plain text 100 MB; sticker WebP 500 KB.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from typing import IO

from django.core.files.uploadedfile import UploadedFile

from messaging.whatsapp.media import MEDIA_LIMITS

_HEAD = 4096  # bytes read to tell the type
_KIND_WORDS = {
    "image": "images",
    "video": "videos",
    "audio": "audio files",
    "document": "documents",
    "sticker": "stickers",
}
_OLE_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
_OOXML = {  # the folder each Office Open XML package keeps its part in
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_3GPP_BRANDS = (b"3gp", b"3g2")
_AUDIO_MP4_BRANDS = (b"M4A ", b"M4B ", b"F4A ")
ALLOWED_TYPES_TEXT = (
    "Images: JPEG or PNG up to 5 MB. Videos: MP4 or 3GPP up to 16 MB. Audio: AAC, MP4, MP3, "
    "AMR or OGG (Opus) up to 16 MB. Documents: PDF, Word, Excel, PowerPoint or plain text up "
    "to 100 MB. Stickers: WebP up to 500 KB."
)
ACCEPT = (
    "image/jpeg,image/png,image/webp,video/mp4,video/3gpp,audio/aac,audio/mp4,audio/mpeg,"
    "audio/amr,audio/ogg,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt"
)


class AttachmentRefused(ValueError):
    """The file cannot be sent on WhatsApp; the message says why, in plain words."""


@dataclass(frozen=True)
class Attachment:
    kind: str  # image, video, audio, document, sticker
    mime_type: str
    filename: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _size(size: int) -> str:
    """``5 MB``, ``500 KB``, ``1.5 MB``: Meta's limits as people read them."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _mp4_type(head: bytes, declared: str) -> str | None:
    brand = head[8:12]
    if brand.startswith(_3GPP_BRANDS):
        return "video/3gpp"
    if brand in _AUDIO_MP4_BRANDS or declared.startswith("audio/"):
        return "audio/mp4"
    return "video/mp4"


def _zip_type(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for folder, mime in _OOXML.items():
        if any(name.startswith(folder) for name in names):
            return mime
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # only a character cut at the end of the sample
    return True


def sniff(head: bytes, stream: IO[bytes], filename: str, declared: str) -> str | None:
    """The file's real MIME type among those WhatsApp takes, or None."""
    ext = _extension(filename)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _mp4_type(head, declared)
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"OggS"):
        # WhatsApp plays OGG only with the Opus codec (the first packet is its header).
        return "audio/ogg" if b"OpusHead" in head[:200] else None
    if head.startswith(b"ID3"):
        return "audio/mpeg"  # an MP3's ID3 tag
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # A frame's sync word: layer bits 00 are AAC's ADTS, any other layer is MPEG audio.
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE_TYPES.get(ext)  # legacy Office files share one container
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(stream)
    if ext == "txt" and _is_text(head):
        return "text/plain"
    return None


# What a file's name claims: a known extension whose content is something else is refused
# (a citizen would open "report.pdf" and get a picture, or worse).
_EXTENSION_TYPES = {
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "png": {"image/png"},
    "webp": {"image/webp"},
    "mp4": {"video/mp4", "audio/mp4"},
    "m4a": {"audio/mp4"},
    "3gp": {"video/3gpp"},
    "3gpp": {"video/3gpp"},
    "aac": {"audio/aac"},
    "mp3": {"audio/mpeg"},
    "amr": {"audio/amr"},
    "ogg": {"audio/ogg"},
    "opus": {"audio/ogg"},
    "pdf": {"application/pdf"},
    "txt": {"text/plain"},
    **{ext: {mime} for ext, mime in _OLE_TYPES.items()},
    "docx": {_OOXML["word/"]},
    "xlsx": {_OOXML["xl/"]},
    "pptx": {_OOXML["ppt/"]},
}
_TYPE_WORDS = {
    "image/jpeg": "a JPEG image",
    "image/png": "a PNG image",
    "image/webp": "a WebP sticker",
    "video/mp4": "an MP4 video",
    "video/3gpp": "a 3GPP video",
    "audio/mp4": "MP4 audio",
    "audio/aac": "AAC audio",
    "audio/mpeg": "MP3 audio",
    "audio/amr": "AMR audio",
    "audio/ogg": "OGG (Opus) audio",
    "application/pdf": "a PDF document",
    "text/plain": "plain text",
    **{mime: f"a {ext.upper()} document" for ext, mime in _OLE_TYPES.items()},
    **dict.fromkeys(_OOXML.values(), "an Office document"),
}


def _kind(mime: str) -> str:
    return next(kind for kind, limit in MEDIA_LIMITS.items() if mime in limit.mime_types)


def check_attachment(upload: UploadedFile) -> Attachment:
    """Read and check ``upload``; raises AttachmentRefused with the reason."""
    filename = (upload.name or "file").replace("\x00", "")[-200:] or "file"
    size = upload.size or 0
    if size <= 0:
        raise AttachmentRefused("The file is empty.")
    largest = max(limit.max_bytes for limit in MEDIA_LIMITS.values())
    if size > largest:
        raise AttachmentRefused(
            f"The file is {_size(size)}; WhatsApp takes files up to {_size(largest)}."
        )
    upload.seek(0)
    head = upload.read(_HEAD)
    upload.seek(0)
    mime = sniff(head, upload, filename, (upload.content_type or "").lower())
    if mime is None:
        raise AttachmentRefused(
            f"“{filename}” is not a type of file WhatsApp can send. {ALLOWED_TYPES_TEXT}"
        )
    claimed = _EXTENSION_TYPES.get(_extension(filename))
    if claimed is not None and mime not in claimed:
        raise AttachmentRefused(
            f"“{filename}” is named as a .{_extension(filename)} file but it is "
            f"{_TYPE_WORDS.get(mime, mime)}. Rename it or attach the right file."
        )
    kind = _kind(mime)
    limit = MEDIA_LIMITS[kind].max_bytes
    if size > limit:
        raise AttachmentRefused(
            f"The file is {_size(size)}; WhatsApp takes {_KIND_WORDS[kind]} up to {_size(limit)}."
        )
    upload.seek(0)
    content = upload.read()
    return Attachment(kind, mime, filename, content, hashlib.sha256(content).hexdigest())
