"""What ``engine.verify()`` costs on a large store, as a ratio to the raw floor measured in the same run.

**The store** (built untimed, cached under the temp dir, or ``--db PATH`` to keep and reuse one): realistic
cases of 10-40 events each, ``--events`` in all (default 1,000,000), under the two shipped workflows.
Every history is a legal one made by the real engine: cases are walked in an in-memory ``Engine`` —
many at once, interleaved as a school's cases are, by actors of the roles each step needs, with facts,
refusals, automatic steps and escalations to linked serious-incident cases (which are then walked too) —
and their stored bodies (byte for byte, with their hashes), the school calendars they pinned and their
projection rows are copied into the SQLite store with ``store.append`` in batches. ``--postgres URL``:
the same rows are also copied (once, with COPY) into that PostgreSQL schema and measured there too.

**The floor**: what any verifier of this log must at least do, on one core — read every row in position
order with the plain driver (``sqlite3``; psycopg, a server-side cursor), ``json.loads`` each body and
SHA-256 it. **Verify**: ``Engine(target).verify(workers=N)`` on a fresh engine (no workflow loaded: the
pinned definitions come from the store; worker processes started and stopped within the time), for each
``--workers`` N, which checks every chain, the legality of every step under its pinned definition, the
recorded states and the links between escalated cases. It must report ok.

Target (issue 15): with every core, verification at least as fast as the single-core floor (ratio >= 1.0).

Why ratios: the machines this runs on are shared and noisy, so absolute seconds move from run to run;
both sides are measured in the same process, round after round (the order turning each round), and
the median round's ratio is the figure.

    .venv/bin/python bench/bench_verify.py [--events 1000000] [--rounds 3] [--db PATH] [--postgres URL]
                                           [--workers 1,2] [--json] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import logging
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR), cache_logger_on_first_use=True)

from ijime_flow import Actor, Case, Definition, Engine, FixedClock, IjimeFlowError  # noqa: E402
from ijime_flow.errors import ConcurrencyError  # noqa: E402
from ijime_flow.events import parse_event  # noqa: E402
from ijime_flow.language.models import FactDef  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2030, 1, 1, 9, 0, tzinfo=TOKYO)
SCHOOLS = [f"school-{n:03d}" for n in range(40)]
BUILD_FORMAT = 4  # bump when the generated histories change: a cached store of another format is rebuilt

# a school's people: several of each role, one role each (the workflow's includes do the rest)
PEOPLE: dict[str, list[Actor]] = {
    role: [Actor(f"{prefix}-{n:03d}", {role}) for n in range(1, count + 1)]
    for role, prefix, count in [("staff", "t", 40), ("administrator", "v", 4), ("principal", "p", 2),
                                ("committee", "c", 6), ("counselor", "s", 3), ("board", "b", 3), ("mayor", "m", 1)]
}


# -- building the store (untimed) ----------------------------------------------------------------------
def fact_value(fact: FactDef, rng: random.Random, at: datetime) -> Any:
    kind = fact.type
    if kind == "bool":
        return rng.random() < 0.4
    if kind == "int":
        return rng.randint(0, 6)
    if kind == "number":
        return round(rng.uniform(0, 40), 1)
    if kind == "enum":
        return rng.choice(fact.values or [""])
    if kind == "date":
        return (at - timedelta(days=rng.randint(0, 3))).date()
    if kind == "datetime":
        return at
    return rng.choice(["記録", "面談で確認した", "note"])


class Walk:
    """One case being walked: its own clock and how many events it should reach."""

    def __init__(self, case: Case, defn: Definition, target: int, at: datetime) -> None:
        self.case, self.defn, self.target, self.at, self.tries = case, defn, target, at, 0

    @property
    def done(self) -> bool:
        return self.case.closed or self.case.seq >= self.target or self.tries > 4 * self.target

    def step(self, engine: Engine, clock: FixedClock, rng: random.Random) -> None:
        """One attempt: a trigger some role may take now, by a person of that role, or a fact. A refusal
        (a condition on the data) records nothing, as in real use."""
        case, defn = self.case, self.defn
        self.tries += 1
        self.at += timedelta(hours=rng.choice([1, 2, 5, 20, 30, 80]))
        clock.set(self.at + timedelta(minutes=rng.randint(1, 600)))  # written down a little later
        triggers = case.available_triggers(Actor("any", set(defn.spec.roles)), self.at)
        try:
            if triggers and rng.random() < 0.72:
                trigger = rng.choice(triggers)
                roles, data = set[str](), dict[str, Any]()
                for _, t in defn.transitions_by_trigger[trigger]:
                    if defn.source_active(t, case.active_states) and not t.automatic:
                        roles |= set(t.roles)
                        for name in t.records:
                            data[name] = fact_value(defn.spec.facts[name], rng, self.at)
                        for name in t.requires:
                            data[name] = "記録"
                actor = rng.choice(PEOPLE[rng.choice(sorted(roles))])
                case.fire(trigger, actor=actor, at=self.at, data=data)
            else:
                name, fact = rng.choice(list(defn.spec.facts.items()))
                if name in ("criterion", "serious_harm", "petition") and rng.random() < 0.985:
                    return  # escalations happen, but they are not the common case
                actor = rng.choice(PEOPLE[rng.choice(sorted(fact.roles or ["staff"]))])
                case.record_fact(name, fact_value(fact, rng, self.at), actor=actor, at=self.at)
        except ConcurrencyError:  # the case escalating to this one added a criterion to it: reload
            self.case = engine.get_case(case.id)
        except IjimeFlowError:
            pass


def walk_batch(rng: random.Random, cases: int, in_flight: int = 200) -> Engine:
    """An in-memory engine holding ``cases`` cases (and the serious-incident cases they escalate to),
    walked ``in_flight`` at a time, one random step of one random case after another."""
    clock = FixedClock(NOW)
    engine = Engine(clock=clock)
    engine.load(WORKFLOWS)
    defns = engine.definitions
    waiting, walking, seen = cases, list[Walk](), set[str]()

    def start(case: Case, at: datetime) -> None:
        seen.add(case.id)
        walking.append(Walk(case, defns[case.workflow_id], rng.randint(10, 40), at))

    while waiting or walking:
        while waiting and len(walking) < in_flight:
            waiting -= 1
            at = datetime(2019, 4, 8, 9, tzinfo=TOKYO) + timedelta(days=rng.randint(0, 330), minutes=rng.randint(0, 600))
            clock.set(at + timedelta(minutes=rng.randint(1, 120)))
            if rng.random() < 0.01:  # a petition straight to the board
                case = engine.open_case("serious_incident", actor=rng.choice(PEOPLE["principal"]), at=at,
                                        data={"criterion": "petition"}, school=rng.choice(SCHOOLS))
            else:
                case = engine.open_case("response", actor=rng.choice(PEOPLE["staff"]), at=at, school=rng.choice(SCHOOLS))
            start(case, at)
        k = rng.randrange(len(walking))
        walk = walking[k]
        before = walk.case.seq
        walk.step(engine, clock, rng)
        if walk.case.seq > before + 1:  # automatic steps, or an escalation: walk the case it opened too
            for link in walk.case.linked_cases():
                if link.relation == "escalated_to" and link.case_id not in seen:
                    start(engine.get_case(link.case_id), walk.at)
        if walk.done:
            walking[k] = walking[-1]
            walking.pop()
    return engine


def build_store(path: Path, events: int, seed: int, log: Any = print) -> dict[str, int]:
    """Walk cases in memory, batch by batch, and copy their bodies and projection rows into ``path``
    (whole cases only, a case and the case it escalated to together)."""
    rng = random.Random(seed)
    target = Engine(path, clock=FixedClock(NOW))
    written = cases = 0
    started = time.perf_counter()
    try:
        while written < events:
            engine = walk_batch(rng, 250)
            for defn in engine.definitions.values():
                target.store.put_definition(defn.sha256, defn.id, defn.version, defn.canonical)
            stored = list(engine.store.read_from(0))
            for pin in {json.loads(r.body)["data"].get("_calendar") for r in stored if r.seq == 1} - {None}:
                target.store.put_definition(pin, "calendar", "", engine.store.get_definition(pin) or "")  # pinned calendars
            counts = Counter(r.case_id for r in stored)
            keep: set[str] = set()
            for cid in counts:  # first-appearance order
                if written >= events:
                    break
                new = _linked(engine, cid) - keep
                keep |= new
                written += sum(counts[c] for c in new)
            records = [(parse_event(r.body, r.case_id, r.seq), r.body) for r in stored if r.case_id in keep]
            rows = [row for row in engine.cases() if row.case_id in keep]
            for first in range(0, len(records), 5000):
                last = first + 5000 >= len(records)
                target.store.append(records[first:first + 5000], rows if last else ())
            cases += len(keep)
            log(f"  built {written:,} events, {cases:,} cases ({time.perf_counter() - started:.0f} s)")
    finally:
        target.close()
    return {"events": written, "cases": cases}


def _linked(engine: Engine, case_id: str) -> set[str]:
    """The case and every case linked to it by escalation, either way."""
    found, todo = set[str](), [case_id]
    while todo:
        cid = todo.pop()
        if cid in found:
            continue
        found.add(cid)
        for row in engine.store.read_case(cid):
            data = json.loads(row.body)["data"]
            todo += [data[key] for key in ("case", "escalated_from") if isinstance(data.get(key), str)]
    return found


def store_meta(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    db = sqlite3.connect(str(path))
    try:
        (events,) = db.execute("SELECT count(*) FROM events").fetchone()
        (cases,) = db.execute("SELECT count(DISTINCT case_id) FROM events").fetchone()
        row = db.execute("SELECT value FROM meta WHERE key = 'bench_verify'").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()
    return {"events": events, "cases": cases, "format": json.loads(row[0]) if row else None}


def mark_built(path: Path, events: int, seed: int) -> None:
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('bench_verify', ?)",
               (json.dumps({"format": BUILD_FORMAT, "events": events, "seed": seed}),))
    db.close()


def ensure_store(path: Path, events: int, seed: int) -> dict[str, Any]:
    """The store at ``path``: built if missing, rebuilt if this bench built it with other settings; a
    store this bench did not build is measured as it is (and never written to)."""
    meta = store_meta(path)
    wanted = {"format": BUILD_FORMAT, "events": events, "seed": seed}
    if meta is not None and meta["format"] is None:
        print(f"{path}: not built by this bench; measured as it is", file=sys.stderr)
        return meta
    if path.exists() and meta is None:
        raise SystemExit(f"bench: {path} exists and is not an ijime-flow SQLite store")
    if meta is None or meta["format"] != wanted:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"building {path} ({events:,} events; untimed) ...", file=sys.stderr)
        build_store(path, events, seed, log=lambda msg: print(msg, file=sys.stderr))
        mark_built(path, events, seed)
        meta = store_meta(path)
        assert meta is not None
    return meta


# -- the same store in PostgreSQL (copied once, untimed) ----------------------------------------------
def ensure_postgres(url: str, path: Path) -> dict[str, Any]:
    """The SQLite store's events and definitions copied into the (empty, or earlier copied) schema of
    ``url`` with COPY: the same bodies at the same positions. Copied again when the SQLite store changed.
    (The ``cases`` projection is not copied: verification does not read it.)"""
    import psycopg

    from ijime_flow.store.postgres import PostgresStore

    built = store_meta(path)
    assert built is not None
    wanted = json.dumps({"events": built["events"], "cases": built["cases"], "from": built["format"]}, sort_keys=True)
    PostgresStore(url).close()  # the tables, if the schema has none yet
    with psycopg.connect(url, autocommit=True) as pg:
        row = pg.execute("SELECT value FROM meta WHERE key = 'bench_verify'").fetchone()
        if row is None or row[0] != wanted:
            print(f"copying {path} into PostgreSQL (untimed) ...", file=sys.stderr)
            lite = sqlite3.connect(str(path))
            with pg.transaction():
                pg.execute("ALTER TABLE events DISABLE TRIGGER USER")
                pg.execute("TRUNCATE events, definitions, cases")
                with pg.cursor().copy("COPY definitions (sha256, workflow_id, version, body) FROM STDIN") as copy:
                    for values in lite.execute("SELECT sha256, workflow_id, version, body FROM definitions"):
                        copy.write_row(values)
                with pg.cursor().copy("COPY events (position, case_id, seq, type, at, hash, body, doc) FROM STDIN") as copy:
                    for values in lite.execute("SELECT position, case_id, seq, type, at, hash, body, body FROM events"):
                        copy.write_row(values)
                pg.execute("ALTER TABLE events ENABLE TRIGGER USER")
                pg.execute("UPDATE log_head SET position = (SELECT coalesce(max(position), 0) FROM events)")
                pg.execute("INSERT INTO meta VALUES ('bench_verify', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           (wanted,))
            lite.close()
            pg.execute("VACUUM ANALYZE events")
        (events,) = pg.execute("SELECT count(*) FROM events").fetchone() or (0,)
        version = pg.execute("SHOW server_version").fetchone()
    return {"events": events, "cases": built["cases"], "server": version[0] if version else "?"}


# -- the two sides -------------------------------------------------------------------------------------
def floor(target: str) -> tuple[float, int]:
    """Every row in position order, with the plain driver on one core: read, json.loads, SHA-256.
    Returns (seconds, rows)."""
    t0 = time.perf_counter()
    n = 0
    loads, sha256 = json.loads, hashlib.sha256
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target) as pg, pg.cursor(name="floor") as cursor:  # server-side: streamed, as sqlite3 does
            cursor.itersize = 5000
            for (body,) in cursor.execute("SELECT body FROM events ORDER BY position"):
                loads(body)
                sha256(body.encode("utf-8")).digest()
                n += 1
        return time.perf_counter() - t0, n
    db = sqlite3.connect(target)
    for (body,) in db.execute("SELECT body FROM events ORDER BY position"):
        loads(body)
        sha256(body.encode("utf-8")).digest()
        n += 1
    db.close()
    return time.perf_counter() - t0, n


def verify(target: str, workers: int = 1) -> tuple[float, Any]:
    """``Engine(target).verify(workers=...)``, opening included (and starting the worker processes):
    no workflow loaded, the pinned definitions come from the store."""
    t0 = time.perf_counter()
    with Engine(target) as engine:
        report = engine.verify(workers=workers)
    return time.perf_counter() - t0, report


def profile_verify(target: str, top: int = 30) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    verify(target)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def rounds(target: str, workers: list[int], count: int) -> Iterator[dict[str, Any]]:
    """Each round: the floor and a verify with each number of workers, in an order that turns round by round."""
    floor(target)  # warm the page cache and the imports, untimed
    sides = ["floor", *workers]
    for r in range(count):
        gc.collect()
        times: dict[str, Any] = {}
        for side in sides[r % len(sides):] + sides[:r % len(sides)]:
            if side == "floor":
                times["floor"], _ = floor(target)
            else:
                times[str(side)], report = verify(target, int(side))
                if not report.ok:
                    raise SystemExit(f"bench: verify reported problems on a legal store ({target}, workers={side}):"
                                     f" {[str(p) for p in report.problems[:5]]}")
                times["cases"], times["events"] = report.cases, report.events
        yield times


def measure(name: str, target: str, workers: list[int], count: int, min_ratio: float) -> dict[str, Any]:
    results = list(rounds(target, workers, count))
    floor_s = statistics.median(r["floor"] for r in results)
    out: dict[str, Any] = {"store": name, "floor_s": floor_s, "floor_events_per_s": results[0]["events"] / floor_s,
                           "verified_cases": results[0]["cases"], "verified_events": results[0]["events"],
                           "rounds": results, "workers": {}}
    for w in workers:
        ratios = sorted(r["floor"] / r[str(w)] for r in results)
        seconds = statistics.median(r[str(w)] for r in results)
        out["workers"][w] = {"verify_s": seconds, "events_per_s": results[0]["events"] / seconds,
                             "ratio": ratios[len(ratios) // 2], "ratio_worst_round": ratios[0], "ratio_best_round": ratios[-1],
                             "national_year_s": NATIONAL_YEAR / (results[0]["events"] / seconds)}
    best = max(workers)
    out["pass"] = out["workers"][best]["ratio"] >= min_ratio
    return out


NATIONAL_YEAR = 15_000_000  # events: a national year of cases (issue 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the order turning; the median round's ratio is the figure")
    parser.add_argument("--db", type=Path, help="the store to build (once) and reuse; default: cached in the temp dir")
    parser.add_argument("--postgres", metavar="URL", help="also measure the same store copied (once) into this PostgreSQL"
                                                          " schema (a dedicated one: ?options=-csearch_path%%3Dname)")
    parser.add_argument("--workers", default="1,2", help="comma-separated numbers of processes to verify with (default 1,2)")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--profile", action="store_true", help="also cProfile one single-process verify (top 30 by own time)")
    parser.add_argument("--min-ratio", type=float, default=1.0,
                        help="target: single-core floor time / verify time with the most workers, at least (1.0)")
    args = parser.parse_args(argv)
    workers = sorted({int(w) for w in args.workers.split(",")})

    path = args.db or Path(tempfile.gettempdir()) / f"ijime_bench_verify_{args.events}_{args.seed}.db"
    meta = ensure_store(path, args.events, args.seed)
    targets = [("SQLite", str(path))]
    if args.postgres:
        pg = ensure_postgres(args.postgres, path)
        targets.append((f"PostgreSQL {pg['server'].split()[0]}", args.postgres))
    figures: dict[str, Any] = {
        "db": str(path), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version, "cores": os.cpu_count(),
        "load": os.getloadavg(), "events": meta["events"], "cases": meta["cases"],
        "mean_events_per_case": meta["events"] / meta["cases"],
        "stores": [measure(name, target, workers, args.rounds, args.min_ratio) for name, target in targets],
    }
    figures["load_after"] = os.getloadavg()
    if args.profile:
        figures["profile"] = profile_verify(str(path))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"bench_verify: {figures['events']:,} events in {figures['cases']:,} cases"
          f" ({figures['mean_events_per_case']:.1f} per case), {path}")
    print(f"Python {figures['python']}, SQLite {figures['sqlite']}, {figures['cores']} cores, load"
          f" {figures['load'][0]:.2f} -> {figures['load_after'][0]:.2f}, {args.rounds} rounds")
    for store in figures["stores"]:
        print(f"{store['store']}: floor (read + json.loads + sha256, one core) {store['floor_s']:.2f} s"
              f"  {store['floor_events_per_s']:,.0f} events/s")
        for w, x in store["workers"].items():
            print(f"   verify, workers={w}: {x['verify_s']:6.2f} s  {x['events_per_s']:9,.0f} events/s"
                  f"  floor/verify {x['ratio']:.2f}x (rounds {x['ratio_worst_round']:.2f}-{x['ratio_best_round']:.2f}x)"
                  f"  15 M events: {x['national_year_s']:.0f} s")
        verdict = "PASS" if store["pass"] else "MISS"
        print(f"   target: workers={max(workers)} at least {args.min_ratio:.1f}x the single-core floor  {verdict}")
    if args.profile:
        print(figures["profile"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
