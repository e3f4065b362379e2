"""RFC 6962 tree hashing: the golden vectors, and the frontier against the reference."""

from __future__ import annotations

import hashlib

import pytest

from records import merkle

# RFC 6962 / Certificate Transparency test leaves (records-reference.md §4 (c)).
LEAVES = [
    b"",
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]


def _frontier_root(leaves: list[bytes]) -> bytes:
    frontier = merkle.extend([], 0, (merkle.leaf_hash(leaf) for leaf in leaves))
    return merkle.root(frontier)


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_golden_root_of_one_leaf():
    assert _frontier_root(LEAVES[:1]).hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_golden_root_of_eight_leaves():
    assert _frontier_root(LEAVES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@pytest.mark.parametrize("size", range(1, 70))
def test_the_frontier_gives_the_reference_root_at_every_size(size):
    data = [i.to_bytes(4, "big") for i in range(size)]
    assert _frontier_root(data) == merkle.tree_hash([merkle.leaf_hash(d) for d in data])


def test_appending_to_a_stored_frontier_equals_building_at_once():
    data = [bytes([i]) for i in range(37)]
    hashes = [merkle.leaf_hash(d) for d in data]
    first = merkle.extend([], 0, hashes[:20])
    assert merkle.root(merkle.extend(first, 20, hashes[20:])) == merkle.tree_hash(hashes)


def test_a_leaf_cannot_pass_for_an_interior_node():
    left, right = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)
