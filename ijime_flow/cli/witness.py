"""The board's and the auditor's commands between checkpoints: ``witness`` (check and cosign),
``prove-consistency`` (from the store), ``verify-consistency`` (offline), ``vkey`` (a verifier key for a PEM key)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .common import EXIT_OK, EXIT_PROBLEMS, Unusable, audit, emit, open_existing, read, read_checkpoint, read_keys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("witness", help="a board checks a school's new checkpoint against the one it cosigned, and cosigns it",
                       description="教育委員会（証人）が、前回副署したチェックポイントから新しいチェックポイントへの"
                                   "一貫性の証明と学校の署名を確かめ、副署（C2SP tlog-cosignature）を加える。"
                                   "証明が成り立たない、木が小さくなった、起点名が違うときは副署しない（終了コード 1）。"
                                   " / Check the school's signature and the consistency proof from"
                                   " the checkpoint last cosigned, then add the board's cosignature; refused (exit 1) when the"
                                   " proof fails, the size went down or the origin differs.")
    p.add_argument("checkpoint", type=Path, metavar="NEW", help="the school's new checkpoint")
    p.add_argument("--previous", type=Path, metavar="OLD", help="the checkpoint this witness cosigned last"
                                                                  " (none: the first time)")
    p.add_argument("--proof", type=Path, metavar="PROOF", help="consistency proof from OLD to NEW (ijime-flow prove-consistency)")
    p.add_argument("--log-vkey", type=Path, required=True, metavar="VKEY", help="the school's verifier key")
    p.add_argument("--key", type=Path, required=True, metavar="KEY", help="the witness's private key (keygen --witness)")
    p.add_argument("--name", required=True, help="the witness's name, as in its vkey (e.g. board.example.jp/witness)")
    p.add_argument("-o", "--output", type=Path, help="write the cosigned checkpoint here instead of standard output")
    p.set_defaults(run=_witness)

    p = sub.add_parser("prove-consistency", help="a consistency proof between two checkpoints of the store, to check offline")
    p.add_argument("old", type=Path, metavar="OLD")
    p.add_argument("new", type=Path, metavar="NEW", help="a C2SP checkpoint (ijime-flow checkpoint)")
    p.add_argument("--db", required=True, help="SQLite file or postgresql:// URL")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=_prove_consistency)

    p = sub.add_parser("verify-consistency", help="check offline that NEW extends OLD (exit 1 when it does not)")
    p.add_argument("old", type=Path, metavar="OLD")
    p.add_argument("new", type=Path, metavar="NEW")
    p.add_argument("proof", type=Path, metavar="PROOF", help="from ijime-flow prove-consistency")
    p.add_argument("--vkey", "--pubkey", dest="vkey", type=Path, required=True, metavar="KEY", help="the school's key")
    p.add_argument("--witness", type=Path, action="append", default=[], metavar="VKEY",
                   help="a witness that must have cosigned NEW (repeatable)")
    p.set_defaults(run=_verify_consistency)

    p = sub.add_parser("vkey", help="the verifier key (name+id+key) of an existing PEM key, e.g. one keygen made before")
    p.add_argument("--key", type=Path, required=True, metavar="KEY", help="a PEM private or public key")
    p.add_argument("--name", required=True, help="the log's origin, or the witness's name")
    p.add_argument("--witness", action="store_true", help="a cosignature key (type 0x04)")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=_vkey)


def _proof_file(path: Path | None) -> Any:
    from ..proofs.witness import parse_consistency_proof

    if path is None:
        return None
    try:
        return parse_consistency_proof(read(path, "consistency proof"))
    except ValueError as exc:
        raise Unusable(f"{path}: 一貫性の証明ではありません / not a consistency proof: {exc}") from None


def _refused(problems: list[str]) -> int:
    print("副署しません / NOT cosigned")
    for problem in problems:
        print(f"  {problem}")
    return EXIT_PROBLEMS


def _witness(args: argparse.Namespace) -> int:
    from ..proofs.note import COSIGNATURE, Verifier, check_key_name, load_signer
    from ..proofs.tlog import TlogCheckpoint
    from ..proofs.witness import check_consistency, check_signatures, cosign

    new, log_key = read_checkpoint(args.checkpoint), read_keys(args.log_vkey)
    if not isinstance(new, TlogCheckpoint):
        raise Unusable(f"{args.checkpoint}: a JSON checkpoint (format 1) cannot be cosigned: sign a C2SP one"
                       " (ijime-flow checkpoint)")
    private, _ = audit(lambda: load_signer(read(args.key, "private key")))
    audit(lambda: check_key_name(args.name, "witness name"))
    me = Verifier(args.name, COSIGNATURE, private.public_key().public_bytes_raw())
    problems = [f"NEW: {p}" for p in check_signatures(new, [log_key]).problems]
    old = read_checkpoint(args.previous) if args.previous is not None else None
    if old is not None:
        problems += [f"OLD: {p}" for p in check_signatures(old, [log_key], [me]).problems]
    if problems:
        return _refused(problems)
    problems = check_consistency(old, new, _proof_file(args.proof))
    if problems:
        return _refused(problems)
    cosigned = audit(lambda: cosign(new, private, args.name, int(time.time())))
    emit(str(cosigned), args.output)
    if args.output:
        print(f"副署しました / cosigned: {new.origin} at size {new.size} by {args.name}, written to {args.output}")
    return EXIT_OK


def _prove_consistency(args: argparse.Namespace) -> int:
    from ..proofs.check import store_consistency
    from ..proofs.tlog import TlogCheckpoint

    old, new = read_checkpoint(args.old), read_checkpoint(args.new)
    if not isinstance(new, TlogCheckpoint):
        raise Unusable(f"{args.new}: NEW must be a C2SP checkpoint (the proof file carries it, as a witness expects)")
    with open_existing(args.db) as engine:
        try:
            text = store_consistency(engine.store, old, new)
        except LookupError as exc:
            print(f"証明できません / cannot prove: {exc}")
            return EXIT_PROBLEMS
    emit(text, args.output)
    if args.output:
        print(f"consistency proof: size {old.size} → {new.size}, written to {args.output}")
    return EXIT_OK


def _verify_consistency(args: argparse.Namespace) -> int:
    from ..proofs.witness import check_consistency, check_signatures

    old, new, key = read_checkpoint(args.old), read_checkpoint(args.new), read_keys(args.vkey)
    witnesses = [read_keys(w, witness=True) for w in args.witness]
    old_signed, new_signed = check_signatures(old, [key]), check_signatures(new, [key], witnesses)
    problems = [f"OLD: {p}" for p in old_signed.problems] + [f"NEW: {p}" for p in new_signed.problems]
    if not problems:
        problems = check_consistency(old, new, _proof_file(args.proof))
    if problems:
        print("一貫性NG / NEW does NOT extend OLD")
        for problem in problems:
            print(f"  {problem}")
        return EXIT_PROBLEMS
    print(f"一貫性OK / NEW ({new.size} events) extends OLD ({old.size} events): the log only grew")
    for line in new_signed.lines():
        print(f"  {line}")
    return EXIT_OK


def _vkey(args: argparse.Namespace) -> int:
    from ..proofs.checkpoint import load_private_key
    from ..proofs.note import COSIGNATURE, ED25519, Verifier, load_verifier

    data = read(args.key, "key")
    kind = COSIGNATURE if args.witness else ED25519
    if b"PRIVATE KEY" in data:
        raw = audit(lambda: load_private_key(data)).public_key().public_bytes_raw()
    else:
        raw = audit(lambda: load_verifier(data, kind)).public_key
    emit(audit(lambda: Verifier(args.name, kind, raw).vkey) + "\n", args.output)
    return EXIT_OK
