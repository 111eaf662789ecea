"""The PostgreSQL store after the server ends its connection (pg_terminate_backend, as a restart does),
when the server cannot be reached, and when the URL names a schema that does not exist: reads carry
on, appends are recorded once or reported as unknown, and no driver error leaves the store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conformance import events, row
from conftest import MAIN_LINE, PG_ADMIN_URL, STAFF, WORKFLOWS, jst, open_case, walk_main_line

from ijime_flow import ConcurrencyError, Engine, FixedClock, IjimeFlowError, StoreError
from ijime_flow.projection import CaseQuery
from ijime_flow.store.postgres import PostgresStore, redact_url

psycopg = pytest.importorskip("psycopg")


def _admin() -> Any:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def _backends(app: str, waiting_on_lock: bool = False) -> list[int]:
    sql = "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()"
    if waiting_on_lock:
        sql += " AND wait_event_type = 'Lock'"
    with _admin() as admin:
        return [pid for (pid,) in admin.execute(sql, (app,)).fetchall()]


def _terminate(app: str) -> list[int]:
    """End every backend of ``app`` and wait until they are gone (and their goodbye is on the wire)."""
    with _admin() as admin:
        ended = [pid for pid, done in admin.execute(
            "SELECT pid, pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = %s"
            " AND pid <> pg_backend_pid()", (app,)).fetchall() if done]
    time.sleep(0.05)
    return ended


def _wait_for(condition: Callable[[], Any], what: str, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def app() -> str:
    return f"ijime-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def url(pg_url: str, app: str) -> str:
    return f"{pg_url}&application_name={app}"


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    with Engine(url, clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1") as eng:
        eng.load(WORKFLOWS)
        yield eng


def test_a_read_after_the_backend_was_terminated_works(engine: Engine, app: str) -> None:
    case = walk_main_line(open_case(engine), until="share_with_committee")
    hashes = [e.hash for e in case.history()]
    before = _backends(app)
    assert 1 <= len(before) <= 2  # the store's writer and reader
    assert _terminate(app) == before
    again = engine.get_case(case.id)  # the first call after the end: no AdminShutdown, no "connection is closed"
    assert [e.hash for e in again.history()] == hashes
    assert engine.store.case_ids() == [case.id]
    assert engine.count_cases() == 1
    after = _backends(app)
    assert after and not set(after) & set(before)  # it really is a new connection (the pool may have grown)


def test_a_fire_after_the_backend_was_terminated_is_recorded_once(engine: Engine, url: str, app: str) -> None:
    case = open_case(engine)
    for day, (trigger, actor, data) in enumerate(MAIN_LINE, start=1):
        assert _terminate(app), "no backend was ended"
        case.fire(trigger, actor=actor, at=jst(2019, 5, day, 10), data=data)  # recorded, not an error
    assert engine.verify().ok
    assert engine.store.integrity_problems() == []
    with Engine(url, school="school-1") as fresh:  # another store reads exactly what was acknowledged
        fresh.load(WORKFLOWS)
        history = fresh.get_case(case.id).history()
    assert [e.seq for e in history] == list(range(1, len(MAIN_LINE) + 2))  # nothing lost, nothing twice
    assert [e.trigger for e in history[1:]] == [t for t, _, _ in MAIN_LINE]
    assert [e.position for e in engine.store.read_from(0)] == list(range(1, len(MAIN_LINE) + 2))


def test_a_lost_race_after_a_reconnection_is_still_a_concurrency_error(engine: Engine, url: str, app: str) -> None:
    case = open_case(engine)
    with Engine(url.replace(app, app + "-b"), clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1") as other:
        other.load(WORKFLOWS)
        other.get_case(case.id).fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert _terminate(app)
    with pytest.raises(ConcurrencyError):
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 11))  # the stale case lost: not a StoreError
    assert [e.seq for e in engine.get_case(case.id).history()] == [1, 2]


def test_an_append_cut_off_midway_is_reported_as_unknown_and_not_repeated(engine: Engine, pg_url: str,
                                                                          app: str) -> None:
    case = open_case(engine)
    outcome: list[BaseException | None] = []

    def fire() -> None:
        try:
            case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with psycopg.connect(pg_url) as holder:  # holds the log head: the append waits inside its statement
        holder.execute("SELECT position FROM log_head FOR UPDATE")
        writer = threading.Thread(target=fire)
        writer.start()
        (pid,) = _wait_for(lambda: _backends(app, waiting_on_lock=True), "the append to wait for the log head")
        assert pid in _terminate(app)  # with the idle reader
        writer.join(10)
        holder.rollback()
    (error,) = outcome
    assert isinstance(error, StoreError) and not isinstance(error, ConcurrencyError)
    assert "unknown whether" in str(error) and "reload the case" in str(error) and "記録されたかどうか" in str(error)
    reloaded = engine.get_case(case.id)  # as the message says: it was not recorded (the append waited, then died)
    assert [e.seq for e in reloaded.history()] == [1]
    reloaded.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert [e.seq for e in engine.get_case(case.id).history()] == [1, 2] and engine.verify().ok


def test_a_read_cut_off_midway_is_run_again_on_a_new_connection(url: str, pg_url: str, app: str) -> None:
    store = PostgresStore(url)
    try:
        store.append(events("c", 1, 3), [row("c", seq=3)])
        expected = store.read_case("c")
        result: list[Any] = []
        with psycopg.connect(pg_url) as holder:  # the read waits inside its statement
            holder.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            reader = threading.Thread(target=lambda: result.append(store.read_case("c")))
            reader.start()
            (first,) = _wait_for(lambda: _backends(app, waiting_on_lock=True), "the read to wait")
            assert first in _terminate(app)  # with the idle writer
            (second,) = _wait_for(lambda: _backends(app, waiting_on_lock=True), "the read to be run again")
            assert second != first
            holder.rollback()
            reader.join(10)
        assert result == [expected]
    finally:
        store.close()


WRITER = textwrap.dedent("""
    import json, logging, sys
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    from ijime_flow import Actor, Engine, StoreError

    url, workflows, count, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    engine = Engine(url, school="school-1")
    engine.load(workflows)
    admin = Actor("v-1", {"administrator"})

    def reload(case_id):
        for _ in range(20):  # the server may end this connection too, at any moment
            try:
                return engine.get_case(case_id)
            except StoreError:
                pass
        raise SystemExit("could not reload the case")

    case = None
    while case is None:
        try:
            case = engine.open_case("response", actor=admin)
        except StoreError:
            pass
    print(case.id, flush=True)
    acked, unknown, i = [], 0, 0
    while i < count:
        try:
            event = case.fire("share_with_all_staff", actor=admin, data={"i": i})
            acked.append([event.seq, event.hash])
            i += 1
        except StoreError as exc:
            assert "unknown whether" in str(exc) or "cannot reach" in str(exc), exc
            unknown += 1
            case = reload(case.id)
            if case.history()[-1].data.get("i") == i:  # it was recorded after all
                i += 1
    with open(report, "w") as out:  # not stdout: a pipe the parent does not read while it waits would fill
        json.dump({"acked": acked, "unknown": unknown}, out)
