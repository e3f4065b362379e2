"""Reading a package the way a recipient (or an adversary) would: every byte, with ZIP
members, MIME parts (base64 and quoted-printable decoded) and PDF text layers opened."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pypdf


def files(package: Path) -> dict[str, bytes]:
    return {
        p.relative_to(package).as_posix(): p.read_bytes()
        for p in sorted(package.rglob("*"))
        if p.is_file()
    }


def digest(package: Path) -> str:
    sha = hashlib.sha256()
    for name, data in files(package).items():
        sha.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return sha.hexdigest()


def layers(name: str, data: bytes, depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """The bytes and every decoded layer inside them."""
    yield name, data
    if depth > 4:
        return
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from layers(f"{name}!{member}", archive.read(member), depth + 1)
    if data.startswith(b"%PDF"):
        reader = pypdf.PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        yield f"{name}#text", text.encode()
        for key, value in (reader.metadata or {}).items():
            yield f"{name}#info{key}", str(value).encode()
        xmp = reader.xmp_metadata
        if xmp is not None:
            yield f"{name}#xmp", xmp.stream.get_data()
    if name.endswith((".eml", ".rsmf")):
        yield from _mime(name, data, depth)
    if name.endswith(".mbox"):
        for index, chunk in enumerate(data.split(b"\n\nFrom ")):
            yield from _mime(f"{name}[{index}]", chunk.split(b"\n", 1)[-1], depth)


def _mime(name: str, data: bytes, depth: int) -> Iterator[tuple[str, bytes]]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    for header, value in message.items():
        yield f"{name}@{header}", str(value).encode()
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        yield from layers(f"{name}/{index}:{part.get_filename() or ''}", payload, depth + 1)


def everything(package: Path) -> list[tuple[str, bytes]]:
    return [layer for name, data in files(package).items() for layer in layers(name, data)]


def containing(package: Path, needle: bytes) -> list[str]:
    return [name for name, data in everything(package) if needle in data]
