"""The archive store: where signed checkpoints are written outside the database.

``RECORDS_ARCHIVE_BACKEND``: ``local`` (default; files under ``RECORDS_ARCHIVE_DIR``,
default ``var/archive``) or ``s3`` (``RECORDS_ARCHIVE_BUCKET``, through boto3 with the
platform's S3 settings: ``AWS_S3_ENDPOINT_URL``, ``AWS_S3_REGION_NAME`` and the access
keys). Objects are written once and never replaced: a store that enforces that (an S3
bucket with Object Lock in compliance mode) is what turns this into WORM; the local disk
only refuses to overwrite in our own code.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ArchiveConflict(Exception):
    """An object exists under that key with other bytes: the archive is never rewritten."""


class ArchiveStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def keys(self, prefix: str) -> list[str]: ...


class LocalArchive:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"archive key outside the archive: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        try:
            # A hard link fails if the name exists: a checkpoint is never replaced.
            os.link(temporary, path)
        except FileExistsError:
            if path.read_bytes() != data:
                raise ArchiveConflict(key) from None
        finally:
            temporary.unlink()

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root.resolve()
        if not base.is_dir():
            return []
        root = self.root.resolve()
        return sorted(
            str(path.relative_to(root))
            for path in base.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )


class S3Archive:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def put(self, key: str, data: bytes) -> None:
        existing = self.get(key)
        if existing is not None:
            if existing != data:
                raise ArchiveConflict(key)
            return
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="text/plain; charset=utf-8",
            ChecksumAlgorithm="SHA256",
        )

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(response["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)


def archive_store() -> ArchiveStore:
    backend = getattr(settings, "RECORDS_ARCHIVE_BACKEND", "") or "local"
    if backend == "local":
        default = Path(getattr(settings, "VAR_DIR", Path("var"))) / "archive"
        return LocalArchive(Path(getattr(settings, "RECORDS_ARCHIVE_DIR", "") or default))
    if backend == "s3":
        bucket = getattr(settings, "RECORDS_ARCHIVE_BUCKET", "")
        if not bucket:
            raise ImproperlyConfigured("RECORDS_ARCHIVE_BACKEND is s3: set RECORDS_ARCHIVE_BUCKET")
        return S3Archive(bucket, _s3_client())
    raise ImproperlyConfigured(f"RECORDS_ARCHIVE_BACKEND must be local or s3, not {backend!r}")


def _s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=getattr(settings, "AWS_S3_ENDPOINT_URL", None) or None,
        region_name=getattr(settings, "AWS_S3_REGION_NAME", None) or None,
        aws_access_key_id=getattr(settings, "AWS_ACCESS_KEY_ID", None) or None,
        aws_secret_access_key=getattr(settings, "AWS_SECRET_ACCESS_KEY", None) or None,
    )


# --- The WORM archive of conversations (records.worm): versioned objects under a lock ------
#
# Every object version carries a lock: a mode (compliance or governance), a retain-until
# date and a legal hold. On S3 these are Object Lock's own (written with the object,
# changed with ``put_object_retention`` / ``put_object_legal_hold``); on the local disk
# they are a small JSON file beside each version. Either way our code keeps the rules
# itself, because the store may not (moto, for one, lets compliance retention be
# shortened): a version is never overwritten, retention is never shortened nor a
# compliance lock weakened to governance, and a version is deleted only when it is neither
# held nor retained. Only a store that enforces them (AWS S3, MinIO with Object Lock)
# makes these rules hold against someone who bypasses this code.

COMPLIANCE = "compliance"
GOVERNANCE = "governance"
LOCK_MODES = (COMPLIANCE, GOVERNANCE)


class LockViolation(Exception):
    """What was asked would break an object's lock (delete or shorten before retain-until,
    delete while held, weaken compliance): refused."""


@dataclass(frozen=True)
class Lock:
    """An object version's lock as the store holds it."""

    mode: str  # compliance or governance
    retain_until: datetime
    legal_hold: bool

    def refuses_delete(self, now: datetime) -> str:
        """Why deleting the version now is refused ("" when it may be deleted)."""
        if self.legal_hold:
            return "it is under a legal hold"
        if self.retain_until > now:
            until = self.retain_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            return f"it is retained ({self.mode}) until {until}"
        return ""


def lock_time(moment: datetime) -> datetime:
    """A retain-until date as stores keep it: UTC, whole seconds, rounded *up* (S3 keeps
    seconds; rounding down would shorten the retention asked for)."""
    moment = moment.astimezone(UTC)
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def check_lock_change(current: Lock, mode: str, until: datetime) -> None:
    """Refuse a retention change that shortens or weakens ``current``."""
    if lock_time(until) < current.retain_until:
        raise LockViolation(
            f"retention is never shortened (retained until {current.retain_until:%Y-%m-%d}, "
            f"asked {until:%Y-%m-%d})"
        )
    if current.mode == COMPLIANCE and mode != COMPLIANCE:
        raise LockViolation("a compliance lock is never weakened to governance")


@dataclass(frozen=True)
class StoredVersion:
    key: str
    version_id: str
    size: int


class LockedStore(Protocol):
    """A versioned object store with a lock per version (local disk or S3 Object Lock)."""

    name: str  # "local" or "s3://<bucket>": which store a row's object is in

    def put(self, key: str, data: bytes, lock: Lock, content_type: str) -> str:
        """Store a new version of ``key``; its version id. Never replaces a version."""
        ...

    def get(self, key: str, version_id: str) -> bytes | None: ...

    def lock(self, key: str, version_id: str) -> Lock | None: ...

    def versions(self, prefix: str) -> list[StoredVersion]: ...

    def extend(self, key: str, version_id: str, mode: str, until: datetime) -> None:
        """Move the version's retain-until later (``LockViolation`` if that shortens it)."""
        ...

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None: ...

    def delete(self, key: str, version_id: str) -> None:
        """Delete one version (``LockViolation`` while it is held or retained)."""
        ...


class LocalLockedStore:
    """Versions as files: ``<root>/<key>/<version>`` with ``<version>.lock`` (JSON) beside
    it. Version ids are 1, 2, … zero-padded; a new version is created with a hard link,
    which fails if the name exists, so a version is never replaced."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or path == self.root.resolve():
            raise ValueError(f"archive key outside the archive: {key!r}")
        return path

    def _version_path(self, key: str, version_id: str) -> Path:
        if not version_id.isdigit():
            raise ValueError(f"not a version of the local archive: {version_id!r}")
        return self._dir(key) / version_id

    def put(self, key: str, data: bytes, lock: Lock, content_type: str) -> str:
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{os.getpid()}.{uuid.uuid4().hex}.tmp"
        temporary.write_bytes(data)
        try:
            while True:
                numbers = (int(p.name) for p in folder.iterdir() if p.name.isdigit())
                version_id = f"{1 + max(numbers, default=0):08d}"
                try:
                    # The lock file reserves the number (exclusive create), and comes
                    # first: a version is never visible without its lock.
                    with open(folder / f"{version_id}.lock", "x") as reserved:
                        reserved.write(_lock_json(lock))
                except FileExistsError:
                    continue  # another writer took this number
                os.link(temporary, folder / version_id)
                return version_id
        finally:
            temporary.unlink()

    def get(self, key: str, version_id: str) -> bytes | None:
        try:
            return self._version_path(key, version_id).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def lock(self, key: str, version_id: str) -> Lock | None:
        path = self._version_path(key, version_id)
        try:
            data = json.loads(path.with_name(f"{version_id}.lock").read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Lock(
            mode=data["mode"],
            retain_until=datetime.fromisoformat(data["retain_until"]),
            legal_hold=bool(data["legal_hold"]),
        )

    def versions(self, prefix: str) -> list[StoredVersion]:
        base = (self.root / prefix).resolve()
        root = self.root.resolve()
        if not base.is_relative_to(root):
            raise ValueError(f"archive prefix outside the archive: {prefix!r}")
        start = base if base.is_dir() else base.parent
        if not start.is_dir():
            return []
        found = [
            StoredVersion(str(path.parent.relative_to(root)), path.name, path.stat().st_size)
            for path in start.rglob("*")
            if path.is_file() and path.name.isdigit()
        ]
        return sorted(
            (v for v in found if v.key.startswith(prefix)), key=lambda v: (v.key, v.version_id)
        )

    def extend(self, key: str, version_id: str, mode: str, until: datetime) -> None:
        current = self._existing_lock(key, version_id)
        check_lock_change(current, mode, until)
        self._write_lock(
            self._version_path(key, version_id).with_name(f"{version_id}.lock"),
            Lock(mode, lock_time(until), current.legal_hold),
        )

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        current = self._existing_lock(key, version_id)
        self._write_lock(
            self._version_path(key, version_id).with_name(f"{version_id}.lock"),
            Lock(current.mode, current.retain_until, on),
        )

    def delete(self, key: str, version_id: str) -> None:
        path = self._version_path(key, version_id)
        lock = self.lock(key, version_id)
        if lock is not None:
            refused = lock.refuses_delete(datetime.now(UTC))
            if refused:
                raise LockViolation(f"{key} version {version_id} cannot be deleted: {refused}")
        path.unlink(missing_ok=True)
        path.with_name(f"{version_id}.lock").unlink(missing_ok=True)

    def _existing_lock(self, key: str, version_id: str) -> Lock:
        lock = self.lock(key, version_id)
        if lock is None:
            raise LockViolation(f"{key} version {version_id} is not in the archive")
        return lock

    @staticmethod
    def _write_lock(path: Path, lock: Lock) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(_lock_json(lock))
        os.replace(temporary, path)


def _lock_json(lock: Lock) -> str:
    return json.dumps(
        {
            "mode": lock.mode,
            "retain_until": lock_time(lock.retain_until).isoformat(),
            "legal_hold": lock.legal_hold,
        },
        sort_keys=True,
    )


class S3LockedStore:
    """A bucket created with Object Lock (versioning on): each version written with its
    mode, retain-until date and legal hold status, and a SHA-256 checksum S3 verifies."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client
        self.name = f"s3://{bucket}"

    def put(self, key: str, data: bytes, lock: Lock, content_type: str) -> str:
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                Metadata={"sha256": hashlib.sha256(data).hexdigest()},
                ObjectLockMode=lock.mode.upper(),
                ObjectLockRetainUntilDate=lock_time(lock.retain_until),
                ObjectLockLegalHoldStatus="ON" if lock.legal_hold else "OFF",
            )
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRequest":
                raise ImproperlyConfigured(
                    f"bucket {self.bucket} refused Object Lock ({error}): the WORM archive "
                    "needs a bucket created with Object Lock (RECORDS_WORM_BUCKET)"
                ) from error
            raise
        version_id = response.get("VersionId")
        if not version_id:
            raise ImproperlyConfigured(
                f"bucket {self.bucket} did not version the object: the WORM archive needs a "
                "bucket created with Object Lock (versioning on)"
            )
        return str(version_id)

    def get(self, key: str, version_id: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                return None
            raise
        return bytes(response["Body"].read())

    def lock(self, key: str, version_id: str) -> Lock | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                return None
            raise
        until = head.get("ObjectLockRetainUntilDate")
        return Lock(
            mode=str(head.get("ObjectLockMode") or "").lower(),
            retain_until=until.astimezone(UTC) if until else datetime.min.replace(tzinfo=UTC),
            legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def versions(self, prefix: str) -> list[StoredVersion]:
        found: list[StoredVersion] = []
        for page in self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found.extend(
                StoredVersion(item["Key"], item["VersionId"], int(item["Size"]))
                for item in page.get("Versions", [])
            )
        return sorted(found, key=lambda v: (v.key, v.version_id))

    def extend(self, key: str, version_id: str, mode: str, until: datetime) -> None:
        current = self.lock(key, version_id)
        if current is None:
            raise LockViolation(f"{key} version {version_id} is not in the archive")
        check_lock_change(current, mode, until)  # moto would let compliance be shortened
        self.client.put_object_retention(
            Bucket=self.bucket,
            Key=key,
            VersionId=version_id,
            Retention={"Mode": mode.upper(), "RetainUntilDate": lock_time(until)},
        )

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        self.client.put_object_legal_hold(
            Bucket=self.bucket,
            Key=key,
            VersionId=version_id,
            LegalHold={"Status": "ON" if on else "OFF"},
        )

    def delete(self, key: str, version_id: str) -> None:
        lock = self.lock(key, version_id)
        if lock is not None:
            refused = lock.refuses_delete(datetime.now(UTC))
            if refused:
                raise LockViolation(f"{key} version {version_id} cannot be deleted: {refused}")
        # Never BypassGovernanceRetention: a governance lock is kept as a compliance one.
        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)


def _missing(error: Any) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}


def worm_store() -> LockedStore:
    """The WORM archive's store: ``RECORDS_WORM_BACKEND`` (default: the archive store's
    backend), ``RECORDS_WORM_DIR`` (default ``<RECORDS_ARCHIVE_DIR>/worm``) or
    ``RECORDS_WORM_BUCKET`` (default ``RECORDS_ARCHIVE_BUCKET``; it must have Object Lock)."""
    backend = (
        getattr(settings, "RECORDS_WORM_BACKEND", "")
        or getattr(settings, "RECORDS_ARCHIVE_BACKEND", "")
        or "local"
    )
    if backend == "local":
        directory = getattr(settings, "RECORDS_WORM_DIR", "")
        if not directory:
            default = Path(getattr(settings, "VAR_DIR", Path("var"))) / "archive"
            directory = Path(getattr(settings, "RECORDS_ARCHIVE_DIR", "") or default) / "worm"
        return LocalLockedStore(Path(directory))
    if backend == "s3":
        bucket = getattr(settings, "RECORDS_WORM_BUCKET", "") or getattr(
            settings, "RECORDS_ARCHIVE_BUCKET", ""
        )
        if not bucket:
            raise ImproperlyConfigured("RECORDS_WORM_BACKEND is s3: set RECORDS_WORM_BUCKET")
        return S3LockedStore(bucket, _s3_client())
    raise ImproperlyConfigured(f"RECORDS_WORM_BACKEND must be local or s3, not {backend!r}")
