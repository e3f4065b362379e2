"""Writing the WORM archive: archive a conversation, extend its retention, mirror its legal
holds, destroy it at disposition, and set an agency's policy.

Three mechanisms stay separate (records reference §0.3): the **storage lock** (each object
version's mode and retain-until date, never shortened), the **legal hold** (mirrored from
``records.holds``: ON on every version while any open hold covers the conversation), and
**disposition** (``destroy_archived``, refused while either still applies).

Object writes happen inside the transaction that records their rows: a rollback leaves a
version in the store without a row; the next run adopts it (same key, same bytes) instead
of writing another, and until then ``verify_archive`` reports it as extra.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.models import Conversation, Message
from records.archive import (
    LOCK_MODES,
    Lock,
    LockedStore,
    lock_time,
    worm_store,
)
from records.audit import Actor, record_event
from records.holds import HeldRecordError
from records.holds.selectors import held_message_ids, is_conversation_held
from records.retention.selectors import retention_floor as file_plan_floor
from records.worm import canonical, selectors
from records.worm.models import ArchivedObject, ArchivePolicy, ArchiveRefresh
from tenants.scoping import agency_scope, system_scope

logger = logging.getLogger(__name__)

_LOCK_CLASS = 0x776F_726D  # pg_advisory_xact_lock(class, conversation): one archiver each
WORKER = Actor.worker("records.worm")
MINIMUM_LOCK = timedelta(days=1)  # the shortest lock a new version gets


class ArchiveError(Exception):
    """The archive cannot do what was asked; the message says why, for a records officer."""


class ArchiveLocked(ArchiveError):
    """Destruction refused: a version is still retained (its retain-until is in the future)."""


# --- keep's parts (records.holds, records.retention) -------------------------------------


def is_held(conversation_id: int) -> bool:
    """Whether an open hold covers the conversation (``records.holds``)."""
    return is_conversation_held(conversation_id)


def retention_floor(conversation_id: int) -> datetime | None:
    """The file plan's earliest destruction date (``records.retention``), if any yet."""
    return file_plan_floor(conversation_id)


# --- Archiving ----------------------------------------------------------------------------


def archive_conversation(conversation_id: int) -> ArchivedObject:
    """Write the conversation's canonical document (and media files not archived yet) to
    the WORM store, locked; its row. Idempotent: when nothing changed since the last
    version, that version's row is returned and nothing is written."""
    agency_id = _agency_of(conversation_id)
    with agency_scope(agency_id), transaction.atomic():
        _lock(conversation_id)
        conversation = Conversation.objects.select_related("agency", "phone_number", "contact").get(
            pk=conversation_id
        )
        document = canonical.build(conversation)
        digest = hashlib.sha256(document.data).hexdigest()
        key = canonical.conversation_key(agency_id, conversation_id)
        live = list(selectors.live_objects(conversation_id))
        latest = next(
            (row for row in reversed(live) if row.kind == ArchivedObject.Kind.CONVERSATION),
            None,
        )
        ArchiveRefresh.objects.filter(conversation_id=conversation_id).delete()
        if latest is not None and latest.sha256 == digest:
            return latest
        store = worm_store()
        now = timezone.now()
        lock = Lock(
            mode=selectors.policy(agency_id).mode,
            retain_until=_retain_until(conversation_id, agency_id, now, live),
            legal_hold=is_held(conversation_id),
        )
        writer = _Writer(store, agency_id, conversation_id, lock, now, live)
        for media in document.media:
            if not any(row.key == media.key for row in live):
                writer.write(
                    ArchivedObject.Kind.MEDIA,
                    media.key,
                    _media_bytes(media),
                    media.mime_type or "application/octet-stream",
                    media_id=media.media_id,
                )
        row = writer.write(
            ArchivedObject.Kind.CONVERSATION, key, document.data, canonical.CONTENT_TYPE
        )
        events.publish(
            agency_id=agency_id,
            type=types.ARCHIVE_WRITTEN,
            subject={"conversation": conversation_id, "archived_object": row.pk},
            payload={
                "key": row.key,
                "version_id": row.version_id,
                "sha256": row.sha256,
                "mode": row.mode,
                "retain_until": row.retain_until,
                "legal_hold": row.legal_hold,
                "media_files": len(writer.rows) - 1,
            },
        )
        record_event(
            agency_id=agency_id,
            actor=WORKER,
            action="archive.written",
            target=row,
            changes={
                "conversation": conversation_id,
                "objects": [[r.key, r.version_id, r.sha256] for r in writer.rows],
                "mode": row.mode,
                "retain_until": row.retain_until.isoformat(),
                "legal_hold": row.legal_hold,
            },
        )
    return row


