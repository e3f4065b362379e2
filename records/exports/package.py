"""The evidence package: a BagIt 1.0 bag (RFC 8493) whose payload is the export's files,
with a SHA-256 manifest of every payload file, a tag manifest, and a detached Ed25519
signature over the tag manifest with the platform's records key (``records.signing``).

Layout::

    <name>/bagit.txt
    <name>/bag-info.txt                 what, whose, how many; the signing key's id
    <name>/manifest-sha256.txt          every file under data/, in the order written
    <name>/tagmanifest-sha256.txt       bagit.txt, bag-info.txt, manifest-sha256.txt
    <name>/tagmanifest-sha256.txt.sig   64 raw bytes: Ed25519 over tagmanifest-sha256.txt
    <name>/data/…                       the format's files and the original media files

Deterministic: files are written in the records' order (the manifest lists them so), no
time of the run is written anywhere (dates come from the records), so the same selection
gives the same bytes. ``zip_package``
makes one deterministic ZIP of a bag (fixed timestamps, sorted entries) for download.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from records import signing

BAGIT_TXT: Final = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
SIGNATURE_FILE: Final = "tagmanifest-sha256.txt.sig"
TAG_FILES: Final = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)


class HashingFile:
    """A payload file being written, hashed as it goes."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._handle.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


class Bag:
    """Builds one bag in ``root`` (created empty); ``finish`` writes the tag files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True)
        # The manifest is written as the files are (in the writers' order, which is the
        # records' order: deterministic), so memory does not grow with the number of files.
        self._manifest = open(root / "manifest-sha256.txt", "wb")  # noqa: SIM115
        self._manifest_digest = hashlib.sha256()
        self._count = 0
        self._octets = 0
        self._last: tuple[str, int] = ("", 0)
        self._folder = self.data  # the last folder made (writers fill one at a time)

    def path_of(self, relative: str) -> Path:
        safe = _safe_relative(relative)
        target = self.data / safe
        if target.parent != self._folder:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folder = target.parent
        return target

    def open(self, relative: str) -> _Writing:
        return _Writing(self, relative)

    def write_bytes(self, relative: str, data: bytes) -> None:
        with self.open(relative) as out:
            out.write(data)

    def has(self, relative: str) -> bool:
        return (self.data / _safe_relative(relative)).exists()

    def add_stream(self, relative: str, source: IO[bytes]) -> tuple[str, int]:
        with self.open(relative) as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        return self._last

    def _record(self, relative: str, digest: str, size: int) -> None:
        line = f"{digest}  data/{_safe_relative(relative)}\n".encode()
        self._manifest.write(line)
        self._manifest_digest.update(line)
        self._count += 1
        self._octets += size
        self._last = (digest, size)

    @property
    def payload_octets(self) -> int:
        return self._octets

    def finish(self, info: list[tuple[str, str]]) -> str:
        """Write the tag files and the signature; the tag manifest's SHA-256."""
        self._manifest.close()
        oxum = f"{self._octets}.{self._count}"
        key_id = signing.current_key_id()
        lines = [*info, ("Payload-Oxum", oxum), ("Signing-Key-Id", key_id)]
        bag_info = "".join(f"{name}: {_one_line(value)}\n" for name, value in lines)
        tags = {"bagit.txt": BAGIT_TXT, "bag-info.txt": bag_info.encode()}
        for name, data in tags.items():
            (self.root / name).write_bytes(data)
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in tags.items()}
        digests["manifest-sha256.txt"] = self._manifest_digest.hexdigest()
        tagmanifest = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode()
        (self.root / "tagmanifest-sha256.txt").write_bytes(tagmanifest)
        (self.root / SIGNATURE_FILE).write_bytes(signing.signing_key().sign(tagmanifest))
        return hashlib.sha256(tagmanifest).hexdigest()


class _Writing:
    def __init__(self, bag: Bag, relative: str) -> None:
        self._bag = bag
        self._relative = relative
        self._handle: IO[bytes] | None = None
        self.file: HashingFile | None = None

    def __enter__(self) -> HashingFile:
        self._handle = open(self._bag.path_of(self._relative), "wb")
        self.file = HashingFile(self._handle)
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self._handle is None or self.file is None:
            raise RuntimeError("the file was not opened")
        self._handle.close()
        self._bag._record(self._relative, self.file.digest.hexdigest(), self.file.size)


def fresh_directory(path: Path) -> Path:
    """An empty directory at ``path`` (a previous package of the same name is replaced)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def zip_package(bag_root: Path, target: Path) -> Path:
    """One deterministic ZIP of the bag (entries ``<name>/…`` sorted, fixed dates)."""
    files = sorted(p for p in bag_root.rglob("*") if p.is_file())
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            name = f"{bag_root.name}/{file.relative_to(bag_root).as_posix()}"
            write_zip_entry(archive, name, file)
    os.replace(tmp, target)
    return target


def write_zip_entry(
    archive: zipfile.ZipFile,
    name: str,
    source: Path | bytes,
    date_time: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
    compression: int = zipfile.ZIP_DEFLATED,
) -> None:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    info.create_system = 3
    if isinstance(source, bytes):
        archive.writestr(info, source)
        return
    with open(source, "rb") as handle, archive.open(info, "w") as out:
        while chunk := handle.read(1 << 20):
            out.write(chunk)


def zip_date(moment: dt.datetime | None) -> tuple[int, int, int, int, int, int]:
    """A ZIP entry date from the records (never the run's clock); 1980 at the earliest."""
    if moment is None:
        return ZIP_EPOCH
    utc = moment.astimezone(dt.UTC)
    if utc.year < 1980:
        return ZIP_EPOCH
    return (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second // 2 * 2)


def iter_tree(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*") if p.is_file())


def _safe_relative(relative: str) -> str:
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        raise ValueError(f"not a file name: {relative!r}")
    return "/".join(parts)


def _one_line(value: str) -> str:
    return " ".join(str(value).split())
