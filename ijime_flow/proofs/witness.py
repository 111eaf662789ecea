"""Witness cosignatures (https://c2sp.org/tlog-cosignature) and consistency proofs between two checkpoints.

A **cosignature** is one more signature line on a checkpoint, by a witness — a board of education that
checked the school's log only grew — with the key ID ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``
and the signature ``u64 big-endian timestamp || Ed25519 signature`` over::

    cosignature/v1
    time <POSIX seconds>
    <the checkpoint's text: origin, size, root>

A **consistency proof file** is the body of a tlog-witness ``add-checkpoint`` request
(https://c2sp.org/tlog-witness), so it can be posted to any witness as it is::

    old <size of the earlier checkpoint>
    <base64 hash, one a line: RFC 6962 PROOF(old, new), at most 63>

    <the later checkpoint, verbatim>

:func:`check_consistency` is what both a witness (:func:`cosign_checked`) and an auditor (``ijime-flow
verify-consistency``) run: the same origin, the size never down, equal roots at equal sizes, and the
proof valid from the old tree to the new — with no database.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .checkpoint import Checkpoint, checkpoint_message
from .merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from .note import COSIGNATURE, ED25519, NoteSignature, Verifier, check_key_name, key_id, parse_note, proof_text
from .tlog import AnyCheckpoint, TlogCheckpoint, from_note

__all__ = ["ConsistencyProof", "SignatureCheck", "check_consistency", "check_signatures", "cosign", "cosignature_message",
           "format_consistency_proof", "parse_consistency_proof", "verify_cosignature"]

MAX_PROOF_LINES = 63
_MAX_TIME = (1 << 63) - 1


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header, the time line, then the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(cp: TlogCheckpoint, private_key: Ed25519PrivateKey, name: str, timestamp: int) -> TlogCheckpoint:
    """The checkpoint with the witness's cosignature added (one already there by the same key is replaced)."""
    check_key_name(name, "witness name")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= _MAX_TIME:
        raise ValueError(f"the cosignature time {timestamp!r} is not a POSIX time in seconds")
    public = private_key.public_key().public_bytes_raw()
    signature = struct.pack(">Q", timestamp) + private_key.sign(cosignature_message(cp.body, timestamp))
    return from_note(cp.note.with_signature(NoteSignature(name, key_id(name, COSIGNATURE, public), signature)))


