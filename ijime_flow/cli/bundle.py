"""The ``export`` and ``import`` commands: a case's history as one bundle file, and back into a store.

:func:`register` adds both to the ``ijime-flow`` command's subparsers. Exit codes as everywhere:
0 — done; 1 — problems found (the bundle does not verify, or its cases are already in the store:
nothing imported); 2 — unusable input (raised as :class:`~ijime_flow.errors.IjimeFlowError`, which
the main command prints): no such store or case, a file that is not a usable bundle, a checkpoint
that is not one or is not of this store.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IjimeFlowError
from ..store import Store, open_store, redact_url
from ..store.urls import is_memory, sqlite_path

if TYPE_CHECKING:
    from ..proofs.tlog import AnyCheckpoint as Checkpoint

EXIT_OK, EXIT_PROBLEMS = 0, 1


class _Unusable(IjimeFlowError):
    pass


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` and ``import`` to the command's subparsers."""
    p = sub.add_parser(
        "export",
        help="事案の記録を1つのファイル（JSON Lines）に書き出す / write a case's history to one bundle file",
        description="事案の全イベントを保存されたとおり（バイト単位で同一）に、固定された定義とともに書き出す。"
                    " / Write every event of a case exactly as stored (byte for byte), with the definitions it"
                    " pinned, to one JSON Lines file that verifies on its own.")
    p.add_argument("--db", required=True, metavar="DB", help="記録の保存先 / SQLite file or postgresql:// URL")
    p.add_argument("case", metavar="CASE", help="事案ID / case id")
    p.add_argument("--with-linked", action="store_true",
                   help="重大事態への移行などでつながった事案も含める / also the cases linked by escalation,"
                        " both ways, transitively")
    p.add_argument("--checkpoint", type=Path, metavar="FILE",
                   help="この署名付きチェックポイントに対する包含証明を各イベントに付ける / add each event's"
                        " inclusion proof in this signed checkpoint")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="書き出し先 / write here instead of standard output")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--for", dest="disclose_for", metavar="SUBJECT",
                     help="開示請求: この児童生徒本人の情報だけを読める形で、他は封印のまま / a disclosure request: this"
                          " pupil's own values readable, everyone else's withheld (sealed)")
    who.add_argument("--redacted", action="store_true",
                     help="外部の委員会向け: 個人情報をすべて封印のまま（鍵なし） / for an outside committee: every"
                          " personal value withheld")
    p.set_defaults(run=_export)

    p = sub.add_parser(
        "import",
        help="書き出したファイルを検証して取り込む / verify a bundle and add its cases to a store",
        description="ファイルを検証し、問題がなければイベントをバイト単位で同一のまま取り込む。検証NG、"
                    "または既にある事案を含む場合は何も取り込まない。"
                    " / Verify the bundle; if it verifies and none of its cases is in the store yet, add its"
                    " definitions and events byte for byte. Otherwise nothing is written (exit 1).")
    p.add_argument("--db", required=True, metavar="DB",
                   help="取り込み先（なければ作成） / SQLite file (created if missing) or postgresql:// URL")
    p.add_argument("file", type=Path, metavar="FILE", help="`ijime-flow export` で書き出したファイル / a bundle")
    p.set_defaults(run=_import)


def _export(args: argparse.Namespace) -> int:
    from ..audit.bundle import export_bundle, linked_case_ids
    from ..audit.source import open_reading

    checkpoint = _read_checkpoint(args.checkpoint) if args.checkpoint is not None else None
    with open_reading(args.db) as engine:
        if not engine.store.read_case(args.case):
            raise _Unusable(f"事案 {args.case} は記録にありません / no case '{args.case}' in {redact_url(args.db)}")
        text = export_bundle(engine, args.case, with_linked=args.with_linked, checkpoint=checkpoint,
                             exported_at=engine.clock.now(), disclose_for=args.disclose_for, redacted=args.redacted)
        linked = [] if args.with_linked else linked_case_ids(engine.store, args.case)
    if linked:
        print(f"注意 / note: 事案 {args.case} は {', '.join(linked)} とつながっています。--with-linked なしでは"
              f" このファイルだけでは検証できません / case {args.case} is linked to {', '.join(linked)} by escalation;"
              " without --with-linked the bundle does not verify on its own", file=sys.stderr)
    withheld = json.loads(text[:text.index("\n")]).get("withheld")
    if withheld:
        print(f"非開示 / withheld: {withheld['ja']} / {withheld['en']}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.output.write_bytes(text.encode("utf-8"))  # bytes: no newline translation on any platform
    except OSError as exc:
        raise _Unusable(f"cannot write {args.output}: {exc.strerror or exc}") from None
    counts = json.loads(text[:text.index("\n")])  # the header
    print(f"書き出しました / exported: {len(counts['cases'])} case(s), {counts['events']} event(s),"
          f" {counts['proofs']} proof(s) to {args.output}")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from ..audit.bundle import BundleRejected, import_bundle, load_bundle

    if not args.file.is_file():
        raise _Unusable(f"no such bundle: {args.file}")
    path = sqlite_path(args.db)
    if is_memory(args.db) or (path is not None and not path.strip()):
        _store(args.db)  # refused before the bundle is read: it keeps nothing
    new = path is not None and not Path(path).exists()
    if new:  # verify before creating the store, so a refused bundle leaves no empty store behind
        engine, _ = load_bundle(args.file)
        with engine:
            report = engine.verify()
        if not report.ok:
            _refused(f"{args.file}: 検証NGのため取り込みません / the bundle does not verify, nothing imported"
                     f" ({len(report.problems)} problem(s))", [str(p) for p in report.problems])
            return EXIT_PROBLEMS
    store = _store(args.db)
    try:
        result = import_bundle(args.file, store)
    except BundleRejected as exc:
        _refused(str(exc).splitlines()[0], exc.problems)
        return EXIT_PROBLEMS
    finally:
        store.close()
    print(f"取り込みました / imported into {redact_url(args.db)}{' (new store)' if new else ''}: {len(result.cases)} case(s),"
          f" {result.events} event(s), {result.definitions} definition(s)")
    for row in result.rows:
        main = "  (main)" if row.case_id == result.case_id else ""
        print(f"  {row.case_id}  {row.school or '-'}  {row.workflow} {row.version}  seq {row.seq}"
              f"  {', '.join(row.states)}{main}")
    return EXIT_OK


def _refused(headline: str, problems: tuple[str, ...] | list[str]) -> None:
    print(headline)
    for problem in problems:
        print(f"  {problem}")
    if any("[link]" in p for p in problems):
        print("  つながった事案がファイルにない場合は --with-linked で書き出してください / if a linked case is"
              " missing from the bundle, export it with --with-linked")


def _store(db: str) -> Store:
    """The store an import writes to: one that keeps what it is given (not memory, not an empty path)."""
    try:
        return open_store(db, persistent=True)
    except ImportError as exc:  # psycopg missing for a postgresql:// URL
        raise _Unusable(f"cannot open {redact_url(db)}: {exc}") from None


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        from ..proofs.tlog import parse_checkpoint as from_json  # C2SP, or JSON of format 1
    except ImportError:
        raise _Unusable("checkpoints need the cryptography package: python -m pip install 'ijime-flow[checkpoints]'") from None
    try:
        return from_json(path.read_bytes())
    except OSError as exc:
        raise _Unusable(f"cannot read the checkpoint {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _Unusable(f"{path}: not a checkpoint: {exc}") from None
