"""The ``ijime-flow`` command.

Exit codes: 0 — done, nothing wrong; 1 — problems found (invalid workflow, failed verification);
2 — unusable input (bad arguments, a store that does not exist, an unknown case).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from . import __version__
from .clock import jst
from .engine import Engine
from .errors import DefinitionError, IjimeFlowError
from .events import parse_event
from .loader import load_path

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        code: int = args.run(args)
        return code
    except IjimeFlowError as exc:
        print(f"ijime-flow: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ijime-flow",
        description="いじめ対応の手順をワークフローとして実行し、改ざん検知可能な記録を残す。"
                    " / Run a school's bullying-response procedure and keep a tamper-evident log.",
    )
    parser.add_argument("--version", action="version", version=f"ijime-flow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("validate", help="check workflow files (exit 1 with one file:line:col line per problem)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="workflow file(s) or folder(s) of *.yaml files")
    p.add_argument("--no-lint", action="store_true", help="check shape and references only, skip lint rules")
    p.set_defaults(run=_validate)

    p = sub.add_parser("check", help="run the policy features against a workflow file (exit 1 when any scenario fails)")
    p.add_argument("--workflow", type=Path, required=True, metavar="FILE", help="the workflow file to check")
    p.add_argument("features", nargs="*", type=Path, metavar="FEATURES",
                   help="feature files or folders (default: the bundled policy features)")
    p.set_defaults(run=_check)

    p = sub.add_parser("diagram", help="print a workflow as a Mermaid stateDiagram-v2")
    p.add_argument("path", type=Path, metavar="FILE", help="workflow file")
    p.set_defaults(run=_diagram)

    p = sub.add_parser("schema", help="print the JSON Schema of the workflow language")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p.set_defaults(run=_schema)

    p = sub.add_parser("demo", help="run a realistic case through the response workflow into an SQLite file")
    p.add_argument("--db", type=Path, default=Path("ijime-flow-demo.db"), help="SQLite file (default: %(default)s)")
    p.add_argument("--workflows", type=Path, help="workflows folder (default: ./workflows or the source checkout's)")
    p.set_defaults(run=_demo)

    p = sub.add_parser("history", help="a case's timeline (without CASE: the list of cases)")
    p.add_argument("--db", type=Path, required=True, help="SQLite file")
    p.add_argument("case", nargs="?", metavar="CASE", help="case id")
    p.add_argument("--json", action="store_true", help="the events as stored (canonical JSON)")
    p.set_defaults(run=_history)

    p = sub.add_parser("verify", help="check chains, legality and states (exit 1 when a problem is found)",
                       description="記録を検証する: ハッシュ連鎖、seq の連続、固定された定義、各操作の適法性、記録された状態。"
                                   " --db なしでは履歴バンドル（ijime-flow export）をデータベースなしで検証する。"
                                   " / Verify a store (--db), or a history bundle offline (no database).",
                       usage="%(prog)s (--db DB [CASE] | FILE) [--json] [--checkpoint FILE --pubkey KEY]")
    p.add_argument("target", nargs="?", metavar="FILE",
                   help="履歴バンドル。--db のときは事案ID（省略: 全事案） / a history bundle; with --db, a CASE id"
                        " (default: every case)")
    p.add_argument("--db", help="SQLite file or postgresql:// URL")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--checkpoint", type=Path, metavar="FILE", help="also prove the store extends this signed checkpoint")
    p.add_argument("--pubkey", type=Path, metavar="KEY",
                   help="public key that signed the checkpoint (with a bundle: also checks its inclusion proofs)")
    p.set_defaults(run=_verify)

    from .cli_bundle import register as register_bundle
    from .cli_replay import register as register_replay
    from .cli_report import register as register_report

    register_bundle(sub)
    register_replay(sub)
    register_report(sub)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing checkpoints")
    p.add_argument("--out", type=Path, required=True, metavar="PREFIX", help="writes PREFIX.key (private) and PREFIX.pub")
    p.set_defaults(run=_keygen)

    p = sub.add_parser("checkpoint", help="sign the Merkle root of every event in the store (keep it outside the store)")
    p.add_argument("--db", type=Path, required=True, help="SQLite file")
    p.add_argument("--key", type=Path, required=True, help="private key (from keygen)")
    p.add_argument("--log-id", default="", help="names the store in the checkpoint (default: the file name)")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=_checkpoint)

    p = sub.add_parser("prove", help="an inclusion proof of one event in a checkpointed log, for an auditor")
    p.add_argument("--db", type=Path, required=True, help="SQLite file")
    p.add_argument("case", metavar="CASE")
    p.add_argument("seq", type=int, metavar="SEQ")
    p.add_argument("--checkpoint", type=Path, required=True, metavar="FILE")
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=_prove)

    p = sub.add_parser("verify-proof", help="check an inclusion proof offline (exit 1 when it fails)")
    p.add_argument("proof", type=Path, metavar="FILE", help="a file written by `ijime-flow prove`")
    p.add_argument("--pubkey", type=Path, required=True, metavar="KEY")
    p.set_defaults(run=_verify_proof)
    return parser


def _configure_logging(verbose: bool) -> None:
    """The command is an application, so it may configure structlog (the library never does)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.paths:
        try:
            for defn in load_path(path, run_lint=not args.no_lint):
                print(f"ok: {defn.file} ({defn.id} {defn.version}, sha256 {defn.sha256[:16]}…)")
        except DefinitionError as exc:
            failed = True
            for problem in exc.problems:
                print(str(problem))
    return EXIT_PROBLEMS if failed else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("pytest_bdd") is None:
        print("ijime-flow check needs pytest-bdd: python -m pip install 'ijime-flow[bdd]'", file=sys.stderr)
        return EXIT_UNUSABLE
    from .policycheck import BUNDLED_FEATURES, render, run_check

    try:
        definition = load_path(args.workflow)[0]
    except DefinitionError as exc:
        print(f"ワークフローが読み込めません / the workflow cannot be loaded: {args.workflow}")
        for problem in exc.problems:
            print(str(problem))
        return EXIT_PROBLEMS
    if not args.features and not BUNDLED_FEATURES.is_dir():
        print(f"ijime-flow: bundled features not found at {BUNDLED_FEATURES}; give FEATURES", file=sys.stderr)
        return EXIT_UNUSABLE
    for feature in args.features:
        if not feature.exists():
            print(f"ijime-flow: no such feature file or folder: {feature}", file=sys.stderr)
            return EXIT_UNUSABLE
    report = run_check(args.workflow, args.features or None, verbose=args.verbose)
    print(render(report, f"{args.workflow} ({definition.id} {definition.version}, sha256 {definition.sha256[:12]}…)"))
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _diagram(args: argparse.Namespace) -> int:
    from .diagram import mermaid

    try:
        definition = load_path(args.path)[0]
    except DefinitionError as exc:
        for problem in exc.problems:
            print(str(problem))
        return EXIT_PROBLEMS
    sys.stdout.write(mermaid(definition) + "\n")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from .schema import workflow_schema_text

    _emit(workflow_schema_text(), args.output)
    return EXIT_OK


