"""Signed checkpoints: round trips, tampering, other keys, malformed JSON, naive times."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ijime_flow.clock import TOKYO
from ijime_flow.proofs.checkpoint import (
    CHECKPOINT_HEADER,
    Checkpoint,
    checkpoint_message,
    from_json,
    generate_keypair,
    load_private_key,
    load_public_key,
    sign_checkpoint,
    to_json,
    verify_checkpoint_signature,
)
from ijime_flow.proofs.merkle import EMPTY_ROOT, MerkleLog, leaf_hash, verify_consistency

PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, OTHER_PUBLIC = generate_keypair()
ROOT = MerkleLog(leaf_hash(f'{{"position":{i}}}'.encode()) for i in range(10)).root()
WHEN = datetime(2025, 6, 2, 17, 30, tzinfo=TOKYO)
LOG_ID = "board-13/school-0421 (東京都)"


@pytest.fixture(scope="module")
def cp() -> Checkpoint:
    return sign_checkpoint(PRIVATE, 10, ROOT, WHEN, LOG_ID)


def test_keypair_is_pem_ed25519() -> None:
    assert PRIVATE.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert PUBLIC.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert isinstance(load_private_key(PRIVATE), Ed25519PrivateKey)
    assert isinstance(load_public_key(PUBLIC.decode()), Ed25519PublicKey)
    assert load_private_key(PRIVATE).public_key().public_bytes_raw() == load_public_key(PUBLIC).public_bytes_raw()


def test_sign_and_verify(cp: Checkpoint) -> None:
    assert cp.size == 10 and cp.root == ROOT.hex() and cp.root_bytes == ROOT
    assert cp.issued_at == "2025-06-02T17:30:00+09:00" and cp.issued_at_datetime == WHEN
    assert cp.log_id == LOG_ID
    assert len(base64.b64decode(cp.signature)) == 64
    assert verify_checkpoint_signature(cp, PUBLIC)
    assert verify_checkpoint_signature(cp, PUBLIC.decode())


def test_the_signed_message_is_the_documented_text(cp: Checkpoint) -> None:
    expected = f"ijime-flow checkpoint v1\n{LOG_ID}\n10\n{ROOT.hex()}\n2025-06-02T17:30:00+09:00\n".encode()
    assert checkpoint_message(cp) == expected
    assert CHECKPOINT_HEADER == "ijime-flow checkpoint v1"
    # anyone can check it with the key and the text alone
    load_public_key(PUBLIC).verify(base64.b64decode(cp.signature), expected)


def test_json_round_trip(cp: Checkpoint) -> None:
    text = to_json(cp)
    obj = json.loads(text)
    assert obj == {
        "format": 1, "issued_at": cp.issued_at, "log_id": LOG_ID, "root": cp.root, "signature": cp.signature, "size": 10,
    }
    assert list(obj) == sorted(obj) and " " not in text.replace(LOG_ID, "")
    back = from_json(text)
    assert back == cp
    assert verify_checkpoint_signature(back, PUBLIC)
    assert from_json(text.encode()) == cp
    assert to_json(back) == text


def test_empty_log_checkpoint() -> None:
    cp = sign_checkpoint(PRIVATE, 0, EMPTY_ROOT, datetime(2025, 1, 1, tzinfo=UTC), "x")
    assert cp.issued_at == "2025-01-01T00:00:00+00:00"
    assert verify_checkpoint_signature(from_json(to_json(cp)), PUBLIC)


def test_consistency_between_two_checkpoints() -> None:
    """What checkpoints are for: a later one must extend an earlier one."""
    leaves = [leaf_hash(f'{{"position":{i}}}'.encode()) for i in range(25)]
    from ijime_flow.proofs.merkle import consistency_proof

    log = MerkleLog(leaves[:10])
    early = sign_checkpoint(PRIVATE, log.size, log.root(), WHEN, LOG_ID)
    log.extend(leaves[10:])
    late = sign_checkpoint(PRIVATE, log.size, log.root(), WHEN + timedelta(days=1), LOG_ID)
    proof = consistency_proof(leaves, early.size)
    assert verify_consistency(early.size, late.size, early.root_bytes, late.root_bytes, proof)
    rewritten = MerkleLog([*leaves[:3], leaf_hash(b"edited"), *leaves[4:]])
    forged = sign_checkpoint(PRIVATE, rewritten.size, rewritten.root(), WHEN + timedelta(days=1), LOG_ID)
    assert not verify_consistency(early.size, forged.size, early.root_bytes, forged.root_bytes, proof)


@pytest.mark.parametrize(
    "change",
    [
        {"size": 11},
        {"size": 9},
        {"size": 0},
        {"root": EMPTY_ROOT.hex()},
        {"root": "0" * 64},
        {"issued_at": "2025-06-02T17:30:01+09:00"},
        {"issued_at": "2025-06-02T17:30:00+08:00"},
        {"issued_at": "2025-06-02T08:30:00+00:00"},  # the same moment, but not the signed text
        {"log_id": "board-13/school-0422 (東京都)"},
        {"log_id": LOG_ID + " "},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_tampered_field_fails(cp: Checkpoint, change: dict[str, Any]) -> None:
    tampered = dataclasses.replace(cp, **change)
    assert not verify_checkpoint_signature(tampered, PUBLIC)
    assert not verify_checkpoint_signature(from_json(to_json(tampered)), PUBLIC)


def test_tampered_signature_fails(cp: Checkpoint) -> None:
    raw = base64.b64decode(cp.signature)
    for i in (0, 31, 32, 63):
        for bit in (0, 7):
            bad = bytearray(raw)
            bad[i] ^= 1 << bit
            tampered = dataclasses.replace(cp, signature=base64.b64encode(bytes(bad)).decode())
            assert not verify_checkpoint_signature(tampered, PUBLIC)
    other = sign_checkpoint(PRIVATE, 10, ROOT, WHEN, "another log")
    assert not verify_checkpoint_signature(dataclasses.replace(cp, signature=other.signature), PUBLIC)
    zeros = base64.b64encode(bytes(64)).decode()
    assert not verify_checkpoint_signature(dataclasses.replace(cp, signature=zeros), PUBLIC)


def test_another_key_fails(cp: Checkpoint) -> None:
    assert not verify_checkpoint_signature(cp, OTHER_PUBLIC)
    assert verify_checkpoint_signature(sign_checkpoint(OTHER_PRIVATE, 10, ROOT, WHEN, LOG_ID), OTHER_PUBLIC)
    assert not verify_checkpoint_signature(sign_checkpoint(OTHER_PRIVATE, 10, ROOT, WHEN, LOG_ID), PUBLIC)


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_checkpoint(PRIVATE, 10, ROOT, datetime(2025, 6, 2, 17, 30), LOG_ID)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": -1}, "size"),
        ({"size": True}, "size"),
        ({"size": 1.0}, "size"),
        ({"root": b"short"}, "32 bytes"),
        ({"root": ROOT.hex()}, "32 bytes"),
        ({"log_id": ""}, "non-empty"),
        ({"log_id": "a\nb"}, "one line"),
        ({"log_id": "a\tb"}, "one line"),
        ({"issued_at": "2025-06-02T17:30:00+09:00"}, "datetime"),
    ],
)
def test_sign_refuses_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"private_key_pem": PRIVATE, "size": 10, "root": ROOT, "issued_at": WHEN, "log_id": LOG_ID}
    with pytest.raises(ValueError, match=message):
        sign_checkpoint(**{**args, **kwargs})


def test_other_offsets_are_kept() -> None:
    cp = sign_checkpoint(PRIVATE, 1, ROOT, datetime(2025, 6, 2, 8, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-5))), "x")
    assert cp.issued_at == "2025-06-02T08:30:00.123456-05:00"
    assert verify_checkpoint_signature(from_json(to_json(cp)), PUBLIC)


# ---------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------


def test_bad_keys_raise_value_error() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_private = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ec_public = ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    encrypted = load_private_key(PRIVATE).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    bad: object
    for bad, message in [
        (b"", "not a valid PEM private key"),
        (b"garbage", "not a valid PEM private key"),
        (PUBLIC, "not a valid PEM private key"),
        (PRIVATE[:-40], "not a valid PEM private key"),
        (ec_private, "not an Ed25519 private key"),
        (encrypted, "encrypted"),
        (None, "PEM text"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_private_key(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=message):
            sign_checkpoint(bad, 1, ROOT, WHEN, "x")  # type: ignore[arg-type]
    for bad, message in [
        (b"", "not a valid PEM public key"),
        ("garbage", "not a valid PEM public key"),
        (PRIVATE, "not a valid PEM public key"),
        (ec_public, "not an Ed25519 public key"),
        (12, "PEM text"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_public_key(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=message):
            verify_checkpoint_signature(sign_checkpoint(PRIVATE, 1, ROOT, WHEN, "x"), bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# Malformed JSON
# ---------------------------------------------------------------------------------------------------


def _good() -> dict[str, Any]:
    return json.loads(to_json(sign_checkpoint(PRIVATE, 10, ROOT, WHEN, LOG_ID)))  # type: ignore[no-any-return]


def _with(**changes: Any) -> str:
    obj = _good()
    obj.update(changes)
    return json.dumps(obj)


def _without(field: str) -> str:
    obj = _good()
    del obj[field]
    return json.dumps(obj)


MALFORMED = [
    ("", "malformed"),
    ("{", "malformed"),
    ("not json", "malformed"),
    ("[1, 2]", "must be an object"),
    ("null", "must be an object"),
    ('"text"', "must be an object"),
    ("{}", "lacks format, issued_at, log_id, root, signature, size"),
    ("[" * 100_000, "malformed"),
    (b"\xff\xfe", "not UTF-8"),
    (_without("signature"), "lacks signature"),
    (_without("size"), "lacks size"),
    (_without("format"), "lacks format"),
    (_with(extra=1), "unknown fields extra"),
    (_with(format=2), "format 2"),
    (_with(format="1"), "format '1'"),
    (_with(format=1.0), "format 1.0"),
    (_with(format=True), "format True"),
    (_with(size="10"), "size must be an integer"),
    (_with(size=10.0), "size must be an integer"),
    (_with(size=True), "size must be an integer"),
    (_with(size=None), "size must be an integer"),
    (_with(size=-1), "non-negative"),
    (_with(root=123), "root must be a string"),
    (_with(root=ROOT.hex().upper()), "64 lowercase hex"),
    (_with(root=ROOT.hex()[:-2]), "64 lowercase hex"),
    (_with(root=ROOT.hex() + "\n"), "64 lowercase hex"),
    (_with(issued_at=None), "issued_at must be a string"),
    (_with(issued_at="yesterday"), "not an ISO 8601"),
    (_with(issued_at="2025-06-02T17:30:00"), "no UTC offset"),
    (_with(log_id=["a"]), "log_id must be a string"),
    (_with(log_id=""), "non-empty"),
    (_with(log_id="a\nb"), "one line"),
    (_with(log_id="a\u2028b"), "one line"),
    (_with(signature=None), "signature must be a string"),
    (_with(signature="not base64!"), "not valid base64"),
    (_with(signature="ü"), "not valid base64"),
    (_with(signature=base64.b64encode(bytes(63)).decode()), "64 bytes"),
    (_with(signature=base64.b64encode(bytes(64)).decode().rstrip("=")), "base64"),
    ('{"format":1,"format":1,"issued_at":"x","log_id":"x","root":"x","signature":"x","size":1}', "'format' twice"),
    (42, "must be text"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_json_raises_value_error(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match="checkpoint") as info:
        from_json(text)
    assert type(info.value) is ValueError
    assert message in str(info.value), str(info.value)


def test_checkpoint_constructor_checks_fields(cp: Checkpoint) -> None:
    with pytest.raises(ValueError, match="root"):
        dataclasses.replace(cp, root="zz")
    with pytest.raises(ValueError, match="signature"):
        dataclasses.replace(cp, signature="")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cp.size = 3  # type: ignore[misc]
