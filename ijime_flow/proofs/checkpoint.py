"""Signed checkpoints: the size and Merkle root of a whole event store, signed with Ed25519.

A checkpoint says "this log, at this moment, held exactly ``size`` events, and the RFC 6962 Merkle tree
over them (:mod:`ijime_flow.proofs.merkle`, leaves in global ``position`` order) has this ``root``". Kept
outside the database (printed, mailed to the board of education, committed elsewhere), checkpoints
catch what a hash chain cannot: a case deleted whole, a truncated tail, a log rewritten by whoever
controls the database. Every later log must be consistent with every earlier checkpoint.

The signature covers exactly these UTF-8 bytes (``CHECKPOINT_HEADER`` and then one field a line, each
line ended by ``\\n``, nothing else)::

    ijime-flow checkpoint v1
    {log_id}
    {size}
    {root}
    {issued_at}

``log_id`` is free text naming the store (a school or board id) without line breaks; ``size`` is a
decimal integer without sign or leading zeros; ``root`` is 64 lowercase hex digits; ``issued_at`` is
the ISO 8601 text stored in the checkpoint, with its UTC offset (``datetime.isoformat()``). The root
does not commit to the size (RFC 6962), which is why both are signed together.

Keys are Ed25519 (RFC 8032) in PEM: the private key PKCS #8 unencrypted, the public key
SubjectPublicKeyInfo. The JSON form (:func:`to_json`) carries ``"format": 1`` and the five fields, the
signature in standard base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..canonical import canonical_json

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_HEADER",
    "Checkpoint",
    "checkpoint_message",
    "from_json",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign_checkpoint",
    "to_json",
    "verify_checkpoint_signature",
]

CHECKPOINT_FORMAT = 1
"""The ``format`` of the JSON form."""

CHECKPOINT_HEADER = "ijime-flow checkpoint v1"
"""The first line of the signed text; it names the kind of statement and its version."""

_FIELDS = ("format", "issued_at", "log_id", "root", "signature", "size")
_ROOT = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_SIZE = 64


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM: (private key PKCS #8 unencrypted, public key SubjectPublicKeyInfo)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def _pem_bytes(pem: bytes | str, what: str) -> bytes:
    if isinstance(pem, str):
        return pem.encode("utf-8")
    if isinstance(pem, bytes | bytearray | memoryview):
        return bytes(pem)
    raise ValueError(f"{what} must be PEM text (bytes or str), not {type(pem).__name__}")


def load_private_key(pem: bytes | str) -> Ed25519PrivateKey:
    """An Ed25519 private key from unencrypted PKCS #8 PEM; ``ValueError`` saying what is wrong otherwise."""
    data = _pem_bytes(pem, "the private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted, and no password given
        raise ValueError(f"the private key could not be loaded: it is encrypted ({exc})") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"the private key is not a valid PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the private key is {type(key).__name__.lstrip('_')}, not an Ed25519 private key")
    return key


def load_public_key(pem: bytes | str) -> Ed25519PublicKey:
    """An Ed25519 public key from SubjectPublicKeyInfo PEM; ``ValueError`` saying what is wrong otherwise."""
    data = _pem_bytes(pem, "the public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"the public key is not a valid PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"the public key is {type(key).__name__.lstrip('_')}, not an Ed25519 public key")
    return key


def _parse_issued_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"issued_at {text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"issued_at {text!r} has no UTC offset")
    return moment


def _check_log_id(log_id: object) -> str:
    if not isinstance(log_id, str) or not log_id:
        raise ValueError("log_id must be a non-empty string")
    if any(c in log_id for c in "\n\r\x85\u2028\u2029") or not log_id.isprintable():
        raise ValueError(f"log_id {log_id!r} must be one line of printable text")
    return log_id


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the size and Merkle root of a log at a moment.

    Construction checks the form of every field (``ValueError`` naming the field); only
    :func:`verify_checkpoint_signature` says whether the signature is good.
    """

    size: int
    """How many events (leaves) the tree has."""
    root: str
    """MTH over those events, as 64 lowercase hex digits."""
    issued_at: str
    """When the checkpoint was signed: ISO 8601 with a UTC offset."""
    log_id: str
    """Which log: free text naming the store (a school or board id), one line."""
    signature: str
    """The Ed25519 signature of :func:`checkpoint_message`, standard base64 (64 bytes)."""

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError(f"size must be a non-negative integer, not {self.size!r}")
        if not isinstance(self.root, str) or not _ROOT.fullmatch(self.root):
            raise ValueError(f"root must be 64 lowercase hex digits, not {self.root!r}")
        if not isinstance(self.issued_at, str):
            raise ValueError(f"issued_at must be a string, not {type(self.issued_at).__name__}")
        _parse_issued_at(self.issued_at)
        _check_log_id(self.log_id)
        if not isinstance(self.signature, str):
            raise ValueError(f"signature must be a base64 string, not {type(self.signature).__name__}")
        _decode_signature(self.signature)

    @property
    def root_bytes(self) -> bytes:
        """The root as the 32 bytes the Merkle functions take."""
        return bytes.fromhex(self.root)

    @property
    def issued_at_datetime(self) -> datetime:
        """``issued_at`` parsed, with its offset."""
        return _parse_issued_at(self.issued_at)


def _decode_signature(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("signature is not valid base64") from None
    if len(raw) != _SIGNATURE_SIZE or base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"signature must be the canonical base64 of {_SIGNATURE_SIZE} bytes")
    return raw


def _message(log_id: str, size: int, root: str, issued_at: str) -> bytes:
    return f"{CHECKPOINT_HEADER}\n{log_id}\n{size}\n{root}\n{issued_at}\n".encode()


def checkpoint_message(cp: Checkpoint) -> bytes:
    """The exact bytes the checkpoint's signature covers (see the module documentation)."""
    return _message(cp.log_id, cp.size, cp.root, cp.issued_at)


