"""The auditor's commands on a store or a bundle: verify, and signed checkpoints (keygen, checkpoint, prove,
verify-proof); the witness and consistency commands are in :mod:`.witness`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..clock import SystemClock, jst
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    Unusable,
    audit,
    emit,
    open_existing,
    progress_bar,
    read,
    read_checkpoint,
    read_keys,
    verdict,
)


def register_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``verify``, added to the ``ijime-flow`` parser."""
    p = sub.add_parser("verify", help="check chains, legality and states (exit 1 when a problem is found)",
                       description="記録を検証する: ハッシュ連鎖、seq の連続、固定された定義、各操作の適法性、記録された状態。"
                                   " --db なしでは履歴バンドル（ijime-flow export）をデータベースなしで検証する。"
                                   " / Verify a store (--db), or a history bundle offline (no database).",
                       usage="%(prog)s (--db DB [CASE] | FILE) [--json] [--checkpoint FILE (--pubkey | --vkey) KEY"
                             " [--witness VKEY]...]")
    p.add_argument("target", nargs="?", metavar="FILE",
                   help="履歴バンドル。--db のときは事案ID（省略: 全事案） / a history bundle; with --db, a CASE id"
                        " (default: every case)")
    p.add_argument("--db", help="SQLite file or postgresql:// URL")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--checkpoint", type=Path, metavar="FILE", help="also prove the store extends this signed checkpoint")
    p.add_argument("--pubkey", type=Path, metavar="KEY",
                   help="public key that signed the checkpoint (with a bundle: also checks its inclusion proofs)")
    p.add_argument("--vkey", type=Path, metavar="KEY", dest="pubkey", help="the same: the log's verifier key (name+id+key)")
    p.add_argument("--witness", type=Path, action="append", default=[], metavar="VKEY",
                   help="副署が必要な証人の vkey（繰り返し可） / a witness whose cosignature is required (repeatable)")
    p.add_argument("--workers", type=_workers, metavar="N",
                   help="全事案の検証に使うプロセス数（既定: 大きな保存先ではコア数） / processes that verify the whole"
                        " store (default: every core for a large file or URL store; 1: this one alone)")
    p.set_defaults(run=_verify)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--workers は1以上の整数です / --workers must be a whole number, 1 or more: {text!r}")
    return int(text)


