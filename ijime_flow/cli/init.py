"""``ijime-flow init DIR``: copies of what ships with the package, for a school to edit — ``DIR/workflows``
(the two workflows, and ``calendar.yaml``, the school calendar, to edit each school year), ``DIR/rules`` (the
policy rules) and ``DIR/features`` (the policy features). Nothing already there is overwritten: a file that
exists is named and the command stops before copying anything."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .. import bundled
from .common import EXIT_OK, EXIT_UNUSABLE

COPIED: tuple[bundled.Kind, ...] = ("workflows", "rules", "features")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="同梱のワークフロー・規則・シナリオを編集用にコピーする / copy the shipped workflows,"
                                    " rules and features into DIR to edit (nothing is overwritten)")
    p.add_argument("dir", type=Path, metavar="DIR", help="コピー先のフォルダ / the folder to copy into")
    p.set_defaults(run=run_init)


def run_init(args: argparse.Namespace) -> int:
    plan = [(source, args.dir / kind / source.name) for kind in COPIED
            for source in sorted(bundled.path(kind).iterdir()) if source.is_file()]
    there = [target for _, target in plan if target.exists()]
    if there:
        print(f"ijime-flow: 既にあるファイルは上書きしません / not overwriting files that exist: "
              f"{', '.join(str(t) for t in there[:5])}{' …' if len(there) > 5 else ''}", file=sys.stderr)
        return EXIT_UNUSABLE
    for source, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    print(f"{len(plan)} 件をコピーしました / copied {len(plan)} files into {args.dir}:"
          f" {', '.join(f'{args.dir / k}/' for k in COPIED)}")
    print(f"確かめる / check them: ijime-flow check --workflow {args.dir / 'workflows'}"
          f" --rules {args.dir / 'rules'} {args.dir / 'features'}")
    return EXIT_OK
