"""Reads while steps are being written: do ``get_case`` and ``cases`` wait behind a step's commit?

One process, one engine, as a web application holds it: reader threads loop over ``engine.get_case``
(a case's whole log, rebuilt) plus ``engine.cases(state=...)`` (a projection query) for a fixed time,

1. **alone** — no writer: the baseline of this run;
2. **during writes** — while a writer thread takes steps at a steady pace (``--write-rate``, default 50
   steps/s — far above a school's; each a durable commit);

and the ratios *during / alone* of the read rate and of the 99th-percentile read latency are reported
(a read that queues behind a commit shows in the tail), for the store as shipped (reads on
connections of their own: :mod:`ijime_flow.store.sqlite_access`; for PostgreSQL a reader connection
beside the writer's) and, for comparison, for SQLite with every read sent down the writer's connection
(``SQLiteStore(path, readers=False)``: how it was before). The writer's own rate is shown too. Rounds
are interleaved and the best of each kept: these machines are shared and noisy, so only ratios within
one run mean anything.

    .venv/bin/python bench/bench_reads.py [--seconds 2] [--rounds 3] [--readers 2] [--postgres URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING), cache_logger_on_first_use=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ijime_flow import Actor, Engine, FixedClock  # noqa: E402
from ijime_flow.store import SQLiteStore  # noqa: E402

TOKYO = ZoneInfo("Asia/Tokyo")
STAFF, ADMIN = Actor("t-1", {"staff"}), Actor("v-1", {"administrator"})


def build(engine: Engine, cases: int) -> list[str]:
    engine.load(ROOT / "workflows")
    ids = []
    for i in range(cases):
        case = engine.open_case("response", actor=STAFF, at=datetime(2026, 5, 1 + i % 28, 9, tzinfo=TOKYO))
        case.fire("stop_act", actor=STAFF, at=datetime(2026, 5, 1 + i % 28, 10, tzinfo=TOKYO))
        case.fire("report_to_administrator", actor=STAFF, at=datetime(2026, 5, 1 + i % 28, 11, tzinfo=TOKYO))
        ids.append(case.id)
    return ids


def measure(engine: Engine, ids: list[str], seconds: float, readers: int, write_rate: float | None) -> dict[str, float]:
    """Reads per second over all readers, their median and 99th-percentile latency (ms), and the writer's
    steps per second (``write_rate``: the pace it keeps, steps per second; ``None``: no writer)."""
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(readers)]
    writes = [0]

    def reader(n: int) -> None:
        rng, mine = random.Random(n), latencies[n]
        while not stop.is_set():
            began = time.perf_counter()
            engine.get_case(rng.choice(ids))
            engine.cases(state="reported_to_administrator", limit=20)
            mine.append(time.perf_counter() - began)

    def writer() -> None:
        assert write_rate is not None
        case, next_at = engine.get_case(ids[0]), time.perf_counter()
        while not stop.is_set():
            case.fire("share_with_all_staff", actor=ADMIN)
            writes[0] += 1
            next_at += 1 / write_rate
            pause = next_at - time.perf_counter()
            if pause > 0:
                stop.wait(pause)  # keeps the pace a busy school's steps would have

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    if write_rate is not None:
        threads.append(threading.Thread(target=writer))
    start = time.perf_counter()
    for t in threads:
        t.start()
    stop.wait(seconds)  # the measuring window itself, not a wait for something to happen
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    every = sorted(x for mine in latencies for x in mine)
    return {"reads_per_s": len(every) / elapsed, "p50_ms": 1000 * every[len(every) // 2],
            "p99_ms": 1000 * every[int(len(every) * 0.99)], "steps_per_s": writes[0] / elapsed}


def run(name: str, make: Any, args: argparse.Namespace) -> dict[str, Any]:
    engine = make()
    ids = build(engine, args.cases)
    best: dict[bool, dict[str, float]] = {}
    for r in range(args.rounds):
        for writing in ((False, True) if r % 2 == 0 else (True, False)):
            got = measure(engine, ids, args.seconds, args.readers, args.write_rate if writing else None)
            if writing not in best or got["p99_ms"] < best[writing]["p99_ms"]:
                best[writing] = got
    engine.close()
    alone, during = best[False], best[True]
    return {"store": name, "alone": {k: round(v, 2) for k, v in alone.items()},
            "during_writes": {k: round(v, 2) for k, v in during.items()},
            "reads_ratio": round(during["reads_per_s"] / alone["reads_per_s"], 2),
            "p99_ratio": round(during["p99_ms"] / alone["p99_ms"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--write-rate", type=float, default=50.0, help="the writer's steps per second (default 50)")
    parser.add_argument("--postgres", help="a postgresql:// URL of an empty database or schema, to measure it too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    clock = FixedClock(datetime(2026, 6, 1, 12, tzinfo=TOKYO))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run("sqlite (reads on their own connections)",
                           lambda: Engine(Path(tmp) / "a.db", clock=clock, school="s-1"), args))
        results.append(run("sqlite (reads on the writer's connection: before)",
                           lambda: Engine(SQLiteStore(Path(tmp) / "b.db", readers=False), clock=clock, school="s-1"), args))
    if args.postgres:
        results.append(run("postgresql (a reader connection beside the writer's)",
                           lambda: Engine(args.postgres, clock=clock, school="s-1"), args))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for r in results:
        a, d = r["alone"], r["during_writes"]
        print(f"{r['store']}: reads {a['reads_per_s']:.0f}/s alone, {d['reads_per_s']:.0f}/s during"
              f" {d['steps_per_s']:.0f} steps/s (x{r['reads_ratio']}); p99 {a['p99_ms']:.2f} ms -> {d['p99_ms']:.2f} ms"
              f" (x{r['p99_ratio']}); p50 {a['p50_ms']:.2f} -> {d['p50_ms']:.2f} ms")


if __name__ == "__main__":
    main()
