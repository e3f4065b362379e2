"""Offline verification of an export package (a bag directory or its ZIP).

Checks, in order, and stops at the first problem: the bag's declaration; the tag
manifest's hashes of bagit.txt, bag-info.txt and manifest-sha256.txt; the signature over
the tag manifest by the key named in bag-info.txt, which must be one the verifier trusts
(the configured and retired records keys, or a PEM given by hand — never a key found in the
package); every payload file's SHA-256 and size (Payload-Oxum); no payload file missing
from the manifest, none listed and absent.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from records import signing
from records.exports.package import BAGIT_TXT, SIGNATURE_FILE


class PackageProblem(Exception):
    pass


@dataclass(frozen=True)
class Report:
    ok: bool
    problem: str
    files: int = 0
    key_id: str = ""


class _Tree:
    """The package's files by their path inside the bag."""

    def __init__(self, path: Path) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._root: Path | None = None
        self._prefix = ""
        if path.is_dir():
            self._root = path
            self.names = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()
            )
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            entries = [i.filename for i in self._zip.infolist() if not i.is_dir()]
            tops = {name.split("/", 1)[0] for name in entries}
            if len(tops) == 1 and all("/" in name for name in entries):
                self._prefix = f"{tops.pop()}/"
            self.names = sorted(name[len(self._prefix) :] for name in entries)
        else:
            raise PackageProblem(f"{path} is neither a package directory nor a ZIP file")

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self._root is not None:
            with open(self._root / name, "rb") as handle:
                yield handle
        else:
            if self._zip is None:
                raise PackageProblem("the package is not open")
            with self._zip.open(self._prefix + name) as handle:
                yield handle

    def read(self, name: str, limit: int = 64 << 20) -> bytes:
        if name not in self.names:
            raise PackageProblem(f"{name} is missing")
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise PackageProblem(f"{name} is too large for a tag file")
        return data

    def digest(self, name: str) -> tuple[str, int]:
        sha = hashlib.sha256()
        size = 0
        with self.open(name) as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
                size += len(chunk)
        return sha.hexdigest(), size

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def trusted_keys(public_key_pem: bytes | None = None) -> dict[str, Ed25519PublicKey]:
    """The keys a verifier trusts: a PEM given by hand, else the platform's configuration."""
    if public_key_pem is not None:
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, Ed25519PublicKey):
            raise PackageProblem("the public key is not an Ed25519 key")
        return {signing.key_id(key): key}
    return {key.key_id: key.key for key in signing.public_keys()}


def verify_package(path: Path, keys: dict[str, Ed25519PublicKey]) -> Report:
    try:
        tree = _Tree(path)
    except (PackageProblem, OSError, zipfile.BadZipFile) as error:
        return Report(False, str(error))
    try:
        files, key_id = _verify(tree, keys)
    except PackageProblem as problem:
        return Report(False, str(problem))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        return Report(False, f"the package cannot be read: {error}")
    finally:
        tree.close()
    return Report(True, "", files, key_id)


def _verify(tree: _Tree, keys: dict[str, Ed25519PublicKey]) -> tuple[int, str]:
    if tree.read("bagit.txt") != BAGIT_TXT:
        raise PackageProblem("bagit.txt is not a BagIt 1.0 declaration")
    tagmanifest = tree.read("tagmanifest-sha256.txt")
    listed = _manifest(tagmanifest.decode(), "tagmanifest-sha256.txt")
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        if name not in listed:
            raise PackageProblem(f"tagmanifest-sha256.txt does not list {name}")
        if hashlib.sha256(tree.read(name)).hexdigest() != listed[name]:
            raise PackageProblem(f"{name} does not match its hash in tagmanifest-sha256.txt")
    info = _bag_info(tree.read("bag-info.txt").decode())
    key_id = info.get("Signing-Key-Id", "")
    key = keys.get(key_id)
    if key is None:
        raise PackageProblem(
            f"signed with key {key_id or '(none named)'}, which is not a trusted key"
        )
    signature = tree.read(SIGNATURE_FILE)
    try:
        key.verify(signature, tagmanifest)
    except InvalidSignature:
        raise PackageProblem("the signature does not match tagmanifest-sha256.txt") from None
    manifest = _manifest(tree.read("manifest-sha256.txt").decode(), "manifest-sha256.txt")
    payload = [name for name in tree.names if name.startswith("data/")]
    unlisted = sorted(set(payload) - set(manifest))
    if unlisted:
        raise PackageProblem(f"{unlisted[0]} is not in manifest-sha256.txt")
    octets = 0
    for name, expected in sorted(manifest.items()):
        if name not in tree.names:
            raise PackageProblem(f"{name} is listed in manifest-sha256.txt but missing")
        digest, size = tree.digest(name)
        if digest != expected:
            raise PackageProblem(f"{name} does not match its SHA-256 in manifest-sha256.txt")
        octets += size
    oxum = info.get("Payload-Oxum", "")
    if oxum and oxum != f"{octets}.{len(manifest)}":
        raise PackageProblem(f"Payload-Oxum {oxum} does not match {octets}.{len(manifest)}")
    return len(manifest), key_id


def _manifest(text: str, name: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path:
            raise PackageProblem(f"{name} line {number} is not '<sha256>  <path>'")
        if path in entries:
            raise PackageProblem(f"{name} lists {path} twice")
        entries[path] = digest.lower()
    return entries


def _bag_info(text: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(": ")
        if sep:
            info.setdefault(name, value)
    return info