def _emit(text: str, output: Path | None) -> None:
    """Write to the ``-o`` file if one was given, else to standard output."""
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _demo(args: argparse.Namespace) -> int:
    from .demo import find_workflows, run_demo
    from .timeline import render_timeline

    try:
        workflows = find_workflows(args.workflows)
    except FileNotFoundError as exc:
        print(f"ijime-flow: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    with Engine(args.db) as engine:
        engine.load(workflows)
        case = run_demo(engine, say=print)
        print()
        print(render_timeline(engine.definition("response"), case.history()))
        print()
        report = engine.verify(case.id)
        print(_verdict(report.ok, report.cases, report.events, len(report.problems)))
        for problem in report.problems:
            print(f"  {problem}")
        print(f"\nSQLite: {args.db}  case: {case.id}")
        print(f"  ijime-flow history --db {args.db} {case.id}\n  ijime-flow verify --db {args.db}\n"
              f"  ijime-flow report --db {args.db} {case.id} -o case.md\n"
              f"  ijime-flow export --db {args.db} {case.id} -o case.jsonl   # then: ijime-flow verify case.jsonl\n"
              f"  ijime-flow cases --db {args.db}")
        return EXIT_OK if report.ok else EXIT_PROBLEMS


def _open_existing(db: str | Path) -> Engine:
    if "://" not in str(db) and not Path(db).is_file():
        raise _Unusable(f"no such store: {db}")
    return Engine(db)


class _Unusable(IjimeFlowError):
    pass


def _history(args: argparse.Namespace) -> int:
    from .timeline import render_timeline, states_label

    with _open_existing(args.db) as engine:
        if args.case is None:
            if args.json:
                print(json.dumps(engine.case_ids(), ensure_ascii=False))
                return EXIT_OK
            listed = engine.cases()  # the projection: no case is loaded
            for row in listed:
                runtime = engine.runtime_for(row.definition_sha256)
                defn = runtime.definition if runtime else None
                print(f"{row.case_id}  {row.school or '-'}  {row.workflow}  seq {row.seq}  {states_label(defn, row.states)}")
            if not listed:
                print("(no cases)")
            return EXIT_OK
        rows = engine.store.read_case(args.case)
        if not rows:
            raise _Unusable(f"事案 {args.case} は記録にありません / no case '{args.case}' in {args.db}")
        if args.json:
            print(json.dumps([json.loads(row.body) for row in rows], ensure_ascii=False, indent=2))
            return EXIT_OK
        events = [parse_event(row.body, row.case_id, row.seq) for row in rows]
        pin = events[0].definition
        runtime = engine.runtime_for(pin.sha256) if pin else None
        print(render_timeline(runtime.definition if runtime else None, events))
        return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    if args.db is None:
        if args.target is None:
            raise _Unusable("give --db DB (a store) or FILE (a history bundle)")
        return _verify_bundle(Path(args.target), args.pubkey, args.json)
    if (args.checkpoint is None) != (args.pubkey is None):
        raise _Unusable("--checkpoint and --pubkey go together")
    with _open_existing(args.db) as engine:
        report = engine.verify(args.target, progress=_progress_bar)
        checked: list[str] = []
        shown: dict[str, object] = {}
        if args.checkpoint is not None:
            from .audit import check_store

            cp, key = _read_checkpoint(args.checkpoint), _read(args.pubkey, "public key")
            checked, shown = _audit(lambda: check_store(engine.store, cp, key))
        ok = report.ok and not checked
        if args.json:
            print(json.dumps({**report.to_dict(), "ok": ok, "checkpoint": {"problems": checked, **shown}}
                             if args.checkpoint else report.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(_verdict(report.ok, report.cases, report.events, len(report.problems)))
            for problem in report.problems:
                print(f"  {problem}")
            if args.checkpoint is not None:
                print("チェックポイント: 一致 / the store extends the checkpoint" if not checked else
                      "チェックポイント: 不一致 / the store does NOT extend the checkpoint")
                for finding in checked:
                    print(f"  {finding}")
        return EXIT_OK if ok else EXIT_PROBLEMS


def _progress_bar(items: Any, total: int) -> Any:
    from .progress import progress

    return progress(items, total=total, desc="検証 / verify")


def _verify_bundle(path: Path, pubkey: Path | None, as_json: bool) -> int:
    """A bundle, offline: everything ``verify --db`` checks, its inclusion proofs when a key is
    given, and where each deadline of its cases stands as of the export."""
    from .bundle import check_proofs, load_bundle, read_bundle

    engine, main_case = load_bundle(path)
    with engine:
        report = engine.verify(progress=_progress_bar)
        proofs: list[str] = []
        if pubkey is not None:
            try:
                proofs = check_proofs(read_bundle(path), _read(pubkey, "public key"))
            except ValueError as exc:
                raise _Unusable(f"{pubkey}: not a public key: {exc}") from None
        deadlines = {cid: engine.get_case(cid).deadlines() for cid in engine.case_ids()
                     if not any(p.case_id == cid for p in report.problems)}
        ok = report.ok and not proofs
        if as_json:
            print(json.dumps({**report.to_dict(), "ok": ok, "bundle": str(path), "case_id": main_case,
                              "proofs": {"checked": pubkey is not None, "problems": proofs},
                              "deadlines": {cid: [{"id": d.id, "state": d.state, "due": d.due.isoformat(),
                                                   "met_at": d.met_at.isoformat() if d.met_at else None,
                                                   "status": d.status} for d in found]
                                            for cid, found in deadlines.items()}},
                             ensure_ascii=False, indent=2))
            return EXIT_OK if ok else EXIT_PROBLEMS
        print(_verdict(report.ok, report.cases, report.events, len(report.problems)) + f"  ({path})")
        for problem in report.problems:
            print(f"  {problem}")
        if pubkey is not None:
            print("包含証明: すべて有効 / every inclusion proof holds" if not proofs else
                  "包含証明: 無効あり / some inclusion proofs FAIL")
            for finding in proofs:
                print(f"  {finding}")
        for cid, found in deadlines.items():
            for d in found:
                when = jst(d.met_at) if d.met_at else "—"
                print(f"  期限 / deadline {cid} {d.id}: {d.status_ja} ({d.status}); 期限 {jst(d.due)}, 実施 {when}")
        return EXIT_OK if ok else EXIT_PROBLEMS


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Unusable(f"cannot read the {what} {path}: {exc.strerror}") from None


def _read_checkpoint(path: Path) -> Any:
    from .checkpoint import from_json

    try:
        return from_json(_read(path, "checkpoint"))
    except ValueError as exc:
        raise _Unusable(f"{path}: not a checkpoint: {exc}") from None


def _audit(action: Any) -> Any:
    """Run a checkpoint operation; a bad key is unusable input, not a traceback."""
    try:
        return action()
    except ValueError as exc:
        raise _Unusable(str(exc)) from None


def _keygen(args: argparse.Namespace) -> int:
    from .checkpoint import generate_keypair

    private, public = Path(f"{args.out}.key"), Path(f"{args.out}.pub")
    for path in (private, public):
        if path.exists():
            raise _Unusable(f"{path} exists: refusing to overwrite a key")
    secret, shared = generate_keypair()
    private.touch(mode=0o600)
    private.write_bytes(secret)
    public.write_bytes(shared)
    print(f"private key: {private} (keep it away from the school's database)\npublic key:  {public}")
    return EXIT_OK


def _checkpoint(args: argparse.Namespace) -> int:
    from .audit import make_checkpoint
    from .checkpoint import to_json

    with _open_existing(args.db) as engine:
        key = _read(args.key, "private key")
        cp = _audit(lambda: make_checkpoint(engine.store, key, args.log_id or args.db.name, engine.clock.now()))
    _emit(to_json(cp) + "\n", args.output)
    if args.output:
        print(f"checkpoint: {cp.size} events, root {cp.root[:16]}…, written to {args.output}")
    return EXIT_OK


def _prove(args: argparse.Namespace) -> int:
    from .audit import inclusion_bundle

    with _open_existing(args.db) as engine:
        cp = _read_checkpoint(args.checkpoint)
        try:
            bundle = inclusion_bundle(engine.store, args.case, args.seq, cp)
        except LookupError as exc:
            raise _Unusable(str(exc)) from None
    _emit(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", args.output)
    return EXIT_OK


def _verify_proof(args: argparse.Namespace) -> int:
    from .audit import check_bundle

    try:
        bundle = json.loads(_read(args.proof, "proof file"))
    except ValueError as exc:
        raise _Unusable(f"{args.proof}: not JSON ({exc})") from None
    if not isinstance(bundle, dict):
        raise _Unusable(f"{args.proof}: not a proof file")
    problems = _audit(lambda: check_bundle(bundle, _read(args.pubkey, "public key")))
    if problems:
        print("証明NG / the proof FAILS")
        for problem in problems:
            print(f"  {problem}")
        return EXIT_PROBLEMS
    print(f"証明OK / proven: case {bundle.get('case_id')} seq {bundle.get('seq')} is event"
          f" {int(bundle.get('leaf_index', 0)) + 1} of the signed log of {bundle['checkpoint']['size']} events")
    return EXIT_OK


def _verdict(ok: bool, cases: int, events: int, problems: int) -> str:
    if ok:
        return f"検証OK / verified: {cases} case(s), {events} event(s), no problems"
    return f"検証NG / verification FAILED: {problems} problem(s) in {cases} case(s), {events} event(s)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
