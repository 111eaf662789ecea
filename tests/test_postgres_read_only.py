"""``open_store(url, read_only=True)`` on PostgreSQL, as the reading commands open it: an empty schema,
another application's tables, a missing schema or a store of another version are refused and left as
they were; on an ijime-flow store reads work, every write is refused — by the store before anything is
sent, and by the server for its sessions — and the log is unchanged. The pool's log records never
show the URL's password."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from conformance import events, row
from conftest import COMMITTEE, PG_ADMIN_URL, STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock, StoreError
from ijime_flow.cli import main
from ijime_flow.store import open_store
from ijime_flow.store.postgres import PostgresStore

psycopg = pytest.importorskip("psycopg")
conninfo_to_dict = psycopg.conninfo.conninfo_to_dict


def _admin() -> Any:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def schema_of(url: str) -> str:
    return str(conninfo_to_dict(url)["options"]).split("search_path=", 1)[1]


def contents(schema: str) -> dict[str, Any]:
    """Everything in the schema: its relations (with the rows of each table), functions and triggers."""
    with _admin() as admin:
        oid = admin.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
        if oid is None:
            return {"(no schema)": True}
        relations = admin.execute("SELECT relname, relkind FROM pg_class WHERE relnamespace = %s ORDER BY relname",
                                  oid).fetchall()
        found: dict[str, Any] = {}
        for name, kind in relations:
            rows = None
            if kind == "r":
                rows = admin.execute(f'SELECT coalesce(string_agg(t::text, chr(10) ORDER BY t::text), \'\') FROM'
                                     f' "{schema}"."{name}" t').fetchone()[0]
            found[f"relation {name}"] = (kind, rows)
        for (name,) in admin.execute("SELECT proname FROM pg_proc WHERE pronamespace = %s", oid).fetchall():
            found[f"function {name}"] = True
        for (name,) in admin.execute("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                                     " WHERE c.relnamespace = %s AND NOT t.tgisinternal", oid).fetchall():
            found[f"trigger {name}"] = True
        return found


def _refused(url: str) -> str:
    """What opening ``url`` read-only says, both ways in (the library's two doors)."""
    said = []
    for opening in (lambda: open_store(url, read_only=True), lambda: PostgresStore(url, read_only=True)):
        with pytest.raises(StoreError) as caught:
            opening()
        said.append(str(caught.value))
    assert said[0] == said[1]
    return said[0]


# -- refused, and left as it was ------------------------------------------------------------------------
def test_an_empty_schema_is_refused_and_stays_empty(pg_url: str) -> None:
    schema = schema_of(pg_url)
    assert contents(schema) == {}
    said = _refused(pg_url)
    assert said.startswith(f"{pg_url}: ijime-flow の保存先ではありません"), said
    assert "not an ijime-flow store: an empty schema" in said and "nothing was written" in said
    assert contents(schema) == {}  # no table, no function, no trigger: nothing was created


FOREIGN = {
    "another application's table": ["CREATE TABLE students (id INT PRIMARY KEY, name TEXT)",
                                    "INSERT INTO students VALUES (1, '山田')"],
    "a meta table of other columns": ["CREATE TABLE meta (id INT PRIMARY KEY, note TEXT)",
                                      "INSERT INTO meta VALUES (1, 'schema_version')"],
    "a meta table of other types": ["CREATE TABLE meta (key INT PRIMARY KEY, value INT)", "INSERT INTO meta VALUES (1, 2)"],
    "a key/value meta and an events table, but no ijime-flow version": [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", "INSERT INTO meta VALUES ('owner', 'crm')",
        "CREATE TABLE events (id SERIAL PRIMARY KEY, what TEXT)", "INSERT INTO events (what) VALUES ('login')"],
    "a schema_version but none of the log's tables": [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", "INSERT INTO meta VALUES ('schema_version', '2')"],
}


@pytest.mark.parametrize("statements", list(FOREIGN.values()), ids=list(FOREIGN))
def test_another_applications_schema_is_refused_and_nothing_is_added(pg_url: str, statements: list[str]) -> None:
    schema = schema_of(pg_url)
    with _admin() as admin:
        admin.execute(f"SET search_path = {schema}")
        for statement in statements:
            admin.execute(statement)
    before = contents(schema)
    said = _refused(pg_url)
    assert "ijime-flow の保存先ではありません" in said and "not an ijime-flow store: another database" in said, said
    assert contents(schema) == before


def test_a_missing_schema_is_refused_and_not_created(pg_url: str) -> None:
    missing = f"ijime_missing_{uuid.uuid4().hex[:8]}"
    url = pg_url.replace(schema_of(pg_url), missing)
    said = _refused(url)
    assert f"スキーマ {missing} がありません" in said and "there is no store to read" in said, said
    assert "CREATE SCHEMA" not in said  # a reader is not told to make it
    assert contents(missing) == {"(no schema)": True}


@pytest.mark.parametrize("version", ["1", "2", "3", "5"])
def test_a_store_of_another_schema_version_is_refused_untouched(pg_url: str, version: str) -> None:
    PostgresStore(pg_url).close()
    schema = schema_of(pg_url)
    with _admin() as admin:
        admin.execute(f"UPDATE {schema}.meta SET value = %s WHERE key = 'schema_version'", (version,))
    before = contents(schema)
    said = _refused(pg_url)
    assert f"store schema {version} is not this version's (4)" in said, said
    assert contents(schema) == before  # schema 1 was not upgraded


# -- an ijime-flow store: reads work, writes are refused ----------------------------------------------------
@pytest.fixture
def store_url(pg_url: str, clock: FixedClock) -> str:
    """A real store: one case on the main line, up to the committee's fact finding."""
    with Engine(pg_url, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        case = eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1")
        walk_main_line(case, until="start_fact_finding")
    return pg_url


def _terminate(app: str) -> None:
    with _admin() as admin:
        ended = admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = %s"
                              " AND pid <> pg_backend_pid()", (app,)).fetchall()
    assert ended, f"no backend of {app}"
    time.sleep(0.05)


def test_a_read_only_store_reads_and_refuses_every_write(store_url: str) -> None:
    schema, app = schema_of(store_url), f"ijime-ro-{uuid.uuid4().hex[:8]}"
    before = contents(schema)
    store = open_store(f"{store_url}&application_name={app}", read_only=True)
    assert isinstance(store, PostgresStore) and store.read_only
    try:
        with Engine(store) as reader:
            report = reader.verify()
            assert report.ok, report
            case = reader.get_case("case-1")
            assert [e.seq for e in case.history()] == [1, 2, 3, 4, 5]
            assert store.integrity_problems() == [] and store.case_ids() == ["case-1"]
            assert store.case_row("case-1") is not None
            last = store.read_case("case-1")[-1]
            writes: dict[str, Callable[[], Any]] = {
                "append": lambda: store.append(events("case-1", last.seq + 1, 1), [row("case-1", seq=last.seq + 1)]),
                "append nothing": lambda: store.append([]),
                "put_definition": lambda: store.put_definition("ab" * 32, "w", "1", "text"),
                "rebuild_projection": lambda: store.rebuild_projection(lambda stored: []),
                "fire": lambda: case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 9, 10),
                                          data={"bullying_recognised": True}),
            }
            for name, write in writes.items():
                with pytest.raises(StoreError) as caught:
                    write()
                assert "読み取り専用で開いています / the store was opened read-only" in str(caught.value), name
            # the server refuses too: what gets past the store's own checks is not written either
            raw = "INSERT INTO definitions VALUES ('cd', 'w', '1', 'text')"
            for _ in range(2):  # on the first session, and on the one that replaces it after it is lost
                assert store._rows("SHOW transaction_read_only") == [("on",)]
                with pytest.raises(StoreError) as caught:
                    store._rows(raw)
                assert str(caught.value).startswith("読み取り専用で開いたストアには書き込めません / "), caught.value
                _terminate(app)
            assert [e.seq for e in reader.get_case("case-1").history()] == [1, 2, 3, 4, 5]
    finally:
        store.close()
    assert contents(schema) == before  # the log, its head, the projection, the definitions: as they were
    with Engine(store_url) as writer:  # and the store is still a writable one for a writer
        assert writer.verify().ok and [e.seq for e in writer.store.read_case("case-1")] == [1, 2, 3, 4, 5]


