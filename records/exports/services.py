"""Exports (issue 12 §5): evidence packages of an agency's selected messages.

``build_package`` is the one service: the ``records_export`` command calls it directly,
the UI's job (``run_export_job``, from the Celery task) calls it and stores a ZIP of the
package for download. A package is a signed BagIt bag (``package.py``) of one format's
files (``formats/``) read through the streaming reader (``reader.py``), redactions burned
in (``redaction.py``). Building is an audit event (``records.export_built``) and an
``EXPORT_CHANGED`` event; progress goes on the stream as ``EXPORT_PROGRESS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from records.audit import Actor, record_event
from records.exports.canonical import SCHEMA
from records.exports.formats.base import Context, Writer
from records.exports.formats.flat import CsvWriter, JsonLinesWriter
from records.exports.formats.mail import EmlWriter, MboxWriter
from records.exports.formats.pdf import PdfWriter
from records.exports.formats.rsmf import RsmfWriter
from records.exports.models import ExportJob
from records.exports.package import Bag, fresh_directory, zip_package
from records.exports.reader import items
from records.exports.redaction import Redactions
from records.exports.text import message_display_text
from records.selection import Selection
from tenants.models import Agency
from tenants.scoping import agency_scope
from tenants.services import ApplicationError

__all__ = [
    "FORMATS",
    "build_package",
    "message_display_text",
    "open_package",
    "request_export",
    "run_export_job",
]

WRITERS: Final[dict[str, type[Writer]]] = {
    "rsmf": RsmfWriter,
    "eml": EmlWriter,
    "mbox": MboxWriter,
    "pdf": PdfWriter,
    "jsonl": JsonLinesWriter,
    "csv": CsvWriter,
}
FORMATS: Final = tuple(WRITERS)
PROGRESS_EVERY: Final = 5_000  # messages between progress reports
PROGRESS_SECONDS: Final = 2.0  # at most one progress event this often
Progress = Callable[[int], None]


class ExportError(ValueError):
    """An export that cannot be built as asked (unknown format, bad Bates prefix)."""


def package_name(
    agency_slug: str,
    selection: Selection,
    fmt: str,
    redactions: Redactions | None,
    bates_prefix: str | None,
    bates_start: int,
    title: str,
) -> str:
    """Derived from what was asked, so the same request names the same package."""
    asked = {
        "selection": selection.to_json(),
        "format": fmt,
        "bates": [bates_prefix, bates_start],
        "title": title,
        "redactions": _redactions_json(redactions),
    }
    digest = hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()
    return f"{agency_slug}-{fmt}-{digest[:12]}"


@dataclass(frozen=True)
class Built:
    path: Path
    messages: int
    bates_first: str
    bates_last: str
    tagmanifest_sha256: str


def build_package(
    agency_id: int,
    selection: Selection,
    fmt: str,
    out_dir: Path,
    *,
    redactions: Redactions | None = None,
    bates_prefix: str | None = None,
    bates_start: int = 1,
    title: str = "",
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build the package of ``selection`` in ``fmt`` under ``out_dir``; its directory."""
    return build(
        agency_id,
        selection,
        fmt,
        out_dir,
        redactions=redactions,
        bates_prefix=bates_prefix,
        bates_start=bates_start,
        title=title,
        actor=actor,
        progress=progress,
    ).path


