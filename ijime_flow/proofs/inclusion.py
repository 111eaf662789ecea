"""Inclusion proofs as C2SP ``tlog-proof`` files (https://c2sp.org/tlog-proof), checked offline.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's stored canonical JSON text>
    index <0-based leaf index = position - 1>
    <base64 hash, one a line: the RFC 6962 audit path, from the leaf's sibling up>

    <the C2SP checkpoint, verbatim, with its signatures and cosignatures>

The leaf is ``SHA-256(0x00 || extra)``: the ``extra`` line carries the event itself, which the spec
allows ("data necessary to reconstruct the record hash") and which is never trusted as such — it counts
only because its hash is the leaf the audit path leads from to the signed root.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from .merkle import HASH_SIZE, leaf_hash, verify_inclusion
from .note import Verifier, b64decode_canonical, parse_note, proof_text
from .tlog import TlogCheckpoint, from_note
from .witness import check_signatures

__all__ = ["HEADER", "TlogProof", "check_tlog_proof", "format_tlog_proof", "parse_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PATH = 64


@dataclass(frozen=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]
    checkpoint: TlogCheckpoint
    extra: bytes | None


def format_tlog_proof(index: int, path: list[bytes], checkpoint: TlogCheckpoint, extra: bytes | None = None) -> str:
    lines = [HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode("ascii"))
    lines.append(f"index {index}")
    lines += [base64.b64encode(h).decode("ascii") for h in path]
    return "\n".join(lines) + "\n\n" + str(checkpoint)


def parse_tlog_proof(data: bytes | str) -> TlogProof:
    """A tlog-proof file; ``ValueError`` naming what is wrong (nothing is verified here)."""
    data = proof_text(data)
    head, sep, rest = data.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != HEADER:
        raise ValueError(f"a tlog-proof starts with the line {HEADER!r} and has a blank line before its checkpoint")
    lines.pop(0)
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = b64decode_canonical(lines.pop(0)[len("extra "):], "the extra line")
    if not lines or not lines[0].startswith("index "):
        raise ValueError("a tlog-proof names its leaf on a line 'index <n>'")
    number = lines.pop(0)[len("index "):]
    if not number.isascii() or not number.isdigit() or (number != "0" and number.startswith("0")):
        raise ValueError(f"the index {number[:40]!r} is not a decimal number without leading zeros")
    if len(lines) > MAX_PATH:
        raise ValueError(f"an audit path has at most {MAX_PATH} hashes")
    path = []
    for i, line in enumerate(lines, start=1):
        raw = b64decode_canonical(line, f"hash {i} of the audit path")
        if len(raw) != HASH_SIZE:
            raise ValueError(f"hash {i} of the audit path is not {HASH_SIZE} bytes")
        path.append(raw)
    return TlogProof(int(number), tuple(path), from_note(parse_note(rest)), extra)


def check_tlog_proof(proof: TlogProof, keys: list[Verifier], witnesses: list[Verifier] | None = None) -> list[str]:
    """Problems (empty when the event in ``extra`` is at ``index`` of the signed tree): the checkpoint's
    signature by ``keys`` and every required witness's cosignature, the event's text, the audit path."""
    problems = list(check_signatures(proof.checkpoint, keys, witnesses).problems)
    if proof.extra is None:
        return [*problems, "the proof carries no event (no 'extra' line): nothing to check it against"]
    try:
        event = json.loads(proof.extra.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("case_id"), str) or not isinstance(event.get("seq"), int):
        problems.append("the 'extra' line is not an event of a case (its stored JSON text)")
    cp = proof.checkpoint
    if not verify_inclusion(leaf_hash(proof.extra), proof.index, cp.size, list(proof.path), cp.root_bytes):
        problems.append(f"the event is not at position {proof.index + 1} of the checkpointed log (the proof fails)")
    return problems


def proven_event(proof: TlogProof) -> tuple[str, int]:
    """The case and seq of the event a (checked) proof carries."""
    event = json.loads((proof.extra or b"{}").decode("utf-8"))
    return str(event.get("case_id")), int(event.get("seq", 0))
