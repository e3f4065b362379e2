"""Every byte a package holds, decoded as a reader would: files as stored, zip members
inflated, mail parts decoded (base64, quoted-printable), PDF streams decompressed and PDF
pages' text extracted — so a search for a redacted string cannot miss it behind an
encoding."""

from __future__ import annotations

import contextlib
import email
import io
import mailbox
import zipfile
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pikepdf
import pypdf


def package_blobs(root: Path) -> Iterator[tuple[str, bytes]]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        yield from expand(str(file), file.read_bytes())


def expand(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    yield name, data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from expand(f"{name}!{member}", archive.read(member))
    elif data[:5] == b"%PDF-":
        # The text as a reader extracts it (glyph ids map back to characters), and every
        # stream decompressed (metadata, embedded files, annotations).
        reader = pypdf.PdfReader(io.BytesIO(data))
        for number, page in enumerate(reader.pages):
            yield f"{name}#page{number + 1}", page.extract_text().encode()
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for number, obj in enumerate(pdf.objects):
                if isinstance(obj, pikepdf.Stream):
                    try:
                        yield f"{name}#stream{number}", obj.read_bytes()
                    except pikepdf.PdfError:
                        continue
    elif name.endswith(".mbox"):
        path = Path(name)
        for index, message in enumerate(mailbox.mbox(path)):
            yield from _mail_parts(f"{name}#{index}", message.as_bytes())
    elif (
        name.endswith(".eml")
        or data[:200].lower().count(b"mime-version")
        or b"\nX-RSMF" in data[:2000]
    ):
        yield from _mail_parts(name, data)


def _mail_parts(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    message = email.message_from_bytes(data, policy=policy.default)
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield from expand(f"{name}#part{index}", payload)


def occurrences(root: Path, needle: str) -> list[str]:
    """The blobs of the package that contain ``needle`` (UTF-8, UTF-16 or Latin-1 bytes)."""
    forms = {needle.encode("utf-8"), needle.encode("utf-16-le"), needle.encode("utf-16-be")}
    with contextlib.suppress(UnicodeEncodeError):
        forms.add(needle.encode("latin-1"))
    return [name for name, blob in package_blobs(root) if any(f in blob for f in forms)]
