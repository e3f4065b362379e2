"""The platform's records signing key: Ed25519, never stored in the database.

The whole point of a signed checkpoint is that whoever can rewrite the database (the
schema owner) cannot forge one, so the private key lives with the application servers:

- ``RECORDS_SIGNING_KEY``: the key itself, PKCS#8 PEM or base64 of the 32-byte seed;
- or ``RECORDS_SIGNING_KEY_FILE``: a path to a PKCS#8 PEM file (a mounted secret);
- ``RECORDS_SIGNING_KEY_GENERATE``: create that file on first use when it is missing
  (the demo only: a production key is created and backed up by an operator);
- ``RECORDS_RETIRED_PUBLIC_KEYS``: public keys of earlier signing keys (PEM text or file
  paths), so checkpoints signed before a rotation still verify.

Each signature is recorded with its key id (``key_id``: the first 16 hex digits of the
SHA-256 of the raw public key), and a verifier only trusts keys from this configuration,
never a key found next to the signature.

Statements are C2SP signed notes (https://c2sp.org/signed-note): the text, a blank line,
then ``— <name> <base64(key hash ‖ signature)>``, so tools that verify transparency-log
checkpoints (Go's ``golang.org/x/mod/sumdb/note``) can check ours with ``note_verifier_key``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_KEY_NAME = "civic-relay-records"
_ED25519_ALGORITHM = b"\x01"  # the signed-note algorithm byte for Ed25519
_SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start every signature line


class SignatureError(Exception):
    """A statement that is not validly signed by a configured key."""


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey
    key_id: str
    current: bool

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def key_name() -> str:
    return str(getattr(settings, "RECORDS_SIGNING_KEY_NAME", "") or DEFAULT_KEY_NAME)


def signing_key() -> Ed25519PrivateKey:
    """The current private key, from the settings (read once per distinct configuration)."""
    return _load_private_key(
        str(getattr(settings, "RECORDS_SIGNING_KEY", "") or ""),
        str(getattr(settings, "RECORDS_SIGNING_KEY_FILE", "") or ""),
        bool(getattr(settings, "RECORDS_SIGNING_KEY_GENERATE", False)),
    )


def current_key_id() -> str:
    return key_id(signing_key().public_key())


def public_keys() -> list[PublicKey]:
    """Every key a verifier trusts: the current one first, then the retired ones."""
    current = signing_key().public_key()
    keys = [PublicKey(current, key_id(current), current=True)]
    for source in getattr(settings, "RECORDS_RETIRED_PUBLIC_KEYS", None) or ():
        retired = _load_public_key(str(source))
        if key_id(retired) != keys[0].key_id:
            keys.append(PublicKey(retired, key_id(retired), current=False))
    return keys


def sign_note(text: str) -> tuple[str, str]:
    """The signed note of ``text`` (which must end with a newline), and the key id."""
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("a note's text ends with one newline and has no blank line")
    private = signing_key()
    signature = private.sign(text.encode())
    public = private.public_key()
    line = _signature_line(public, signature)
    return f"{text}\n{line}\n", key_id(public)


def open_note(note: str, expected_key_id: str) -> str:
    """The text of ``note`` if it carries a valid signature by ``expected_key_id`` (a
    configured key); raises SignatureError otherwise."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise SignatureError("not a signed note")
    text += "\n"
    keys = {key.key_id: key for key in public_keys()}
    key = keys.get(expected_key_id)
    if key is None:
        raise SignatureError(f"signed with key {expected_key_id}, which is not configured")
    prefix = f"{_SIGNATURE_PREFIX}{key_name()} "
    for line in signatures.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            blob = base64.b64decode(line[len(prefix) :], validate=True)
        except binascii.Error:
            continue
        if blob[:4] != _note_key_hash(key.raw):
            continue
        try:
            key.key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise SignatureError("the signature does not match the statement") from None
        return text
    raise SignatureError(f"no signature by key {expected_key_id}")


def note_verifier_key(key: PublicKey) -> str:
    """The key as signed-note verifiers take it: ``name+hash+base64(0x01 ‖ key)``."""
    encoded = base64.b64encode(_ED25519_ALGORITHM + key.raw).decode()
    return f"{key_name()}+{_note_key_hash(key.raw).hex()}+{encoded}"


def _note_key_hash(raw_public: bytes) -> bytes:
    return hashlib.sha256(key_name().encode() + b"\n" + _ED25519_ALGORITHM + raw_public).digest()[
        :4
    ]


def _signature_line(public: Ed25519PublicKey, signature: bytes) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    blob = base64.b64encode(_note_key_hash(raw) + signature).decode()
    return f"{_SIGNATURE_PREFIX}{key_name()} {blob}"


@functools.lru_cache(maxsize=8)
def _load_private_key(inline: str, path: str, generate: bool) -> Ed25519PrivateKey:
    if inline:
        return _parse_private_key(inline, "RECORDS_SIGNING_KEY")
    if not path:
        raise ImproperlyConfigured(
            "No records signing key: set RECORDS_SIGNING_KEY_FILE (a PKCS#8 PEM Ed25519 key) "
            "or RECORDS_SIGNING_KEY. Create one with `python manage.py records_keygen PATH`."
        )
    file = Path(path)
    if not file.exists() and generate:
        _generate_key_file(file)
    try:
        text = file.read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"RECORDS_SIGNING_KEY_FILE {path}: {error}") from error
    return _parse_private_key(text, f"RECORDS_SIGNING_KEY_FILE {path}")


def _parse_private_key(text: str, origin: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as error:
        raise ImproperlyConfigured(f"{origin} is not an Ed25519 private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{origin} is not an Ed25519 private key")
    return key


def _load_public_key(source: str) -> Ed25519PublicKey:
    text = source if source.lstrip().startswith("-----BEGIN") else Path(source).read_text()
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as error:
        raise ImproperlyConfigured(f"RECORDS_RETIRED_PUBLIC_KEYS: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ImproperlyConfigured("RECORDS_RETIRED_PUBLIC_KEYS holds a key that is not Ed25519")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_new_key(path: Path) -> Ed25519PrivateKey:
    """A new key in a new file readable by its owner only; never overwrites a file."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(key))
    return key


def _generate_key_file(path: Path) -> None:
    with contextlib.suppress(FileExistsError):  # another process created it first: use it
        write_new_key(path)
