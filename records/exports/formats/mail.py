"""EML (RFC 5322 + MIME) and MBOX (RFC 4155, mboxrd quoting of From_ lines).

EML: **one message per conversation per UTC calendar month** (``RECORDS_EXPORT_SLICE=day``:
per UTC day), split every 10,000 messages,
``data/eml/conversation-<id>/<YYYY-MM>[-<part>].eml`` (``<YYYY-MM-DD>`` per day): a plain-text
transcript (UTF-8, quoted-printable) and each message's original file attached (base64),
with the participants as From/To, the first message's time as Date, a Message-ID derived
from the agency, conversation and period, and X-Civic-Relay-* and X-Bates-* headers (NARA
Bulletin 2015-04 transmission data: sender, recipients, dates, attachments).

MBOX: the same messages, one file per conversation (``data/mbox/conversation-<id>.mbox``),
LF line ends, each preceded by a ``From `` line with the message's date; a body line that
starts with ``From `` after any number of ``>`` gets one more ``>`` (mboxrd).

MIME boundaries are derived from the content's hash, so the bytes are the same on re-run.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import quopri
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.header import Header
from typing import IO, Final, Protocol

from records.exports.formats.base import (
    Context,
    Slicer,
    Writer,
    attachment_name,
    open_media,
    stamp,
    transcript_entry,
)
from records.exports.package import Bag, HashingFile, _Writing
from records.exports.reader import Item

_CHUNK: Final = 57 * 1024  # bytes of base64 input per write: whole 76-character lines
_FROM_LINE: Final = re.compile(rb"^(>*From )", re.MULTILINE)
_ADDRESS_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True)
class Participant:
    id: str  # stable within an export: c<contact>, n<number>, u<user>
    display: str
    address: str
    kind: str  # "citizen" | "number" | "staff"


@dataclass(frozen=True)
class Attachment:
    name: str
    mime_type: str
    open: Callable[[], IO[bytes] | None]
    seed: str  # what the boundary hash takes for it (its SHA-256, or its id and size)


def participants_of(
    items: Iterable[Item], agency_slug: str
) -> tuple[list[Participant], dict[int, str]]:
    """The slice's participants (citizen, business number, staff who wrote) and each
    item's sender id."""
    found: dict[str, Participant] = {}
    senders: dict[int, str] = {}
    for item in items:
        citizen = citizen_of(item)
        number = number_of(item, agency_slug)
        found.setdefault(citizen.id, citizen)
        found.setdefault(number.id, number)
        who = number.id
        if item.direction == "in":
            who = citizen.id
        elif item.sender_user_id is not None and item.sender_user_email:
            staff = Participant(
                f"u{item.sender_user_id}",
                item.sender_user_name or item.sender_user_email,
                item.sender_user_email,
                "staff",
            )
            found.setdefault(staff.id, staff)
            who = staff.id
        senders[item.id] = who
    order = {"citizen": 0, "number": 1, "staff": 2}
    return sorted(found.values(), key=lambda p: (order[p.kind], p.id)), senders


def citizen_of(item: Item) -> Participant:
    handle = _ADDRESS_UNSAFE.sub("", item.contact_wa_id) or f"contact-{item.contact_id}"
    display = item.contact_name or item.contact_phone or item.contact_wa_id or "Citizen"
    return Participant(f"c{item.contact_id}", display, f"{handle}@whatsapp.invalid", "citizen")


def number_of(item: Item, agency_slug: str) -> Participant:
    digits = "".join(ch for ch in item.business_number if ch.isdigit()) or str(item.phone_number_id)
    name = item.business_name or agency_slug
    display = f"{name} ({item.business_number})" if item.business_number else name
    slug = _ADDRESS_UNSAFE.sub("-", agency_slug) or "agency"
    return Participant(
        f"n{item.phone_number_id}", display, f"{digits}@{slug}.whatsapp.invalid", "number"
    )


def header(name: str, value: str) -> bytes:
    """One header, RFC 2047-encoded when not ASCII, folded, CRLF-terminated."""
    value = " ".join(value.split())
    if value.isascii():
        encoded = value
    else:
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode()


def address(participant: Participant) -> str:
    return email.utils.formataddr((participant.display, participant.address), "utf-8")


def address_header(name: str, people: list[Participant]) -> bytes:
    return (
        f"{name}: {(',' + chr(13) + chr(10) + ' ').join(address(p) for p in people)}\r\n".encode()
    )


def mail_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0))