def verify_cosignature(body: str, line: NoteSignature, witness: Verifier) -> int | None:
    """The signed time of a cosignature line of ``witness`` over ``body``, or ``None`` if it does not verify."""
    if not witness.matches(line) or len(line.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", line.signature[:8])
    if timestamp > _MAX_TIME or not witness.verify(line.signature[8:], cosignature_message(body, timestamp)):
        return None
    return int(timestamp)


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof file: the old size, the hashes, and the new checkpoint it leads to."""

    old_size: int
    hashes: tuple[bytes, ...]
    checkpoint: TlogCheckpoint


def format_consistency_proof(old_size: int, hashes: list[bytes], new: TlogCheckpoint) -> str:
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in hashes)]
    return "\n".join(lines) + "\n\n" + str(new)


def parse_consistency_proof(data: bytes | str) -> ConsistencyProof:
    """A consistency proof file; ``ValueError`` naming what is wrong."""
    data = proof_text(data)
    head, sep, rest = data.partition("\n\n")
    if not sep:
        raise ValueError("a consistency proof is 'old N', the proof hashes, a blank line and the new checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not first[4:].isascii() or not first[4:].isdigit() or (
            first[4:] != "0" and first[4:].startswith("0")):
        raise ValueError("the first line of a consistency proof is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    hashes = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            raw = base64.b64decode(line.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise ValueError(f"line {number} of the proof is not a base64 hash") from None
        if len(raw) != HASH_SIZE or base64.b64encode(raw).decode("ascii") != line:
            raise ValueError(f"line {number} of the proof is not the base64 of a {HASH_SIZE}-byte hash")
        hashes.append(raw)
    return ConsistencyProof(int(first[4:]), tuple(hashes), from_note(parse_note(rest)))


def check_consistency(old: AnyCheckpoint | None, new: AnyCheckpoint, proof: ConsistencyProof | None) -> list[str]:
    """Problems (empty when ``new`` extends ``old``): another origin, a smaller size, a proof for other
    sizes or another checkpoint, a proof that fails. ``old`` ``None``: the first checkpoint seen, which
    extends the empty tree (an empty proof, or none)."""
    problems: list[str] = []
    old_size = old.size if old is not None else 0
    old_root = old.root_bytes if old is not None else EMPTY_ROOT
    if old is not None and isinstance(old, TlogCheckpoint) and isinstance(new, TlogCheckpoint) and old.origin != new.origin:
        problems.append(f"起点名が違います / the origin differs: {old.origin!r} then {new.origin!r} (another school's log)")
    if new.size < old_size:
        problems.append(f"木の大きさが減っています / the size went down: {old_size} then {new.size} events (a history"
                        " cut or rewritten)")
        return problems
    if proof is None:
        if old_size not in (0, new.size):
            problems.append(f"a consistency proof from size {old_size} to {new.size} is needed")
            return problems
        hashes: tuple[bytes, ...] = ()
    else:
        hashes = proof.hashes
        if proof.old_size != old_size:
            problems.append(f"the proof starts at size {proof.old_size}, the earlier checkpoint is of size {old_size}")
        if isinstance(new, TlogCheckpoint) and proof.checkpoint.body != new.body:
            problems.append("the proof leads to another checkpoint than the new one (another size, root or origin)")
        if problems:
            return problems
    if not verify_consistency(old_size, new.size, old_root, new.root_bytes, list(hashes)):
        problems.append(f"一貫性の証明が成り立ちません / the consistency proof from size {old_size} to {new.size} fails:"
                        " events before the earlier checkpoint were changed, removed or reordered")
    return problems


@dataclass
class SignatureCheck:
    """Which known keys signed (type 0x01) and cosigned (type 0x04, with their signed time) a checkpoint."""

    signed_by: list[str] = field(default_factory=list)
    cosigned_by: list[tuple[str, datetime]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unknown: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.signed_by) and not self.problems

    def lines(self) -> list[str]:
        shown = [f"署名 / signed by: {name}" for name in self.signed_by]
        shown += [f"副署 / cosigned by: {name} at {moment.isoformat()}" for name, moment in self.cosigned_by]
        if self.unknown:
            shown.append(f"未知の鍵の署名 {self.unknown} 件（無視） / {self.unknown} signature(s) by unknown keys, ignored")
        return shown


def check_signatures(cp: AnyCheckpoint, keys: list[Verifier], witnesses: list[Verifier] | None = None) -> SignatureCheck:
    """Every line of a known key is checked: ``keys`` (the log's, type 0x01) must sign, and each of
    ``witnesses`` (type 0x04) is a required cosigner. A failing line of a known key is a problem, as is a
    missing signature or required cosignature; lines of unknown keys are ignored (signed-note.md)."""
    result = SignatureCheck()
    witnesses = list(witnesses or [])
    if isinstance(cp, Checkpoint):
        message = checkpoint_message(cp)
        raw = base64.b64decode(cp.signature)
        good = [k for k in keys if k.sig_type == ED25519 and k.verify(raw, message)]
        result.signed_by = [k.name or "PEM public key" for k in good]
        if not good:
            result.problems.append("the checkpoint's signature does not verify with this public key: it was altered or"
                                   " signed by another key")
        result.problems += [f"{w.name} の副署がありません / no cosignature by the required witness {w.name}: a JSON"
                            " checkpoint (format 1) cannot carry one" for w in witnesses]
        return result
    seen_witness: set[int] = set()
    for line in cp.note.signatures:
        mine = [k for k in keys if k.sig_type == ED25519 and k.matches(line)]
        theirs = [i for i, w in enumerate(witnesses) if w.matches(line)]
        if not mine and not theirs:
            result.unknown += 1
            continue
        for key in mine:
            if key.verify(line.signature, cp.body.encode("utf-8")):
                result.signed_by.append(line.name)
            else:
                result.problems.append(f"the signature of {line.name} does not verify: the checkpoint was altered")
        for i in theirs:
            moment = verify_cosignature(cp.body, line, witnesses[i])
            if moment is None:
                result.problems.append(f"the cosignature of {line.name} does not verify: it is for another checkpoint")
            else:
                seen_witness.add(i)
                result.cosigned_by.append((line.name, datetime.fromtimestamp(moment, UTC)))
    if not result.signed_by and not any("does not verify" in p for p in result.problems):
        result.problems.append("この鍵による署名がありません / no signature by this key: the checkpoint was signed by another"
                               " key or for another origin")
    for i, witness in enumerate(witnesses):
        if witness.sig_type != COSIGNATURE:
            result.problems.append(f"{witness.name}: a witness key is a cosignature key (type 0x04, keygen --witness)")
        elif i not in seen_witness:
            result.problems.append(f"{witness.name} の副署がありません / no valid cosignature by the required witness"
                                   f" {witness.name}")
    return result
