"""What the writers share: the export's context, Bates numbering, media files, the
plain-text transcript of a message, and slicing a thread into per-period groups."""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from dataclasses import dataclass, field
from typing import IO, Final

from django.conf import settings
from django.core.files.storage import default_storage

from records.exports.canonical import sender
from records.exports.package import Bag
from records.exports.reader import Item, MediaRef
from records.exports.redaction import media_marker

MAX_EVENTS_PER_SLICE: Final = 10_000
BATES_DIGITS: Final = 7
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Context:
    agency_id: int
    agency_slug: str
    agency_name: str
    title: str
    bates_prefix: str | None
    bates_next: int
    bates_first: str = ""
    bates_last: str = ""
    missing_media: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def next_bates(self) -> str:
        if self.bates_prefix is None:
            return ""
        value = f"{self.bates_prefix}{self.bates_next:0{BATES_DIGITS}d}"
        self.bates_next += 1
        self.bates_first = self.bates_first or value
        self.bates_last = value
        return value


class Writer:
    """A format's writer: ``add`` each item in the writer's ``order``, then ``close``."""

    order: str = "pk"
    stamps_messages: bool = True  # Bates per message (PDF stamps pages instead)

    def __init__(self, bag: Bag, context: Context) -> None:
        self.bag = bag
        self.context = context

    def add(self, item: Item) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


def open_media(media: MediaRef) -> IO[bytes] | None:
    """The stored file, or None when it cannot be read (counted as missing)."""
    if not media.stored or media.withheld:
        return None
    try:
        return default_storage.open(media.storage_key, "rb")
    except (OSError, ValueError):
        return None


def read_media(media: MediaRef, limit: int = 200 << 20) -> bytes | None:
    handle = open_media(media)
    if handle is None:
        return None
    with handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def extension(media: MediaRef) -> str:
    mime = media.mime_type.split(";", 1)[0].strip().lower()
    known = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "audio/ogg": "ogg",
        "audio/mpeg": "mp3",
        "video/mp4": "mp4",
        "application/pdf": "pdf",
        "text/plain": "txt",
    }
    if mime in known:
        return known[mime]
    guessed = mimetypes.guess_extension(mime) or ".bin"
    return guessed.lstrip(".")


def attachment_name(media: MediaRef) -> str:
    """The file's name in a package: unique (the media id) and safe, keeping the original
    name's readable part."""
    stem = media.filename.rsplit(".", 1)[0] if media.filename else media.kind or "file"
    safe = _UNSAFE.sub("_", stem).strip("._")[:80] or "file"
    return f"{media.id}_{safe}.{extension(media)}"


def media_label(media: MediaRef) -> str:
    if media.withheld:
        return media_marker(media.withheld)
    size = f", {media.size} bytes" if media.size is not None else ""
    digest = f", SHA-256 {media.sha256}" if media.sha256 else ""
    name = media.filename or attachment_name(media)
    stored = "" if media.stored else " (the file was not stored)"
    return f"Attachment: {name} ({media.mime_type}{size}{digest}){stored}"


def stamp(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat(sep=" ", timespec="seconds")[:19] + " UTC"


def direction_word(item: Item) -> str:
    return "received" if item.direction == "in" else "sent"


def transcript_entry(item: Item) -> str:
    """One message in a plain-text transcript (what review tools index)."""
    who = sender(item)["display"]
    bates = f" [{item.bates}]" if item.bates else ""
    head = f"[{stamp(item.at)}] {who} ({direction_word(item)}){bates}"
    if item.type == "reaction" and not item.withheld:
        body = (
            f"reacted {item.reaction_emoji} to {item.reaction_to}"
            if item.reaction_emoji
            else (f"removed a reaction to {item.reaction_to}")
        )
    else:
        body = item.text
    lines = [head]
    lines += [f"  {line}" for line in (clean_text(body).split("\n") if body else [])]
    if item.reply_to and not item.withheld:
        lines.append(f"  (in reply to {item.reply_to})")
    if item.media is not None:
        lines.append(f"  {media_label(item.media)}")
    if item.edits:
        lines.append("  Edited. Earlier versions:")
        for at, text in item.edits:
            lines.append(f"    [{at}] {' '.join(clean_text(text).split())}")
    elif item.edits_withheld:
        lines.append("  Edited. Earlier versions withheld with the redaction.")
    if item.revoked_at is not None:
        lines.append(f"  Deleted for everyone by the sender at {stamp(item.revoked_at)}.")
    if item.direction == "out" and not item.withheld:
        states = [
            f"{name} {stamp(moment)}"
            for name, moment in (("delivered", item.delivered_at), ("read", item.read_at))
            if moment is not None
        ]
        if item.failed_at is not None:
            states.append(f"failed {stamp(item.failed_at)}")
        if states:
            lines.append(f"  Status: {', '.join(states)}.")
    return "\n".join(lines) + "\n"


def clean_text(text: str) -> str:
    """No control characters except newlines (tabs become spaces)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if text.replace("\n", "").isprintable():
        return text
    return "".join(ch for ch in text if ch == "\n" or ch.isprintable())


SLICE_PERIODS: Final = ("day", "month")


def slice_period() -> str:
    """``RECORDS_EXPORT_SLICE``: ``month`` (default) or ``day`` (Relativity's default for
    dense chats: one file per conversation per 24 hours)."""
    value = str(getattr(settings, "RECORDS_EXPORT_SLICE", "") or "month")
    return value if value in SLICE_PERIODS else "month"


class Slicer:
    """Feeds thread-ordered items and hands over each finished slice: one conversation, one
    UTC period (day or calendar month), at most ``MAX_EVENTS_PER_SLICE`` items; as
    (conversation, period label ``YYYY-MM-DD`` or ``YYYY-MM``, part from 1, items)."""

    def __init__(self) -> None:
        self._group: list[Item] = []
        self._key: tuple[int, str] | None = None
        self._part = 1
        self._width = 10 if slice_period() == "day" else 7

    def add(self, item: Item) -> tuple[int, str, int, list[Item]] | None:
        created = item.created_at
        if created.tzinfo is not dt.UTC:
            created = created.astimezone(dt.UTC)
        item_key = (item.conversation_id, created.isoformat()[: self._width])
        done = None
        if self._key is not None and (
            item_key != self._key or len(self._group) >= MAX_EVENTS_PER_SLICE
        ):
            done = (self._key[0], self._key[1], self._part, self._group)
            self._part = self._part + 1 if item_key == self._key else 1
            self._group = []
        self._key = item_key
        self._group.append(item)
        return done

    def flush(self) -> tuple[int, str, int, list[Item]] | None:
        if self._key is None or not self._group:
            return None
        done = (self._key[0], self._key[1], self._part, self._group)
        self._group = []
        self._key = None
        return done
