"""Store figures for a board of education, measured in one run (never a timed test):

1. durable ``fire`` on SQLite vs raw ``sqlite3`` commit-per-row (the comparison of ``bench_fire.py``);
2. ``fire`` on PostgreSQL with 1, 4 and 8 writer processes on distinct cases — how appends scale when
   they are serialised on the log head (see ``ijime_flow/store/postgres.py``), next to a raw
   ``psycopg`` insert+commit per row in one process;
3. a cold fire: load a case from a store holding 100,000 cases, fire, append — per second;
4. resident memory of an engine (its own process) that has loaded and fired on every one of those
   100,000 cases: cases are not kept resident, so it should stay far below 300 MB;
5. the projection at that size: rebuilding it from the log, and the board's questions (cases per
   school, per state, overdue, one school's list) answered by the store, in milliseconds.

    .venv/bin/python bench/bench_store.py [--cases 100000] [--pg URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_fire

from ijime_flow import Actor, Engine
from ijime_flow.events import seal

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
TOKYO = ZoneInfo("Asia/Tokyo")
ADMIN = Actor("v-1", {"administrator"})
STAFF = Actor("t-1", {"staff"})
OPENED_AT = datetime(2019, 5, 1, 9, tzinfo=TOKYO)


def quiet() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


# -- 2. PostgreSQL writers ----------------------------------------------------------------------

def _pg_writer(url: str, fires: int, start: Any, done: Any) -> None:
    quiet()
    engine = Engine(url, school="school-1")
    engine.load(WORKFLOWS)
    case = engine.open_case("response", actor=STAFF, at=OPENED_AT)
    start.wait()
    for _ in range(fires):
        case.fire("share_with_all_staff", actor=ADMIN)
    done.put(fires)
    engine.close()


def bench_postgres(url: str, fires: int) -> dict[str, Any]:
    import psycopg

    out: dict[str, Any] = {}
    schema = f"ijime_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        with psycopg.connect(scoped, autocommit=True) as raw:
            raw.execute("CREATE TABLE raw_events (position BIGSERIAL PRIMARY KEY, case_id TEXT, seq INT, body TEXT,"
                        " UNIQUE (case_id, seq))")
            body = json.dumps({"pad": "x" * 560})
            started = time.perf_counter()
            for seq in range(1, fires + 1):
                with raw.transaction():
                    raw.execute("INSERT INTO raw_events (case_id, seq, body) VALUES ('c', %s, %s)", (seq, body))
            out["raw_insert_commit_per_s"] = fires / (time.perf_counter() - started)
        context = multiprocessing.get_context("spawn")
        for writers in (1, 4, 8):
            start, done = context.Event(), context.Queue()
            procs = [context.Process(target=_pg_writer, args=(scoped, fires // writers, start, done)) for _ in range(writers)]
            for proc in procs:
                proc.start()
            time.sleep(2.0)  # let every writer connect, load and open its case before the clock starts
            began = time.perf_counter()
            start.set()
            total = sum(done.get(timeout=600) for _ in procs)
            elapsed = time.perf_counter() - began
            for proc in procs:
                proc.join()
            out[f"fire_per_s_{writers}_writers"] = total / elapsed
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    return out


# -- 3 and 4. 100,000 cases -------------------------------------------------------------------------

SCHOOLS = 50


def populate(path: Path, cases: int) -> list[str]:
    """A store holding ``cases`` opened response cases of 50 schools, written in batches (not measured);
    their projection rows are then made by ``rebuild_projection`` (measured separately)."""
    engine = Engine(path, school="school-1")
    engine.load(WORKFLOWS)
    defn = engine.definition("response")
    engine.store.put_definition(defn.sha256, defn.id, defn.version, defn.canonical)
    pin = defn.pin
    ids = [uuid.uuid4().hex for _ in range(cases)]
    for first in range(0, cases, 2000):
        batch = [seal(case_id=cid, seq=1, type="opened", trigger=None, from_states=None,
                      to_states=sorted(defn.initial_leaves), actor_id=STAFF.id, actor_roles=["staff"], at=OPENED_AT,
                      recorded_at=OPENED_AT, data={}, definition=pin, prev_hash=None, school=f"school-{n % SCHOOLS:02d}")
                 for n, cid in enumerate(ids[first:first + 2000], start=first)]
        engine.store.append(batch)
    engine.close()
    return ids


def rebuild_seconds(path: Path) -> float:
    engine = Engine(path)
    started = time.perf_counter()
    report = engine.rebuild_projection()
    elapsed = time.perf_counter() - started
    if report.problems:
        raise SystemExit(f"bench: rebuild left out {len(report.problems)} cases")
    engine.close()
    return elapsed


def query_ms(path: Path) -> dict[str, float]:
    """Each board question, best of 5, in milliseconds."""
    engine = Engine(path)
    now = datetime(2020, 3, 1, tzinfo=TOKYO)
    questions = {
        "count_by_school": lambda: engine.count_cases_by("school"),
        "count_by_state": lambda: engine.count_cases_by("state"),
        "count_overdue": lambda: engine.count_cases(overdue=True, as_of=now),
        "one_school_in_a_state": lambda: engine.cases(school="school-07", state="discovered"),
        "overdue_page_of_50": lambda: engine.cases(overdue=True, as_of=now, limit=50),
    }
    out = {}
    for name, ask in questions.items():
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            ask()
            best = min(best, time.perf_counter() - started)
        out[name] = best * 1000
    engine.close()
    return out


def cold_fires(path: Path, ids: list[str], count: int) -> float:
    engine = Engine(path, school="school-1")
    engine.load(WORKFLOWS)
    chosen = random.Random(5).sample(ids, count)
    started = time.perf_counter()
    for cid in chosen:
        engine.get_case(cid).fire("share_with_all_staff", actor=ADMIN)
    rate = count / (time.perf_counter() - started)
    engine.close()
    return rate


def _touch_all(path: str, ids_file: str, result: Any) -> None:
    quiet()
    ids = Path(ids_file).read_text(encoding="utf-8").split()
    engine = Engine(path, school="school-1")
    engine.load(WORKFLOWS)
    for cid in ids:
        engine.get_case(cid).fire("share_with_all_staff", actor=ADMIN)
    rss = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM:"))
    result.put(rss / 1024)
    engine.close()


def peak_memory_mb(path: Path, ids: list[str]) -> float:
    ids_file = path.with_suffix(".ids")
    ids_file.write_text(" ".join(ids), encoding="utf-8")
    context = multiprocessing.get_context("spawn")
    result = context.Queue()
    proc = context.Process(target=_touch_all, args=(str(path), str(ids_file), result))
    proc.start()
    peak: float = result.get(timeout=3600)
    proc.join()
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the store for 3 and 4 (default 100000)")
    parser.add_argument("--cold", type=int, default=2000, help="cold fires measured (default 2000)")
    parser.add_argument("--fires", type=int, default=2400, help="PostgreSQL fires per run (default 2400)")
    parser.add_argument("--pg", default=os.environ.get("IJIME_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    quiet()
    figures: dict[str, Any] = {"sqlite": bench_fire.bench_sqlite(2500, 5)}
    try:
        figures["postgres"] = bench_postgres(args.pg, args.fires)
    except Exception as exc:  # no server here: say so, measure the rest
        figures["postgres"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "board.db"
        started = time.perf_counter()
        ids = populate(path, args.cases)
        figures["populate_s"] = time.perf_counter() - started
        figures["rebuild_projection_s"] = rebuild_seconds(path)
        figures["query_ms"] = query_ms(path)
        figures["cold_fire_per_s"] = cold_fires(path, ids, args.cold)
        figures["peak_rss_mb_after_touching_all"] = peak_memory_mb(path, ids)
    figures["cases"] = args.cases
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
        return 0
    sqlite = figures["sqlite"]
    print(f"SQLite: fire/raw rate = {sqlite.get('ratio', sqlite)}")
    print(f"PostgreSQL: {json.dumps(figures['postgres'], default=lambda v: round(v, 1))}")
    print(f"{args.cases} cases: cold fire {figures['cold_fire_per_s']:.0f}/s;"
          f" peak RSS of an engine that fired on every case {figures['peak_rss_mb_after_touching_all']:.0f} MB"
          " (target < 300 MB)")
    print(f"projection: rebuilt from the log in {figures['rebuild_projection_s']:.1f} s; queries (ms):"
          f" {json.dumps({k: round(v, 1) for k, v in figures['query_ms'].items()})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