class _Writer:
    """Puts versions into the store and records their rows (adopting a version a rolled
    back run left in the store, when its bytes are the same)."""

    def __init__(
        self,
        store: LockedStore,
        agency_id: int,
        conversation_id: int,
        lock: Lock,
        now: datetime,
        live: list[ArchivedObject],
    ) -> None:
        self.store, self.agency_id, self.conversation_id = store, agency_id, conversation_id
        self.lock, self.now = lock, now
        known = {(row.key, row.version_id) for row in live}
        self.orphans = [
            version
            for version in store.versions(canonical.conversation_prefix(agency_id, conversation_id))
            if (version.key, version.version_id) not in known
        ]
        self.rows: list[ArchivedObject] = []

    def write(
        self, kind: str, key: str, data: bytes, content_type: str, media_id: int | None = None
    ) -> ArchivedObject:
        digest = hashlib.sha256(data).hexdigest()
        version_id = self._adopt(key, digest) or self.store.put(key, data, self.lock, content_type)
        row = ArchivedObject.objects.create(
            agency_id=self.agency_id,
            conversation_id=self.conversation_id,
            kind=kind,
            media_id=media_id,
            store=self.store.name,
            key=key,
            version_id=version_id,
            sha256=digest,
            size=len(data),
            mode=self.lock.mode,
            retain_until=lock_time(self.lock.retain_until),
            legal_hold=self.lock.legal_hold,
            archived_at=self.now,
        )
        self.rows.append(row)
        return row

    def _adopt(self, key: str, digest: str) -> str | None:
        for version in self.orphans:
            data = self.store.get(key, version.version_id) if version.key == key else None
            if data is not None and hashlib.sha256(data).hexdigest() == digest:
                current = self.store.lock(key, version.version_id)
                if current is None or current.mode != self.lock.mode:
                    continue
                if current.retain_until < lock_time(self.lock.retain_until):
                    self.store.extend(key, version.version_id, current.mode, self.lock.retain_until)
                if current.legal_hold != self.lock.legal_hold:
                    self.store.set_legal_hold(key, version.version_id, self.lock.legal_hold)
                self.orphans.remove(version)
                return version.version_id
        return None


def _retain_until(
    conversation_id: int, agency_id: int, now: datetime, live: list[ArchivedObject]
) -> datetime:
    """The file plan's destruction date, else now + the policy's minimum; never earlier
    than a version already archived (a new version is locked at least as long), nor than
    ``MINIMUM_LOCK`` from now (S3 refuses a retain-until date in the past: a conversation
    archived after its destruction date is locked a day)."""
    floor = retention_floor(conversation_id)
    if floor is None:
        floor = now + timedelta(days=selectors.policy(agency_id).minimum_retention_days)
    return max([lock_time(floor), lock_time(now + MINIMUM_LOCK), *(r.retain_until for r in live)])


def _media_bytes(media: canonical.MediaFile) -> bytes:
    try:
        with default_storage.open(media.storage_key, "rb") as stored:
            data = bytes(stored.read())
    except FileNotFoundError:
        raise ArchiveError(
            f"media file id={media.media_id} ({media.storage_key}) is missing from storage: "
            "the conversation cannot be archived complete"
        ) from None
    if hashlib.sha256(data).hexdigest() != media.sha256:
        raise ArchiveError(
            f"media file id={media.media_id} ({media.storage_key}) no longer matches its "
            "SHA-256: it is not archived as the record"
        )
    return data


