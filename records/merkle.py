"""RFC 6962 (Certificate Transparency) Merkle tree hashing, kept as a compact range.

leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), the empty tree is
SHA-256(""); a tree of n leaves splits at the largest power of two below n. The prefixes
stop a leaf from being passed off as an interior node.

A checkpoint stores the tree's *frontier*: the roots of the perfect subtrees that make up
its size (one per set bit of n, largest first). Appending k leaves then costs O(k + log n)
whatever the size of the tree, and the root is a fold of the frontier; nothing needs the
whole tree in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def append(frontier: Sequence[bytes], size: int, leaf: bytes) -> list[bytes]:
    """The frontier of the tree of ``size + 1`` leaves: ``leaf`` (a leaf *hash*) appended.

    Each trailing 1 bit of ``size`` is a perfect subtree of the same height as the new
    one: merge them, right to left, as a binary counter carries.
    """
    result = [*frontier, leaf]
    carry = size
    while carry & 1:
        right, left = result.pop(), result.pop()
        result.append(node_hash(left, right))
        carry >>= 1
    return result


def extend(frontier: Sequence[bytes], size: int, leaves: Iterable[bytes]) -> list[bytes]:
    result = list(frontier)
    for leaf in leaves:
        result = append(result, size, leaf)
        size += 1
    return result


def root(frontier: Sequence[bytes]) -> bytes:
    """The tree's root: MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n])) folds right to left."""
    if not frontier:
        return EMPTY_ROOT
    result = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        result = node_hash(subtree, result)
    return result


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, straight from RFC 6962 §2.1 (the reference the frontier is
    tested against)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(tree_hash(leaves[:split]), tree_hash(leaves[split:]))