def build(
    agency_id: int,
    selection: Selection,
    fmt: str,
    out_dir: Path,
    *,
    redactions: Redactions | None = None,
    bates_prefix: str | None = None,
    bates_start: int = 1,
    title: str = "",
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Built:
    """``build_package``, with what was built."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if bates_prefix is not None and (len(bates_prefix) > 20 or not bates_prefix.isprintable()):
        raise ExportError("a Bates prefix has at most 20 printable characters")
    if bates_start < 0:
        raise ExportError("Bates numbers start at 0 or more")
    actor = actor or Actor.system("records_export")
    with agency_scope(agency_id):
        agency = Agency.objects.get(pk=agency_id)
        name = package_name(
            agency.slug, selection, fmt, redactions, bates_prefix, bates_start, title
        )
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        building = fresh_directory(out_dir / f".{name}.building-{os.getpid()}")
        try:
            bag = Bag(building / name)
            context = Context(
                agency_id=agency_id,
                agency_slug=agency.slug,
                agency_name=agency.name,
                title=title,
                bates_prefix=bates_prefix,
                bates_next=bates_start,
            )
            writer = WRITERS[fmt](bag, context)
            report = progress or _stream_progress(agency_id, name)
            count = 0
            first: dt.datetime | None = None
            last: dt.datetime | None = None
            for item in items(agency_id, selection, writer.order, redactions):  # type: ignore[arg-type]
                writer.add(item)
                count += 1
                at = item.at
                if first is None or at < first:
                    first = at
                if last is None or at > last:
                    last = at
                if count % PROGRESS_EVERY == 0:
                    report(count)
            writer.close()
            info = [
                ("Source-Organization", agency.name),
                ("External-Identifier", name),
                ("External-Description", title or f"WhatsApp records of {agency.name}"),
                ("Civic-Relay-Agency", agency.slug),
                ("Civic-Relay-Format", fmt),
                ("Civic-Relay-Schema", SCHEMA),
                ("Civic-Relay-Selection", selection.describe()),
                ("Civic-Relay-Selection-JSON", json.dumps(selection.to_json(), sort_keys=True)),
                ("Civic-Relay-Messages", str(count)),
                (
                    "Civic-Relay-First-Message",
                    first.astimezone(dt.UTC).isoformat() if first else "none",
                ),
                (
                    "Civic-Relay-Last-Message",
                    last.astimezone(dt.UTC).isoformat() if last else "none",
                ),
                ("Civic-Relay-Time-Zone", "UTC"),
                ("Civic-Relay-Redactions", str(redactions.count() if redactions else 0)),
                ("Civic-Relay-Missing-Media-Files", str(context.missing_media)),
            ]
            if bates_prefix is not None:
                info.append(
                    (
                        "Bates-Range",
                        f"{context.bates_first or 'none'} to {context.bates_last or 'none'}",
                    )
                )
            if last is not None:
                info.append(("Bagging-Date", last.astimezone(dt.UTC).date().isoformat()))
            tag_digest = bag.finish(info)
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            os.replace(building / name, target)
        finally:
            shutil.rmtree(building, ignore_errors=True)
        with transaction.atomic():
            record_event(
                agency_id=agency_id,
                actor=actor,
                action="records.export_built",
                object_type="records.exportpackage",
                object_id=name,
                changes={
                    "format": fmt,
                    "selection": selection.to_json(),
                    "messages": count,
                    "tagmanifest_sha256": tag_digest,
                    "payload_octets": bag.payload_octets,
                    "bates": [context.bates_first, context.bates_last]
                    if bates_prefix is not None
                    else None,
                    "redactions": redactions.count() if redactions else 0,
                    "title": title,
                },
            )
            events.publish(
                agency_id=agency_id,
                type=types.EXPORT_CHANGED,
                subject={"package": name},
                payload={
                    "status": "built",
                    "format": fmt,
                    "messages": count,
                    "tagmanifest_sha256": tag_digest,
                },
            )
    return Built(target, count, context.bates_first, context.bates_last, tag_digest)


def _stream_progress(agency_id: int, name: str) -> Progress:
    last = [0.0]

    def report(count: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        with transaction.atomic():
            events.publish(
                agency_id=agency_id,
                type=types.EXPORT_PROGRESS,
                subject={"package": name},
                payload={"processed": count},
            )

    return report


def _redactions_json(redactions: Redactions | None) -> Any:
    if redactions is None or redactions.is_empty():
        return None
    return {
        "text": {
            str(k): [[s.start, s.end, s.code] for s in sorted(v)]
            for k, v in sorted(redactions.text.items())
        },
        "media": {str(k): v for k, v in sorted(redactions.media.items())},
        "withheld": {str(k): v for k, v in sorted(redactions.withheld_messages.items())},
    }


# --- export jobs (the UI) ---------------------------------------------------------------


def request_export(
    agency_id: int,
    *,
    selection: Selection,
    fmt: str,
    title: str,
    bates_prefix: str,
    bates_start: int,
    requested_by_id: int | None,
    actor: Actor,
) -> ExportJob:
    """Queue an export job (the task is sent after commit)."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}")
    from records.exports import tasks

    with agency_scope(agency_id), transaction.atomic():
        job = ExportJob.objects.create(
            agency_id=agency_id,
            requested_by_id=requested_by_id,
            format=fmt,
            selection=selection.to_json(),
            title=title,
            bates_prefix=bates_prefix,
            bates_start=bates_start,
        )
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="records.export_requested",
            target=job,
            changes={"format": fmt, "selection": job.selection, "title": title},
        )
        events.publish(
            agency_id=agency_id,
            type=types.EXPORT_CHANGED,
            subject={"export": job.pk},
            payload={"status": job.status, "format": fmt},
        )
        transaction.on_commit(lambda: tasks.run_export.delay(job_id=job.pk))
    return job


def run_export_job(job_id: int) -> ExportJob | None:
    """Build a queued job's package and store its ZIP; idempotent (a finished job is left
    as it is, a job another worker is building is left to it)."""
    agency_id = _agency_of(job_id)
    if agency_id is None:
        return None
    with agency_scope(agency_id):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status != ExportJob.Status.QUEUED:
                return job
            selection = Selection.from_json(job.selection)
            from records.selection import messages

            job.status = ExportJob.Status.RUNNING
            job.started_at = timezone.now()
            job.total = messages(agency_id, selection).exclude(type__in=("edit", "revoke")).count()
            job.save(update_fields=["status", "started_at", "total"])
            events.publish(
                agency_id=agency_id,
                type=types.EXPORT_CHANGED,
                subject={"export": job.pk},
                payload={"status": job.status, "total": job.total},
            )

        def progress(count: int) -> None:
            with transaction.atomic():
                ExportJob.objects.filter(pk=job_id).update(processed=count)
                events.publish(
                    agency_id=agency_id,
                    type=types.EXPORT_PROGRESS,
                    subject={"export": job_id},
                    payload={"processed": count, "total": job.total},
                )

        requester = Actor.system("records.export_job")
        try:
            with tempfile.TemporaryDirectory(prefix="civic-export-") as tmp:
                built = build(
                    agency_id,
                    selection,
                    job.format,
                    Path(tmp),
                    bates_prefix=job.bates_prefix or None,
                    bates_start=job.bates_start,
                    title=job.title,
                    actor=requester,
                    progress=progress,
                )
                bag = built.path
                archive = zip_package(bag, Path(tmp) / f"{bag.name}.zip")
                digest, size = _digest(archive)
                key = f"agencies/{agency_id}/exports/{job.pk}/{bag.name}.zip"
                if default_storage.exists(key):
                    default_storage.delete(key)
                with open(archive, "rb") as handle:
                    key = default_storage.save(key, handle)
        except Exception as error:
            with transaction.atomic():
                ExportJob.objects.filter(pk=job_id).update(
                    status=ExportJob.Status.FAILED,
                    error=str(error)[:500],
                    finished_at=timezone.now(),
                )
                events.publish(
                    agency_id=agency_id,
                    type=types.EXPORT_CHANGED,
                    subject={"export": job_id},
                    payload={"status": "failed"},
                )
            raise
        with transaction.atomic():
            ExportJob.objects.filter(pk=job_id).update(
                status=ExportJob.Status.DONE,
                processed=built.messages,
                package_name=bag.name,
                storage_key=key,
                size_bytes=size,
                sha256=digest,
                tagmanifest_sha256=built.tagmanifest_sha256,
                bates_first=built.bates_first,
                bates_last=built.bates_last,
                finished_at=timezone.now(),
            )
            events.publish(
                agency_id=agency_id,
                type=types.EXPORT_CHANGED,
                subject={"export": job_id},
                payload={"status": "done", "package": bag.name, "sha256": digest},
            )
        return ExportJob.objects.get(pk=job_id)


def _agency_of(job_id: int) -> int | None:
    from tenants.scoping import system_scope

    with system_scope():
        return ExportJob.objects.filter(pk=job_id).values_list("agency_id", flat=True).first()


def _digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


class PackageNotReady(ApplicationError):
    """The job's package is not built yet (queued or building): ask again later."""

    code = "export_not_ready"
    http_status = 409


class PackageFailed(ApplicationError):
    """The job failed: there is no package (its ``error`` says why); request a new one."""

    code = "export_failed"
    http_status = 409


class PackageMissing(ApplicationError):
    """The job was built but its file is no longer in the storage."""

    code = "export_package_missing"
    http_status = 410


def open_package(job: ExportJob, *, actor: Actor) -> File:
    """The built job's ZIP, open for reading; the download is audited
    (``records.export_downloaded``). Refused with ``PackageNotReady``, ``PackageFailed`` or
    ``PackageMissing``."""
    if job.status == ExportJob.Status.FAILED:
        raise PackageFailed(f"Export {job.pk} failed: {job.error or 'no package was built'}.")
    if job.status != ExportJob.Status.DONE or not job.storage_key:
        raise PackageNotReady(
            f"Export {job.pk} is {job.get_status_display().lower()}: its package is not ready."
        )
    try:
        handle = default_storage.open(job.storage_key, "rb")
    except OSError:
        raise PackageMissing(f"The package of export {job.pk} is no longer stored.") from None
    with agency_scope(job.agency_id), transaction.atomic():
        record_event(
            agency_id=job.agency_id,
            actor=actor,
            action="records.export_downloaded",
            target=job,
            changes={"package": job.package_name, "sha256": job.sha256},
        )
    return handle
