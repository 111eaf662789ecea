"""The Merkle tree of the event log: RFC 6962 known answers, a naive reference, and mutation tests.

Every proof for every tree of 0..64 leaves is compared with the reference written from the RFC's
definitions (tests/merkle_reference.py), verified, and then mutated the way transparency logs test their
verifiers: every mutation must be rejected, and the real verifier (RFC 9162's iterative algorithms) must
agree with the reference verifier (RFC 6962's recursive definitions) on every one of them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import merkle_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ijime_flow.proofs.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleLog,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------------
# Test data
# ---------------------------------------------------------------------------------------------------

SMALL = 64
LARGE = 2048

LEAVES = [leaf_hash(f'{{"position":{i}}}'.encode()) for i in range(2 * LARGE + 2)]
ROOTS = [ref.EMPTY]
_log = MerkleLog()
for _h in LEAVES[: 2 * SMALL + 2]:
    _log.append(_h)
    ROOTS.append(_log.root())
del _log


def flip(h: bytes, bit: int = 0) -> bytes:
    """The same hash with one bit flipped."""
    b = bytearray(h)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


SOME_HASH = hashlib.sha256(b"some other hash").digest()

# The Certificate Transparency test tree (the C++ reference implementation, and transparency-dev/merkle
# testonly/constants.go and proof/verify_test.go): leaf inputs, the root at each size 0..8, and proofs.
CT_DATA = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
CT_LEAVES = [leaf_hash(d) for d in CT_DATA]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
# (0-based leaf index, tree size, audit path)
CT_INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (old size, new size, consistency proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


# ---------------------------------------------------------------------------------------------------
# Hashing and known answers
# ---------------------------------------------------------------------------------------------------


def test_hashing_is_rfc6962() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == CT_ROOTS[0]
    assert root([]) == EMPTY_ROOT
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest() != node_hash(b, a)
    # domain separation: a leaf whose data looks like two hashes is not the node over them
    assert leaf_hash(a + b) != node_hash(a, b)
    assert len(leaf_hash(b"")) == HASH_SIZE


def test_certificate_transparency_roots() -> None:
    for n in range(len(CT_LEAVES) + 1):
        assert root(CT_LEAVES[:n]) == CT_ROOTS[n], n
        assert root(CT_LEAVES, size=n) == CT_ROOTS[n], n
        assert MerkleLog(CT_LEAVES[:n]).root() == CT_ROOTS[n], n
        assert ref.mth(CT_LEAVES[:n]) == CT_ROOTS[n], n  # the reference agrees with the world too


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_certificate_transparency_inclusion(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(CT_LEAVES, index, size=size)
    assert [p.hex() for p in proof] == expected
    assert proof == inclusion_proof(CT_LEAVES[:size], index)
    assert verify_inclusion(CT_LEAVES[index], index, size, proof, CT_ROOTS[size])


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY)
def test_certificate_transparency_consistency(old: int, new: int, expected: list[str]) -> None:
    proof = consistency_proof(CT_LEAVES, old, size=new)
    assert [p.hex() for p in proof] == expected
    assert proof == consistency_proof(CT_LEAVES[:new], old)
    assert verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


# ---------------------------------------------------------------------------------------------------
# Against the reference, every size 0..64
# ---------------------------------------------------------------------------------------------------


def test_roots_match_reference() -> None:
    log = MerkleLog()
    for n in range(SMALL + 1):
        expected = ref.mth(LEAVES[:n])
        assert root(LEAVES[:n]) == expected == ROOTS[n], n
        assert root(LEAVES, size=n) == expected, n
        assert log.size == len(log) == n and log.root() == expected, n
        log.append(LEAVES[n])
    assert repr(MerkleLog()) == f"MerkleLog(size=0, root={EMPTY_ROOT.hex()})"


def test_merkle_log_append_data_and_extend() -> None:
    bodies = [f'{{"n":{i}}}'.encode() for i in range(37)]
    one = MerkleLog()
    for b in bodies:
        one.append_data(b)
    two = MerkleLog()
    two.extend(leaf_hash(b) for b in bodies)
    assert one.root() == two.root() == ref.mth([ref.leaf(b) for b in bodies])


def test_inclusion_proofs_match_reference() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = inclusion_proof(LEAVES, i, size=n)
            assert proof == ref.path(i, LEAVES[:n]), (i, n)
            assert verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n]), (i, n)
            assert ref.verify_path(LEAVES[i], i, n, proof, ROOTS[n]), (i, n)


def test_consistency_proofs_match_reference() -> None:
    for n in range(SMALL + 1):
        for m in range(n + 1):
            proof = consistency_proof(LEAVES, m, size=n)
            assert proof == ref.proof(m, LEAVES[:n]), (m, n)
            assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)
            assert ref.verify_proof(m, n, ROOTS[m], ROOTS[n], proof), (m, n)


# ---------------------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------------------

RNG = random.Random(6962)


def proof_mutations(proof: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """Every way of damaging a valid proof that must make it fail."""
    for j in range(len(proof)):
        for bit in (0, 3, 255):
            yield f"proof[{j}] bit {bit} flipped", [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
    if proof:
        yield "truncated", proof[:-1]
        yield "first element dropped", proof[1:]
        yield "duplicated last element", [*proof, proof[-1]]
        yield "duplicated first element in front", [proof[0], *proof]
    yield "random element appended", [*proof, RNG.randbytes(HASH_SIZE)]
    yield "random element in front", [RNG.randbytes(HASH_SIZE), *proof]
    for j in range(len(proof) - 1):
        if proof[j] != proof[j + 1]:
            yield f"elements {j} and {j + 1} swapped", [*proof[:j], proof[j + 1], proof[j], *proof[j + 2 :]]
    if len(proof) > 1:
        yield "reversed", proof[::-1]
        yield "element inserted", [proof[0], SOME_HASH, *proof[1:]]


def check_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root_: bytes, *, must_fail: bool) -> None:
    got = verify_inclusion(leaf, index, size, proof, root_)
    assert got == ref.verify_path(leaf, index, size, proof, root_), (index, size)
    if must_fail:
        assert not got, (index, size)


def inclusion_mutation_checks(i: int, n: int, proof: list[bytes]) -> int:
    leaf, good_root = LEAVES[i], ROOTS[n]
    checks = 0

    def bad(leaf: bytes, index: int, size: int, proof: list[bytes], root_: bytes) -> None:
        nonlocal checks
        check_inclusion(leaf, index, size, proof, root_, must_fail=True)
        checks += 1

    for index in (i - 1, i + 1, i ^ 2, i + n, -1, n):
        if index != i:
            bad(leaf, index, n, proof, good_root)
    for size in (0, 2 * n, n // 2 if n // 2 != n else 0, n + 1, n - 1):
        if size != n:
            # The honest root of a tree of that size: never verifies with another size's proof.
            bad(leaf, i, size, proof, ROOTS[size])
    for size in (0, 2 * n):
        bad(leaf, i, size, proof, good_root)
    # One size up or down *with the original root* verifies exactly when the tree of that size gives
    # the leaf the same audit-path shape: RFC 6962 roots do not commit to the size, which is why a
    # checkpoint signs the size and the root together. Real and reference verifiers must agree.
    for size in (n - 1, n + 1):
        check_inclusion(leaf, i, size, proof, good_root, must_fail=False)
        checks += 1
    for other in {LEAVES[(i + 1) % n], LEAVES[n], flip(leaf), flip(leaf, 200), SOME_HASH} - {leaf}:
        bad(other, i, n, proof, good_root)
    for wrong_root in {flip(good_root), flip(good_root, 255), EMPTY_ROOT, ROOTS[n - 1], ROOTS[n + 1], leaf} - {good_root}:
        bad(leaf, i, n, proof, wrong_root)
    for _, mutated in proof_mutations(proof):
        bad(leaf, i, n, mutated, good_root)
    # A proof one element too long, with a root made to match it: the tree above the real root.
    bad(leaf, i, n, [*proof, SOME_HASH], node_hash(SOME_HASH, good_root))
    bad(leaf, i, n, [*proof, SOME_HASH], node_hash(good_root, SOME_HASH))
    return checks


def test_inclusion_mutations_all_fail() -> None:
    checks = 0
    for n in range(1, SMALL + 1):
        for i in range(n):
            checks += inclusion_mutation_checks(i, n, inclusion_proof(LEAVES, i, size=n))
    assert checks > 50_000


def check_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: list[bytes], *, must_fail: bool) -> None:
    got = verify_consistency(m, n, old_root, new_root, proof)
    assert got == ref.verify_proof(m, n, old_root, new_root, proof), (m, n)
    if must_fail:
        assert not got, (m, n)


def consistency_mutation_checks(m: int, n: int, proof: list[bytes]) -> int:
    old_root, new_root = ROOTS[m], ROOTS[n]
    checks = 0

    def bad(m: int, n: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> None:
        nonlocal checks
        check_consistency(m, n, old_root, new_root, proof, must_fail=True)
        checks += 1

    if m != n:
        bad(n, m, old_root, new_root, proof)  # sizes swapped
        bad(n, m, new_root, old_root, proof)  # sizes and roots swapped
        bad(m, n, new_root, old_root, proof)  # roots swapped
    for old_size in (m - 1, m + 1, m ^ 2, 0, -1, n + 1):
        if old_size != m:
            bad(old_size, n, old_root, new_root, proof)
            if 0 < old_size <= 2 * SMALL + 1 and old_size != n:  # (the empty tree and the tree itself: consistent)
                bad(old_size, n, ROOTS[old_size], new_root, proof)
    for new_size in (2 * n, n // 2, m - 1, 0, n - 1, n + 1):
        if new_size not in (n, m) and new_size >= 0 and m > 0:  # (any tree extends the empty one)
            bad(m, new_size, old_root, ROOTS[new_size], proof)
    for new_size in (2 * n, n // 2):
        if new_size != n and m > 0:
            bad(m, new_size, old_root, new_root, proof)
    # As for inclusion: one size up or down with the original roots can coincide in shape.
    for new_size in (n - 1, n + 1):
        if new_size >= m:
            check_consistency(m, new_size, old_root, new_root, proof, must_fail=False)
            checks += 1
    for wrong in {flip(old_root), flip(old_root, 100), EMPTY_ROOT, SOME_HASH, ROOTS[m + 1], new_root} - {old_root}:
        if m != n or wrong != new_root:
            bad(m, n, wrong, new_root, proof)
    for wrong in {flip(new_root), flip(new_root, 100), EMPTY_ROOT, SOME_HASH, ROOTS[n + 1], old_root} - {new_root}:
        if m == 0 and n > 0:  # every non-empty tree extends the empty one, whatever its root
            check_consistency(m, n, old_root, wrong, proof, must_fail=False)
            checks += 1
        else:
            bad(m, n, old_root, wrong, proof)
    if proof:
        bad(m, n, old_root, new_root, [])
    for _, mutated in proof_mutations(proof):
        bad(m, n, old_root, new_root, mutated)
    # A proof one element too long, with roots made to match it.
    longer = [*proof, SOME_HASH]
    bad(m, n, node_hash(SOME_HASH, old_root), node_hash(SOME_HASH, new_root), longer)
    bad(m, n, old_root, node_hash(SOME_HASH, new_root), longer)
    bad(m, n, old_root, node_hash(new_root, SOME_HASH), longer)
    return checks


def test_consistency_mutations_all_fail() -> None:
    checks = 0
    for n in range(SMALL + 1):
        for m in range(n + 1):
            checks += consistency_mutation_checks(m, n, consistency_proof(LEAVES, m, size=n))
    assert checks > 50_000


def test_consistency_edge_cases() -> None:
    # equal sizes: empty proof and equal roots
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    # the empty tree is consistent with every tree; its root is SHA-256("")
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, ROOTS[1], [])
    assert not verify_consistency(0, 9, ROOTS[1], ROOTS[9], [])
    assert not verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [EMPTY_ROOT])
    # 0 < old < new needs a proof
    assert not verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])
    assert verify_consistency(1, 2, ROOTS[1], ROOTS[2], [LEAVES[1]])
    # the old tree a power of two: its root is not part of the proof (RFC 9162 prepends it)
    assert consistency_proof(LEAVES, 4, size=6) == [ref.mth(LEAVES[4:6])]
    assert not verify_consistency(4, 6, ROOTS[4], ROOTS[6], [ROOTS[4], ref.mth(LEAVES[4:6])])
    # inclusion in a one-leaf tree: the root is the leaf hash and the path is empty
    assert verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    assert not verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)


# ---------------------------------------------------------------------------------------------------
# Garbage in: verifiers answer False, generators raise ValueError
# ---------------------------------------------------------------------------------------------------

garbage_hash = st.one_of(
    st.binary(max_size=80),
    st.none(),
    st.integers(),
    st.text(max_size=40),
    st.just(b"\x00" * HASH_SIZE),
    st.lists(st.binary(max_size=40), max_size=3),
)
garbage_int = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.none(), st.floats(), st.booleans(), st.text(max_size=5)
)
garbage_proof = st.one_of(
    st.lists(st.binary(min_size=31, max_size=33), max_size=10),
    st.lists(garbage_hash, max_size=8),
    st.binary(max_size=64),
    st.text(max_size=20),
    st.none(),
    st.integers(),
)


@settings(max_examples=300, deadline=None)
@given(leaf=garbage_hash, index=garbage_int, size=garbage_int, proof=garbage_proof, root_=garbage_hash)
def test_verify_inclusion_never_raises(leaf: Any, index: Any, size: Any, proof: Any, root_: Any) -> None:
    assert verify_inclusion(leaf, index, size, proof, root_) in (True, False)


@settings(max_examples=300, deadline=None)
@given(old=garbage_int, new=garbage_int, old_root=garbage_hash, new_root=garbage_hash, proof=garbage_proof)
def test_verify_consistency_never_raises(old: Any, new: Any, old_root: Any, new_root: Any, proof: Any) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof) in (True, False)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=SMALL),
    data=st.data(),
)
def test_verifiers_reject_garbage_around_a_valid_proof(n: int, data: st.DataObject) -> None:
    """Valid proofs with one part replaced by garbage: False, never an exception."""
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = inclusion_proof(LEAVES, i, size=n)
    which = data.draw(st.sampled_from(["leaf", "index", "size", "proof", "root", "element"]))
    args: list[Any] = [LEAVES[i], i, n, proof, ROOTS[n]]
    if which == "element" and proof:
        j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = data.draw(st.binary(max_size=64).filter(lambda b: len(b) != HASH_SIZE))
        args[3] = [*proof[:j], bad, *proof[j + 1 :]]
    elif which in ("leaf", "root"):
        args[0 if which == "leaf" else 4] = data.draw(st.binary(max_size=64).filter(lambda b: len(b) != HASH_SIZE))
    elif which in ("index", "size"):
        args[1 if which == "index" else 2] = data.draw(st.one_of(st.integers(max_value=-1), st.none(), st.floats()))
    elif which == "proof":
        args[3] = data.draw(st.one_of(st.none(), st.binary(max_size=64), st.text(max_size=10)))
    else:
        return
    assert verify_inclusion(*args) is False
    m = data.draw(st.integers(min_value=1, max_value=n))
    cargs: list[Any] = [m, n, ROOTS[m], ROOTS[n], consistency_proof(LEAVES, m, size=n)]
    cargs[{"leaf": 2, "root": 3, "index": 0, "size": 1, "proof": 4, "element": 4}[which]] = args[
        {"leaf": 0, "root": 4, "index": 1, "size": 2, "proof": 3, "element": 3}[which]
    ]
    if which == "element" and not cargs[4]:
        cargs[4] = [b"\x00" * 31]
    assert verify_consistency(*cargs) is False


def test_generators_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="leaf index"):
        inclusion_proof(LEAVES[:8], 8)
    with pytest.raises(ValueError, match="leaf index"):
        inclusion_proof(LEAVES[:8], -1)
    with pytest.raises(ValueError, match="leaf index"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="old tree size"):
        consistency_proof(LEAVES[:8], 9)
    with pytest.raises(ValueError, match="old tree size"):
        consistency_proof(LEAVES[:8], -1)
    with pytest.raises(ValueError, match="tree size"):
        root(LEAVES[:8], size=9)
    with pytest.raises(ValueError, match="not 32 bytes"):
        root([LEAVES[0], b"short"])
    with pytest.raises(ValueError, match="not 32 bytes"):
        MerkleLog().append(b"short")
    assert consistency_proof(LEAVES[:8], 0) == consistency_proof(LEAVES[:8], 8) == []


# ---------------------------------------------------------------------------------------------------
# Larger trees
# ---------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1, max_value=LARGE), data=st.data())
def test_large_trees_match_reference(n: int, data: st.DataObject) -> None:
    leaves = LEAVES[:n]
    expected_root = ref.mth(leaves)
    assert root(leaves) == expected_root == MerkleLog(leaves).root()
    for i in {0, n - 1, data.draw(st.integers(min_value=0, max_value=n - 1))}:
        proof = inclusion_proof(leaves, i)
        assert proof == ref.path(i, leaves)
        assert verify_inclusion(leaves[i], i, n, proof, expected_root)
        check_inclusion(leaves[i], i + 1, n, proof, expected_root, must_fail=True)
        check_inclusion(flip(leaves[i]), i, n, proof, expected_root, must_fail=True)
        for _, mutated in proof_mutations(proof):
            check_inclusion(leaves[i], i, n, mutated, expected_root, must_fail=True)
    for m in {1, n - 1, n, data.draw(st.integers(min_value=0, max_value=n))}:
        proof = consistency_proof(LEAVES, m, size=n)
        assert proof == ref.proof(m, leaves)
        old_root = ref.mth(LEAVES[:m])
        assert verify_consistency(m, n, old_root, expected_root, proof)
        check_consistency(m, n, flip(old_root), expected_root, proof, must_fail=True)
        check_consistency(m, n, old_root, flip(expected_root), proof, must_fail=m > 0)
        for _, mutated in proof_mutations(proof):
            check_consistency(m, n, old_root, expected_root, mutated, must_fail=True)


def test_a_hundred_thousand_leaves_without_recursion() -> None:
    n = 100_003
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    log = MerkleLog()
    old_root = b""
    for k, h in enumerate(leaves, start=1):
        log.append(h)
        if k == 65_536:
            old_root = log.root()
    big_root = log.root()
    assert root(leaves) == big_root
    for i in (0, 65_535, 65_536, n - 1):
        assert verify_inclusion(leaves[i], i, n, inclusion_proof(leaves, i), big_root)
    for m in (1, 65_536, 99_999):
        old = old_root if m == 65_536 else root(leaves, size=m)
        assert verify_consistency(m, n, old, big_root, consistency_proof(leaves, m))
