"""The reading commands people use day to day: ``report`` (one case as a Markdown document) and
``cases`` (the table of cases, from the current-state projection).

``register(sub)`` adds both to the ``ijime-flow`` command's subparsers; each sets ``run`` and returns
an exit code. Unusable input raises an :class:`~ijime_flow.errors.IjimeFlowError`, which the main
command prints and turns into exit code 2. Reading commands never create a store. ``report`` returns 1
when a damaged log ends the report's timeline early (the report is still written, and a note on
standard error names the seq and why) or leaves nothing to report (the note alone), as ``replay`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..actor import PARTS
from ..audit.folding import NothingToReplay
from ..audit.report import case_report_checked
from ..audit.report_proofs import ProofView
from ..audit.source import open_reading, open_source
from ..clock import TOKYO, SystemClock, jst
from ..clock import parse_local_time as parse_time
from ..engine import Engine
from ..errors import InvalidData, StoreError
from ..store.rows import CaseRow

__all__ = ["display_width", "format_table", "parse_time", "register"]

EXIT_OK, EXIT_PROBLEMS = 0, 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` and ``cases`` to the command's subparsers."""
    p = sub.add_parser(
        "report", help="事案の報告書（Markdown） / a case report in Markdown for staff and auditors",
        description="事案の報告書を Markdown で書き出す：概要・経過（日本時間）・期限・関連事案・検証・状態遷移図。"
                    " / Write a case report in Markdown: summary, timeline (Japan time), deadlines, linked cases,"
                    " verification and the state diagram.")
    p.add_argument("positional", nargs="*", metavar="FILE|CASE",
                   help="履歴バンドルのファイル、または --db のときは事案ID / a history bundle FILE, or with --db the CASE id")
    p.add_argument("--db", help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--as-of", metavar="TIME",
                   help="期限を判定する時刻（ISO 8601、タイムゾーンなしは日本時間；既定: 現在、バンドルは書き出した時刻）"
                        " / judge deadlines at this time (ISO 8601; no zone = Japan time; default: now, for a"
                        " bundle the time it was exported)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="このファイルに書き出す（既定: 標準出力） / write to this file (default: standard output)")
    p.add_argument("--checkpoint", type=Path, metavar="FILE",
                   help="署名されたチェックポイント：記録がどこまで証明されるかを示す（--pubkey と） / a signed checkpoint:"
                        " show how far it proves the events (with --pubkey)")
    p.add_argument("--pubkey", "--vkey", dest="pubkey", type=Path, metavar="KEY",
                   help="チェックポイントに署名した公開鍵（vkey または PEM。バンドルは同梱の包含証明も照合） / the public key"
                        " that signed it (a vkey or PEM; for a bundle, its inclusion proofs are checked too)")
    p.add_argument("--witness", type=Path, action="append", default=[], metavar="VKEY",
                   help="副署を求める立会人（教育委員会など）の鍵（繰り返し可） / a witness (e.g. the board) whose cosignature"
                        " is required (repeatable)")
    p.add_argument("--late", default="P1D", metavar="DURATION",
                   help="出来事からこの期間より後に記録された操作に印を付ける（ISO 8601、既定 P1D） / mark steps recorded"
                        " more than this after they happened (ISO 8601, default P1D)")
    p.set_defaults(run=run_report)

    p = sub.add_parser(
        "cases", help="事案の一覧（学校・状態・期限超過・児童生徒で絞り込み） / the table of cases (by school, state, overdue,"
        " pupil)",
        description="現在の状態の一覧（プロジェクション）から事案を表示する。事案の記録は読み込まない。"
                    " / List cases from the current-state projection (no case log is read).")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--school", help="この学校の事案だけ / only this school's cases")
    p.add_argument("--workflow", help="このワークフローの事案だけ（例: response） / only cases of this workflow")
    p.add_argument("--state", help="この状態にある事案だけ（内側の状態も含む） / only cases in this state (or a state inside it)")
    p.add_argument("--subject", metavar="ID",
                   help="この児童生徒（仮名ID）についての事案だけ / only cases about this pupil (a pseudonymous id)")
    p.add_argument("--part", metavar="PART", help="その立場で（" + "、".join(f"{k}: {v}" for k, v in PARTS.items())
                   + "） / in this part: " + ", ".join(PARTS))
    p.add_argument("--actor", metavar="ID", help="この職員（仮名ID）が記録した事案だけ / only cases this actor recorded on")
    p.add_argument("--overdue", action="store_true",
                   help="期限を過ぎて未実施の期限がある事案だけ / only cases with a deadline passed and not met")
    p.add_argument("--as-of", metavar="TIME",
                   help="期限超過を判定する時刻（ISO 8601、タイムゾーンなしは日本時間；既定: 現在） / judge overdue at"
                        " this time (ISO 8601; no zone = Japan time; default: now)")
    closed = p.add_mutually_exclusive_group()
    closed.add_argument("--closed", dest="closed", action="store_const", const=True,
                        help="終結した事案だけ / only closed cases")
    closed.add_argument("--open", dest="closed", action="store_const", const=False,
                        help="終結していない事案だけ / only open cases")
    p.add_argument("--limit", type=int, metavar="N", help="最大 N 件（開始の古い順） / at most N cases (oldest opened first)")
    p.add_argument("--json", action="store_true", help="JSON の一覧で出力（時刻は ISO 8601） / a JSON list (ISO 8601 times)")
    p.set_defaults(run=run_cases, closed=None)


# -- report -----------------------------------------------------------------------------------------
def run_report(args: argparse.Namespace) -> int:
    positional: list[str] = list(args.positional)
    file: Path | None = None
    case: str | None = None
    if args.db is not None:
        if len(positional) != 1:
            raise InvalidData("--db のときは事案IDを一つ指定してください / with --db, give exactly one CASE id")
        case = positional[0]
    else:
        if not positional or len(positional) > 2:
            raise InvalidData("履歴バンドルのファイル、または --db と事案IDを指定してください"
                              " / give a bundle FILE [CASE], or --db DB CASE")
        file, case = Path(positional[0]), (positional[1] if len(positional) == 2 else None)
    as_of = parse_time(args.as_of) if args.as_of is not None else None
    late = _late(args.late)
    if args.checkpoint is not None and args.pubkey is None:
        raise InvalidData("--checkpoint には --pubkey（署名した公開鍵）が必要です / --checkpoint needs --pubkey (the key"
                          " that signed it)")
    engine, case_id = open_source(file, args.db, case)
    with engine:  # default as of: now for a store; for a bundle, its engine's clock says when it was exported
        proofs = _proofs(engine, case_id, file, args.checkpoint, args.pubkey, args.witness) if args.pubkey is not None \
            else None
        try:
            text, problem = case_report_checked(engine, case_id, as_of=engine.clock.now() if as_of is None else as_of,
                                                late=late, proofs=proofs)
        except NothingToReplay as exc:  # not even the first event can be used: nothing to report, a problem found
            print(f"ijime-flow: 報告書を作成できません / no report can be written: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    code = EXIT_OK if problem is None else EXIT_PROBLEMS
    if problem is not None:
        print(f"ijime-flow: 注意 / note: {problem.message}\n  理由 / reason: {problem.reason}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(text)
        return code
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidData(f"{args.output} に書き出せません / cannot write {args.output}: {exc.strerror}") from None
    print(f"報告書を書き出しました / report written: {args.output} (case {case_id})")
    return code


def _late(text: str) -> timedelta:
    from ..language.durations import DurationError
    from ..language.stored import add_duration

    start = datetime(2000, 1, 1, tzinfo=TOKYO)
    try:
        span = add_duration(start, text) - start
    except DurationError as exc:
        raise InvalidData(f"--late: {exc}") from None
    if span <= timedelta(0):
        raise InvalidData(f"--late は正の期間です（例: P1D、PT12H） / --late must be a positive duration (e.g. P1D, PT12H),"
                          f" not {text!r}")
    return span


def _proofs(engine: Engine, case_id: str, file: Path | None, checkpoint: Path | None, pubkey: Path,
            witness: list[Path]) -> ProofView | None:
    """How far the checkpoint (for a bundle: the auditor's, or else the one its proof lines carry) proves the events."""
    from ..audit.bundle import proof_status, read_bundle
    from ..audit.report_proofs import bundle_proofs, store_proofs
    from .common import read_checkpoint, read_keys

    key = read_keys(pubkey)
    witnesses = [read_keys(w, witness=True) for w in witness]
    own = read_checkpoint(checkpoint) if checkpoint is not None else None
    try:
        if file is not None:
            return bundle_proofs(proof_status(read_bundle(file), key, own), key, witnesses)
        if own is None:
            raise InvalidData("--db のときは --checkpoint も指定してください / with --db, give --checkpoint too")
        return store_proofs(engine.store, case_id, own, key, witnesses)
    except ValueError as exc:  # a key that cannot be loaded
        raise InvalidData(f"{pubkey}: {exc}") from None


# -- cases ------------------------------------------------------------------------------------------
HEADERS = ("事案ID", "学校", "ワークフロー", "現在の状態", "開始日", "最終更新", "期限")


def run_cases(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise InvalidData(f"--limit は1以上にしてください / --limit must be at least 1, not {args.limit}")
    as_of = parse_time(args.as_of) if args.as_of is not None else SystemClock().now()
    with open_reading(str(args.db)) as engine:
        rows = engine.cases(school=args.school, workflow=args.workflow, state=args.state, closed=args.closed,
                            overdue=args.overdue, as_of=as_of, limit=args.limit, subject=args.subject, part=args.part,
                            actor=args.actor)
        labels = {row.case_id: _state_labels(engine, row) for row in rows}
    if args.json:
        print(json.dumps([_row_json(row, labels[row.case_id], as_of) for row in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    table = [[row.case_id, row.school or "-", row.workflow, " / ".join(labels[row.case_id]) or "-",
              jst(row.opened_at)[:10], jst(row.updated_at), _due(row, as_of)] for row in rows]
    for line in format_table(HEADERS, table):
        print(line)
    print(f"{len(rows)} 件 / {len(rows)} case(s) — 基準時刻 as of {jst(as_of)} JST")
    return EXIT_OK


def _state_labels(engine: Engine, row: CaseRow) -> list[str]:
    """The Japanese labels of the row's active leaf states, under the case's pinned definition."""
    try:
        runtime = engine.runtime_for(row.definition_sha256)
    except StoreError:  # a stored definition that cannot run: the list still shows the case, by state id
        runtime = None
    if runtime is None:
        return list(row.states)
    return [runtime.definition.state_label(state) for state in row.states]


def _due(row: CaseRow, as_of: datetime) -> str:
    due = row.next_due
    if due is None:
        return "-"
    if row.overdue(as_of):
        late = sorted(d.id if d.period is None else f"{d.id} {d.period}" for d in row.open_deadlines if d.due <= as_of)
        return f"期限超過 {jst(due)} から ({', '.join(late)})"
    return f"次の期限 {jst(due)}"


def _row_json(row: CaseRow, labels: Sequence[str], as_of: datetime) -> dict[str, Any]:
    return {
        "case_id": row.case_id, "school": row.school, "workflow": row.workflow, "version": row.version,
        "definition_sha256": row.definition_sha256, "states": list(row.states), "state_labels": list(labels),
        "closed": row.closed, "opened_at": _iso(row.opened_at), "updated_at": _iso(row.updated_at), "seq": row.seq,
        "next_due": _iso(row.next_due) if row.next_due is not None else None, "overdue": row.overdue(as_of),
        "open_deadlines": [{"id": d.id, "state": d.state, "started_at": _iso(d.started_at), "due": _iso(d.due)}
                           | ({} if d.period is None else {"period": d.period}) for d in row.open_deadlines],
        "subjects": [{"id": i, "part": p} for i, p in row.subjects], "actors": list(row.actors),
    }


def _iso(at: datetime) -> str:
    return at.astimezone(TOKYO).isoformat()


# -- helpers ----------------------------------------------------------------------------------------

def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide and full-width characters (Japanese) take two, combining
    marks none, everything else one (East Asian "ambiguous" characters count as one)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain text columns padded to the same display width, a rule under the headers; every line
    has the same display width. Tabs and line breaks in cells become spaces."""
    cells = [[" ".join(str(cell).split()) for cell in row] for row in [list(headers), *rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True))

    return [line(cells[0]), "  ".join("-" * width for width in widths), *(line(row) for row in cells[1:])]
