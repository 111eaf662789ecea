"""The fuzz campaigns of ``tests/test_fuzz.py``, run long: inputs tried and outcomes by class, per campaign.

    .venv/bin/python bench/fuzz.py [--runs 10000] [--seed 1] [--json] [--only workflow,bundle,proof,cli]

A failure class (traceback, forgery-accepted, unreadable) with any count makes the exit code 1 and
prints the first seeds that reached it, so each can be replayed (``--seed S --runs 1 --only NAME``).
The README's figures come from this script.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import FAILURES, bundle_campaign, cli_campaign, make_signed_bundle, proof_campaign, workflow_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10_000, help="inputs per campaign (default 10,000)")
    parser.add_argument("--seed", type=int, default=1, help="first seed; input i of a campaign uses seed + i")
    parser.add_argument("--only", default="workflow,bundle,proof,cli")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    wanted = args.only.split(",")
    figures: dict[str, dict[str, object]] = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        signed = make_signed_bundle(folder)
        campaigns = {"workflow": lambda rng: workflow_campaign(rng),
                     "bundle": lambda rng: bundle_campaign(rng, signed, folder),
                     "proof": lambda rng: proof_campaign(rng, signed, folder),
                     "cli": lambda rng: cli_campaign(rng, signed, folder)}
        for name in wanted:
            run = campaigns[name]
            outcomes: Counter[str] = Counter()
            seeds: dict[str, list[int]] = {}
            started = time.perf_counter()
            for i in range(args.runs):
                outcome = run(random.Random(args.seed + i))
                outcomes[outcome] += 1
                if outcome in FAILURES:
                    seeds.setdefault(outcome, []).append(args.seed + i)
            failed = failed or bool(seeds)
            figures[name] = {"inputs": args.runs, "outcomes": dict(outcomes.most_common()),
                             "seconds": round(time.perf_counter() - started, 1),
                             "failing_seeds": {k: v[:10] for k, v in seeds.items()}}
            if not args.json:
                shown = ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common())
                print(f"{name:9} {args.runs:>7,} inputs  {figures[name]['seconds']:>7} s   {shown}"
                      + (f"   FAILING seeds: {figures[name]['failing_seeds']}" if seeds else ""), flush=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
