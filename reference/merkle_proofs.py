"""Merkle trees (RFC 6962 / RFC 9162), checkpoints and inclusion proofs: the second half of the stand-alone
reference verifier (see verify.py, which imports this file; docs/formats.md §7 to §9). Standard library,
and ``cryptography`` for Ed25519 only. Imports nothing from ijime_flow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import datetime
from typing import Any, TypeGuard

Json = dict[str, Any]


# -- 0. small helpers shared with verify.py ------------------------------------------------------------------------
def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# an ISO 8601 time as ijime-flow reads one: date, T (or a space), hours and minutes, optional seconds and
# fraction, and an offset (Z or +hh:mm); datetime.fromisoformat then checks the calendar
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not TIME.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


# -- 5. Merkle trees, RFC 6962 §2.1 (docs/formats.md §8) ----------------------------------------------------
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) from leaf hashes, by the RFC's definition: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: the audit path leads from the leaf hash at ``index`` to ``root`` of a tree of ``size``."""
    if not 0 <= index < size or any(len(p) != 32 for p in path):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: the tree (new_size, new_root) only appended to (old_size, old_root)."""
    if not 0 <= old_size <= new_size or any(len(p) != 32 for p in path):
        return False
    if old_size == 0:
        return not path and old_root == hashlib.sha256(b"").digest()
    if old_size == new_size:
        return not path and old_root == new_root
    if not path:
        return False
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


# -- 6. checkpoints (docs/formats.md §9) ----------------------------------------------------------------------
CHECKPOINT_FIELDS = {"format", "issued_at", "log_id", "root", "signature", "size"}


def checkpoint_of(obj: Any) -> Json:
    """A JSON checkpoint (format 1), its fields checked; ``ValueError`` otherwise. The signature is not checked."""
    if not isinstance(obj, dict) or set(obj) != CHECKPOINT_FIELDS:
        raise ValueError(f"a checkpoint has exactly the fields {sorted(CHECKPOINT_FIELDS)}")
    if not (is_int(obj["format"]) and obj["format"] == 1) or not is_int(obj["size"]) or obj["size"] < 0:
        raise ValueError("format must be 1 and size a count")
    if not isinstance(obj["root"], str) or not re.fullmatch(r"[0-9a-f]{64}", obj["root"]):
        raise ValueError("root must be 64 lowercase hex digits")
    log_id = obj["log_id"]
    if not isinstance(log_id, str) or not log_id or not log_id.isprintable() or any(c in log_id for c in "\n\r\x85\u2028\u2029"):
        raise ValueError("log_id must be one line of printable text")
    if parse_time(obj["issued_at"]) is None or datetime.fromisoformat(obj["issued_at"]).isoformat() != obj["issued_at"]:
        raise ValueError("issued_at must be an ISO 8601 time with its UTC offset")
    try:
        raw = base64.b64decode(str(obj["signature"]).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("signature is not base64") from None
    if len(raw) != 64 or base64.b64encode(raw).decode("ascii") != obj["signature"]:
        raise ValueError("signature must be the canonical base64 of 64 bytes")
    return dict(obj)


def checkpoint_message(cp: Json) -> bytes:
    """The exact bytes the checkpoint's Ed25519 signature covers."""
    return f"ijime-flow checkpoint v1\n{cp['log_id']}\n{cp['size']}\n{cp['root']}\n{cp['issued_at']}\n".encode()


