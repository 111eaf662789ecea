"""A store whose case list (the projection) is marked stale — one an earlier version upgraded — read by
the reading commands, which open it read-only: the log is read as it is (verify, history), the lists
say plainly why they cannot answer, and nothing is written. On a real SQLite file and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import STAFF, jst

from ijime_flow import Engine, FixedClock, StoreError
from ijime_flow.audit.source import open_reading
from ijime_flow.cli import main


def _stale_store(target: str) -> None:
    with Engine(target, clock=FixedClock(jst(2019, 6, 1)), school="s-1") as engine:
        engine.load("workflows")
        engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1), case_id="case-1")
    if target.startswith("postgresql"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as db:
            db.execute("INSERT INTO meta VALUES ('projection', 'stale') ON CONFLICT (key) DO UPDATE SET value = 'stale'")
    else:
        with sqlite3.connect(target) as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('projection', 'stale')")


@pytest.fixture(params=["sqlite", "postgres"])
def stale(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    target = request.getfixturevalue("pg_url") if request.param == "postgres" else str(tmp_path / "old.db")
    _stale_store(target)
    return target


def test_a_stale_case_list_read_only_verifies_and_lists_refuse_in_plain_words(stale: str,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_reading(stale)
    try:
        assert engine.verify().ok
        assert len(engine.get_case("case-1").history()) == 1
        with pytest.raises(StoreError, match="書き込みできる形で一度開いて"):
            engine.cases()
        with pytest.raises(StoreError, match="open the store once writable"):
            engine.count_cases()
        assert engine.store.projection_stale()  # nothing was written: still marked
    finally:
        engine.close()
    assert main(["verify", "--db", stale]) == 0
    assert main(["cases", "--db", stale]) == 2
    assert "一度開いて" in capsys.readouterr().err
    with Engine(stale) as writable:  # a writable open rebuilds it, and the lists answer
        assert not writable.store.projection_stale()
        assert [row.case_id for row in writable.cases()] == ["case-1"]
