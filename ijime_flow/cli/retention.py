"""``ijime-flow retention``: the pupils whose records' retention period (保存期間) is over, and why; those kept
by a hold (保全) or still within their period, with the day it ends. ``--apply`` forgets exactly the pupils the
listing shows as due (:func:`ijime_flow.privacy.retention.apply`).

Exit codes: 0 — listed (or every due pupil forgotten); 1 — ``--apply`` and a pupil could not be forgotten
(a hold recorded in the meantime: the refusal is shown); 2 — unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..audit.source import open_reading
from ..clock import SystemClock, jst, parse_local_time
from ..engine import Engine
from ..errors import IjimeFlowError, InvalidData
from ..privacy.retention import Listing, SubjectRetention, apply, due
from .common import actor_of
from .report import format_table

__all__ = ["register"]

EXIT_OK, EXIT_PROBLEMS = 0, 1
HEADERS = ("児童生徒ID", "状況", "満了日", "事案", "理由")
STATUS_JA = {"due": "消去可", "held": "保全中", "kept": "保存期間中"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "retention", help="保存期間が満了した記録と、保全・保存期間中の記録 / records past their retention period, and"
                          " those held or still kept",
        description="各児童生徒について、関係する事案の保存期間（ワークフローの retention 規則）と保全（事案・関連する"
                    "重大事態が終結していない、教育委員会の保全）から、消去できるか、できないならその理由を示す。"
                    "--apply で消去できる児童生徒だけを消去する。 / For each pupil named on a case: whether their"
                    " records may be erased now (the workflows' retention rules; holds: a case or a linked serious"
                    " incident open, a hold recorded by the board), and why; --apply erases exactly those listed as due.")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--as-of", metavar="TIME",
                   help="基準時刻（ISO 8601、タイムゾーンなしは日本時間；既定: 現在） / as of this time (ISO 8601; no zone ="
                        " Japan time; default: now)")
    p.add_argument("--workflows", type=Path, metavar="PATH",
                   help="現在のワークフロー（規則が事案の固定した定義より長ければそちらに従う） / the current workflows (their"
                        " rules count too, where they keep longer than the cases' pinned definitions)")
    p.add_argument("--apply", action="store_true", help="消去可の児童生徒を消去する / erase the pupils listed as due")
    p.add_argument("--actor-id", metavar="ID", help="消去を行う者（仮名ID、--apply に必須） / who erases (with --apply)")
    p.add_argument("--roles", metavar="R", help="その役割（カンマ区切り、例: board） / their roles, comma-separated")
    p.add_argument("--json", action="store_true", help="JSON で出力 / JSON output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    as_of = parse_local_time(args.as_of) if args.as_of is not None else SystemClock().now()
    if args.apply and not (args.actor_id and args.roles):
        raise InvalidData("--apply には --actor-id と --roles が必要です / --apply needs --actor-id and --roles")
    if args.apply and as_of > SystemClock().now():
        raise InvalidData(f"--apply は現在より後の時点（{jst(as_of)}）では行えません / --apply cannot be run as of a time"
                          f" later than now ({as_of.isoformat()}): nothing is erased before its time")
    if not args.apply and (args.actor_id or args.roles):
        raise InvalidData("--actor-id と --roles は --apply のときだけ使います / --actor-id and --roles go with --apply")
    open_reading(str(args.db)).close()  # the store must exist: --apply never makes a new one
    engine = Engine(str(args.db)) if args.apply else open_reading(str(args.db))
    with engine:
        if args.workflows is not None:
            engine.load(args.workflows)
        listing = due(engine, as_of)
        forgotten: list[str] = []
        refused: IjimeFlowError | None = None
        if args.apply:
            actor = actor_of(args.actor_id, args.roles)
            try:
                forgotten = [s.subject_id for s in apply(engine, as_of, actor=actor, listing=listing)]
            except IjimeFlowError as exc:  # a hold recorded since the listing: what was done stays done
                refused = exc
                left = {s.subject_id for s in due(engine).subjects}  # read once: who is still named and not forgotten
                forgotten = [s.subject_id for s in listing.due if s.subject_id not in left]
    if args.json:
        out = listing.to_dict()
        if args.apply:
            out["forgotten"] = forgotten
            out["refused"] = None if refused is None else refused.to_dict()
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _table(listing)
        if args.apply:
            print(f"消去しました / forgotten: {len(forgotten)} 人 / pupil(s){': ' + ', '.join(forgotten) if forgotten else ''}")
    if refused is not None:
        print(f"ijime-flow: {refused}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def _status(item: SubjectRetention) -> str:
    if item.status == "due" and not item.erasable:
        return "消去可（封をした個人情報なし）"
    return STATUS_JA.get(item.status, item.status)


def _table(listing: Listing) -> None:
    rows = [[s.subject_id, _status(s), s.due_on.isoformat() if s.due_on else "-",
             ", ".join(c.case_id[:12] for c in s.cases), s.ja] for s in listing.subjects]
    for line in format_table(HEADERS, rows):
        print(line)
    count = {k: sum(1 for s in listing.subjects if s.status == k) for k in STATUS_JA}
    print(f"{len(listing.subjects)} 人（消去可 {count['due']}、保全中 {count['held']}、保存期間中 {count['kept']}） /"
          f" {len(listing.subjects)} pupil(s): {count['due']} due, {count['held']} held, {count['kept']} kept"
          f" — 基準時刻 as of {jst(listing.as_of)} JST")
