"""Verification by several processes (``engine.verify(workers=N)``, :mod:`ijime_flow.audit.parallel`) reports
exactly what one process does — the same problems in the same order, the same counts — on busy legal stores
and on stores damaged in every way ``tests/test_verify_equivalence.py`` damages them, in SQLite files and in
PostgreSQL. The worker processes are real (a ``spawn`` pool, kept for the module so that each comparison
does not pay for starting Python again).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import sys
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, jst
from structlog.testing import capture_logs
from test_projection import busy_store
from test_verify_equivalence import DAMAGE, Raw, damaged_copies

from ijime_flow import Engine, FixedClock
from ijime_flow.audit import parallel
from ijime_flow.audit.parallel import Pool, verify_parallel
from ijime_flow.cli.main import main as cli
from ijime_flow.language.loader import load_text
from ijime_flow.store import SQLiteStore, Store

SHARES = [2, 3]


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with Pool(2) as kept:
        yield kept


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "base.db"
    engine, _ = busy_store(path, 21, cases=40)
    engine.close()
    return path


def single(target: object, engine: Engine | None = None) -> Any:
    return outcome(lambda: (engine or Engine(target)).verify())  # type: ignore[arg-type]


def several(target: object, pool: Pool, workers: int, engine: Engine | None = None, **kw: Any) -> Any:
    own = engine or Engine(target)  # type: ignore[arg-type]
    return outcome(lambda: verify_parallel(own, workers=workers, opens=Engine, pool=pool, **kw))


def outcome(verify: Any) -> Any:
    try:
        return verify().to_dict()
    except Exception as exc:  # both must raise alike
        return type(exc).__name__, str(exc)


def test_the_shares_partition_the_log(base: Path) -> None:
    with Engine(base) as engine:
        every = list(engine.store.read_rows())
        for shares in (1, 2, 3, 5):
            seen: list[tuple[int, str, int, str]] = []
            owner: dict[str, int] = {}
            for share in range(shares):
                rows = list(engine.store.read_share(share, shares))
                assert rows == sorted(rows)
                for row in rows:
                    assert owner.setdefault(row[1], share) == share  # a case's rows all go to one share
                seen += rows
            assert sorted(seen) == every
            assert shares == 1 or len(set(owner.values())) == shares  # 40 cases: every share has some
            for share in range(shares):  # SQLite passes the other rows by in SQL: the same parts as Python's
                assert list(engine.store.read_share(share, shares)) == list(Store.read_share(engine.store, share, shares))


def test_a_share_of_odd_ids(tmp_path: Path) -> None:
    # ids the engine would not make (empty, one character, not ASCII) still fall in exactly one share
    store = SQLiteStore(tmp_path / "odd.db")
    lite = store._db
    lite.execute("DROP TRIGGER IF EXISTS events_no_update")
    for n, cid in enumerate(["", "x", "事案", "a1", "ab"]):
        lite.execute("INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, 1, 'opened', '', '', '{}')", (cid,))
        assert n + 1 == sum(len(list(store.read_share(k, 3))) for k in range(3))
    for k in range(3):
        assert list(store.read_share(k, 3)) == list(Store.read_share(store, k, 3))
    store.close()


@pytest.mark.parametrize("workers", SHARES)
def test_a_busy_legal_store_verifies_alike(base: Path, pool: Pool, workers: int) -> None:
    alone = single(base)
    assert alone["ok"] and alone["cases"] >= 40  # escalations open more
    assert several(base, pool, workers) == alone
    with Engine(base) as engine:
        assert engine.verify(workers=workers).to_dict() == alone  # a pool of its own, started and stopped


def test_the_workers_are_other_processes(base: Path, pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    several(base, pool, 3)
    pids = {p.pid for p in pool.executor._processes.values()}
    assert pids and os.getpid() not in pids
    # the workers open the store themselves: pointed at a copy whose every first event is garbage, they
    # report its problems for their shares' cases — and only theirs (this process verifies share 0)
    other = tmp_path / "other.db"
    shutil.copy(base, other)
    raw = Raw(other)
    for cid in raw.cases():
        raw.put(cid, 1, "not json")
    raw.db.close()
    monkeypatch.setattr(parallel, "target_of", lambda store: str(other))
    with Engine(base) as engine:
        report = verify_parallel(engine, workers=3, opens=Engine, pool=pool)
        here = {row[1] for row in engine.store.read_share(0, 3)}
        assert {p.case_id for p in report.problems} == set(engine.store.case_ids()) - here != set()


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__)
def test_each_kind_of_damage_is_reported_alike(base: Path, pool: Pool, tmp_path: Path, damage: Any) -> None:
    problems = 0
    for n in range(3):
        path = tmp_path / f"{n}.db"
        shutil.copy(base, path)
        raw = Raw(path)
        damage(raw, random.Random(n * 7919 + len(damage.__name__)))
        raw.db.close()
        alone = single(path)
        for workers in SHARES:
            assert several(path, pool, workers) == alone, (damage.__name__, n, workers)
        problems += isinstance(alone, tuple) or len(alone["problems"])
    if damage.__name__ != "faithful_reencoding":
        assert problems, f"{damage.__name__} never made a problem: the test compares nothing"


def test_random_damage_is_reported_alike(base: Path, pool: Pool, tmp_path: Path) -> None:
    seen = 0
    for path, done in damaged_copies(base, tmp_path, 16, seed=11):
        alone = single(path)
        assert several(path, pool, 2) == alone, done
        seen += isinstance(alone, dict) and len(alone["problems"]) > 1
    assert seen >= 4  # reports of several problems: their order is compared too


def test_the_definitions_the_engine_loaded_count_as_they_do_alone(base: Path, pool: Pool, tmp_path: Path) -> None:
    # the store lost its definition texts; an engine that loaded the workflows still judges every case
    path = tmp_path / "lost.db"
    shutil.copy(base, path)
    raw = Raw(path)
    raw.db.execute("DELETE FROM definitions WHERE workflow_id != 'calendar'")
    raw.db.close()
    bare = single(path)
    assert {p["kind"] for p in bare["problems"]} == {"definition"}
    with Engine(path) as loaded:
        loaded.load(Path(__file__).resolve().parent.parent / "workflows")
        alone = single(path, loaded)
        assert alone["ok"]
        known = {d.sha256: d.canonical for d in loaded.definitions.values()}
        assert several(path, pool, 2, loaded, known=known) == alone
        mixed = several(path, pool, 2, loaded)  # without them the workers judge as a bare engine: they matter
        assert mixed != alone and [p for p in bare["problems"] if p in mixed["problems"]] == mixed["problems"]
        assert loaded.verify(workers=2).to_dict() == alone


# -- PostgreSQL: the same stores, copied ------------------------------------------------------------------
def copy_to_postgres(path: Path, url: str) -> None:
    """The SQLite store's rows, as they are (damage included), in the PostgreSQL store of ``url``."""
    import psycopg

    from ijime_flow.store.postgres import PostgresStore

    PostgresStore(url).close()
    lite = sqlite3.connect(path)
    (issued,) = lite.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events'").fetchone()
    with psycopg.connect(url, autocommit=True) as pg, pg.transaction():
        pg.execute("ALTER TABLE events DISABLE TRIGGER USER")
        pg.execute("TRUNCATE events, definitions")
        with pg.cursor().copy("COPY definitions (sha256, workflow_id, version, body) FROM STDIN") as copy:
            for values in lite.execute("SELECT sha256, workflow_id, version, body FROM definitions"):
                copy.write_row(values)
        with pg.cursor().copy("COPY events (position, case_id, seq, type, at, hash, body, doc) FROM STDIN") as copy:
            for values in lite.execute("SELECT position, case_id, seq, type, at, hash, body FROM events"):
                try:
                    json.loads(values[-1])
                    doc = values[-1]
                except ValueError:
                    doc = "null"  # garbage in the body: the JSONB copy cannot hold it
                copy.write_row((*values, doc))
        pg.execute("ALTER TABLE events ENABLE TRIGGER USER")
        pg.execute("UPDATE log_head SET position = %s", (max(issued, 0),))
    lite.close()


