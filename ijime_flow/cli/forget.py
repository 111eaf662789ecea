"""``ijime-flow forget``: forget a pupil (個人情報の消去): their keys destroyed, an ``erased`` event on each case that
held their personal data (:mod:`ijime_flow.privacy.forget`). The record stays provable: ``verify`` and every
earlier checkpoint still pass. Exit codes: 0 — forgotten (or nothing to forget); 2 — refused or unusable input.
"""

from __future__ import annotations

import argparse
import json

from ..audit.source import open_reading
from ..engine import Engine
from ..privacy.forget import REASONS
from .common import actor_of

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "forget", help="児童生徒の個人情報を消去する（記録の検証はそのまま） / erase a pupil's personal data (the log still"
                       " verifies)",
        description="児童生徒の鍵を破棄し、その児童生徒の個人情報を持つ各事案に消去の記録（個人情報を含まない）を追加する。"
                    "以後、その値は「消去済み」と表示される。ハッシュ・チェックポイントは変わらない。校長または教育委員会のみ。"
                    " / Destroy the pupil's keys and append an erasure event (no personal data) to each case holding"
                    " their values; from then on they read as erased. Hashes and checkpoints are unchanged. Principal"
                    " or board only.")
    p.add_argument("subject", metavar="SUBJECT", help="児童生徒の仮名ID / the pupil's pseudonymous id")
    p.add_argument("--db", required=True, help="ストア（SQLite ファイルまたは URL） / the store (SQLite file or URL)")
    p.add_argument("--actor-id", required=True, metavar="ID", help="消去を行う者（仮名ID） / who erases (pseudonymous id)")
    p.add_argument("--roles", required=True, metavar="R",
                   help="その役割（カンマ区切り、例: board） / their roles, comma-separated")
    p.add_argument("--reason", required=True, choices=sorted(REASONS),
                   help="理由のコード（自由記述は不可） / the reason, a code: " + ", ".join(
                       f"{code} ({ja} / {en})" for code, (ja, en) in REASONS.items()))
    p.add_argument("--school", metavar="ID", help="この学校の鍵だけ（既定: すべて） / only this school's keys (default: all)")
    p.add_argument("--json", action="store_true", help="JSON で出力 / JSON output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    open_reading(str(args.db)).close()  # the store must exist: forgetting never makes a new one
    actor = actor_of(args.actor_id, args.roles)
    with Engine(str(args.db)) as engine:
        done = engine.forget(args.subject, actor=actor, reason=args.reason, school=args.school)
    if args.json:
        print(json.dumps({"subject": done.subject, "reason": done.reason, "cases": list(done.cases), "keys": done.keys},
                         ensure_ascii=False))
    else:
        print(f"消去しました: {done.subject}（事案 {len(done.cases)} 件、鍵 {done.keys} 件） / forgotten: {done.subject}"
              f" ({len(done.cases)} case(s), {done.keys} key(s))")
        for case_id in done.cases:
            print(f"  {case_id}")
    return 0