def test_the_search_path_of_pgoptions_is_kept(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the read-only option is added to what PGOPTIONS gives, not put in its place
    monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema_of(store_url)}")
    store = PostgresStore(PG_ADMIN_URL, read_only=True)
    try:
        assert store.case_ids() == ["case-1"]
        assert store._rows("SHOW transaction_read_only") == [("on",)]
    finally:
        store.close()


# -- the command -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["verify", "--db", "{db}"], ["history", "--db", "{db}"],
                                     ["cases", "--db", "{db}"], ["verify", "--db", "{db}", "case-1"]])
def test_a_reading_command_on_an_empty_schema_exits_2_and_creates_nothing(
        pg_url: str, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    schema = schema_of(pg_url)
    capsys.readouterr()
    code = main([part.format(db=pg_url) for part in command])
    out = capsys.readouterr()
    said = out.out + out.err
    assert code == 2, said
    assert "ijime-flow の保存先ではありません" in said and "not an ijime-flow store: an empty schema" in said, said
    assert "Traceback" not in said
    assert contents(schema) == {}


# -- the pool's logs -------------------------------------------------------------------------------------
PASSWORD = "Pw-s3cret-ro-7f"


def leaks(records: list[logging.LogRecord], secret: str) -> list[str]:
    """The records that show ``secret`` (or its URL-encoded form) anywhere: message, arguments, traceback."""
    shown = []
    for record in records:
        text = " ".join([record.getMessage(), repr(record.args), record.exc_text or "", str(record.exc_info or "")])
        if secret in text or quote(secret) in text:
            shown.append(f"{record.name} {record.levelname}: {record.getMessage()}")
    return shown


def test_the_leak_check_can_fail() -> None:
    record = logging.LogRecord("psycopg.pool", logging.WARNING, __file__, 1, "error connecting in %r: %s",
                               ("pool", f"host=h password={PASSWORD}"), None)
    assert leaks([record], PASSWORD) and not leaks([record], "something else")


@pytest.fixture
def role_urls(pg_url: str) -> Iterator[tuple[list[str], str, str]]:
    """URLs with a password (in the authority, and as ``?password=``) for a role of its own, which the test
    may forbid to log in; the role's application name; the role."""
    role, app, given = f"ijime_ro_{uuid.uuid4().hex[:8]}", f"ijime-logs-{uuid.uuid4().hex[:8]}", conninfo_to_dict(pg_url)
    with _admin() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema_of(pg_url)} TO {role}")
    where = f"{given.get('host', 'localhost')}:{given.get('port', 5432)}/{given.get('dbname', 'postgres')}"
    query = f"options={quote(str(given['options']))}&application_name={app}"
    yield ([f"postgresql://{role}:{quote(PASSWORD)}@{where}?{query}",
            f"postgresql://{role}@{where}?{query}&password={quote(PASSWORD)}"], app, role)
    with _admin() as admin:
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "writable"])
def test_the_pools_log_records_never_show_the_password(role_urls: tuple[list[str], str, str], read_only: bool,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    urls, app, role = role_urls
    PostgresStore(urls[0]).close()  # the role's own store, so that it may read it
    caplog.set_level(logging.DEBUG, logger="psycopg")
    caplog.set_level(logging.DEBUG, logger="psycopg.pool")
    for url in urls:
        store = PostgresStore(url, timeout=0.3, read_only=read_only)
        try:
            assert store.case_ids() == [] and PASSWORD not in repr(store)
            with _admin() as admin:
                admin.execute(f"ALTER ROLE {role} NOLOGIN")
            _terminate(app)
            with pytest.raises(StoreError) as caught:  # the pool's new connection is refused: it logs why
                store.case_ids()
            assert "not permitted to log in" in str(caught.value) and PASSWORD not in str(caught.value)
            with _admin() as admin:
                admin.execute(f"ALTER ROLE {role} LOGIN")
            deadline = time.monotonic() + 5
            while True:
                try:
                    assert store.case_ids() == []
                    break
                except StoreError:
                    assert time.monotonic() < deadline, "the store did not recover"
                    time.sleep(0.05)
        finally:
            store.close()
    warned = [r for r in caplog.records if r.name == "psycopg.pool" and "error connecting in" in r.getMessage()]
    assert len({r.getMessage() for r in warned}) >= 1 and len(warned) >= 2, [r.getMessage() for r in caplog.records]
    assert all("not permitted to log in" in r.getMessage() for r in warned)
    assert leaks(caplog.records, PASSWORD) == []
    assert PASSWORD not in caplog.text and quote(PASSWORD) not in caplog.text
