"""A deliberately naive Merkle tree, written line by line from the definitions of RFC 6962 §2.1.

Recursive, slicing, no caching, no cleverness: only the tests use it, to check the real implementation
(:mod:`ijime_flow.merkle`) against the text of the standard. It hashes with :mod:`hashlib` itself rather
than importing anything from the code under test.

The two verifiers here are also taken straight from the definitions (they rebuild the recursion of
PATH and SUBPROOF and hash what the proof supplies), unlike the real ones, which follow the iterative
algorithms of RFC 9162. Differential tests compare both on every proof and every mutation of it.
"""

from __future__ import annotations

import hashlib

EMPTY = hashlib.sha256(b"").digest()


def leaf(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), found by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (a leaf's MTH is its leaf hash)."""
    n = len(hashes)
    if n == 0:
        return EMPTY
    if n == 1:
        return hashes[0]
    k = split(n)
    return node(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    n = len(hashes)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def proof(m: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2 (empty if m is 0 or n)."""
    if m in (0, len(hashes)):
        return []
    return subproof(m, hashes, True)


def subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if b else [mth(hashes)]
    k = split(n)
    if m <= k:
        return [*subproof(m, hashes[:k], b), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


def verify_path(leaf_hash: bytes, m: int, n: int, audit: list[bytes], root: bytes) -> bool:
    """Rebuild MTH(D[n]) from the leaf and the audit path by the recursion of PATH."""
    if not 0 <= m < n:
        return False
    rest = list(audit)

    def build(m: int, n: int) -> bytes | None:
        if n == 1:
            return leaf_hash
        k = split(n)
        if not rest:
            return None
        sibling = rest.pop()  # the last element is the outermost sibling
        if m < k:
            inner = build(m, k)
            return None if inner is None else node(inner, sibling)
        inner = build(m - k, n - k)
        return None if inner is None else node(sibling, inner)

    got = build(m, n)
    return got is not None and not rest and got == root


def verify_proof(m: int, n: int, old_root: bytes, new_root: bytes, consistency: list[bytes]) -> bool:
    """Rebuild both MTH(D[m]) and MTH(D[n]) from the proof by the recursion of SUBPROOF.

    At size 0 the old root must be the empty tree's hash and the proof empty; at m == n the proof must
    be empty and the roots equal.
    """
    if not 0 <= m <= n:
        return False
    if m == 0:
        return not consistency and old_root == EMPTY and (n > 0 or new_root == EMPTY)
    if m == n:
        return not consistency and old_root == new_root
    rest = list(consistency)

    def build(m: int, n: int, b: bool) -> tuple[bytes, bytes] | None:
        """(hash of the old part, hash of the new part) of D[0:n], whose first m leaves are old."""
        if m == n:
            if b:
                return old_root, old_root  # the old tree itself: its root is known
            if not rest:
                return None
            h = rest.pop()
            return h, h
        k = split(n)
        if not rest:
            return None
        sibling = rest.pop()
        if m <= k:
            inner = build(m, k, b)
            return None if inner is None else (inner[0], node(inner[1], sibling))
        inner = build(m - k, n - k, False)
        return None if inner is None else (node(sibling, inner[0]), node(sibling, inner[1]))

    got = build(m, n, True)
    return got is not None and not rest and got == (old_root, new_root)
