"""Verify an agency's records against its signed checkpoints (``manage.py records_verify``).

The checks, in this order, stop at the first mismatch:

1. the audit chain links up and ends at its head (``audit.verify_chain``);
2. the checkpoints are numbered 1, 2, … without a gap, each row is what its statement
   says, and each statement is signed by a configured key (never a key from the database);
3. the audit chain still holds every checkpointed head: the event at that sequence has the
   hash that was signed. A rewrite that recomputed every later hash and the head passes
   (1) but fails here;
4. every leaf still matches its record (a message's fixed fields, a stored media file's
   row, ``records.leaves``) and every media file its SHA-256, and the tree rebuilt from the
   leaves has each checkpoint's signed root at its size;
5. no message below the next run's scan floor, and no media file stored before the
   checkpoint before last, is missing from the tree (inserted after the fact);
6. the archive store holds every checkpoint with the same bytes, and nothing else.

A record destroyed by disposition (``records.retention``) keeps its leaf: its row is gone,
but a certificate of destruction lists it (``DestroyedRecord``) with the same leaf hash, so
it counts as destroyed, not as tampering. The certificates are checked too: each one's
SHA-256 over its records' leaf hashes is recomputed and must be the one its audit event
(``records.destruction_certified``, in the signed chain) recorded. A message deleted
without a certificate is still "missing".
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage

from messaging.models import MediaObject, Message
from records import merkle
from records.archive import ArchiveStore, archive_store
from records.audit import GENESIS_HASH, verify_chain
from records.checkpoints import Statement, archive_key, unleafed_media, unleafed_messages
from records.leaves import (
    MEDIA_FIELDS,
    MESSAGE_FIELDS,
    chunks,
    media_leaf_hash,
    message_leaf_hash,
)
from records.models import AuditEvent, RecordCheckpoint, RecordLeaf
from records.retention.models import DestroyedRecord, DestructionCertificate
from records.signing import SignatureError, open_note
from tenants.scoping import agency_scope

BATCH = 2000


class Mismatch(Exception):
    """The first thing found that does not match; its message says what and where."""


@dataclass(frozen=True)
class RecordsReport:
    agency_id: int
    audit_events: int = 0
    checkpoints: int = 0
    leaves: int = 0
    pending_messages: int = 0  # stored since the last checkpoint: in the next one
    problem: str = ""
    media_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_records(
    agency_id: int, store: ArchiveStore | None = None, *, files: bool = True
) -> RecordsReport:
    """Verify the agency's records; ``files=False`` skips re-reading media files."""
    chain = verify_chain(agency_id)
    if not chain.ok:
        where = f" at sequence {chain.broken_event.sequence}" if chain.broken_event else ""
        return RecordsReport(agency_id, chain.count, problem=f"audit chain: {chain.problem}{where}")
    with agency_scope(agency_id):
        checkpoints = list(RecordCheckpoint.objects.filter(agency_id=agency_id).order_by("number"))
        try:
            _check_statements(agency_id, checkpoints)
            _check_audit_heads(agency_id, checkpoints)
            _check_certificates(agency_id)
            counts = _check_leaves(agency_id, checkpoints, files)
            pending = _check_coverage(agency_id, checkpoints)
            _check_archive(agency_id, checkpoints, store or archive_store())
        except Mismatch as mismatch:
            return RecordsReport(agency_id, chain.count, len(checkpoints), problem=str(mismatch))
    return RecordsReport(
        agency_id,
        chain.count,
        len(checkpoints),
        counts[RecordLeaf.RecordType.MESSAGE],
        pending,
        media_files=counts[RecordLeaf.RecordType.MEDIA],
    )


def _name(checkpoint: RecordCheckpoint) -> str:
    return f"checkpoint #{checkpoint.number} (signed {checkpoint.created_at:%Y-%m-%d %H:%M:%S} UTC)"


def _check_statements(agency_id: int, checkpoints: Sequence[RecordCheckpoint]) -> None:
    for expected, checkpoint in enumerate(checkpoints, start=1):
        if checkpoint.number != expected:
            raise Mismatch(
                f"checkpoint #{expected} is missing (the next one is #{checkpoint.number})"
            )
        try:
            text = open_note(checkpoint.statement, checkpoint.key_id)
        except SignatureError as error:
            raise Mismatch(f"{_name(checkpoint)}: {error}") from None
        if text != Statement.of(checkpoint).text() or checkpoint.archive_key != archive_key(
            agency_id, checkpoint.number
        ):
            raise Mismatch(f"{_name(checkpoint)}: the row does not match its signed statement")


