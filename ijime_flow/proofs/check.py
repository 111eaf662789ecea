"""Checkpoints over a whole store, and proofs an auditor checks without trusting the database.

- :func:`make_checkpoint`: the RFC 6962 Merkle root over every stored event in ``position`` order
  (leaf = the event's canonical JSON text as UTF-8), signed (:mod:`ijime_flow.proofs.checkpoint`).
- :func:`check_store`: the current store extends a checkpoint — its first ``size`` events hash to the
  checkpointed root, shown by a consistency proof from the checkpointed tree to today's. A case
  deleted whole, a truncated tail or a log rewritten before the checkpoint fails it, even when every
  hash chain was recomputed.
- :func:`inclusion_bundle` / :func:`check_bundle`: one event, its inclusion proof and the signed
  checkpoint, as a small JSON file an auditor verifies offline without any other case's events (a
  checkpoint of format 1); :func:`tlog_proof` gives the same as a C2SP ``tlog-proof`` (:mod:`.inclusion`).
- :func:`make_tlog_checkpoint` / :func:`store_consistency`: the C2SP checkpoint of today's store, and the
  consistency proof between two checkpoints of it (:mod:`.witness`), checked later with no database.

Every function that checks a signature takes the log's keys as PEM bytes (as before) or as
:class:`~.note.Verifier` objects (vkeys), and reads checkpoints of both formats.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..store import Store
from .checkpoint import Checkpoint, from_json, sign_checkpoint, to_json
from .merkle import MerkleLog, consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion
from .note import Verifier, load_verifier
from .tlog import AnyCheckpoint, TlogCheckpoint, sign_tlog_checkpoint
from .witness import SignatureCheck, check_signatures, format_consistency_proof

Keys = bytes | str | Verifier | list[Verifier]

BUNDLE_FORMAT = 1


def leaf_hashes(store: Store) -> list[bytes]:
    return [leaf_hash(row.body.encode("utf-8")) for row in store.read_from(0)]


def make_checkpoint(store: Store, private_key_pem: bytes, log_id: str, at: datetime) -> Checkpoint:
    log = MerkleLog(leaf_hashes(store))
    return sign_checkpoint(private_key_pem, log.size, log.root(), at, log_id)


def make_tlog_checkpoint(store: Store, private_key: bytes, origin: str, at: datetime | None = None) -> TlogCheckpoint:
    """The C2SP checkpoint of every event in the store, signed at ``at`` (its ``ijime-flow-time`` line);
    ``ValueError`` without an origin or with a bad key."""
    log = MerkleLog(leaf_hashes(store))
    return sign_tlog_checkpoint(private_key, origin, log.size, log.root(), at)


def verifiers(keys: Keys) -> list[Verifier]:
    """The log's keys: PEM (bytes or text), a vkey text, or verifiers; ``ValueError`` for a bad key."""
    if isinstance(keys, Verifier):
        return [keys]
    if isinstance(keys, list):
        return keys
    return [load_verifier(keys)]


def _name(cp: AnyCheckpoint) -> str:
    return cp.described if isinstance(cp, TlogCheckpoint) else cp.issued_at


