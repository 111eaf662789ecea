"""engine.transaction(): the application's rows and the engine's events commit together or not at all —
on the application's own SQLite connection and psycopg pool, and on the engine's own stores; a crash
between the two writes (a real process, killed) leaves neither; reads of other threads never wait for
an open transaction and never see it before it commits."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, STAFF, WORKFLOWS, jst, open_case

from ijime_flow import ConcurrencyError, Engine, FixedClock, InvalidTransition, StoreError, UnknownCase
from ijime_flow.store import SQLiteStore

APP_TABLE = "CREATE TABLE IF NOT EXISTS pupil_cases (pupil TEXT NOT NULL, case_id TEXT NOT NULL)"


class Target:
    """One way of running the engine: the store it is built on, and how the application writes its row."""

    def __init__(self, kind: str, tmp_path: Path, pg_url: str | None) -> None:
        self.kind, self.closers = kind, list[Callable[[], None]]()
        self.placeholder = "%s" if kind.startswith("postgresql") else "?"
        self.app_rows = kind not in ("memory", "sqlite")  # the engine's own file refuses other tables
        if kind.startswith("sqlite"):
            self.file = tmp_path / "school.db"
            if kind == "sqlite-connection":
                with sqlite3.connect(self.file) as setup:
                    setup.execute(APP_TABLE)
                setup.close()  # the application's connection, its own table beside the engine's
                conn = sqlite3.connect(self.file, isolation_level=None, check_same_thread=False)
                self.closers.append(conn.close)
                self.store: Any = SQLiteStore(conn)
            else:
                self.store = self.file
        elif kind.startswith("postgresql"):
            import psycopg
            from psycopg_pool import ConnectionPool

            assert pg_url is not None
            self.url = pg_url
            with psycopg.connect(pg_url, autocommit=True) as setup:
                setup.execute(APP_TABLE)
            if kind == "postgresql-pool":  # the application's pool, not in autocommit
                pool = ConnectionPool(pg_url, min_size=1, max_size=3, open=True)
                self.closers.append(pool.close)
                from ijime_flow.store.postgres import PostgresStore

                self.store = PostgresStore(pool=pool)
            else:
                self.store = pg_url
        else:
            self.store = None

    def engine(self) -> Engine:
        engine = Engine(self.store, clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")
        engine.load(WORKFLOWS)
        return engine

    def insert(self, conn: Any, pupil: str, case_id: str) -> None:
        if self.app_rows:
            conn.execute(f"INSERT INTO pupil_cases VALUES ({self.placeholder}, {self.placeholder})", (pupil, case_id))

    def pupils(self) -> list[tuple[str, str]]:
        """The application's rows, read on a connection of their own (what is committed)."""
        if not self.app_rows:
            return []
        if self.kind.startswith("sqlite"):
            with sqlite3.connect(self.file) as db:
                rows = db.execute("SELECT pupil, case_id FROM pupil_cases ORDER BY pupil").fetchall()
            db.close()
            return rows
        if self.kind.startswith("postgresql"):
            import psycopg

            with psycopg.connect(self.url) as db:
                return [tuple(r) for r in db.execute("SELECT pupil, case_id FROM pupil_cases ORDER BY pupil")]
        return []


KINDS = ["memory", "sqlite", "sqlite-connection", "postgresql", "postgresql-pool"]


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    pg = request.getfixturevalue("pg_url") if request.param.startswith("postgresql") else None
    made = Target(request.param, tmp_path, pg)
    yield made
    for close in made.closers:
        close()


def test_the_applications_row_and_the_events_commit_together(target: Target) -> None:
    engine = target.engine()
    with engine.transaction() as conn:
        case = open_case(engine)
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
        target.insert(conn, "pupil-7", case.id)
    fresh = target.engine() if target.kind != "memory" else engine  # another engine reads what was committed
    assert [e.type for e in fresh.get_case(case.id).history()] == ["opened", "transition"]
    assert fresh.verify().ok
    assert target.pupils() == ([("pupil-7", case.id)] if target.app_rows else [])
    engine.close()


