"""``ijime-flow replay``: a case as it stood at a past moment, or its history under another policy.

``register(sub)`` adds the command to the main parser's subcommands. The handler returns 0 (done;
with ``--against``: every step allowed) or 1 (``--against``: a step the other definition would not
have allowed; without it: a damaged log stopped the replay — the state up to the event before is
shown, with a note naming the seq that could not be folded and why — or nothing at all could be
folded); unusable input raises an :class:`~ijime_flow.errors.IjimeFlowError`, which the main
command prints and exits 2 with.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..audit.folding import NothingToReplay
from ..audit.replay import render_replay, replay_against, state_at
from ..audit.source import open_source
from ..clock import parse_local_time as parse_time
from ..errors import InvalidData
from ..language.loader import load_file

EXIT_OK, EXIT_PROBLEMS = 0, 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="事案のある時点の状態、または別の定義での再生 / a case's state at a past moment, or its history"
             " under another workflow definition (exit 1 when a damaged event stops the replay; --against: also"
             " when a step would not be allowed)",
        description="記録された事案を、記録時に固定された定義で指定の時点まで再生し、状態・事実・期限を示す。"
                    " --against では、別の定義（改訂後の方針など）で全記録を再生し、認められない最初の操作を示す。"
                    " / Replay a case under the definition it pinned, up to a time or a seq: its states, facts and"
                    " deadlines then. With --against, replay its whole history under another definition (a revised"
                    " policy) and name the first step it would not have allowed.",
        usage="%(prog)s [FILE] [--db DB] [CASE] [--at TIME | --seq N] [--json] [--against WORKFLOW_FILE]",
    )
    p.add_argument("target", nargs="?", metavar="FILE",
                   help="記録のバンドル（ijime-flow export）。--db のときは事案ID / a history bundle (ijime-flow export);"
                        " with --db, the CASE id")
    p.add_argument("case", nargs="?", metavar="CASE",
                   help="事案ID（バンドルでは省略可） / case id (optional with a bundle: its case)")
    p.add_argument("--db", metavar="DB", help="事案の記録（SQLite ファイルまたは URL） / the store: SQLite file or URL")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="TIME",
                      help="この時刻の状態（ISO 8601。タイムゾーンのない時刻は日本時間） / the state at this time (ISO 8601,"
                           " e.g. 2019-05-03T17:00 or 2019-05-03T08:00:00Z; a time without a zone is Japan time,"
                           " Asia/Tokyo)")
    when.add_argument("--seq", type=int, metavar="N",
                      help="この seq の記録までの状態 / the state after event N")
    p.add_argument("--json", action="store_true", help="機械可読の出力 / machine-readable output")
    p.add_argument("--against", type=Path, metavar="WORKFLOW_FILE",
                   help="この定義で全記録を再生し、認められない最初の操作を示す（あれば終了コード 1） / replay the whole"
                        " history under this workflow file and report the first step it would not allow (exit 1)")
    p.set_defaults(run=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    file, case = _where(args.target, args.case, args.db)
    at = parse_time(args.at) if args.at is not None else None
    if args.against is not None and (at is not None or args.seq is not None):
        raise InvalidData("--against は全記録を再生します。--at / --seq とは併用できません / --against replays the"
                          " whole history: it does not take --at or --seq")
    definition = load_file(args.against) if args.against is not None else None
    engine, case_id = open_source(file, args.db, case)
    with engine:
        try:
            if definition is not None:
                result = replay_against(engine, case_id, definition)
                print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else result.render())
                return EXIT_OK if result.allowed else EXIT_PROBLEMS
            point = state_at(engine, case_id, at=at, seq=args.seq)
        except NothingToReplay as exc:  # not even the first event folds: the note alone, a problem found
            print(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2) if args.json else exc.render())
            return EXIT_PROBLEMS
        print(json.dumps(point.to_dict(), ensure_ascii=False, indent=2) if args.json else render_replay(point))
        return EXIT_OK if point.problem is None else EXIT_PROBLEMS


def _where(target: str | None, case: str | None, db: str | None) -> tuple[Path | None, str | None]:
    """``replay FILE [CASE]`` or ``replay --db DB CASE``: with --db the one positional is the case."""
    if db is not None:
        if case is not None:
            raise InvalidData(f"--db のときは事案IDを一つだけ指定します / with --db give one CASE, not '{target}' and"
                              f" '{case}' (a bundle FILE and --db do not go together)")
        if target is None:
            raise InvalidData("--db には事案IDが必要です / --db needs a CASE id")
        return None, target
    if target is None:
        raise InvalidData("バンドル FILE か --db DB CASE を指定してください / give a bundle FILE, or --db DB and a CASE")
    return Path(target), case


