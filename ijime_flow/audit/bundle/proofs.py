"""The proof lines of a bundle: made against a signed checkpoint on export, checked offline on reading."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import InvalidData
from ...store import Store, StoredEvent

if TYPE_CHECKING:
    from ...proofs.checkpoint import Checkpoint

from .format import Bundle


def _proofs(store: Store, events: Sequence[StoredEvent], checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """The proof lines: what :func:`ijime_flow.proofs.check.inclusion_bundle` gives for each event at or
    before the checkpoint, with the store's leaves read once for all of them."""
    from ...proofs.check import BUNDLE_FORMAT as PROOF_FORMAT
    from ...proofs.checkpoint import to_json
    from ...proofs.merkle import MerkleLog, inclusion_proof, leaf_hash

    leaves = [leaf_hash(row.body.encode("utf-8")) for row in store.read_from(0)]
    if len(leaves) < checkpoint.size:
        raise InvalidData(f"the checkpoint of {checkpoint.issued_at} holds {checkpoint.size} events but the store only"
                          f" {len(leaves)}: it is a checkpoint of another store, or events were deleted"
                          " (run `ijime-flow verify --checkpoint`)")
    if MerkleLog(leaves[:checkpoint.size]).root() != checkpoint.root_bytes:
        raise InvalidData(f"the store's first {checkpoint.size} events do not hash to the root of the checkpoint of"
                          f" {checkpoint.issued_at}: it is a checkpoint of another store, or the store was changed"
                          " (run `ijime-flow verify --checkpoint`)")
    signed = json.loads(to_json(checkpoint))
    lines = []
    for row in events:
        index = row.position - 1
        if index < checkpoint.size:
            inclusion = {"format": PROOF_FORMAT, "checkpoint": signed, "case_id": row.case_id, "seq": row.seq,
                         "leaf_index": index, "event": row.body,
                         "proof": [h.hex() for h in inclusion_proof(leaves, index, size=checkpoint.size)]}
            lines.append({"kind": "proof", "case_id": row.case_id, "seq": row.seq, "inclusion": inclusion})
    return lines


# -- proofs -------------------------------------------------------------------------------------------------
def check_proofs(bundle: Bundle, public_key_pem: bytes) -> list[str]:
    """Check every proof line offline (:func:`ijime_flow.proofs.check.check_bundle`: the checkpoint's
    signature and the audit path), and that each proves the event the bundle holds at that case, seq
    and position. Empty when all hold; ``ValueError`` if the public key cannot be loaded."""
    from ...proofs.check import check_bundle

    positions = {(e.case_id, e.seq): e for e in bundle.events}
    problems: list[str] = []
    for proof in bundle.proofs:
        where = f"line {proof.line}: case {proof.case_id} seq {proof.seq}"
        event = positions.get((proof.case_id, proof.seq))
        inclusion = proof.inclusion
        if event is None:
            problems.append(f"{where}: the bundle holds no such event")
            continue
        if (inclusion.get("case_id"), inclusion.get("seq")) != (proof.case_id, proof.seq):
            problems.append(f"{where}: the proof is for case {inclusion.get('case_id')} seq {inclusion.get('seq')}")
        if inclusion.get("event") != event.body:
            problems.append(f"{where}: the proof is for another text than the bundle's event")
        if inclusion.get("leaf_index") != event.position - 1:
            problems.append(f"{where}: the proof is for leaf {inclusion.get('leaf_index')}, the event was at position"
                            f" {event.position}")
        problems += [f"{where}: {p}" for p in check_bundle(inclusion, public_key_pem)]
    return problems