def test_postgres_stores_verify_alike(base: Path, pool: Pool, tmp_path: Path, pg_url: str) -> None:
    copy_to_postgres(base, pg_url)
    alone = single(pg_url)
    assert alone["ok"] and alone["cases"] >= 40
    with Engine(pg_url) as engine:  # the parts PostgreSQL reads are Python's
        for share in range(3):
            assert list(engine.store.read_share(share, 3)) == list(Store.read_share(engine.store, share, 3))
    assert several(pg_url, pool, 2) == alone
    with Engine(pg_url) as engine:
        assert engine.verify(workers=2).to_dict() == alone
    compared = 0
    for path, done in damaged_copies(base, tmp_path, 8, seed=23):
        copy_to_postgres(path, pg_url)
        alone = single(pg_url)
        for workers in SHARES:
            assert several(pg_url, pool, workers) == alone, (done, workers)
        compared += isinstance(alone, dict) and not alone["ok"]
    assert compared >= 4


# -- progress -------------------------------------------------------------------------------------------
def test_progress_reaches_every_case_once(base: Path, pool: Pool) -> None:
    got: list[str] = []
    totals: list[int] = []

    def progress(ids: Iterable[str], total: int) -> Iterator[str]:
        totals.append(total)
        for cid in ids:
            got.append(cid)
            yield cid

    with Engine(base) as engine:
        report = verify_parallel(engine, workers=3, opens=Engine, pool=pool, progress=progress)
        assert report.ok and totals == [report.cases] == [len(engine.store.case_ids())]
        assert sorted(got) == sorted(engine.store.case_ids())
        got.clear()
        assert verify_parallel(engine, workers=2, opens=Engine, pool=pool, progress=progress).to_dict() == report.to_dict()
        assert sorted(got) == sorted(engine.store.case_ids())  # nothing left over from the run before