def test_an_exception_in_the_block_leaves_neither_and_puts_the_cases_back(target: Target) -> None:
    engine = target.engine()
    kept = open_case(engine)  # committed before the block
    seq, states = kept.seq, kept.active_states

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), engine.transaction() as conn:
        opened = open_case(engine, day=2)
        kept.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
        target.insert(conn, "pupil-8", opened.id)
        raise Abandon
    assert engine.case_ids() == [kept.id]
    assert kept.seq == seq and kept.active_states == states  # the object is where the log says it is
    assert [e.seq for e in engine.get_case(kept.id).history()] == [1]
    with pytest.raises(UnknownCase):
        opened.fire("stop_act", actor=STAFF, at=jst(2019, 5, 2, 10))  # the case opened in the block is gone
    kept.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))  # and the kept one goes on from its real state
    assert target.pupils() == []
    assert engine.verify().ok
    engine.close()


def test_a_refused_step_inside_undoes_only_itself(target: Target, tmp_path: Path) -> None:
    engine = target.engine()
    case = open_case(engine)
    stale = engine.get_case(case.id)
    with engine.transaction() as conn:
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
        with pytest.raises(ConcurrencyError):  # a lost race on the store: a savepoint, not the whole block
            stale.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 11))
        with pytest.raises(InvalidTransition):
            case.fire("report_to_board", actor=STAFF, at=jst(2019, 5, 1, 12))
        case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 1, 13))
        target.insert(conn, "pupil-9", case.id)
    assert [e.trigger for e in engine.get_case(case.id).history()] == [None, "stop_act", "report_to_administrator"]
    assert target.pupils() == ([("pupil-9", case.id)] if target.app_rows else [])
    assert engine.verify().ok
    engine.close()


def test_a_transaction_inside_a_transaction_is_refused(target: Target) -> None:
    engine = target.engine()
    with engine.transaction(), pytest.raises(StoreError, match="already open"), engine.transaction():
        pass
    engine.close()


@pytest.mark.parametrize("kind", ["sqlite", "sqlite-connection", "postgresql", "postgresql-pool"])
def test_reads_of_another_thread_neither_wait_for_nor_see_an_open_transaction(kind: str, tmp_path: Path,
                                                                            request: pytest.FixtureRequest) -> None:
    pg = request.getfixturevalue("pg_url") if kind.startswith("postgresql") else None
    target = Target(kind, tmp_path, pg)
    engine = target.engine()
    before = open_case(engine)
    inside, release = threading.Event(), threading.Event()
    seen: list[Any] = []

    def writer() -> None:
        with engine.transaction():
            open_case(engine, day=2)
            before.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)

        def read() -> None:  # while the write transaction holds the store's writer
            seen.append([row.case_id for row in engine.cases()])
            seen.append([e.seq for e in engine.get_case(before.id).history()])
            seen.append(engine.count_cases())

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(20)
        finished = not reader.is_alive()
    finally:
        release.set()
        thread.join(30)
    assert finished, "a read waited for the open transaction"
    assert seen == [[before.id], [1], 1]  # and saw none of it
    assert engine.count_cases() == 2 and engine.get_case(before.id).seq == 2
    engine.close()
    for close in target.closers:
        close()


