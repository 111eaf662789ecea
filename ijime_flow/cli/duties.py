"""``ijime-flow duties``: the board's view of a school year (:mod:`ijime_flow.audit.year_view`) — per school, each
duty of its year case (``school_year``) per month, term or year: 済 met in time, 遅 met late, ✗ overdue (not
done), … open (not yet due), － not tracked (over before the case was opened); then 未実施 / not done: each duty
and period not done, naming the schools, and the schools with no year case.

Exit codes: 0 — listed, nothing overdue; 1 — a duty is overdue at some school; 2 — unusable input (a store
that does not exist, a year or time that cannot be read).
"""

from __future__ import annotations

import argparse
import json

from ..audit.source import open_reading
from ..audit.year_view import MARKS, STATUS_WORDS, SchoolDuties, YearView, year_view
from ..clock import SystemClock, jst, parse_local_time
from ..errors import InvalidData
from .common import EXIT_OK, EXIT_PROBLEMS
from .report import format_table

__all__ = ["register"]

HEADERS = ("取組 / duty", "期間ごとの状況 / by period")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "duties", help="学校ごとの年間の取組の実施状況（済・遅・✗・…） / each school's duties of the year: met, late, overdue,"
                       " open",
        description="年度の取組の事案（school_year）から、学校ごとに各取組の月・学期・年度ごとの実施状況を示し、未実施の"
                    "取組と学校、年度の事案がない学校を挙げる。期限超過があれば終了コード 1。 / For each school's year case"
                    " (school_year): each duty per month, term or year (済 met in time, 遅 met late, ✗ overdue, … open),"
                    " then what was not done and by which schools, and the schools with no year case. Exit 1 when a"
                    " duty is overdue.")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--year", required=True, metavar="YEAR",
                   help="年度（西暦、例: 2019 = 2019年4月〜2020年3月） / the school year (e.g. 2019: April 2019 to March 2020)")
    p.add_argument("--school", action="append", metavar="S",
                   help="この学校だけ（繰り返し可） / only this school (repeatable)")
    p.add_argument("--as-of", metavar="TIME",
                   help="基準時刻（ISO 8601、タイムゾーンなしは日本時間；既定: 現在） / as of this time (ISO 8601; no zone ="
                        " Japan time; default: now)")
    p.add_argument("--json", action="store_true", help="JSON で出力 / JSON output")
    p.set_defaults(run=run)


def _year(text: str) -> int:
    try:
        year = int(text.strip())
    except ValueError:
        year = 0
    if not 1900 < year < 2200:
        raise InvalidData(f"--year は西暦の年度です（例: 2019） / --year is a school year such as 2019, not {text[:40]!r}")
    return year


def run(args: argparse.Namespace) -> int:
    year = _year(str(args.year))
    as_of = parse_local_time(args.as_of) if args.as_of is not None else SystemClock().now()
    with open_reading(str(args.db)) as engine:
        view = year_view(engine, year, as_of=as_of, schools=args.school)
    if args.json:
        print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
    else:
        _text(view)
    return EXIT_PROBLEMS if view.overdue else EXIT_OK


def _text(view: YearView) -> None:
    print(f"{view.year}年度の取組（{view.workflow}） / the {view.year} school year's duties — 基準時刻 as of"
          f" {jst(view.as_of)} JST")
    for school in view.schools:
        _school(school)
    print()
    print("未実施 / not done")
    for item in view.not_done:
        print(f"  {item.period_ja} {item.ja}: {', '.join(item.schools)}")
    for name in view.without_case:
        print(f"  年度の取組の事案がありません / no {view.workflow} case for {view.year}: {name}")
    if not view.not_done and not view.without_case:
        print("  なし / none")
    print("凡例 / legend: " + "、".join(f"{MARKS[s]} {ja}" for s, (ja, _) in STATUS_WORDS.items()) + " / "
          + ", ".join(f"{MARKS[s]} {en}" for s, (_, en) in STATUS_WORDS.items()))


def _school(school: SchoolDuties) -> None:
    counts = "、".join(f"{MARKS[s]} {school.count(s)}" for s in MARKS if s != "untracked" or school.count(s))
    state = "・".join(school.states) or "-"
    print()
    print(f"学校 {school.school} — 事案 {school.case_id}（{state}） / school {school.school}: {counts}")
    rows = [[duty.ja, " ".join(f"{c.short}{c.mark}" for c in duty.cells) or "-"] for duty in school.duties]
    for line in format_table(HEADERS, rows):
        print(f"  {line}".rstrip())

