"""Fixity of the WORM archive: every archived version re-read and compared with its row.

``verify_archive(agency_id)`` lists the problems (``[]`` when the archive is intact):

- a version the database lists but the store no longer has (**missing**);
- a version whose bytes no longer have the SHA-256 (or size) recorded when it was written
  (**altered**);
- a version whose lock in the store is weaker than the row says: retain-until earlier,
  compliance turned into governance, a legal hold off that should be on (the store allowed
  what our code never does — moto does, for instance);
- a version in the agency's part of the store that no row lists (**extra**: written
  behind the platform's back, or by a run whose transaction rolled back);
- a destroyed version that is still in the store;
- live versions recorded in another store than the configured one (not verifiable here).

``records_verify`` reports the first problem and exits 1.
"""

from __future__ import annotations

import hashlib

from records.archive import COMPLIANCE, LockedStore, StoredVersion, worm_store
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope


def agency_prefix(agency_id: int) -> str:
    return f"worm/agency-{agency_id}/"


def verify_archive(
    agency_id: int, store: LockedStore | None = None, *, read: bool = True
) -> list[str]:
    """The agency's archive problems, in key order (see the module docstring).
    ``read=False`` compares the store's listing (presence, size) and locks with the rows
    without re-reading the bytes."""
    store = store or worm_store()
    problems: list[str] = []
    with agency_scope(agency_id):
        rows = list(
            ArchivedObject.objects.filter(agency_id=agency_id, store=store.name).order_by(
                "key", "id"
            )
        )
        elsewhere = (
            ArchivedObject.objects.filter(agency_id=agency_id, destroyed_at__isnull=True)
            .exclude(store=store.name)
            .order_by()
            .values_list("store", flat=True)
            .distinct()
        )
        for other in sorted(elsewhere):
            problems.append(
                f"archived object versions are in {other}, not in the configured store "
                f"{store.name}: they cannot be verified (RECORDS_WORM_BACKEND changed?)"
            )
    listed = {(v.key, v.version_id): v for v in store.versions(agency_prefix(agency_id))}
    for row in rows:
        name = f"{row.key} (version {row.version_id}, conversation {row.conversation_id})"
        present = listed.pop((row.key, row.version_id), None)
        if row.destroyed_at is not None:
            if present is not None:
                problems.append(f"archive object {name} was destroyed but is still in the store")
            continue
        problems.extend(_check(store, row, name, present, read))
    for key, version_id in sorted(listed):
        problems.append(
            f"the archive store holds {key} (version {version_id}), which no archived object "
            "in the database lists (written outside the platform?)"
        )
    return problems


def _check(
    store: LockedStore,
    row: ArchivedObject,
    name: str,
    present: StoredVersion | None,
    read: bool,
) -> list[str]:
    if present is None:
        return [f"archive object {name} is missing from the store"]
    if present.size != row.size:
        return [f"archive object {name} was altered: {present.size} bytes, {row.size} archived"]
    if read:
        data = store.get(row.key, row.version_id)
        if data is None:
            return [f"archive object {name} is missing from the store"]
        digest = hashlib.sha256(data).hexdigest()
        if digest != row.sha256:
            return [
                f"archive object {name} was altered: its SHA-256 is "
                f"{digest[:16]}…, {row.sha256[:16]}… when archived"
            ]
    lock = store.lock(row.key, row.version_id)
    if lock is None:
        return [f"archive object {name} has no lock in the store"]
    if lock.retain_until < row.retain_until:
        return [
            f"archive object {name}: the store retains it until {lock.retain_until:%Y-%m-%d}, "
            f"not {row.retain_until:%Y-%m-%d} (retention was shortened)"
        ]
    if row.mode == COMPLIANCE and lock.mode != COMPLIANCE:
        return [f"archive object {name}: its compliance lock became {lock.mode or 'none'}"]
    if lock.legal_hold != row.legal_hold:
        state = "on" if row.legal_hold else "off"
        return [f"archive object {name}: its legal hold should be {state} in the store"]
    return []
