"""``ijime-flow due``: the deadlines not met, of open cases, that fall due within a window — those already
overdue included and marked 期限超過 — from the current-state projection (no case log is read).

``register(sub)`` adds the command; ``run`` returns an exit code (0: listed, even when nothing is due).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from ..audit.source import open_reading
from ..clock import TOKYO, SystemClock, jst, parse_local_time
from ..deadlines import Deadline
from ..errors import InvalidData
from ..language.durations import DurationError
from ..language.stored import add_duration
from ..projection import deadlines_due
from .report import format_table

__all__ = ["register"]

EXIT_OK = 0
HEADERS = ("事案ID", "期限ID", "期限", "期日（日本時間）", "状況")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "due", help="期日が近い期限（期限超過を含む） / deadlines due soon (overdue ones included)",
        description="終結していない事案の未実施の期限のうち、期間内に期日が来るものを期日の早い順に表示する"
                    "（期限超過のものも含め「期限超過」と示す）。 / The deadlines not met, of open cases, due within"
                    " the window, earliest first (those already overdue included, marked 期限超過).")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--within", required=True, metavar="DURATION",
                   help="基準時刻からの期間（ISO 8601、例: P2D、PT6H） / the window from the time as of (ISO 8601: P2D, PT6H)")
    p.add_argument("--as-of", metavar="TIME",
                   help="基準時刻（ISO 8601、タイムゾーンなしは日本時間；既定: 現在） / as of this time (ISO 8601; no zone ="
                        " Japan time; default: now)")
    p.add_argument("--school", help="この学校の事案だけ / only this school's cases")
    p.add_argument("--json", action="store_true", help="JSON の一覧で出力（時刻は ISO 8601） / a JSON list (ISO 8601 times)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    as_of = parse_local_time(args.as_of) if args.as_of is not None else SystemClock().now()
    try:
        before = add_duration(as_of, args.within)
    except DurationError as exc:
        raise InvalidData(f"--within: {exc}") from None
    with open_reading(str(args.db)) as engine:
        found = list(deadlines_due(engine, before - as_of, as_of=as_of, school=args.school))
    if args.json:
        print(json.dumps([_json(case_id, d) for case_id, d in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    table = [[case_id, d.id, d.ja, jst(d.due), _status(d)] for case_id, d in found]
    for line in format_table(HEADERS, table):
        print(line)
    overdue = sum(1 for _, d in found if d.status == "overdue")
    print(f"{len(found)} 件（うち期限超過 {overdue} 件） / {len(found)} deadline(s), {overdue} overdue"
          f" — {jst(as_of)} から {jst(before)} JST まで / due before {jst(before)} JST, as of {jst(as_of)} JST")
    return EXIT_OK


def _status(d: Deadline) -> str:
    return "期限超過" if d.status == "overdue" else "期限前"


def _json(case_id: str, d: Deadline) -> dict[str, object]:
    return {"case_id": case_id, "deadline": d.id, "ja": d.ja, "en": d.en, "state": d.state,
            "started_at": _iso(d.started_at), "due": _iso(d.due), "overdue": d.status == "overdue",
            "status": d.status, "status_ja": _status(d)}


def _iso(at: datetime) -> str:
    return at.astimezone(TOKYO).isoformat()
