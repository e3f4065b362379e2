"""Writing and verifying the hash-chained audit trail.

Writers of one chain are serialized by a row lock on the chain's head
(``AuditChainHead``), so two concurrent writers can never both append after the same event
(a fork); the unique (agency, sequence) constraint is the second line of defence.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from bsp.observability import current_request_id
from records.models import AuditChainHead, AuditEvent
from tenants.scoping import agency_scope, system_scope

GENESIS_HASH = "0" * 64
logger = logging.getLogger(__name__)
SECRET_FIELDS = frozenset({"access_token", "app_secret", "password", "key_hash", "token_hash"})


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    label: str = ""
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        ip = request.META.get("REMOTE_ADDR") or None
        credential = getattr(request, "api_credential", None)
        if credential is not None:
            return cls(AuditEvent.ActorType.API, str(credential.pk), credential.name, ip)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            kind = AuditEvent.ActorType.USER
            if user.is_superuser and getattr(request, "membership", None) is None:
                kind = AuditEvent.ActorType.OPERATOR
            return cls(kind, str(user.pk), user.email or user.get_username(), ip)
        return cls(AuditEvent.ActorType.SYSTEM, "", "anonymous", ip)

    @property
    def is_api_credential(self) -> bool:
        """An integrator's API key acting (its ``label`` is the credential's name)."""
        return self.type == AuditEvent.ActorType.API

    @classmethod
    def worker(cls, task_name: str) -> Actor:
        return cls(AuditEvent.ActorType.WORKER, "", task_name)

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(AuditEvent.ActorType.SYSTEM, "", component)


def redact(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Secrets never enter the audit trail: only the fact that they changed."""
    return {k: ("[redacted]" if k in SECRET_FIELDS else v) for k, v in changes.items()}


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes that are hashed: every recorded field, in a fixed JSON form."""
    content = {
        "agency_id": event.agency_id,
        "sequence": event.sequence,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


_HEAD_SQL = "SELECT sequence, hash FROM records_auditchainhead WHERE chain_key = %s"
_ADVANCE_HEAD_SQL = (
    "UPDATE records_auditchainhead SET sequence = %s, hash = %s WHERE chain_key = %s"
)
_NEWEST_EVENT_SQL = (
    "SELECT sequence, hash FROM records_auditevent WHERE {where} ORDER BY sequence DESC LIMIT 1"
)
_CREATE_HEAD_SQL = (
    "INSERT INTO records_auditchainhead (chain_key, agency_id, sequence, hash) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (chain_key) DO NOTHING RETURNING chain_key"
)


def _lock_chain_head(agency_id: int | None) -> tuple[int, str, bool]:
    """The chain's (sequence, hash, recreated), its head row locked until the transaction ends.

    Plain SQL: this runs for every audited change, and the ORM's overhead here was most
    of the cost of an append (see BENCHMARKS.md). ``recreated`` is True when the head was
    missing although the chain has events (someone deleted it): it is rebuilt from the
    newest event, so that audited actions (sign-ins above all) keep working.
    """
    key = agency_id or 0
    # SQLite (the demo) has no row locks; it serializes writers with its database lock.
    lock_sql = _HEAD_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    recreated = False
    with connection.cursor() as cursor:
        cursor.execute(lock_sql, [key])
        row = cursor.fetchone()
        if row is None:  # the chain's first event, or a lost head: create it, racing safely
            if agency_id is None:
                cursor.execute(_NEWEST_EVENT_SQL.format(where="agency_id IS NULL"))
            else:
                cursor.execute(_NEWEST_EVENT_SQL.format(where="agency_id = %s"), [agency_id])
            newest = cursor.fetchone() or (0, GENESIS_HASH)
            cursor.execute(_CREATE_HEAD_SQL, [key, agency_id, newest[0], newest[1]])
            recreated = cursor.fetchone() is not None and newest[0] > 0
            cursor.execute(lock_sql, [key])
            row = cursor.fetchone()
    return row[0], row[1], recreated


def _chain_scope(agency_id: int | None) -> AbstractContextManager[None]:
    return agency_scope(agency_id) if agency_id else system_scope()


def record_event(
    *,
    agency_id: int | None,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the agency's chain (or the platform chain when agency_id is None).

    Call it inside the transaction that makes the change, so the event commits with it.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    with _chain_scope(agency_id), transaction.atomic():
        head_sequence, prev_hash, recreated = _lock_chain_head(agency_id)
        if recreated:
            # The chain itself keeps the fact that its head had to be rebuilt: events
            # deleted from its end together with the head can no longer be proven missing.
            logger.error("audit chain head was missing; recreated", extra={"agency_id": agency_id})
            notice = _build_event(
                agency_id,
                head_sequence,
                prev_hash,
                Actor.system("audit"),
                "audit.chain_head_recreated",
                "",
                "",
                {"sequence": head_sequence},
            )
            _save_and_advance(notice)
            head_sequence, prev_hash = notice.sequence, notice.hash
        event = _build_event(
            agency_id,
            head_sequence,
            prev_hash,
            actor,
            action,
            object_type,
            object_id,
            changes or {},
        )
        _save_and_advance(event)
    return event


def _build_event(
    agency_id: int | None,
    head_sequence: int,
    prev_hash: str,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    changes: Mapping[str, Any],
) -> AuditEvent:
    event = AuditEvent(
        agency_id=agency_id,
        sequence=head_sequence + 1,
        created_at=timezone.now(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=_jsonable(redact(changes)),
        request_id=current_request_id(),
        ip_address=actor.ip_address,
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event)
    return event


def _save_and_advance(event: AuditEvent) -> None:
    event.save(force_insert=True)
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_HEAD_SQL, [event.sequence, event.hash, event.agency_id or 0])


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored value hashes the same when read back."""
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class ChainReport:
    agency_id: int | None
    count: int
    broken_event: AuditEvent | None = None
    problem: str = ""
    last_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.broken_event is None and not self.problem