""")


def test_a_writer_process_whose_connection_keeps_being_ended_loses_and_doubles_nothing(
        url: str, app: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    count = 1500
    errors = (tmp_path / "stderr").open("w+")  # a file: a pipe left unread would block the writer
    writer = subprocess.Popen([sys.executable, str(script), url, str(WORKFLOWS), str(count), str(tmp_path / "report")],
                              stdout=subprocess.PIPE, stderr=errors, text=True)
    assert writer.stdout is not None
    case_id = writer.stdout.readline().strip()
    ended = 0
    with _admin() as admin:
        while writer.poll() is None:
            ended += sum(done for (done,) in admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (app,)))
            time.sleep(0.1)
    writer.communicate(timeout=120)
    errors.seek(0)
    err = errors.read()
    errors.close()
    assert writer.returncode == 0, err
    assert "Traceback" not in err, err  # no driver error escaped, not even in a worker thread
    report = json.loads((tmp_path / "report").read_text())
    print(f"{ended} backends ended, {report['unknown']} outcome(s) unknown")
    assert ended >= 5, "the connection was not ended often enough to test anything"
    with Engine(url, school="school-1") as reader:
        reader.load(WORKFLOWS)
        history = reader.get_case(case_id).history()
        assert reader.verify().ok and reader.store.integrity_problems() == []
    assert [e.seq for e in history] == list(range(1, count + 2))
    assert [e.data["i"] for e in history[1:]] == list(range(count))  # each step once, in order
    stored = {(e.seq, e.hash) for e in history}
    assert all((seq, digest) in stored for seq, digest in report["acked"])  # every acknowledged step is there


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    url = "postgresql://u:s3cret@127.0.0.1:1/test"
    for opening in (PostgresStore, lambda u: Engine(u)):
        with pytest.raises(StoreError) as caught:
            opening(url)
        text = str(caught.value)
        assert "s3cret" not in text and "s3cret" not in repr(caught.value)
        assert text.startswith("データベースに接続できません / cannot reach the PostgreSQL server at 127.0.0.1:1/test: ")
        assert caught.value.__cause__ is None and caught.value.__suppress_context__  # the driver's error is not shown


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:s3cret@127.0.0.1:1/test", "postgresql://u:***@127.0.0.1:1/test"),
    ("postgresql://u:p@ss/w?rd@h:5432/db?options=x", "postgresql://u:***@h:5432/db?options=x"),
    ("postgresql://u@h/db?sslmode=require&password=s3cret", "postgresql://u@h/db?sslmode=require&password=***"),
    ("host=h user=u password=s3cret dbname=d", "host=h user=u password=*** dbname=d"),
    ("postgresql://h:5432/db", "postgresql://h:5432/db"),
])
def test_redact_url_hides_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_missing_schema_is_a_store_error_that_names_it(pg_url: str) -> None:  # pg_url: a server is there
    schema = f"no_such_schema_{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in PG_ADMIN_URL else "?"
    with pytest.raises(StoreError) as caught:
        PostgresStore(f"{PG_ADMIN_URL}{separator}options=-csearch_path%3D{schema}")
    assert f"CREATE SCHEMA {schema}" in str(caught.value) and f"スキーマ {schema} がありません" in str(caught.value)


@pytest.fixture
def role_url(pg_url: str, app: str) -> Iterator[tuple[str, str]]:
    """A URL (with a password) as a role of its own, which the test may forbid to log in."""
    from psycopg.conninfo import conninfo_to_dict

    role, given = f"ijime_role_{uuid.uuid4().hex[:8]}", conninfo_to_dict(pg_url)
    schema = given["options"].split("search_path=", 1)[1]
    with _admin() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 's3cret-pw'")
        admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    yield (f"postgresql://{role}:s3cret-pw@{given.get('host', 'localhost')}:{given.get('port', 5432)}/"
           f"{given.get('dbname', 'postgres')}?options={quote(given['options'])}&application_name={app}"), role
    with _admin() as admin:
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")


def test_no_driver_error_leaves_the_store_while_the_server_refuses_it(role_url: tuple[str, str], app: str) -> None:
    url, role = role_url
    store = PostgresStore(url, timeout=0.3)
    calls: dict[str, Callable[[], Any]] = {
        "append": lambda: store.append(events("c", 2, 1, prev=first[0][0].hash), [row("c", seq=2)]),
        "read_case": lambda: store.read_case("c"),
        "read_from": lambda: list(store.read_from(0)),
        "read_rows": lambda: list(store.read_rows(0)),
        "case_ids": store.case_ids,
        "put_definition": lambda: store.put_definition("ab" * 32, "w", "1", "text"),
        "get_definition": lambda: store.get_definition("ab" * 32),
        "case_row": lambda: store.case_row("c"),
        "find_cases": lambda: store.find_cases(CaseQuery()),
        "count_cases": lambda: store.count_cases(CaseQuery()),
        "count_cases_by": lambda: store.count_cases_by("school", CaseQuery()),
        "rebuild_projection": lambda: store.rebuild_projection(lambda stored: [row("c", seq=len(list(stored)))]),
        "projection_stale": store.projection_stale,
        "integrity_problems": store.integrity_problems,
    }
    try:
        first = events("c", 1, 1)
        store.append(first, [row("c")])
        with _admin() as admin:
            admin.execute(f"ALTER ROLE {role} NOLOGIN")
        assert _terminate(app)
        for name, call in calls.items():
            with pytest.raises(IjimeFlowError) as caught:
                call()
            assert isinstance(caught.value, StoreError), name
            assert "s3cret-pw" not in str(caught.value), name
            assert "cannot reach the PostgreSQL server at" in str(caught.value), f"{name}: {caught.value}"
            assert "not permitted to log in" in str(caught.value), f"{name}: {caught.value}"
        with _admin() as admin:
            admin.execute(f"ALTER ROLE {role} LOGIN")

        def recovered() -> bool:
            try:
                store.read_case("c")
            except StoreError:
                return False
            return True

        _wait_for(recovered, "the store to work again once the server lets it in", seconds=5)
        calls.pop("append")()  # the append that was refused was not recorded: seq 2 is still free
        for call in calls.values():
            call()
        assert [e.seq for e in store.read_case("c")] == [1, 2]
    finally:
        store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read_case("c")


@pytest.mark.parametrize("mark", ["@", "/", "?", "#"])
@pytest.mark.parametrize("where", ["password", "user"])
def test_a_raw_mark_in_the_user_or_password_is_refused_before_the_driver_reads_it(mark: str, where: str) -> None:
    # the driver would take the password's tail for the host or the database, and show it (and name the
    # pool after it, in the host's logs): every mark that ends the user info early is refused up front
    def url(text: str) -> str:
        user, password = ("u", f"s3cret{text}tail-of-it") if where == "password" else (f"u{text}x", "s3cret-pw")
        return f"postgresql://{user}:{password}@127.0.0.1:1/test?connect_timeout=1"

    with pytest.raises(StoreError) as caught:
        PostgresStore(url(mark))
    text = str(caught.value)
    assert text.startswith("接続 URL") and "%40" in text
    assert "s3cret" not in text and "tail-of-it" not in text
    with pytest.raises(StoreError) as encoded:  # percent-encoded: read as meant (and unreachable here)
        PostgresStore(url({"@": "%40", "/": "%2F", "?": "%3F", "#": "%23"}[mark]))
    assert str(encoded.value).startswith("データベースに接続できません")
    assert "s3cret" not in str(encoded.value) and "tail-of-it" not in str(encoded.value)