# -- a crash between the two writes: a real process, killed -------------------------------------------
CRASHER = textwrap.dedent("""
    import sqlite3, sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from ijime_flow import Actor, Engine, FixedClock
    from ijime_flow.store import SQLiteStore

    kind, where, workflows, order = sys.argv[1:5]
    tokyo = ZoneInfo("Asia/Tokyo")
    if kind == "sqlite":
        conn = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
        store, mark = SQLiteStore(conn), "?"
    else:
        from psycopg_pool import ConnectionPool
        from ijime_flow.store.postgres import PostgresStore
        store, mark = PostgresStore(pool=ConnectionPool(where, min_size=1, max_size=2, open=True)), "%s"
    engine = Engine(store, clock=FixedClock(datetime(2020, 3, 31, 18, tzinfo=tokyo)), school="school-1")
    engine.load(workflows)
    staff = Actor("t-014", {"staff"})
    with engine.transaction() as conn:
        def app_row(case_id):
            conn.execute(f"INSERT INTO pupil_cases VALUES ({mark}, {mark})", ("pupil-1", case_id))
        if order == "app-first":
            app_row("case-1")
        case = engine.open_case("response", actor=staff, at=datetime(2019, 5, 1, 9, tzinfo=tokyo), case_id="case-1")
        case.fire("stop_act", actor=staff, at=datetime(2019, 5, 1, 10, tzinfo=tokyo))
        if order == "engine-first":
            app_row(case.id)
        print("both written", flush=True)
        sys.stdin.readline()  # killed here, before the commit
    print("committed", flush=True)
    sys.stdin.readline()
""")


@pytest.mark.parametrize("order", ["engine-first", "app-first"])
@pytest.mark.parametrize("kind", ["sqlite-connection", "postgresql-pool"])
def test_a_process_killed_between_the_writes_and_the_commit_leaves_neither(kind: str, order: str, tmp_path: Path,
                                                                         request: pytest.FixtureRequest) -> None:
    pg = request.getfixturevalue("pg_url") if kind.startswith("postgresql") else None
    target = Target(kind, tmp_path, pg)
    for close in target.closers:
        close()
    where = str(target.file) if kind.startswith("sqlite") else target.url
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER, encoding="utf-8")

    def run(until: str) -> None:
        proc = subprocess.Popen([sys.executable, str(script), kind.split("-")[0], where, str(WORKFLOWS), order],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        lines = []
        while until not in lines:
            line = proc.stdout.readline().strip()
            if not line:
                break
            lines.append(line)
            if line == "both written" and until != line:
                proc.stdin.write("\n")
                proc.stdin.flush()
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        assert until in lines, err

    run("both written")  # killed with both writes made and nothing committed
    engine = Target(kind.split("-")[0], tmp_path, pg).engine() if kind.startswith("postgresql") else Engine(
        target.file, school="school-1")
    engine.load(WORKFLOWS)
    assert engine.case_ids() == [] and target.pupils() == []
    assert engine.store.integrity_problems() == []
    run("committed")  # killed after the commit: both are there
    assert target.pupils() == [("pupil-1", "case-1")]
    assert [e.seq for e in engine.get_case("case-1").history()] == [1, 2] and engine.verify().ok
    engine.close()


def test_the_store_leaves_the_applications_connection_open(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db", isolation_level=None, check_same_thread=False)
    conn.execute(APP_TABLE)
    with Engine(SQLiteStore(conn), school="school-1") as engine:
        engine.load(WORKFLOWS)
        open_case(engine)
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)  # still open, and the events beside
    conn.close()


def test_a_connection_with_a_transaction_open_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
    conn.execute(APP_TABLE)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO pupil_cases VALUES ('p', 'c')")
    with pytest.raises(StoreError, match="取引"):
        SQLiteStore(conn)
    assert conn.in_transaction  # nothing of the application's was committed or rolled back
    conn.execute("ROLLBACK")
    conn.close()


def test_the_admin_still_sees_a_refusal_in_words_inside_a_transaction(target: Target) -> None:
    engine = target.engine()
    with engine.transaction():
        case = open_case(engine)
        with pytest.raises(InvalidTransition) as refused:
            case.fire("report_to_board", actor=ADMIN, at=jst(2019, 5, 1, 10))
        assert refused.value.to_dict()["code"]
    assert engine.case_ids() == [case.id]
    engine.close()