def load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def ed25519_ok(public_key: Any, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def signature_ok(cp: Json, public_key: Any) -> bool:
    return ed25519_ok(public_key, base64.b64decode(cp["signature"]), checkpoint_message(cp))


def note_signatures(note: str, key_name: str, raw_key: bytes, sig_type: int) -> tuple[str, list[bytes]]:
    """A C2SP signed note (c2sp.org/signed-note): its text, and the signatures (without the 4-byte key id) of
    the lines whose key name and key id are this key's: SHA-256(name || 0x0A || type || key)[:4]."""
    if "\n\n" not in note or not note.endswith("\n"):
        raise ValueError("not a signed note: a text, a blank line, signature lines")
    cut = note.rindex("\n\n")
    text, lines = note[:cut + 1], note[cut + 2:].splitlines()
    key_id = hashlib.sha256(key_name.encode() + b"\n" + bytes([sig_type]) + raw_key).digest()[:4]
    found = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise ValueError(f"not a signature line: {line[:60]!r}")
        raw = base64.b64decode(parts[2], validate=True)
        if parts[1] == key_name and raw[:4] == key_id:
            found.append(raw[4:])
    return text, found


def verify_note(note: str, key_name: str, raw_key: bytes) -> bool:
    """Whether the note carries a good Ed25519 (type 0x01) signature over its text by this key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text, signatures = note_signatures(note, key_name, raw_key, 0x01)
    key = Ed25519PublicKey.from_public_bytes(raw_key)
    return bool(signatures) and all(ed25519_ok(key, s, text.encode("utf-8")) for s in signatures)


# -- 7. inclusion proofs (docs/formats.md §7) -------------------------------------------------------------------
PROOF_KEYS = {"format", "checkpoint", "case_id", "seq", "leaf_index", "event", "proof"}


def proof_file_problems(proof: Any, public_key: Any) -> list[str]:
    """What is wrong with one proof file: its shape, the checkpoint's signature, the event's claims, the path."""
    if not isinstance(proof, dict) or set(proof) != PROOF_KEYS:
        return [f"not a usable proof file: it has exactly the keys {sorted(PROOF_KEYS)}"]
    if not (is_int(proof["format"]) and proof["format"] == 1) or not isinstance(proof["event"], str) \
            or not is_int(proof["leaf_index"]) or proof["leaf_index"] < 0 or not is_int(proof["seq"]) or proof["seq"] < 1 \
            or not isinstance(proof["case_id"], str) or not texts(proof["proof"]):
        return ["not a usable proof file: a field has the wrong type"]
    try:
        cp = checkpoint_of(proof["checkpoint"])
        path = [bytes.fromhex(h) for h in proof["proof"]]
        event = json.loads(proof["event"])
    except (ValueError, RecursionError) as exc:
        return [f"not a usable proof file: {exc}"]
    problems = []
    if not signature_ok(cp, public_key):
        problems.append("the checkpoint's signature does not verify with this public key")
    if not isinstance(event, dict) or (event.get("case_id"), event.get("seq")) != (proof["case_id"], proof["seq"]):
        problems.append("the event in the file is not the one it claims to be")
    if not verify_inclusion(leaf_hash(proof["event"].encode("utf-8")), proof["leaf_index"], cp["size"], path,
                            bytes.fromhex(cp["root"])):
        problems.append(f"the event is not at position {proof['leaf_index'] + 1} of the checkpointed log")
    return problems


def verify_proofs(bundle: Json, public_key: Any, own: Json | None, report: Any) -> None:
    """Every event at or before the checkpoint carries exactly one valid proof of its own place, in the events'
    order; no event after it was recorded before it was signed. ``own``: the auditor's checkpoint."""
    cp = own
    if cp is None:
        seen: dict[tuple[Any, ...], Json] = {}
        for proof in bundle["proofs"]:
            try:
                found = checkpoint_of(proof["inclusion"].get("checkpoint"))
            except ValueError as exc:
                report.add(proof["case_id"], proof["seq"], "proof", f"line {proof['line']}: unusable checkpoint ({exc})")
                continue
            seen.setdefault((found["root"], found["size"], found["signature"]), found)
        if len(seen) > 1:
            report.add("", None, "proof", f"the proof lines carry {len(seen)} different checkpoints")
        cp = next(iter(seen.values()), None)
        if cp is None:
            report.add("", None, "proof", "the bundle carries no inclusion proof and no checkpoint was given")
            return
    if not signature_ok(cp, public_key):
        report.add("", None, "signature", "the checkpoint's signature does not verify with this public key")
    events = bundle["events"]
    order = {(e["case_id"], e["seq"]): i for i, e in enumerate(events)}
    proven: set[tuple[str, int]] = set()
    said: set[tuple[str, int]] = set()
    last = -1
    for proof in bundle["proofs"]:
        key, inc = (proof["case_id"], proof["seq"]), proof["inclusion"]
        where = f"line {proof['line']}"
        if key in said:
            report.add(*key, "proof", f"{where}: a second proof for this event")
            continue
        said.add(key)
        if key not in order:
            report.add(*key, "proof", f"{where}: the bundle holds no such event")
            continue
        if order[key] < last:
            report.add(*key, "proof", f"{where}: proof lines are not in the order of the events")
        last = max(last, order[key])
        event = events[order[key]]
        wrong = [message for message, bad in (
            ("the proof is for another checkpoint", inc.get("checkpoint") != cp),
            ("the proof is for another case or seq", (inc.get("case_id"), inc.get("seq")) != key),
            ("the proof is for another text than the bundle's event", inc.get("event") != event["body"]),
            ("the proof is for another leaf than the event's position", inc.get("leaf_index") != event["position"] - 1),
            ("the event's position is after the checkpoint", event["position"] > cp["size"])) if bad]
        wrong = wrong or proof_file_problems(inc, public_key)
        for message in wrong:
            report.add(*key, "proof", f"{where}: {message}")
        if not wrong:
            proven.add(key)
    signed_at = parse_time(cp["issued_at"])
    for event in events:
        key = (event["case_id"], event["seq"])
        if event["position"] <= cp["size"] and key not in said:
            report.add(*key, "proof", f"position {event['position']} is covered by the checkpoint but carries no proof")
        if event["position"] > cp["size"]:
            try:
                recorded = parse_time(json.loads(event["body"]).get("recorded_at"))
            except (ValueError, AttributeError, RecursionError):
                recorded = None
            if recorded is not None and signed_at is not None and recorded <= signed_at:
                report.add(*key, "proof", f"recorded before the checkpoint was signed but claims position"
                                          f" {event['position']} after it (size {cp['size']})")