BATCH = 500  # conversations per archive run and agency; a full batch queues the next one


@dataclass(frozen=True)
class Run:
    archived: list[int]  # the conversations archived (or found unchanged)
    failed: list[int]  # logged, tried again next hour
    last_id: int  # the highest conversation id looked at (0: none was due)

    @property
    def full(self) -> bool:
        return len(self.archived) + len(self.failed) >= BATCH


def archive_due(agency_id: int, *, now: datetime | None = None, after: int = 0) -> Run:
    """Archive the agency's conversations past their active period, in id order from
    ``after``, at most ``BATCH``. One that fails is logged and left for the next hour (the
    batch goes on past it, so failures never hold the others up)."""
    now = now or timezone.now()
    with agency_scope(agency_id):
        due = list(
            selectors.due_conversations(agency_id, now)
            .filter(pk__gt=after)
            .values_list("pk", flat=True)[:BATCH]
        )
    archived: list[int] = []
    failed: list[int] = []
    for conversation_id in due:
        try:
            archive_conversation(conversation_id)
        except Exception:
            logger.exception(
                "records.worm: a conversation could not be archived",
                extra={"agency_id": agency_id, "conversation_id": conversation_id},
            )
            failed.append(conversation_id)
            continue
        archived.append(conversation_id)
    return Run(archived, failed, due[-1] if due else 0)


def notice_changes(agency_id: int, conversation_ids: set[int]) -> int:
    """Mark the archived ones among ``conversation_ids`` as changed since archived (the
    stream consumer calls it); how many were marked."""
    with agency_scope(agency_id):
        archived = set(
            ArchivedObject.objects.filter(
                conversation_id__in=conversation_ids, destroyed_at__isnull=True
            ).values_list("conversation_id", flat=True)
        )
        now = timezone.now()
        ArchiveRefresh.objects.bulk_create(
            [
                ArchiveRefresh(agency_id=agency_id, conversation_id=c, noticed_at=now)
                for c in archived
            ],
            ignore_conflicts=True,
        )
    return len(archived)


# --- Retention ----------------------------------------------------------------------------


def extend_retention(conversation_id: int, until: datetime) -> None:
    """Move every archived version's retain-until to ``until`` — only ever later: a date
    before a version's current retain-until leaves that version as it is (retention is
    never shortened, whatever the store would allow; ``LockedStore.extend`` refuses too)."""
    agency_id = _agency_of(conversation_id)
    until = lock_time(until)
    with agency_scope(agency_id), transaction.atomic():
        _lock(conversation_id)
        rows = [row for row in selectors.live_objects(conversation_id) if row.retain_until < until]
        if not rows:
            return
        store = worm_store()
        for row in rows:
            store.extend(row.key, row.version_id, row.mode, until)
            previous = row.retain_until
            row.retain_until = until
            row.save(update_fields=["retain_until"])
            logger.info(
                "records.worm: retention extended",
                extra={"conversation_id": conversation_id, "key": row.key, "from": str(previous)},
            )
        events.publish(
            agency_id=agency_id,
            type=types.ARCHIVE_RETENTION_EXTENDED,
            subject={"conversation": conversation_id},
            payload={"retain_until": until, "versions": len(rows)},
        )
        record_event(
            agency_id=agency_id,
            actor=WORKER,
            action="archive.retention_extended",
            object_type="messaging.conversation",
            object_id=str(conversation_id),
            changes={"retain_until": until.isoformat(), "versions": len(rows)},
        )


def sync_retention(agency_id: int) -> int:
    """Extend each archived conversation to the file plan's date where that is later (a
    cutoff happened, a schedule changed); how many conversations were extended."""
    with agency_scope(agency_id):
        conversation_ids = selectors.archived_conversation_ids(agency_id)
        extended = 0
        for conversation_id in conversation_ids:
            floor = retention_floor(conversation_id)
            if floor is None:
                continue
            shortest = min(
                (row.retain_until for row in selectors.live_objects(conversation_id)),
                default=None,
            )
            if shortest is not None and shortest < lock_time(floor):
                extend_retention(conversation_id, floor)
                extended += 1
    return extended