def register_checkpoints(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The checkpoint commands, added to the ``ijime-flow`` parser."""
    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing checkpoints")
    p.add_argument("--out", type=Path, required=True, metavar="PREFIX",
                   help="writes PREFIX.key (private), PREFIX.pub and, with --name, PREFIX.vkey")
    p.add_argument("--name", default="", help="the key's name for its verifier key: the log's origin (or, with --witness,"
                                            " the witness's name), e.g. board.example.jp/school-0421")
    p.add_argument("--witness", action="store_true", help="a witness (cosigner) key: its vkey has type 0x04")
    p.set_defaults(run=_keygen)


    p = sub.add_parser("checkpoint", help="sign the Merkle root of every event in the store (keep it outside the store)")
    p.add_argument("--db", required=True, help="SQLite file or postgresql:// URL")
    p.add_argument("--key", type=Path, required=True, help="private key (from keygen)")
    p.add_argument("--origin", "--log-id", dest="origin", default="",
                   help="the log's origin, one per school, never changed: <board domain>/<school id> (required)")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=_checkpoint)


    p = sub.add_parser("prove", help="an inclusion proof of one event in a checkpointed log, for an auditor")
    p.add_argument("--db", required=True, help="SQLite file or postgresql:// URL")
    p.add_argument("case", metavar="CASE")
    p.add_argument("seq", type=int, metavar="SEQ")
    p.add_argument("--checkpoint", type=Path, required=True, metavar="FILE")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.add_argument("--json", action="store_true", help="the JSON proof file even for a C2SP checkpoint (default: a tlog-proof)")
    p.set_defaults(run=_prove)


    p = sub.add_parser("verify-proof", help="check an inclusion proof offline (exit 1 when it fails)")
    p.add_argument("proof", type=Path, metavar="FILE", help="a file written by `ijime-flow prove` (JSON or tlog-proof)")
    p.add_argument("--pubkey", "--vkey", dest="pubkey", type=Path, required=True, metavar="KEY",
                   help="the log's public key: PEM or a verifier key")
    p.add_argument("--witness", type=Path, action="append", default=[], metavar="VKEY", help="a required witness (repeatable)")
    p.set_defaults(run=_verify_proof)


def _verify(args: argparse.Namespace) -> int:
    if args.db is None:
        if args.target is None:
            raise Unusable("give --db DB (a store) or FILE (a history bundle)")
        return _verify_bundle(Path(args.target), args.pubkey, args.checkpoint, args.json)
    if (args.checkpoint is None) != (args.pubkey is None):
        raise Unusable("--checkpoint and --pubkey go together")
    if args.witness and args.checkpoint is None:
        raise Unusable("--witness は --checkpoint と使います / --witness goes with --checkpoint")
    with open_existing(args.db) as engine:
        report = engine.verify(args.target, progress=progress_bar, workers=args.workers)
        checked: list[str] = []
        shown: dict[str, object] = {}
        if args.checkpoint is not None:
            from ..proofs.check import check_store

            cp, key = read_checkpoint(args.checkpoint), read_keys(args.pubkey)
            witnesses = [read_keys(w, witness=True) for w in args.witness]
            checked, shown = audit(lambda: check_store(engine.store, cp, [key], witnesses))
        ok = report.ok and not checked
        if args.json:
            print(json.dumps({**report.to_dict(), "ok": ok, "checkpoint": {"problems": checked, **shown}}
                             if args.checkpoint else report.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(verdict(report.ok, report.cases, report.events, len(report.problems)))
            for problem in report.problems:
                print(f"  {problem}")
            if args.checkpoint is not None:
                print("チェックポイント: 一致 / the store extends the checkpoint" if not checked else
                      "チェックポイント: 不一致 / the store does NOT extend the checkpoint")
                for line in list(shown.get("signatures") or []):  # type: ignore[call-overload]
                    print(f"  {line}")
                for finding in checked:
                    print(f"  {finding}")
        return EXIT_OK if ok else EXIT_PROBLEMS


def _verify_bundle(path: Path, pubkey: Path | None, checkpoint: Path | None, as_json: bool) -> int:
    """A bundle, offline: everything ``verify --db`` checks; with a key, its inclusion proofs — every
    event the checkpoint covers must be proven — against the auditor's ``checkpoint`` when given (it
    takes precedence over the one the bundle carries); and where each deadline of its cases stands as
    of the export."""
    from ..audit.bundle import ProofStatus, load_bundle, proof_status, read_bundle

    if checkpoint is not None and pubkey is None:
        raise Unusable("--checkpoint needs --pubkey (the key that signed it)")
    engine, main_case = load_bundle(path)
    with engine:
        report = engine.verify(progress=progress_bar)
        status: ProofStatus | None = None
        if pubkey is not None:
            own = read_checkpoint(checkpoint) if checkpoint is not None else None
            try:
                status = proof_status(read_bundle(path), read(pubkey, "public key"), own)
            except ValueError as exc:
                raise Unusable(f"{pubkey}: not a public key: {exc}") from None
        proofs = list(status.problems) if status else []
        deadlines = {cid: engine.get_case(cid).deadlines() for cid in engine.case_ids()
                     if not any(p.case_id == cid for p in report.problems)}
        ok = report.ok and not proofs
        if as_json:
            shown: dict[str, object] = {"checked": status is not None, "problems": proofs}
            if status is not None:
                shown.update(events=status.events, covered=status.covered, proven=status.proven, after=status.after,
                             checkpoint_size=status.checkpoint.size if status.checkpoint else None)
            print(json.dumps({**report.to_dict(), "ok": ok, "bundle": str(path), "case_id": main_case,
                              "proofs": shown,
                              "deadlines": {cid: [{"id": d.id, "state": d.state, "due": d.due.isoformat(),
                                                   "met_at": d.met_at.isoformat() if d.met_at else None,
                                                   "status": d.status} for d in found]
                                            for cid, found in deadlines.items()}},
                             ensure_ascii=False, indent=2))
            return EXIT_OK if ok else EXIT_PROBLEMS
        print(verdict(report.ok, report.cases, report.events, len(report.problems)) + f"  ({path})")
        for problem in report.problems:
            print(f"  {problem}")
        outside = sorted(getattr(engine.store, "outside", ()))
        if outside:
            print(f"  含めなかった関連事案（他の児童生徒の事案） {len(outside)} 件: {', '.join(outside)} / {len(outside)} linked"
                  " case(s) left outside on purpose (other pupils' cases a linked case opened)")
        if status is not None:
            print(("包含証明: すべて有効 / every inclusion proof holds" if not proofs else
                   "包含証明: 無効あり / some inclusion proofs FAIL") + f" — {status.summary()}")
            for finding in proofs:
                print(f"  {finding}")
        for cid, found in deadlines.items():
            for d in found:
                when = jst(d.met_at) if d.met_at else "—"
                period = "" if d.period is None else f" {d.period}"
                print(f"  期限 / deadline {cid} {d.id}{period}: {d.status_ja} ({d.status}); 期限 {jst(d.due)}, 実施 {when}")
        return EXIT_OK if ok else EXIT_PROBLEMS


def _keygen(args: argparse.Namespace) -> int:
    from ..proofs.checkpoint import generate_keypair, load_private_key
    from ..proofs.note import COSIGNATURE, ED25519, Verifier

    private, public, vkey = Path(f"{args.out}.key"), Path(f"{args.out}.pub"), Path(f"{args.out}.vkey")
    if args.witness and not args.name:
        raise Unusable("証人の鍵には --name が必要です / a witness key needs --name (e.g. --name board.example.jp/witness)")
    for path in (private, public, *([vkey] if args.name else [])):
        if path.exists():
            raise Unusable(f"{path} exists: refusing to overwrite a key")
    secret, shared = generate_keypair()
    raw = load_private_key(secret).public_key().public_bytes_raw()
    verifier = audit(lambda: Verifier(args.name, COSIGNATURE if args.witness else ED25519, raw).vkey) if args.name else None
    try:
        private.touch(mode=0o600)
        private.write_bytes(secret)
        public.write_bytes(shared)
        if verifier:
            vkey.write_text(verifier + "\n", encoding="utf-8")
    except OSError as exc:
        raise Unusable(f"鍵を書き込めません / cannot write the key {exc.filename}: {exc.strerror or exc}") from None
    print(f"private key: {private} (keep it away from the school's database)\npublic key:  {public}")
    if verifier:
        print(f"verifier key: {vkey} ({verifier})")
    return EXIT_OK


def _checkpoint(args: argparse.Namespace) -> int:
    from ..proofs.check import make_tlog_checkpoint
    from ..proofs.tlog import NO_ORIGIN

    if not args.origin:
        raise Unusable(NO_ORIGIN)
    with open_existing(args.db) as engine:
        key = read(args.key, "private key")
        cp = audit(lambda: make_tlog_checkpoint(engine.store, key, args.origin, SystemClock().now()))
    emit(str(cp), args.output)
    if args.output:
        print(f"checkpoint: {cp.origin}, {cp.size} events, root {cp.root[:16]}…, written to {args.output}")
    return EXIT_OK


def _prove(args: argparse.Namespace) -> int:
    from ..proofs.check import inclusion_bundle, tlog_proof
    from ..proofs.tlog import TlogCheckpoint

    with open_existing(args.db) as engine:
        cp = read_checkpoint(args.checkpoint)
        try:
            if isinstance(cp, TlogCheckpoint) and not args.json:
                text = tlog_proof(engine.store, args.case, args.seq, cp)
            else:
                text = json.dumps(inclusion_bundle(engine.store, args.case, args.seq, cp), ensure_ascii=False, indent=2) + "\n"
        except LookupError as exc:
            raise Unusable(str(exc)) from None
    emit(text, args.output)
    return EXIT_OK


def _verify_proof(args: argparse.Namespace) -> int:
    from ..proofs.check import check_bundle
    from ..proofs.inclusion import HEADER, check_tlog_proof, parse_tlog_proof, proven_event

    data, key = read(args.proof, "proof file"), read_keys(args.pubkey)
    witnesses = [read_keys(w, witness=True) for w in args.witness]
    if data.startswith(HEADER.encode()):
        try:
            proof = parse_tlog_proof(data)
        except ValueError as exc:
            raise Unusable(f"{args.proof}: 証明ファイルではありません / not a tlog-proof: {exc}") from None
        problems = check_tlog_proof(proof, [key], witnesses)
        case_id, seq = proven_event(proof) if not problems else ("", 0)
        index, size = proof.index, str(proof.checkpoint.size)
    else:
        try:
            bundle = json.loads(data)
        except ValueError as exc:
            raise Unusable(f"{args.proof}: not JSON ({exc})") from None
        if not isinstance(bundle, dict):
            raise Unusable(f"{args.proof}: not a proof file")
        problems = audit(lambda: check_bundle(bundle, [key]))
        if witnesses:
            problems.append("a JSON proof file's checkpoint (format 1) carries no cosignature: use a tlog-proof")
        if not problems:  # the shape was checked: every field is there, of its type
            from ..proofs.check import checkpoint_from_wire

            case_id, seq, index = bundle["case_id"], bundle["seq"], bundle["leaf_index"]
            size = str(checkpoint_from_wire(bundle["checkpoint"]).size)
    if problems:
        print("証明NG / the proof FAILS")
        for problem in problems:
            print(f"  {problem}")
        return EXIT_PROBLEMS
    print(f"証明OK / proven: case {case_id} seq {seq} is event {index + 1} of the signed log of {size} events")
    return EXIT_OK