def verify_events(agency_id: int | None, events: Iterable[AuditEvent]) -> ChainReport:
    """Recompute a chain: each hash must match its content and link to its predecessor."""
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for event in events:
        if event.sequence != expected_seq:
            return ChainReport(agency_id, count, event, f"sequence gap: expected {expected_seq}")
        if event.prev_hash != expected_prev:
            return ChainReport(agency_id, count, event, "link to the previous event is broken")
        if compute_hash(event) != event.hash:
            return ChainReport(agency_id, count, event, "content does not match its hash")
        expected_prev, expected_seq, count = event.hash, expected_seq + 1, count + 1
    return ChainReport(agency_id, count, last_hash=expected_prev)


def verify_chain(agency_id: int | None) -> ChainReport:
    """Verify every link, then that the chain ends exactly where its head says it does."""
    with _chain_scope(agency_id):
        events = AuditEvent.objects.filter(agency_id=agency_id).order_by("sequence")
        report = verify_events(agency_id, events.iterator(chunk_size=2000))
        head = AuditChainHead.objects.filter(chain_key=agency_id or 0).first()
    if not report.ok:
        return report
    problem = ""
    if head is None:
        # Without its head, deletions from the end of the chain cannot be detected.
        problem = "the chain head is missing" if report.count else ""
    elif head.sequence > report.count:
        problem = f"the newest events are missing: the chain head is at sequence {head.sequence}"
    elif head.sequence != report.count or head.hash != report.last_hash:
        problem = (
            f"the chain head is inconsistent: it is at sequence {head.sequence}, "
            f"the newest event at {report.count}"
        )
    if problem:
        return ChainReport(agency_id, report.count, None, problem, report.last_hash)
    return report


def chain_agency_ids() -> list[int | None]:
    """Every chain that has events or a head: the platform chain (None) and each agency's."""
    with system_scope():
        ids = set(AuditEvent.objects.values_list("agency_id", flat=True).distinct())
        ids |= {key or None for key in AuditChainHead.objects.values_list("chain_key", flat=True)}
        return sorted(ids, key=lambda i: (i is not None, i or 0))