# -- guards, and when one process verifies ---------------------------------------------------------------
GUARDED = """
id: guarded
version: "1"
title: {ja: テスト, en: Test}
source: test
roles: {staff: {ja: 教職員}}
opened_by: [staff]
initial: a
states:
  a: {ja: A, source: "1"}
  b: {ja: B, source: "1", final: true}
transitions:
  - {trigger: go, ja: 進む, source: "1", from: a, to: b, roles: [staff], when: {guard: weekday}}
"""


def weekday(ctx: Any) -> bool:
    """A guard importable by name (``test_parallel:weekday``)."""
    return bool(ctx.at.weekday() < 5)


def guarded_store(path: Path) -> None:
    """Cases stepped on every day of two weeks, under a guard that let every step through."""
    with Engine(path, clock=FixedClock(jst(2030, 1, 1)), school="school-1") as engine:
        engine.add_definition(load_text(GUARDED))
        engine.register_guard("weekday", lambda ctx: True)
        for day in range(1, 15):
            case = engine.open_case("guarded", actor=STAFF, at=jst(2019, 5, day))
            case.fire("go", actor=STAFF, at=jst(2019, 5, day))


def test_guards_importable_by_name_judge_in_the_workers(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "guarded.db"
    guarded_store(path)
    with Engine(path, guards={"weekday": weekday}) as engine:
        alone = single(path, engine)
        assert {p["kind"] for p in alone["problems"]} == {"illegal"} and len(alone["problems"]) == 4  # 4 weekend days
        with capture_logs() as logs:
            assert several(path, pool, 2, engine) == alone
        assert not [e for e in logs if e["event"].startswith("verify.")]  # the workers did it


def test_a_guard_not_importable_by_name_means_one_process(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "guarded.db"
    guarded_store(path)
    with Engine(path, guards={"weekday": lambda ctx: ctx.at.weekday() < 5}) as engine:
        alone = single(path, engine)
        with capture_logs() as logs:
            assert several(path, pool, 2, engine) == alone
        assert [e["event"] for e in logs] == ["verify.one_worker"] and "guards" in logs[0]["reason"]


def test_a_share_whose_worker_fails_is_verified_here(pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a guard this process can name, but a worker cannot import: its share fails there, and is done here
    ghost = types.ModuleType("ghost_guards_for_test")

    def weekday(ctx: Any) -> bool:
        return bool(ctx.at.weekday() < 5)

    weekday.__module__, weekday.__qualname__ = ghost.__name__, "weekday"
    ghost.weekday = weekday  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, ghost.__name__, ghost)
    path = tmp_path / "guarded.db"
    guarded_store(path)
    with Engine(path, guards={"weekday": weekday}) as engine:
        alone = single(path, engine)
        assert alone["problems"]
        with capture_logs() as logs:
            assert several(path, pool, 3, engine) == alone
        assert sorted(e["event"] for e in logs) == ["verify.share_again", "verify.share_again"]


def test_what_one_process_verifies(base: Path, tmp_path: Path) -> None:
    memory, _ = busy_store(None, 5, cases=6)
    with capture_logs() as logs:
        assert memory.verify(workers=2).to_dict() == memory.verify().to_dict()
    assert [e["event"] for e in logs] == ["verify.one_worker"] and "MemoryStore" in logs[0]["reason"]
    with capture_logs() as logs:  # the default, every core: a small store is not worth other processes, quietly
        assert memory.verify(workers=None).ok
        with Engine(base) as engine:
            assert engine.verify(workers=None).ok
            assert engine.verify(next(iter(engine.store.case_ids())), workers=2).cases == 1  # one case: here
    assert [e for e in logs if e.get("log_level") == "warning"] == []
    assert parallel.target_of(memory.store) is None


def test_the_command_takes_workers(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for workers in ("1", "2"):
        assert cli(["verify", "--db", str(base), "--json", "--workers", workers]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and outputs[0]["ok"]
    with pytest.raises(SystemExit):
        cli(["verify", "--db", str(base), "--workers", "0"])
    assert "workers" in capsys.readouterr().err