def check_store(store: Store, checkpoint: AnyCheckpoint, public_key_pem: Keys,
                witnesses: list[Verifier] | None = None, *,
                signed: SignatureCheck | None = None) -> tuple[list[str], dict[str, Any]]:
    """Problems (empty when the store extends the checkpoint) and the consistency proof shown, with the
    keys that signed and cosigned (``witnesses``: cosigners that must have). ``signed``: the signatures, when the
    caller has checked them already (:func:`~.witness.check_signatures` of the same checkpoint, keys and witnesses)."""
    if signed is None:
        signed = check_signatures(checkpoint, verifiers(public_key_pem), witnesses)
    if not signed.ok:
        return signed.problems, {"signatures": signed.lines()}
    leaves = leaf_hashes(store)
    if len(leaves) < checkpoint.size:
        return [f"the store holds {len(leaves)} events but the checkpoint of {_name(checkpoint)} holds"
                f" {checkpoint.size}: events were deleted (a case removed or a tail cut)"], {"signatures": signed.lines()}
    proof = consistency_proof(leaves, checkpoint.size)
    new_root = MerkleLog(leaves).root()
    shown = {"old_size": checkpoint.size, "new_size": len(leaves), "old_root": checkpoint.root,
             "new_root": new_root.hex(), "proof": [h.hex() for h in proof], "signatures": signed.lines()}
    if not verify_consistency(checkpoint.size, len(leaves), checkpoint.root_bytes, new_root, proof):
        return [f"the store does not extend the checkpoint of {_name(checkpoint)} (size {checkpoint.size}):"
                " events before that point were changed, removed or reordered"], shown
    return [], shown


def checkpoint_wire(cp: AnyCheckpoint) -> dict[str, Any] | str:
    """How a proof file or a bundle carries a checkpoint: the JSON object (format 1) or the note's text (C2SP)."""
    return json.loads(to_json(cp)) if isinstance(cp, Checkpoint) else str(cp)


def checkpoint_from_wire(value: object) -> AnyCheckpoint:
    """The checkpoint :func:`checkpoint_wire` wrote; ``ValueError`` if it is not one."""
    from .tlog import parse_checkpoint

    if isinstance(value, str):
        return parse_checkpoint(value.encode("utf-8"))
    if isinstance(value, dict):
        return from_json(json.dumps(value))
    raise ValueError("'checkpoint' must be a signed checkpoint (a JSON object, or a C2SP checkpoint's text)")


def same_checkpoint(a: AnyCheckpoint, b: AnyCheckpoint) -> bool:
    """The same statement: equal JSON checkpoints, or C2SP checkpoints of the same text (cosignatures may differ)."""
    if isinstance(a, TlogCheckpoint) and isinstance(b, TlogCheckpoint):
        return a.body == b.body
    return checkpoint_wire(a) == checkpoint_wire(b)


def _event_row(store: Store, case_id: str, seq: int, checkpoint: AnyCheckpoint) -> tuple[int, str]:
    rows = [row for row in store.read_case(case_id) if row.seq == seq]
    if not rows:
        raise LookupError(f"no event seq {seq} in case {case_id}")
    index = rows[0].position - 1
    if index >= checkpoint.size:
        raise LookupError(f"case {case_id} seq {seq} (position {rows[0].position}) was recorded after the checkpoint"
                          f" (size {checkpoint.size}): make a newer checkpoint first")
    return index, rows[0].body


def inclusion_bundle(store: Store, case_id: str, seq: int, checkpoint: AnyCheckpoint) -> dict[str, Any]:
    """One event with its proof of inclusion in the checkpointed log. ``LookupError`` if it is not there."""
    index, body = _event_row(store, case_id, seq, checkpoint)
    leaves = leaf_hashes(store)
    return {"format": BUNDLE_FORMAT, "checkpoint": checkpoint_wire(checkpoint), "case_id": case_id, "seq": seq,
            "leaf_index": index, "event": body,
            "proof": [h.hex() for h in inclusion_proof(leaves, index, size=checkpoint.size)]}


def tlog_proof(store: Store, case_id: str, seq: int, checkpoint: TlogCheckpoint) -> str:
    """One event as a C2SP ``tlog-proof`` (:mod:`.inclusion`): the event's text as its ``extra`` data.
    ``LookupError`` if it is not in the checkpointed log."""
    from .inclusion import format_tlog_proof

    index, body = _event_row(store, case_id, seq, checkpoint)
    proof = inclusion_proof(leaf_hashes(store), index, size=checkpoint.size)
    return format_tlog_proof(index, proof, checkpoint, extra=body.encode("utf-8"))


