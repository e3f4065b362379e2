"""Signed checkpoints: an agency's audit chain head and message tree root, signed and archived.

A periodic task (``records.sign_checkpoints``) runs ``sign_checkpoint`` for each agency:

1. Messages stored since the last run become leaves of the agency's Merkle tree
   (``RecordLeaf``, RFC 6962 hashing). The capture path is untouched: webhook ingest writes
   messages as before, and this task reads them afterwards, in batches.
2. The statement (a C2SP-style signed note) names the tree size and root, the audit
   chain's head (sequence and hash) and the time, and is signed with the platform's
   Ed25519 key (``records.signing``), which is not in the database.
3. The row is written, and after the commit the same bytes go to the archive store
   (``records.archive``), outside the database.

Message ids are allocated before their transactions commit, so a message with a smaller id
can become visible after one with a larger id was already checkpointed. Each run therefore
looks at every message above the highest id seen by the run *before* the previous one, and
takes those without a leaf; a message whose transaction stays open longer than a whole
checkpoint interval is the only one that could be missed, and ``records_verify`` reports
it (a message below that watermark without a leaf is exactly what a backdated insertion
looks like).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.models import MediaObject, Message
from records import merkle
from records.archive import archive_store
from records.audit import GENESIS_HASH
from records.leaves import MEDIA_FIELDS, MESSAGE_FIELDS, media_leaf_hash, message_leaf_hash
from records.models import AuditChainHead, AuditEvent, RecordCheckpoint, RecordLeaf
from records.signing import current_key_id, sign_note
from tenants.scoping import agency_scope

logger = logging.getLogger(__name__)

BATCH = 2000
_LOCK_CLASS = 0x7265_636B  # pg_advisory_xact_lock(class, agency): one signer per agency


def origin(agency_id: int) -> str:
    return f"civic-relay.records/agency/{agency_id}"


def archive_key(agency_id: int, number: int) -> str:
    return f"checkpoints/agency-{agency_id}/{number:012d}.txt"


@dataclass(frozen=True)
class Statement:
    """The fields a checkpoint signs, and the note text they make."""

    agency_id: int
    number: int
    created_at: datetime
    audit_sequence: int
    audit_hash: str
    leaf_count: int
    leaf_root: str
    message_high_id: int
    key_id: str

    def text(self) -> str:
        lines = [
            origin(self.agency_id),
            str(self.leaf_count),
            base64.b64encode(bytes.fromhex(self.leaf_root)).decode(),
            f"checkpoint {self.number}",
            f"audit {self.audit_sequence} {self.audit_hash}",
            f"messages-scanned-to {self.message_high_id}",
            f"time {self.created_at.astimezone(UTC).isoformat(timespec='microseconds')}",
            f"key {self.key_id}",
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def of(cls, checkpoint: RecordCheckpoint) -> Statement:
        return cls(
            agency_id=checkpoint.agency_id,
            number=checkpoint.number,
            created_at=checkpoint.created_at,
            audit_sequence=checkpoint.audit_sequence,
            audit_hash=checkpoint.audit_hash,
            leaf_count=checkpoint.leaf_count,
            leaf_root=checkpoint.leaf_root,
            message_high_id=checkpoint.message_high_id,
            key_id=checkpoint.key_id,
        )


def sign_checkpoint(*, agency_id: int) -> RecordCheckpoint | None:
    """Checkpoint the agency's records now; None when nothing changed since the last one.

    Idempotent and safe to run concurrently: signers of one agency queue on an advisory
    lock, and the second finds nothing new.
    """
    archive_pending(agency_id=agency_id)  # the previous run may have died before archiving
    with agency_scope(agency_id), transaction.atomic():
        _lock(agency_id)
        recent = list(RecordCheckpoint.objects.filter(agency_id=agency_id).order_by("-number")[:2])
        previous = recent[0] if recent else None
        if previous is not None:
            _warn_if_rewritten(previous)
        tree = _Tree(agency_id, previous)
        high_id = previous.message_high_id if previous else 0
        floor = recent[1].message_high_id if len(recent) > 1 else 0
        for rows in unleafed_messages(agency_id, floor):
            tree.add(RecordLeaf.RecordType.MESSAGE, rows, message_leaf_hash)
            high_id = max(high_id, rows[-1]["id"])
        since = recent[1].created_at if len(recent) > 1 else None
        for rows in unleafed_media(agency_id, since):
            tree.add(RecordLeaf.RecordType.MEDIA, rows, media_leaf_hash)
        head = _audit_head(agency_id)
        if previous and not tree.added and head == (previous.audit_sequence, previous.audit_hash):
            return None
        number = (previous.number if previous else 0) + 1
        checkpoint = _create(agency_id, number, head, tree, high_id)
        events.publish(
            agency_id=agency_id,
            type=types.RECORDS_CHECKPOINT_SIGNED,
            subject={"checkpoint": checkpoint.pk},
            payload={"number": checkpoint.number, "leaf_count": checkpoint.leaf_count},
        )
        transaction.on_commit(lambda: archive_pending(agency_id=agency_id))
    return checkpoint


class _Tree:
    """The agency's tree as the last checkpoint left it, growing by appended leaves."""

    def __init__(self, agency_id: int, previous: RecordCheckpoint | None) -> None:
        self.agency_id = agency_id
        self.size = previous.leaf_count if previous else 0
        self.frontier = [bytes.fromhex(h) for h in previous.frontier] if previous else []
        self.added = 0

    def add(
        self,
        record_type: str,
        rows: list[dict[str, Any]],
        leaf_hash: Callable[[dict[str, Any]], str],
    ) -> None:
        leaves = [
            RecordLeaf(
                agency_id=self.agency_id,
                index=self.size + i,
                record_type=record_type,
                record_id=row["id"],
                leaf_hash=leaf_hash(row),
            )
            for i, row in enumerate(rows)
        ]
        RecordLeaf.objects.bulk_create(leaves)
        hashes = (bytes.fromhex(leaf.leaf_hash) for leaf in leaves)
        self.frontier = merkle.extend(self.frontier, self.size, hashes)
        self.size += len(leaves)
        self.added += len(leaves)