# --- Legal holds --------------------------------------------------------------------------


def mirror_legal_hold(conversation_id: int) -> int:
    """Set the store's legal hold of every version of the conversation to whether an open
    hold covers it (``records.holds``); how many versions changed."""
    agency_id = _agency_of(conversation_id)
    with agency_scope(agency_id), transaction.atomic():
        _lock(conversation_id)
        held = is_held(conversation_id)
        rows = [row for row in selectors.live_objects(conversation_id) if row.legal_hold != held]
        if not rows:
            return 0
        store = worm_store()
        for row in rows:
            store.set_legal_hold(row.key, row.version_id, held)
            row.legal_hold = held
            row.save(update_fields=["legal_hold"])
        events.publish(
            agency_id=agency_id,
            type=types.ARCHIVE_LEGAL_HOLD,
            subject={"conversation": conversation_id},
            payload={"legal_hold": held, "versions": len(rows)},
        )
        record_event(
            agency_id=agency_id,
            actor=WORKER,
            action="archive.legal_hold",
            object_type="messaging.conversation",
            object_id=str(conversation_id),
            changes={"legal_hold": held, "objects": [[r.key, r.version_id] for r in rows]},
        )
    return len(rows)


def mirror_agency_holds(agency_id: int) -> int:
    """Mirror the agency's holds onto its archive (after a hold was placed, released or
    grew); how many versions changed. The candidates are the conversations whose versions
    are held now and those with a held message; each is decided by ``is_conversation_held``."""
    with agency_scope(agency_id):
        archived = set(selectors.archived_conversation_ids(agency_id))
        on_now = set(
            ArchivedObject.objects.filter(
                agency_id=agency_id, destroyed_at__isnull=True, legal_hold=True
            ).values_list("conversation_id", flat=True)
        )
        with_held_messages = set(
            Message.objects.filter(agency_id=agency_id, id__in=held_message_ids(agency_id))
            .order_by()
            .values_list("conversation_id", flat=True)
            .distinct()
        )
        candidates = sorted(archived & (on_now | with_held_messages))
    return sum(mirror_legal_hold(conversation_id) for conversation_id in candidates)


# --- Disposition --------------------------------------------------------------------------


def destroy_archived(conversation_id: int) -> int:
    """Delete every archived version of the conversation (for disposition); how many.

    Refused, before anything is deleted: with ``HeldRecordError`` while any open hold
    covers the conversation or a version's legal hold is on, with ``ArchiveLocked`` while a
    version is retained (its retain-until is in the future). The rows stay, marked
    destroyed: the residual of the destruction.

    The versions leave the store once the caller's transaction commits (a disposition that
    rolls back destroys nothing); a deletion that fails then is retried by the hourly run
    (``purge_destroyed``), and ``verify_archive`` reports the version until it is gone."""
    agency_id = _agency_of(conversation_id)
    with agency_scope(agency_id), transaction.atomic():
        _lock(conversation_id)
        rows = list(selectors.live_objects(conversation_id))
        if is_held(conversation_id) or any(row.legal_hold for row in rows):
            raise HeldRecordError(
                f"conversation {conversation_id} is under a legal hold: its archived "
                "versions cannot be destroyed until every hold on it is released"
            )
        now = timezone.now()
        store = worm_store()
        for row in rows:
            lock = store.lock(row.key, row.version_id)
            retained = max(row.retain_until, lock.retain_until if lock else row.retain_until)
            if retained > now or (lock is not None and lock.legal_hold):
                raise ArchiveLocked(
                    f"conversation {conversation_id}'s archive cannot be destroyed yet: "
                    f"{row.key} (version {row.version_id}) is retained ({row.mode}) until "
                    f"{retained:%Y-%m-%d %H:%M:%S} UTC"
                    + (" and under a legal hold in the store" if lock and lock.legal_hold else "")
                )
        for row in rows:
            row.destroyed_at = now
            row.save(update_fields=["destroyed_at"])
        transaction.on_commit(
            functools.partial(_delete_versions, store, [(r.key, r.version_id) for r in rows])
        )
        ArchiveRefresh.objects.filter(conversation_id=conversation_id).delete()
        if rows:
            events.publish(
                agency_id=agency_id,
                type=types.ARCHIVE_DESTROYED,
                subject={"conversation": conversation_id},
                payload={"versions": len(rows)},
            )
            record_event(
                agency_id=agency_id,
                actor=WORKER,
                action="archive.destroyed",
                object_type="messaging.conversation",
                object_id=str(conversation_id),
                changes={"objects": [[r.key, r.version_id, r.sha256] for r in rows]},
            )
    return len(rows)