def _check_audit_heads(agency_id: int, checkpoints: Sequence[RecordCheckpoint]) -> None:
    sequences = {c.audit_sequence for c in checkpoints if c.audit_sequence}
    hashes = dict(
        AuditEvent.objects.filter(agency_id=agency_id, sequence__in=sequences).values_list(
            "sequence", "hash"
        )
    )
    hashes[0] = GENESIS_HASH
    for checkpoint in checkpoints:
        found = hashes.get(checkpoint.audit_sequence)
        if found == checkpoint.audit_hash:
            continue
        now = f"has hash {found[:16]}…" if found else "is missing"
        signed = checkpoint.audit_hash[:16]
        raise Mismatch(
            f"{_name(checkpoint)}: the audit chain was rewritten: event sequence "
            f"{checkpoint.audit_sequence} {now}, the checkpoint signed {signed}…"
        )


@dataclass(frozen=True)
class _Kind:
    label: str
    model: type[Message] | type[MediaObject]
    fields: tuple[str, ...]
    leaf_hash: Callable[[dict[str, Any]], str]


_KINDS: dict[str, _Kind] = {
    RecordLeaf.RecordType.MESSAGE: _Kind("message", Message, MESSAGE_FIELDS, message_leaf_hash),
    RecordLeaf.RecordType.MEDIA: _Kind("media file", MediaObject, MEDIA_FIELDS, media_leaf_hash),
}


# A leaf's record type → the destroyed record's type in a certificate.
_DESTROYED = {
    RecordLeaf.RecordType.MESSAGE: DestroyedRecord.RecordType.MESSAGE,
    RecordLeaf.RecordType.MEDIA: DestroyedRecord.RecordType.MEDIA,
}


def _leaves(
    agency_id: int,
) -> Iterator[tuple[RecordLeaf, dict[str, Any] | None, DestroyedRecord | None]]:
    """Each leaf in order with its record's fixed fields (None when the row is gone) and,
    for a gone row, the certificate's entry that destroyed it (None: deleted uncertified)."""
    leaves = RecordLeaf.objects.filter(agency_id=agency_id).order_by("index")
    for chunk in chunks(leaves.iterator(chunk_size=BATCH), BATCH):
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for record_type, kind in _KINDS.items():
            ids = [leaf.record_id for leaf in chunk if leaf.record_type == record_type]
            if ids:
                found = kind.model.objects.filter(agency_id=agency_id, id__in=ids)
                rows |= {(record_type, row["id"]): row for row in found.values(*kind.fields)}
        gone = [leaf for leaf in chunk if (leaf.record_type, leaf.record_id) not in rows]
        destroyed: dict[tuple[str, int], DestroyedRecord] = {}
        for record_type, destroyed_type in _DESTROYED.items():
            ids = [leaf.record_id for leaf in gone if leaf.record_type == record_type]
            if ids:
                entries = DestroyedRecord.objects.filter(
                    agency_id=agency_id, record_type=destroyed_type, record_id__in=ids
                )
                destroyed |= {(record_type, entry.record_id): entry for entry in entries}
        for leaf in chunk:
            key = (leaf.record_type, leaf.record_id)
            yield leaf, rows.get(key), destroyed.get(key)


def _check_leaves(
    agency_id: int, checkpoints: Sequence[RecordCheckpoint], files: bool
) -> Counter[str]:
    """Every leaf against its record (and a media file's bytes against its digest), and
    every checkpoint's root against the rebuilt tree; how many leaves of each type."""
    pending = list(checkpoints)
    frontier: list[bytes] = []
    counts: Counter[str] = Counter()
    _check_roots(pending, 0, frontier)
    for leaf, row, destroyed in _leaves(agency_id):
        size = counts.total()
        covering = next((c for c in pending if c.leaf_count > size), None)
        signed_by = f" ({_name(covering)})" if covering else ""
        kind = _KINDS.get(leaf.record_type)
        if leaf.index != size or kind is None:
            raise Mismatch(f"leaf #{size} is missing{signed_by}")
        record = f"{kind.label} id={leaf.record_id}"
        if row is None and destroyed is None:
            raise Mismatch(f"{record} (leaf #{size}) is missing{signed_by}")
        if row is None and destroyed is not None:
            if destroyed.leaf_hash != leaf.leaf_hash:
                raise Mismatch(
                    f"{record} (leaf #{size}): certificate of destruction "
                    f"#{destroyed.certificate_id} names another record{signed_by}"
                )
        elif row is not None and kind.leaf_hash(row) != leaf.leaf_hash:
            raise Mismatch(f"{record} no longer matches its leaf #{size}{signed_by}")
        if row is not None and files and leaf.record_type == RecordLeaf.RecordType.MEDIA:
            _check_file(record, row, signed_by)
        frontier = merkle.append(frontier, size, bytes.fromhex(leaf.leaf_hash))
        counts[leaf.record_type] += 1
        _check_roots(pending, size + 1, frontier)
    size = counts.total()
    if pending:
        raise Mismatch(
            f"{_name(pending[0])} covers {pending[0].leaf_count} records, {size} leaves remain"
        )
    signed = checkpoints[-1].leaf_count if checkpoints else 0
    if size != signed:  # e.g. every checkpoint row deleted, leaves left behind
        raise Mismatch(f"{size - signed} leaves are in no checkpoint")
    return counts