def sign_checkpoint(private_key_pem: bytes | str, size: int, root: bytes, issued_at: datetime, log_id: str) -> Checkpoint:
    """Sign (log_id, size, root, issued_at) with the Ed25519 key; ``issued_at`` must be timezone-aware.

    ``ValueError`` for a bad key, a negative size, a root that is not 32 bytes, a naive ``issued_at``,
    or a ``log_id`` that is empty or not one line of printable text.
    """
    key = load_private_key(private_key_pem)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, not {size!r}")
    if not isinstance(root, bytes | bytearray | memoryview) or len(root) != 32:
        raise ValueError("root must be the 32 bytes of a SHA-256 Merkle tree hash")
    if not isinstance(issued_at, datetime):
        raise ValueError(f"issued_at must be a datetime, not {type(issued_at).__name__}")
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware (a naive datetime names no moment)")
    _check_log_id(log_id)
    root_hex = bytes(root).hex()
    issued = issued_at.isoformat()
    signature = key.sign(_message(log_id, size, root_hex, issued))
    return Checkpoint(
        size=size, root=root_hex, issued_at=issued, log_id=log_id, signature=base64.b64encode(signature).decode("ascii")
    )


def verify_checkpoint_signature(cp: Checkpoint, public_key_pem: bytes | str) -> bool:
    """Whether the checkpoint's signature is good for ``public_key_pem``.

    ``False`` for any signature that does not verify (another key, any field changed); ``ValueError``
    only if the public key itself cannot be loaded.
    """
    key = load_public_key(public_key_pem)
    try:
        key.verify(_decode_signature(cp.signature), checkpoint_message(cp))
    except (InvalidSignature, ValueError):
        return False
    return True


def to_json(cp: Checkpoint) -> str:
    """The checkpoint as canonical JSON (keys sorted, no spaces), with ``"format": 1``."""
    return canonical_json(
        {
            "format": CHECKPOINT_FORMAT,
            "issued_at": cp.issued_at,
            "log_id": cp.log_id,
            "root": cp.root,
            "signature": cp.signature,
            "size": cp.size,
        }
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"checkpoint JSON has the key {key!r} twice")
        out[key] = value
    return out


def from_json(text: str | bytes) -> Checkpoint:
    """A checkpoint from its JSON form; ``ValueError`` naming the problem for anything malformed.

    The signature is *not* checked here: use :func:`verify_checkpoint_signature`.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("checkpoint JSON is not UTF-8") from None
    if not isinstance(text, str):
        raise ValueError(f"checkpoint JSON must be text, not {type(text).__name__}")
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint JSON is malformed: {exc}") from None
    except RecursionError:
        raise ValueError("checkpoint JSON is malformed: nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError(f"checkpoint JSON must be an object, not {type(obj).__name__}")
    missing = [f for f in _FIELDS if f not in obj]
    if missing:
        raise ValueError(f"checkpoint JSON lacks {', '.join(missing)}")
    unknown = sorted(set(obj) - set(_FIELDS))
    if unknown:
        raise ValueError(f"checkpoint JSON has unknown fields {', '.join(unknown)}")
    fmt = obj["format"]
    if type(fmt) is not int or fmt != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint format {fmt!r} is not supported (expected {CHECKPOINT_FORMAT})")
    for name in ("issued_at", "log_id", "root", "signature"):
        if not isinstance(obj[name], str):
            raise ValueError(f"checkpoint field {name} must be a string, not {type(obj[name]).__name__}")
    if isinstance(obj["size"], bool) or not isinstance(obj["size"], int):
        raise ValueError(f"checkpoint field size must be an integer, not {type(obj['size']).__name__}")
    try:
        return Checkpoint(
            size=obj["size"], root=obj["root"], issued_at=obj["issued_at"], log_id=obj["log_id"], signature=obj["signature"]
        )
    except ValueError as exc:
        raise ValueError(f"checkpoint JSON is invalid: {exc}") from None