def store_consistency(store: Store, old: AnyCheckpoint, new: TlogCheckpoint) -> str:
    """The consistency proof file (:mod:`.witness`) from ``old`` to ``new``, both checkpoints of this store.
    ``LookupError`` when the store does not hold the tree of one of them."""
    leaves = leaf_hashes(store)
    for cp in (old, new):
        if cp.size > len(leaves) or MerkleLog(leaves[: cp.size]).root() != cp.root_bytes:
            raise LookupError(f"the store does not hold the tree of the checkpoint of {_name(cp)}: its first {cp.size}"
                              " events are not the ones signed (another store, or the history was changed)")
    if new.size < old.size:
        raise LookupError(f"the new checkpoint ({new.size} events) is smaller than the old one ({old.size}): give them in order")
    return format_consistency_proof(old.size, consistency_proof(leaves, old.size, size=new.size), new)


PROOF_KEYS = frozenset({"format", "checkpoint", "case_id", "seq", "leaf_index", "event", "proof"})


def proof_file_problems(bundle: object) -> list[str]:
    """The shape of a proof file (what :func:`inclusion_bundle` writes): every key, no other, each of
    its type. Empty when it can be checked."""
    if not isinstance(bundle, dict):
        return ["not a usable proof file: not a JSON object"]
    problems = []
    unknown = sorted(set(bundle) - PROOF_KEYS)
    if unknown:
        problems.append(f"not a usable proof file: unknown key(s) {', '.join(map(repr, unknown))[:200]}")
    missing = sorted(PROOF_KEYS - set(bundle))
    if missing:
        problems.append(f"not a usable proof file: missing {', '.join(missing)}")
        return problems
    if bundle["format"] != BUNDLE_FORMAT or isinstance(bundle["format"], bool):
        problems.append(f"not a usable proof file: format {bundle['format']!r:.40} (this version reads {BUNDLE_FORMAT})")
    if not isinstance(bundle["event"], str):
        problems.append("not a usable proof file: 'event' must be the event's stored text")
    for key in ("leaf_index", "seq"):
        if isinstance(bundle[key], bool) or not isinstance(bundle[key], int) or bundle[key] < (0 if key == "leaf_index" else 1):
            problems.append(f"not a usable proof file: '{key}' must be a whole number")
    if not isinstance(bundle["case_id"], str):
        problems.append("not a usable proof file: 'case_id' must be text")
    if not isinstance(bundle["proof"], list) or not all(isinstance(h, str) for h in bundle["proof"]):
        problems.append("not a usable proof file: 'proof' must be a list of hex hashes")
    if not isinstance(bundle["checkpoint"], dict | str):
        problems.append("not a usable proof file: 'checkpoint' must be a signed checkpoint object")
    return problems


def check_bundle(bundle: dict[str, Any], public_key_pem: Keys) -> list[str]:
    """Offline: the file is a proof file, the checkpoint is signed, and the event is in the log it
    describes. ``ValueError`` if the public key cannot be loaded."""
    shape = proof_file_problems(bundle)
    if shape:
        return shape
    try:
        checkpoint = checkpoint_from_wire(bundle["checkpoint"])
        event_text, index = bundle["event"], bundle["leaf_index"]
        proof = [bytes.fromhex(h) for h in bundle["proof"]]
        event = json.loads(event_text)
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        return [f"not a usable proof file: {str(exc)[:200]}"]
    problems = []
    if not check_signatures(checkpoint, verifiers(public_key_pem)).ok:
        problems.append("the checkpoint's signature does not verify with this public key")
    if not isinstance(event, dict) or (event.get("case_id"), event.get("seq")) != (bundle.get("case_id"), bundle.get("seq")):
        problems.append("the event in the file is not the one it claims to be")
    if any(len(h) != 32 for h in proof) or not verify_inclusion(leaf_hash(event_text.encode("utf-8")), index,
                                                                checkpoint.size, proof, checkpoint.root_bytes):
        problems.append(f"the event is not at position {index + 1} of the checkpointed log (the proof fails)")
    return problems