def _delete_versions(store: LockedStore, versions: list[tuple[str, str]]) -> int:
    deleted = 0
    for key, version_id in versions:
        try:
            store.delete(key, version_id)
        except Exception:  # LockViolation (a clock ahead of ours), the store unreachable…
            logger.exception(
                "records.worm: a destroyed version could not be deleted (retried hourly)",
                extra={"key": key, "version_id": version_id},
            )
            continue
        deleted += 1
    return deleted


def purge_destroyed(agency_id: int, *, days: int = 7) -> int:
    """Delete the versions destroyed in the last ``days`` that are still in the store (a
    deletion after the commit failed); how many."""
    store = worm_store()
    since = timezone.now() - timedelta(days=days)
    with agency_scope(agency_id):
        rows = list(
            ArchivedObject.objects.filter(
                agency_id=agency_id, store=store.name, destroyed_at__gte=since
            ).values_list("key", "version_id")
        )
    left = [(key, version) for key, version in rows if store.lock(key, version) is not None]
    return _delete_versions(store, left)


# --- Policy -------------------------------------------------------------------------------


def set_policy(
    agency_id: int,
    *,
    mode: str,
    active_days: int,
    minimum_retention_days: int,
    actor: Actor,
) -> ArchivePolicy:
    """Set the agency's archive policy (new versions follow it; archived ones keep their
    lock: a lock is never weakened)."""
    mode = mode.lower()
    if mode not in LOCK_MODES:
        raise ArchiveError(f"The lock mode is compliance or governance, not {mode!r}.")
    if active_days < 0 or minimum_retention_days < 1:
        raise ArchiveError("The active period is 0 days or more, the minimum retention 1 or more.")
    with agency_scope(agency_id), transaction.atomic():
        row, created = ArchivePolicy.objects.update_or_create(
            agency_id=agency_id,
            defaults={
                "mode": mode,
                "active_days": active_days,
                "minimum_retention_days": minimum_retention_days,
            },
        )
        changes: dict[str, Any] = {
            "mode": mode,
            "active_days": active_days,
            "minimum_retention_days": minimum_retention_days,
        }
        events.publish(
            agency_id=agency_id,
            type=types.ARCHIVE_POLICY_CHANGED,
            subject={"archive_policy": row.pk},
            payload={**changes, "created": created},
        )
        record_event(
            agency_id=agency_id,
            actor=actor,
            action="archive.policy_changed",
            target=row,
            changes=changes,
        )
    return row


# --- Helpers ------------------------------------------------------------------------------


def _agency_of(conversation_id: int) -> int:
    with system_scope():
        agency_id = (
            Conversation.objects.filter(pk=conversation_id)
            .values_list("agency_id", flat=True)
            .first()
        )
        if agency_id is None:  # destroyed by disposition: its rows still know the agency
            agency_id = (
                ArchivedObject.objects.filter(conversation_id=conversation_id)
                .values_list("agency_id", flat=True)
                .first()
            )
    if agency_id is None:
        raise ArchiveError(f"No conversation {conversation_id}.")
    return int(agency_id)


def _lock(conversation_id: int) -> None:
    # SQLite (the demo) serializes writers with its database lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, conversation_id])


__all__ = [
    "ArchiveError",
    "ArchiveLocked",
    "archive_conversation",
    "archive_due",
    "destroy_archived",
    "extend_retention",
    "mirror_agency_holds",
    "mirror_legal_hold",
    "notice_changes",
    "purge_destroyed",
    "set_policy",
    "sync_retention",
]
