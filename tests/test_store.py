"""The stores: SQLite persistence across restarts, pinned definitions, concurrency, URL forms."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import COMMITTEE, PRINCIPAL, STAFF, WORKFLOWS, jst, open_case, walk_main_line

from ijime_flow import ConcurrencyError, Engine, FixedClock, StoreError
from ijime_flow.store import MemoryStore, SQLiteStore, open_store


def test_reopening_a_database_continues_every_case(db_path: Path, clock: FixedClock) -> None:
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        first = walk_main_line(open_case(engine), until="confirm_facts")
        second = walk_main_line(open_case(engine), until="stop_act")
        states = {first.id: first.active_states, second.id: second.active_states}
        facts = first.facts
    with Engine(f"sqlite:///{db_path}", clock=clock, school="school-1") as engine:  # no workflows loaded this time
        assert engine.case_ids() == [first.id, second.id]
        for cid, active in states.items():
            assert engine.get_case(cid).active_states == active
        reloaded = engine.get_case(first.id)
        assert reloaded.facts == facts
        reloaded.fire("report_to_board", actor=PRINCIPAL, at=jst(2019, 5, 6))
        engine.get_case(second.id).fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 2))
        assert engine.verify().ok


def test_a_case_keeps_the_definition_it_was_opened_under(db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    original = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    revised = original.replace('version: "2019.1"', 'version: "2020.1"').replace(
        "from: facts_confirmed, to: board_reported, roles: [principal]",
        "from: facts_confirmed, to: board_reported, roles: [administrator]")
    assert revised != original
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "response.yaml").write_text(revised, encoding="utf-8")
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        old = walk_main_line(open_case(engine), until="confirm_facts")
        engine.load(tmp_path / "v2")
        new = walk_main_line(open_case(engine), until="confirm_facts")
    with Engine(db_path, clock=clock, school="school-1") as engine:
        old_case, new_case = engine.get_case(old.id), engine.get_case(new.id)
        assert old_case.history()[0].definition.version == "2019.1"  # type: ignore[union-attr]
        assert new_case.history()[0].definition.version == "2020.1"  # type: ignore[union-attr]
        vice = jst(2019, 5, 6)
        from ijime_flow import PermissionDenied
        from ijime_flow.actor import Actor
        admin = Actor("v-002", {"administrator"})
        with pytest.raises(PermissionDenied):
            old_case.fire("report_to_board", actor=admin, at=vice)
        new_case.fire("report_to_board", actor=admin, at=vice)
        assert engine.verify().ok


def test_two_engines_on_one_file_one_writer_wins(db_path: Path, clock: FixedClock) -> None:
    with Engine(db_path, clock=clock, school="school-1") as one, Engine(db_path, clock=clock, school="school-1") as two:
        one.load(WORKFLOWS)
        two.load(WORKFLOWS)
        case = walk_main_line(open_case(one), until="start_fact_finding")
        other = two.get_case(case.id)
        case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 5), data={"bullying_recognised": True})
        with pytest.raises(ConcurrencyError):
            other.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 5), data={"bullying_recognised": False})
        assert two.get_case(case.id).facts["bullying_recognised"] is True
        assert one.verify().ok


def test_schema_version_is_recorded_and_a_newer_store_is_refused(db_path: Path) -> None:
    SQLiteStore(db_path).close()
    db = sqlite3.connect(db_path, isolation_level=None)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(db_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        Engine(junk, school="school-1")


def test_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store(":memory:"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)
    store.close()
    with pytest.raises(StoreError, match="mysql"):
        open_store("mysql://localhost/x")


def test_read_from_follows_the_global_position(sqlite_engine: Engine) -> None:
    a = open_case(sqlite_engine)
    b = open_case(sqlite_engine)
    a.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    positions = [(e.position, e.case_id, e.seq) for e in sqlite_engine.store.read_from(0)]
    assert positions == [(1, a.id, 1), (2, b.id, 1), (3, a.id, 2)]
    assert [e.position for e in sqlite_engine.store.read_from(2)] == [3]
    store = sqlite_engine.store
    assert isinstance(store, SQLiteStore)
    assert [e.position for e in store.read_from(0, batch=2)] == [1, 2, 3]  # across batch boundaries
    assert [e.position for e in store.read_from(1, batch=1)] == [2, 3]


def test_memory_store_refuses_a_gap_or_a_repeat() -> None:
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="school-1")
    engine.load(WORKFLOWS)
    case = open_case(engine)
    rows = engine.store.read_case(case.id)
    assert len(rows) == 1
    event = case.history()[0]
    with pytest.raises(ConcurrencyError):
        engine.store.append([(event, rows[0].body)])