def _create(
    agency_id: int,
    number: int,
    head: tuple[int, str],
    tree: _Tree,
    high_id: int,
) -> RecordCheckpoint:
    statement = Statement(
        agency_id=agency_id,
        number=number,
        created_at=timezone.now(),
        audit_sequence=head[0],
        audit_hash=head[1],
        leaf_count=tree.size,
        leaf_root=merkle.root(tree.frontier).hex(),
        message_high_id=high_id,
        key_id=current_key_id(),
    )
    note, key_id = sign_note(statement.text())
    return RecordCheckpoint.objects.create(
        agency_id=agency_id,
        number=number,
        created_at=statement.created_at,
        audit_sequence=statement.audit_sequence,
        audit_hash=statement.audit_hash,
        leaf_count=tree.size,
        leaf_root=statement.leaf_root,
        frontier=[subtree.hex() for subtree in tree.frontier],
        message_high_id=high_id,
        key_id=key_id,
        statement=note,
        archive_key=archive_key(agency_id, number),
    )


def _lock(agency_id: int) -> None:
    # SQLite (the demo) serializes writers with its database lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, agency_id])


def _warn_if_rewritten(previous: RecordCheckpoint) -> None:
    """Alert at once (one indexed read) when the audit chain no longer holds the last
    checkpoint's head; signing goes on, since new records need their checkpoint and the
    earlier one keeps contradicting the rewrite (``records_verify`` names it)."""
    if previous.audit_sequence == 0:
        return
    found = AuditEvent.objects.filter(
        agency_id=previous.agency_id, sequence=previous.audit_sequence
    ).values_list("hash", flat=True)
    if found.first() != previous.audit_hash:
        logger.error(
            "records: the audit chain was rewritten since the last checkpoint",
            extra={"agency_id": previous.agency_id, "checkpoint_number": previous.number},
        )


def _audit_head(agency_id: int) -> tuple[int, str]:
    head = AuditChainHead.objects.filter(chain_key=agency_id).values_list("sequence", "hash")
    return head.first() or (0, GENESIS_HASH)


def unleafed_messages(
    agency_id: int, floor: int, until: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The agency's messages with ``floor < id <= until`` that are not leaves yet, in id
    order, in batches."""
    messages = Message.objects.filter(agency_id=agency_id, id__gt=floor)
    if until is not None:
        messages = messages.filter(id__lte=until)
    return _unleafed(messages.values(*MESSAGE_FIELDS), RecordLeaf.RecordType.MESSAGE)


def unleafed_media(
    agency_id: int, since: datetime | None, until: datetime | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The agency's media files stored after ``since`` (and by ``until``) that are not
    leaves yet. A file is stored by the download task, long after its row was created, so
    media are found by the time they were stored, not by id."""
    media = MediaObject.objects.filter(agency_id=agency_id, status=MediaObject.Status.STORED)
    if since is not None:
        media = media.filter(stored_at__gt=since)
    if until is not None:
        media = media.filter(stored_at__lte=until)
    return _unleafed(media.values(*MEDIA_FIELDS), RecordLeaf.RecordType.MEDIA)


def _unleafed(
    rows: QuerySet[Any, dict[str, Any]], record_type: str
) -> Iterator[list[dict[str, Any]]]:
    """Keyset pages of ``rows`` by id, without the ones that already have a leaf.

    Per page, the leaves of the page's id range come through the unique (record_type,
    record_id) index: two range scans. A NOT EXISTS anti-join was planned as a nested loop
    over every leaf per row while the leaf table's statistics were stale (right after a
    large first checkpoint): quadratic.
    """
    after = 0
    while True:
        page = list(rows.filter(id__gt=after).order_by("id")[:BATCH])
        if not page:
            return
        after = page[-1]["id"]
        leafed = set(
            RecordLeaf.objects.filter(
                record_type=record_type, record_id__gte=page[0]["id"], record_id__lte=after
            ).values_list("record_id", flat=True)
        )
        fresh = [row for row in page if row["id"] not in leafed]
        if fresh:
            yield fresh


def archive_pending(*, agency_id: int, last: int = 3) -> int:
    """Write the agency's newest checkpoints to the archive if they are not there yet (the
    write happens after the commit, so a crash in between leaves one out); how many."""
    store = archive_store()
    with agency_scope(agency_id):
        newest = list(
            RecordCheckpoint.objects.filter(agency_id=agency_id)
            .order_by("-number")
            .values_list("archive_key", "statement")[:last]
        )
    written = 0
    for key, statement in newest:
        if store.get(key) is None:
            store.put(key, statement.encode())
            written += 1
    return written