def _check_file(record: str, row: dict[str, Any], signed_by: str) -> None:
    """The stored bytes still have the digest the (signed) row holds."""
    digest = hashlib.sha256()
    try:
        with default_storage.open(row["storage_key"], "rb") as stored:
            for block in stored.chunks():
                digest.update(block)
    except FileNotFoundError:
        raise Mismatch(f"{record}: its file {row['storage_key']} is missing{signed_by}") from None
    if digest.hexdigest() != row["sha256"]:
        raise Mismatch(
            f"{record}: the stored file {row['storage_key']} no longer matches its SHA-256"
            f"{signed_by}"
        )


def _check_roots(pending: list[RecordCheckpoint], size: int, frontier: list[bytes]) -> None:
    """Compare (and drop) the pending checkpoints whose tree size is ``size``."""
    while pending and pending[0].leaf_count == size:
        checkpoint = pending.pop(0)
        if merkle.root(frontier).hex() != checkpoint.leaf_root:
            raise Mismatch(f"{_name(checkpoint)}: the leaves no longer give its signed root")
    if pending and pending[0].leaf_count < size:
        raise Mismatch(f"{_name(pending[0])}: its tree is smaller than the previous one's")


def _check_coverage(agency_id: int, checkpoints: Sequence[RecordCheckpoint]) -> int:
    """How many messages wait for the next checkpoint; none may sit below its scan floor.

    Counts, not an anti-join: every leaf was just matched to one of the agency's messages
    and leaves are unique per message, so equal counts below the floor mean every message
    there has its leaf. Only a difference is looked for, page by page.
    """
    if len(checkpoints) > 1:  # media are found by when they were stored (checkpoints)
        missed_media = next(unleafed_media(agency_id, None, until=checkpoints[-2].created_at), [])
        if missed_media:
            raise Mismatch(
                f"media file id={missed_media[0]['id']} was stored before "
                f"{_name(checkpoints[-2])} but is in no checkpoint"
            )
    floor = checkpoints[-2].message_high_id if len(checkpoints) > 1 else 0
    messages = Message.objects.filter(agency_id=agency_id)
    destroyed = DestroyedRecord.objects.filter(
        agency_id=agency_id, record_type=DestroyedRecord.RecordType.MESSAGE
    ).values("record_id")
    # Leaves of certified destroyed messages have no row any more: they are not counted.
    leaves = RecordLeaf.objects.filter(
        agency_id=agency_id, record_type=RecordLeaf.RecordType.MESSAGE
    ).exclude(record_id__in=destroyed)
    if messages.filter(id__lte=floor).count() != leaves.filter(record_id__lte=floor).count():
        missed = next(unleafed_messages(agency_id, 0, until=floor), [{"id": "?"}])[0]
        raise Mismatch(
            f"message id={missed['id']} is in no checkpoint although later messages are "
            "(inserted after the fact?)"
        )
    return messages.filter(id__gt=floor).count() - leaves.filter(record_id__gt=floor).count()


def _check_certificates(agency_id: int) -> None:
    """Each certificate of destruction still has the records it certified (their leaf
    hashes give its SHA-256) and the SHA-256 its audit event — in the signed chain —
    recorded: a destroyed-record row added afterwards, to pass off a deletion as a
    destruction, changes the digest."""
    from records.retention.disposition import leaf_digest

    recorded = {
        event.object_id: event.changes.get("leaf_sha256")
        for event in AuditEvent.objects.filter(
            agency_id=agency_id, action="records.destruction_certified"
        ).only("object_id", "changes")
    }
    for certificate in DestructionCertificate.objects.filter(agency_id=agency_id).order_by(
        "number"
    ):
        name = f"certificate of destruction #{certificate.number}"
        hashes = DestroyedRecord.objects.filter(certificate=certificate).values_list(
            "leaf_hash", flat=True
        )
        if leaf_digest(hashes) != certificate.leaf_sha256:
            raise Mismatch(f"{name}: its records no longer give its SHA-256")
        if recorded.get(str(certificate.pk)) != certificate.leaf_sha256:
            raise Mismatch(f"{name}: the audit chain does not record it with this SHA-256")


def _check_archive(
    agency_id: int, checkpoints: Sequence[RecordCheckpoint], store: ArchiveStore
) -> None:
    archived = set(store.keys(f"checkpoints/agency-{agency_id}/"))
    for checkpoint in checkpoints:
        data = store.get(checkpoint.archive_key)
        if data is None:
            raise Mismatch(f"{_name(checkpoint)} is missing from the archive store")
        if data != checkpoint.statement.encode():
            raise Mismatch(
                f"{_name(checkpoint)}: the archive object {checkpoint.archive_key} differs "
                "from the database"
            )
        archived.discard(checkpoint.archive_key)
    if archived:
        raise Mismatch(
            f"the archive store holds {min(archived)}, which has no checkpoint in the "
            "database (deleted?)"
        )