def write_mime(
    out: Sink,
    headers: list[bytes],
    text: str,
    attachments: list[Attachment],
    seed: str,
) -> None:
    """A multipart/mixed message: the text part, then the attachments (base64)."""
    write = out.write
    body = quopri.encodestring(text.encode()).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    digest = hashlib.sha256(seed.encode() + body)
    for attachment in attachments:
        digest.update(attachment.seed.encode())
    boundary = f"=_cr_{digest.hexdigest()[:40]}"
    write(b"".join(headers))
    write(b"MIME-Version: 1.0\r\n")
    write(f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode())
    write(b"This is a MIME message: a transcript and its attachments.\r\n")
    write(f"--{boundary}\r\n".encode())
    write(b'Content-Type: text/plain; charset="utf-8"\r\n')
    write(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    write(body)
    if not body.endswith(b"\r\n"):
        write(b"\r\n")
    for attachment in attachments:
        write(f"--{boundary}\r\n".encode())
        name = attachment.name
        write(f'Content-Type: {attachment.mime_type}; name="{name}"\r\n'.encode())
        write(f'Content-Disposition: attachment; filename="{name}"\r\n'.encode())
        write(b"Content-Transfer-Encoding: base64\r\n\r\n")
        source = attachment.open()
        if source is not None:
            with source:
                while chunk := source.read(_CHUNK):
                    write(base64.encodebytes(chunk).replace(b"\n", b"\r\n"))
    write(f"--{boundary}--\r\n".encode())


def media_attachments(items: list[Item], context: Context) -> list[Attachment]:
    found: list[Attachment] = []
    for item in items:
        media = item.media
        if media is None or media.withheld or not media.stored:
            continue
        probe = open_media(media)
        if probe is None:
            context.missing_media += 1
            continue
        probe.close()
        found.append(
            Attachment(
                attachment_name(media),
                media.mime_type,
                lambda m=media: open_media(m),  # type: ignore[misc]
                media.sha256 or f"{media.id}:{media.size}",
            )
        )
    return found


Parties = tuple[list[Participant], dict[int, str]]


def slice_headers(
    context: Context,
    conversation: int,
    period: str,
    part: int,
    items: list[Item],
    kind: str,
    parties: Parties | None = None,
) -> tuple[list[bytes], list[Participant]]:
    people, senders = parties or participants_of(items, context.agency_slug)
    by_id = {p.id: p for p in people}
    first = by_id[senders[items[0].id]]
    citizen = next(p for p in people if p.kind == "citizen")
    number = next(p for p in people if p.kind == "number")
    suffix = f" (part {part})" if part > 1 else ""
    title = f"{context.title}: " if context.title else ""
    between = f"{citizen.display} and {number.display}"
    subject = f"{title}WhatsApp conversation {conversation}, {between}, {period}{suffix}"
    lines = [
        address_header("From", [first]),
        address_header("To", people),
        header("Subject", subject),
        header("Date", mail_date(items[0].at)),
        header(
            "Message-ID",
            f"<{kind}.{context.agency_slug}.c{conversation}.{period}.{part}@records.civic-relay.invalid>",
        ),
        header("X-Civic-Relay-Agency", context.agency_slug),
        header("X-Civic-Relay-Conversation", str(conversation)),
        header("X-Civic-Relay-Messages", str(len(items))),
        header("X-Civic-Relay-First-Message", stamp(items[0].at)),
        header("X-Civic-Relay-Last-Message", stamp(items[-1].at)),
    ]
    if items[0].bates:
        lines += [header("X-Bates-Begin", items[0].bates), header("X-Bates-End", items[-1].bates)]
    return lines, people


def transcript(items: list[Item], heading: str) -> str:
    return heading + "\n\n" + "\n".join(transcript_entry(item) for item in items)


class EmlWriter(Writer):
    order = "thread"

    def __init__(self, bag: Bag, context: Context) -> None:
        super().__init__(bag, context)
        self._slicer = Slicer()

    def add(self, item: Item) -> None:
        item.bates = self.context.next_bates()
        done = self._slicer.add(item)
        if done is not None:
            self._write(*done)

    def close(self) -> None:
        done = self._slicer.flush()
        if done is not None:
            self._write(*done)

    def _write(self, conversation: int, period: str, part: int, items: list[Item]) -> None:
        suffix = f"-{part}" if part > 1 else ""
        relative = f"eml/conversation-{conversation}/{period}{suffix}.eml"
        with self.bag.open(relative) as out:
            write_slice(out, self.context, conversation, period, part, items)


def write_slice(
    out: Sink, context: Context, conversation: int, period: str, part: int, items: list[Item]
) -> None:
    headers, _ = slice_headers(context, conversation, period, part, items, "eml")
    heading = f"WhatsApp conversation {conversation} ({context.agency_name}), {period} (UTC)"
    attachments = media_attachments(items, context)
    seed = f"{context.agency_slug}/{conversation}/{period}/{part}"
    write_mime(out, headers, transcript(items, heading), attachments, seed)


def mboxrd_escape(message: bytes) -> bytes:
    """mboxrd: a line starting with ``From `` after any ``>`` gets one more ``>``."""
    return _FROM_LINE.sub(rb">\1", message)


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)


class MboxWriter(EmlWriter):
    """One mbox per conversation; each day's message written as in EML, LF line ends."""

    def __init__(self, bag: Bag, context: Context) -> None:
        super().__init__(bag, context)
        self._conversation: int | None = None
        self._writing: _Writing | None = None
        self._out: HashingFile | None = None

    def _write(self, conversation: int, period: str, part: int, items: list[Item]) -> None:
        if conversation != self._conversation:
            self._close_file()
            self._conversation = conversation
            self._writing = self.bag.open(f"mbox/conversation-{conversation}.mbox")
            self._out = self._writing.__enter__()
        buffer = _Buffer()
        write_slice(buffer, self.context, conversation, period, part, items)
        message = b"".join(buffer.parts).replace(b"\r\n", b"\n")
        message = mboxrd_escape(message)
        moment = items[0].at.astimezone(dt.UTC)
        out = self._out
        if out is None:
            raise RuntimeError("the mbox file is not open")
        when = moment.strftime("%a %b %e %H:%M:%S %Y")
        out.write(f"From civic-relay@{self.context.agency_slug} {when}\n".encode())
        out.write(message)
        if not message.endswith(b"\n"):
            out.write(b"\n")
        out.write(b"\n")

    def _close_file(self) -> None:
        if self._writing is not None:
            self._writing.__exit__(None, None, None)
            self._writing = None
            self._out = None

    def close(self) -> None:
        super().close()
        self._close_file()
