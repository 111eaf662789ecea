"""The proof lines of a bundle: made against a signed checkpoint on export, checked offline on reading."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...errors import InvalidData
from ...store import Store, StoredEvent

if TYPE_CHECKING:
    from ...proofs.tlog import AnyCheckpoint as Checkpoint  # a JSON (format 1) or a C2SP checkpoint

from .format import Bundle


def _proofs(store: Store, events: Sequence[StoredEvent], checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """The proof lines: what :func:`ijime_flow.proofs.check.inclusion_bundle` gives for each event at or
    before the checkpoint, with the store's leaves read once for all of them."""
    from ...proofs.check import BUNDLE_FORMAT as PROOF_FORMAT
    from ...proofs.check import checkpoint_wire
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
    signed = checkpoint_wire(checkpoint)
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
@dataclass(frozen=True)
class ProofStatus:
    """What the proof lines of a bundle prove, against one signed checkpoint.

    ``events``: the bundle's events; ``covered``: those at or before the checkpoint (``position`` ≤ its
    size), each of which must carry exactly one valid proof; ``proven``: the covered events that do;
    ``after``: the events recorded after the checkpoint (no proof possible until a newer one).
    ``problems`` is empty only when every covered event is proven and no proof line is wrong."""

    checkpoint: Checkpoint | None
    events: int
    covered: int
    proven: int
    after: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.checkpoint is None:
            return "包含証明なし / no checkpoint to prove the events against"
        return (f"{self.events} 件中 {self.proven} 件を証明、{self.after} 件はチェックポイント後の記録"
                f" / {self.proven} of {self.events} events proven, {self.after} recorded after the checkpoint"
                f" (size {self.checkpoint.size}, {self.checkpoint.issued_at})")


def proof_status(bundle: Bundle, public_key_pem: bytes, checkpoint: Checkpoint | None = None) -> ProofStatus:
    """Check the bundle's proofs offline against ``checkpoint`` — the auditor's own, which takes
    precedence — or else the one the proof lines carry (they must all carry the same one).

    Every event at or before the checkpoint's size must carry exactly one proof, for its own case, seq,
    text and position, in the events' order, whose audit path leads to the checkpoint's root
    (:func:`ijime_flow.proofs.check.check_bundle`: the signature too). A proof for another checkpoint, a
    second proof for one event, a proof for an event the bundle lacks: each is a problem. An event after
    the checkpoint whose ``recorded_at`` is not later than the checkpoint's time claims a place it cannot
    have (a checkpoint covers the whole log when it is signed): a problem too. ``ValueError`` if the
    public key cannot be loaded."""
    from ...proofs.check import check_bundle, checkpoint_from_wire, checkpoint_wire, same_checkpoint, verifiers
    from ...proofs.witness import check_signatures

    problems: list[str] = []
    if checkpoint is None:
        embedded: dict[str, Checkpoint] = {}
        for proof in bundle.proofs:
            try:
                found = checkpoint_from_wire(proof.inclusion.get("checkpoint"))
            except (TypeError, ValueError) as exc:
                problems.append(f"line {proof.line}: the proof's checkpoint is not usable ({exc})")
                continue
            embedded.setdefault(json.dumps(checkpoint_wire(found)), found)
        if len(embedded) > 1:
            problems.append(f"the proof lines carry {len(embedded)} different checkpoints: a bundle is proven against one")
        checkpoint = next(iter(embedded.values()), None)
        if checkpoint is None:
            problems.append("検証する包含証明がありません / the bundle carries no inclusion proof (no checkpoint):"
                            " give the auditor's checkpoint with --checkpoint, or export with --checkpoint")
            return ProofStatus(None, len(bundle.events), 0, 0, 0, tuple(problems))
    if not check_signatures(checkpoint, verifiers(public_key_pem)).ok:
        problems.append("the checkpoint's signature does not verify with this public key: it was altered or signed by"
                        " another key")
    covered = [e for e in bundle.events if e.position <= checkpoint.size]
    order = {(e.case_id, e.seq): i for i, e in enumerate(bundle.events)}
    seen: dict[tuple[str, int], int] = {}
    valid: set[tuple[str, int]] = set()
    last = -1
    for proof in bundle.proofs:
        key = (proof.case_id, proof.seq)
        where = f"line {proof.line}: case {proof.case_id} seq {proof.seq}"
        if key in seen:
            problems.append(f"{where}: a second proof for this event (the first is on line {seen[key]})")
            continue
        seen[key] = proof.line
        index = order.get(key)
        if index is None:
            problems.append(f"{where}: the bundle holds no such event")
            continue
        if index < last:
            problems.append(f"{where}: proof lines are not in the order of the events")
        last = max(last, index)
        event = bundle.events[index]
        inclusion = proof.inclusion
        wrong = []
        try:
            theirs = checkpoint_from_wire(inclusion.get("checkpoint"))
        except ValueError:
            theirs = None
        if theirs is None or not same_checkpoint(theirs, checkpoint):
            wrong.append("the proof is for another checkpoint than the one checked against")
        if (inclusion.get("case_id"), inclusion.get("seq")) != key:
            wrong.append(f"the proof is for case {inclusion.get('case_id')} seq {inclusion.get('seq')}")
        if inclusion.get("event") != event.body:
            wrong.append("the proof is for another text than the bundle's event")
        if inclusion.get("leaf_index") != event.position - 1:
            wrong.append(f"the proof is for leaf {inclusion.get('leaf_index')}, the event was at position"
                         f" {event.position}")
        if event.position > checkpoint.size:
            wrong.append(f"the event is at position {event.position}, after the checkpoint (size {checkpoint.size})")
        if not wrong:
            wrong = check_bundle(inclusion, public_key_pem)
        if wrong:
            problems += [f"{where}: {p}" for p in wrong]
        else:
            valid.add(key)
    for event in covered:
        if (event.case_id, event.seq) not in seen:
            problems.append(f"line {event.line}: case {event.case_id} seq {event.seq} (position {event.position}) is"
                            f" covered by the checkpoint (size {checkpoint.size}) but carries no proof")
    signed_at = _time(checkpoint.issued_at)
    for event in bundle.events:
        if event.position > checkpoint.size:
            recorded = _recorded_at(event.body)
            if recorded is not None and signed_at is not None and recorded <= signed_at:
                problems.append(f"line {event.line}: case {event.case_id} seq {event.seq} was recorded at {recorded.isoformat()},"
                                f" before the checkpoint of {checkpoint.issued_at}, but claims position {event.position}"
                                f" after it (size {checkpoint.size}): it carries no proof")
    proven = sum(1 for e in covered if (e.case_id, e.seq) in valid)
    return ProofStatus(checkpoint, len(bundle.events), len(covered), proven, len(bundle.events) - len(covered),
                       tuple(problems))


def check_proofs(bundle: Bundle, public_key_pem: bytes, checkpoint: Checkpoint | None = None) -> list[str]:
    """The problems of :func:`proof_status` (empty when every event the checkpoint covers is proven)."""
    return list(proof_status(bundle, public_key_pem, checkpoint).problems)


def _time(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else None


def _recorded_at(body: str) -> datetime | None:
    try:
        value = json.loads(body).get("recorded_at")
    except (ValueError, AttributeError):
        return None
    return _time(value) if isinstance(value, str) else None
