"""The local disk store keeps the rules S3 Object Lock keeps: versions never replaced, the
lock beside each version, no delete while held or retained."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from records.archive import LocalLockedStore, Lock, LockViolation, lock_time

LATER = datetime.now(UTC) + timedelta(days=30)


@pytest.fixture
def store(tmp_path) -> LocalLockedStore:
    return LocalLockedStore(tmp_path / "worm")


def test_each_put_is_a_new_version_and_the_old_bytes_stay(store):
    first = store.put(
        "worm/agency-1/c/conversation.json", b"one", Lock("compliance", LATER, False), "x"
    )
    second = store.put(
        "worm/agency-1/c/conversation.json", b"two", Lock("compliance", LATER, False), "x"
    )

    assert (first, second) == ("00000001", "00000002")
    assert store.get("worm/agency-1/c/conversation.json", first) == b"one"
    assert [v.version_id for v in store.versions("worm/agency-1/")] == [first, second]


def test_concurrent_writers_never_share_a_version(store):
    versions: list[str] = []

    def put(n: int) -> None:
        versions.append(store.put("worm/k", str(n).encode(), Lock("compliance", LATER, False), "x"))

    threads = [threading.Thread(target=put, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(versions) == [f"{n:08d}" for n in range(1, 9)]
    assert sorted(store.get("worm/k", v) for v in versions) == sorted(
        str(n).encode() for n in range(8)
    )


def test_the_lock_is_kept_beside_the_version(store, tmp_path):
    version = store.put("worm/k", b"x", Lock("governance", LATER, True), "x")

    assert store.lock("worm/k", version) == Lock("governance", lock_time(LATER), True)
    assert (tmp_path / "worm" / "worm" / "k" / f"{version}.lock").is_file()


def test_no_delete_while_held_even_after_retain_until(store):
    version = store.put(
        "worm/k", b"x", Lock("compliance", datetime.now(UTC) - timedelta(1), True), "x"
    )

    with pytest.raises(LockViolation, match="legal hold"):
        store.delete("worm/k", version)

    store.set_legal_hold("worm/k", version, False)
    store.delete("worm/k", version)
    assert store.get("worm/k", version) is None and store.versions("worm/") == []


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "worm/../../x"])
def test_a_key_outside_the_archive_is_refused(store, key):
    with pytest.raises(ValueError, match="outside the archive"):
        store.put(key, b"x", Lock("compliance", LATER, False), "x")


@pytest.mark.parametrize("version", ["../00000001", "latest", ""])
def test_a_version_that_is_not_one_is_refused(store, version):
    store.put("worm/k", b"x", Lock("compliance", LATER, False), "x")

    with pytest.raises(ValueError, match="not a version"):
        store.get("worm/k", version)
