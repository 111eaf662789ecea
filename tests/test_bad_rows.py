"""Bad data in the store is reported with its case and seq and never breaks other cases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import STAFF, WORKFLOWS, jst, open_case

from ijime_flow import Engine, FixedClock, StoreError


def _damage(url: str, case_id: str, seq: int, how: str) -> None:
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            db.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            expr = "left(body, length(body) / 2)" if how == "truncate" else "replace(body, 'stop_act', 'stop_ack')"
            db.execute(f"UPDATE events SET body = {expr} WHERE case_id = %s AND seq = %s", (case_id, seq))
    else:
        db = sqlite3.connect(url, isolation_level=None)
        db.execute("DROP TRIGGER events_no_update")
        expr = "substr(body, 1, length(body) / 2)" if how == "truncate" else "replace(body, 'stop_act', 'stop_ack')"
        db.execute(f"UPDATE events SET body = {expr} WHERE case_id = ? AND seq = ?", (case_id, seq))
        db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "bad.db") if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.mark.parametrize(("how", "kind"), [("truncate", "format"), ("edit", "hash")])
def test_a_damaged_row_is_reported_and_other_cases_read_on(url: str, how: str, kind: str) -> None:
    clock = FixedClock(jst(2020, 1, 1))
    with Engine(url, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        damaged, healthy = open_case(engine), open_case(engine, day=2)
        for case in (damaged, healthy):
            case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 3))
    _damage(url, damaged.id, 2, how)
    with Engine(url, clock=clock, school="school-1") as engine:
        report = engine.verify()
        assert [(p.case_id, p.seq, p.kind) for p in report.problems] == [(damaged.id, 2, kind)]
        assert engine.verify(healthy.id).ok
        engine.load(WORKFLOWS)
        engine.get_case(healthy.id).fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 3, 11))
        if how == "truncate":
            with pytest.raises(StoreError, match=rf"case {damaged.id} seq 2"):
                engine.get_case(damaged.id)
