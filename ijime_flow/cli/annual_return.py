"""``ijime-flow annual-return``: the bullying tables of the national survey (児童生徒の問題行動・不登校等生徒指導上の
諸課題に関する調査) for a school or a whole board, computed from the store, counting only cases whose log verifies
(:mod:`ijime_flow.survey.annual` says how each case is counted). Markdown to standard output by default; ``--format csv``
or ``xlsx`` (``--out`` needed; openpyxl: ``pip install 'ijime-flow[xlsx]'``); ``--json`` the whole result;
``--explain TABLE ROW COL`` the case ids behind one cell, one per line.

Exit codes: 0 — the return, every case looked at verified; 1 — some cases did not verify (listed, not counted);
2 — unusable input (a bad year, an unknown table, row or column, xlsx without openpyxl or --out, no such store).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..clock import parse_local_time
from ..survey.annual import TABLES, annual_return, check_year
from ..survey.tables import require_openpyxl, to_csv, to_markdown, write_xlsx
from .common import EXIT_OK, EXIT_PROBLEMS, Unusable, emit, open_existing

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "annual-return",
        help="国の調査（問題行動・不登校等調査）のいじめの表を記録から作る / the national survey's bullying tables from the logs",
        description="児童生徒の問題行動・不登校等生徒指導上の諸課題に関する調査のいじめの表（認知件数・態様・発見のきっかけ・"
                    "解消状況・重大事態）を、検証できた事案の記録だけから集計する。検証できなかった事案は集計に含めず一覧に"
                    "示し、終了コード1を返す。 / The bullying tables of the national survey of problem behaviour (cases"
                    " recognised, forms, how found, resolution, serious incidents) for a school year, counted only from"
                    " cases whose log verifies; the others are listed, not counted, and the exit code is 1.")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--year", required=True, metavar="YEAR",
                   help="年度（西暦の始まりの年。2019 = 2019年4月1日〜2020年3月31日） / the school year (2019 = 1 April 2019"
                        " - 31 March 2020)")
    p.add_argument("--school", metavar="S", help="一つの学校に限る（学校ID。既定: ストアの全校） / one school only (default:"
                                                 " every school in the store)")
    p.add_argument("--format", choices=["md", "csv", "xlsx"], default="md",
                   help="出力形式（既定: md。xlsx は --out が必要） / output format (default md; xlsx needs --out)")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="書き出すファイル（既定: 標準出力） / write to FILE (default: stdout)")
    p.add_argument("--as-of", metavar="TIME",
                   help="基準日時（ISO 8601、タイムゾーンなしは日本時間。既定: 翌年3月31日 23:59:59） / the reference time"
                        " (ISO 8601; no zone = Japan time; default 31 March of the next year, 23:59:59 JST)")
    p.add_argument("--explain", nargs=3, metavar=("TABLE", "ROW", "COL"),
                   help="その欄に数えた事案IDを1行に1件示す（例: --explain forms violence junior_high。表: "
                        f"{', '.join(TABLES)}） / print the case ids behind one cell, one per line")
    p.add_argument("--json", action="store_true", help="結果全体を JSON で出力 / the whole result as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    year = check_year(args.year)  # before the store is opened: a bad year is refused whatever the store
    as_of = parse_local_time(args.as_of) if args.as_of is not None else None
    if args.format == "xlsx" and args.out is None and not (args.json or args.explain):
        raise Unusable("--format xlsx には --out FILE が必要です / --format xlsx needs --out FILE")
    if args.format == "xlsx" and not (args.json or args.explain):
        require_openpyxl()  # refused before anything is read when openpyxl is missing
    with open_existing(str(args.db)) as engine:
        result = annual_return(engine, year, school=args.school, as_of=as_of)
    if args.explain:
        ids = result.explain(*args.explain)
        emit("".join(f"{case_id}\n" for case_id in ids), args.out)
    elif args.json:
        emit(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", args.out)
    elif args.format == "xlsx":
        write_xlsx(result, args.out)
    elif args.format == "csv" and args.out is not None:
        text = to_csv(result)
        try:  # with a byte-order mark, so that Excel reads the Japanese as UTF-8
            args.out.write_text(text, encoding="utf-8-sig")
        except OSError as exc:
            raise Unusable(f"{args.out} に書き込めません / cannot write {args.out}: {exc.strerror or exc}") from None
    else:
        emit(to_csv(result) if args.format == "csv" else to_markdown(result), args.out)
    if result.unverified:
        print(f"ijime-flow: 検証できなかった事案が {len(result.unverified)} 件あります（集計に含めていません） /"
              f" {len(result.unverified)} case(s) did not verify and are not counted: "
              + ", ".join(u.case_id for u in result.unverified), file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK
