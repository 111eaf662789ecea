"""The fuzz campaigns of ``tests/test_fuzz.py``, run long: inputs tried and outcomes by class, per campaign.

    .venv/bin/python bench/fuzz.py [--runs 10000] [--seed 1] [--json] [--only workflow,api,bundle,proof,cli]

The api campaign makes the same hostile calls on three engines — in memory, an SQLite file and
PostgreSQL (a fresh schema at ``IJIME_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``,
dropped afterwards; without a server it runs on the first two and says so) — and verifies every store
at the end. Its calls build on each other (the cases the earlier calls opened), so a failing seed of
it is replayed by running from the same ``--seed`` up to it, not alone.

A failure class (traceback, forgery-accepted, unreadable, divergent) with any count makes the exit code 1 and
prints the first seeds that reached it, so each can be replayed (``--seed S --runs 1 --only NAME``).
The README's figures come from this script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from collections.abc import Iterator

from fuzzing import (
    FAILURES,
    WORKFLOWS,
    bundle_campaign,
    cli_campaign,
    make_signed_bundle,
    proof_campaign,
    workflow_campaign,
)
from fuzzing_api import NOW, ApiCampaign

from ijime_flow import Engine, FixedClock

PG_URL = os.environ.get("IJIME_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def api_engines(folder: Path) -> Iterator[dict[str, Engine]]:
    """An engine in memory, on an SQLite file and (when a server answers) on a fresh PostgreSQL schema."""
    targets: dict[str, object] = {"memory": None, "sqlite": folder / "api.db"}
    schema = f"ijime_fuzz_{os.getpid()}"
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        targets["postgres"] = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    except Exception as exc:  # no server: the campaign runs on the other two stores and says so
        print(f"api: no PostgreSQL at {PG_URL} ({type(exc).__name__}): memory and SQLite only", file=sys.stderr)
    engines = {name: Engine(target, clock=FixedClock(NOW), school="fuzz") for name, target in targets.items()}
    try:
        for engine in engines.values():
            engine.load(WORKFLOWS)
        yield engines
    finally:
        for engine in engines.values():
            engine.close()
        if "postgres" in targets:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10_000, help="inputs per campaign (default 10,000)")
    parser.add_argument("--seed", type=int, default=1, help="first seed; input i of a campaign uses seed + i")
    parser.add_argument("--only", default="workflow,api,bundle,proof,cli")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    wanted = args.only.split(",")
    figures: dict[str, dict[str, object]] = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        signed = make_signed_bundle(folder)
        api = ApiCampaign(stack.enter_context(api_engines(folder))) if "api" in wanted else None
        campaigns = {"workflow": lambda rng: workflow_campaign(rng),
                     "api": lambda rng: api(rng) if api else "skipped",
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
                    if name == "api" and api is not None and len(seeds[outcome]) <= 3:
                        print(f"api seed {args.seed + i}: {outcome}: {api.last_error[:300]}", file=sys.stderr)
            if name == "api" and api is not None:
                stores = ", ".join(api.engines)
                if not api.verify_all():
                    outcomes["unreadable"] += 1
                    seeds.setdefault("unreadable", []).append(-1)  # -1: the final verify of a whole store
            failed = failed or bool(seeds)
            figures[name] = {"inputs": args.runs, "outcomes": dict(outcomes.most_common()),
                             "seconds": round(time.perf_counter() - started, 1),
                             "failing_seeds": {k: v[:10] for k, v in seeds.items()}}
            if name == "api" and api is not None:
                figures[name]["stores"] = stores
                figures[name]["cases"] = len(api.known)
            if not args.json:
                shown = ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common())
                print(f"{name:9} {args.runs:>7,} inputs  {figures[name]['seconds']:>7} s   {shown}"
                      + (f"   (stores: {stores}; {len(api.known):,} cases)" if name == "api" and api else "")
                      + (f"   FAILING seeds: {figures[name]['failing_seeds']}" if seeds else ""), flush=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
