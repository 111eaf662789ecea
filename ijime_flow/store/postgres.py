"""The PostgreSQL store (psycopg 3): for a board of education, many schools, many writer processes.

``Engine("postgresql://user@host/db")``. Tables (created on first use, under an advisory lock so
many processes may start at once; use a dedicated database or schema — ``?options=-csearch_path%3Dx``):

- ``events``: ``position`` (the global order), ``(case_id, seq)`` unique — a lost race becomes
  ``ConcurrencyError`` —, ``body`` (the canonical JSON text, byte for byte: what the hash covers) and
  ``doc`` (a JSONB copy for queries);
- ``log_head``: one row holding the last position handed out;
- ``cases``: the current-state projection, one row per case, written in the same transaction as the
  events (states as JSONB arrays with a GIN index, times as ``timestamptz``);
- ``definitions`` (canonical text by SHA-256) and ``meta`` (``schema_version``);
- ``school_roles``: which database role serves which school, for row-level security on ``events`` (its
  ``school`` column: the school of the event's case) and ``cases`` — see :mod:`ijime_flow.store.pg_security`.

**Read-only.** ``PostgresStore(url, read_only=True)`` (what the reading commands open) creates and
upgrades nothing: the schema must already hold an ijime-flow store of this version, and an empty one
or another application's is refused untouched. Its sessions are read-only at the server too
(``default_transaction_read_only``, set when each connection starts), and its write methods refuse
before sending anything.

**Late commits.** Two transactions that took positions from a sequence can commit in the other
order, and a reader following positions would skip the one that commits late. Here every append
first locks the single ``log_head`` row (``UPDATE … RETURNING``) and holds it until commit, so
positions are handed out — and become visible — strictly in commit order, with no gaps (a rolled-back
append returns its numbers). A reader of ``read_from(p)`` can never miss an event below the highest
position it has seen. The price is that appends are serialised, which a school-scale log affords
(measured in ``bench/``). Triggers refuse UPDATE and DELETE on ``events``.

**Connections.** The store's own: two ``psycopg_pool`` pools of one connection, one for writes and
one for reads, so a read never waits behind a step (each is used by one thread at a time; a thread
inside :meth:`transaction` reads and writes on its transaction's connection). Or the application's
pool (``PostgresStore(pool=...)``), for writing its rows and the engine's events in one transaction.

**Lost connections.** A connection is checked before each use without a round trip and replaced if
the server ended it (nothing was sent). A read that loses its connection midway runs once more; an append (one
statement in autocommit) never — it may have committed, and a ``StoreError`` says so. Every driver
error leaves as a ``StoreError`` (``ConcurrencyError`` for a lost race), never with a password.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from ..errors import ConcurrencyError, StoreError
from ..events import Event
from .base import Projector, StoredEvent
from .pg_access import PgAccess
from .pg_security import check_access, upgrade_access
from .pg_support import check_url, drivers, pool_check, redact_url, scrub, server_of
from .rows import CaseRow, deadlines_json, parse_deadlines, parse_subjects, states_json, subjects_json
from .sql import SqlStore, cases_ddl

__all__ = ["SCHEMA_VERSION", "TIMEOUT", "PostgresStore", "redact_url"]  # redact_url: imported from here too

SCHEMA_VERSION = 4  # 2: the cases projection; 3: its subjects and actors; 4: events.school, access per school
TIMEOUT = 10.0  # seconds to reach the server, and to wait for a new connection after one was lost
_MAX_PARAMS = 30_000  # PostgreSQL takes at most 65,535 parameters in one statement

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    sha256 TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, version TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_head (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row), position BIGINT NOT NULL);
INSERT INTO log_head (only_row, position) VALUES (TRUE, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS events (
    position BIGINT PRIMARY KEY,
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    doc JSONB NOT NULL,
    UNIQUE (case_id, seq)
);
""" + cases_ddl(json="JSONB", boolean="BOOLEAN", time="TIMESTAMPTZ") + """
CREATE INDEX IF NOT EXISTS cases_active ON cases USING GIN (active jsonb_path_ops);
CREATE OR REPLACE FUNCTION ijime_flow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ijime-flow events are append-only'; END $$;
DROP TRIGGER IF EXISTS events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION ijime_flow_append_only();
"""
# 2 -> 3 (after _SCHEMA, which leaves an existing cases table as it is): the subjects and actors of each case
_PEOPLE = """
ALTER TABLE cases ADD COLUMN IF NOT EXISTS subjects JSONB NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN IF NOT EXISTS actors JSONB NOT NULL DEFAULT '[]';
CREATE INDEX IF NOT EXISTS cases_subjects ON cases USING GIN (subjects jsonb_path_ops);
CREATE INDEX IF NOT EXISTS cases_actors ON cases USING GIN (actors jsonb_path_ops);
"""


T = TypeVar("T")
# an event's school (``_schools``), else its case's first event's (stored before this append)
_SCHOOL = "coalesce({v}, (SELECT f.school FROM events f WHERE f.case_id = {case} AND f.seq = 1))"


def _schools(records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow]) -> list[str | None]:
    """The school of each event's case: a first event's own (its hashed body names it), else that of its
    case's first event in this append, else its case's row in this append."""
    first = {e.case_id: e.school for e, _ in records if e.seq == 1}
    of_row = {row.case_id: row.school for row in rows}
    return [e.school if e.seq == 1 else first[e.case_id] if e.case_id in first else of_row.get(e.case_id)
            for e, _ in records]


class PostgresStore(PgAccess, SqlStore):
    placeholder = "%s"
    _SHARE = "mod(ascii(right(case_id, 1)), ?) = ?"  # ascii: the code point of a character in a UTF-8 database

    def __init__(self, url: str | None = None, *, timeout: float = TIMEOUT, read_only: bool = False,
                 pool: Any = None, school: str | None = None) -> None:
        """``url``: the server, for connections of the store's own: one that writes, and — unless
        ``read_only`` — one that reads, so that no read waits behind a step. ``pool``: instead, a
        ``psycopg_pool.ConnectionPool`` of the application's, so that its own rows and the engine's
        events can commit in one transaction (:meth:`transaction`); its connections may be in autocommit
        or not (each operation of the store is then one transaction of its own), and :meth:`close` leaves
        the pool open.

        ``read_only``: the schema must hold an ijime-flow store of this version (nothing is created or
        upgraded), the server refuses every write of its sessions, and the write methods refuse up front
        (with a pool given, only the last: make its sessions read-only yourself if you need the first).

        ``school``: the school this store serves; a school's database role (``school_roles``) of another
        school is refused as the store opens. What the role may see is up to the server, not this."""
        psycopg, pools = drivers()
        if (url is None) == (pool is None):
            raise StoreError("PostgreSQL の接続先（URL か接続プール）を一つ指定してください / give the PostgreSQL store"
                             " either a URL or a psycopg_pool pool, not both or neither")
        self._owned = pool is None
        url = url if url is not None else str(getattr(pool, "conninfo", "") or "")
        self.url, self._timeout, self.read_only, self.school = url, timeout, read_only, school
        self._sees_all = True  # the role sees every school's rows (set as the store opens)
        self._lock = threading.RLock()  # kept for SqlStore; connections come from the pool, one per thread at a time
        self._local = threading.local()  # .held: this thread's connection for the operation or transaction under way
        self._append_sqls: dict[tuple[int, int], str] = {}  # by (events, rows): a handful of shapes
        if self._owned:
            check_url(url)
        try:
            given = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL の接続先が読めません / not a PostgreSQL URL: {redact_url(url)}"
                             f" ({scrub(exc, url)})") from None
        self._server = server_of(given)
        self._kwargs: dict[str, Any] = {"autocommit": True,
                                        "connect_timeout": given.get("connect_timeout", max(2, round(timeout)))}
        if read_only:  # set as each session starts (the pool's too), before any statement of ours runs; added to
            # the options the URL (or else PGOPTIONS, which an explicit value replaces) gives, such as search_path
            options = given.get("options") or os.environ.get("PGOPTIONS") or ""
            self._kwargs["options"] = f"{options} -c default_transaction_read_only=on".strip()
        if not self._owned:
            self._pool = self._reads = pool
            self._setup(self._take(pool), give_back=True)
            return
        # pools of one (each used by one thread at a time; a pool that may grow replaces connections ended by the
        # server far more slowly). check: no round trip (pool_check); reconnect_timeout: the pool gives up soon,
        # so the next use after an outage tries at once, not after a backoff grown over minutes
        made = [pools.ConnectionPool(url, kwargs=self._kwargs, min_size=1, max_size=1, num_workers=1, check=pool_check,
                                     timeout=timeout, reconnect_timeout=timeout, open=False, name=f"{self._server} {use}")
                for use in (("read",) if read_only else ("write", "read"))]
        self._pool, self._reads = made[0], made[-1]
        first = self._connect()  # here, not in the pool's thread: a wrong URL fails now, with its reason
        try:
            for made_pool in made:
                made_pool.open()  # its connection is made while this one migrates (or checks)
            self._setup(first, give_back=False)
        except BaseException:
            for made_pool in made:
                made_pool.close()
            raise
        finally:
            first.close()

    def _setup(self, conn: Any, *, give_back: bool) -> None:
        """Check (reading) or create and upgrade (writing) the schema on ``conn``."""
        psycopg, _ = drivers()
        try:
            if self.read_only:
                self._check_ours(conn)
            else:
                self._migrate(conn)
            self._sees_all = check_access(conn, self.school, redact_url(self.url))
        except psycopg.Error as exc:
            raise self._error(exc, conn) from None
        finally:
            if give_back:
                self._pool.putconn(conn)

    def __repr__(self) -> str:
        return f"PostgresStore({redact_url(self.url)!r}{', read_only=True' if self.read_only else ''})"

    # -- the connection ------------------------------------------------------------------------------
    def close(self) -> None:
        if self._owned:
            self._pool.close()
            self._reads.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        sql = sql.replace("?", self.placeholder)
        return self._run(lambda conn: list(conn.execute(sql, tuple(params)).fetchall()))

    # -- the schema and the log -----------------------------------------------------------------------
    def _migrate(self, db: Any) -> None:
        """Create or upgrade the schema, once: a database already at this version is not touched, so
        processes starting while others write take no table locks (DDL on a table in use would)."""
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtext('ijime-flow schema'))")
            row = None
            if db.execute("SELECT to_regclass('meta')").fetchone()[0] is not None:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is not None and int(row[0]) == SCHEMA_VERSION:
                return
            if row is None or int(row[0]) < SCHEMA_VERSION:
                db.execute(_SCHEMA)
                db.execute(_PEOPLE)
                upgrade_access(db)
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"store schema {row[0]} is newer than this ijime-flow ({SCHEMA_VERSION}); upgrade ijime-flow")
            elif int(row[0]) < 3:  # 1 -> 2: the cases table is new; 2 -> 3: subjects and actors; the rows come from
                # the log (3 -> 4 leaves the rows as they are)
                db.execute("INSERT INTO meta VALUES ('projection', 'stale') ON CONFLICT (key) DO UPDATE"
                           " SET value = 'stale'")
            if row is not None and int(row[0]) < SCHEMA_VERSION:
                db.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def _check_ours(self, db: Any) -> None:
        """Reading: refuse what holds no ijime-flow store of this version, by reading only: a search_path
        whose schemas do not exist, an empty schema, another application's tables (a ``meta`` table of
        its own included), a schema this version cannot read as it is."""
        psycopg, _ = drivers()
        shown = redact_url(self.url)
        schema, tables = db.execute(
            "SELECT current_schema(), array(SELECT relname::text FROM pg_class WHERE relnamespace = (SELECT oid FROM"
            " pg_namespace WHERE nspname = current_schema()) AND relkind IN ('r', 'p', 'v', 'm', 'f'))").fetchone()
        if schema is None:  # none of the search_path's schemas exists
            raise self._no_schema(db)
        tables, version = set(tables), None
        if "meta" in tables:
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = None if row is None else str(row[0])
            except psycopg.Error as exc:  # a meta table of other columns or types: not ours
                if not str(getattr(exc, "sqlstate", "") or "").startswith(("42703", "42883", "22")):
                    raise
        if version is None or not {"events", "definitions", "log_head"} <= tables:
            raise StoreError(f"{shown}: ijime-flow の保存先ではありません（他のアプリケーションのデータベースには書き込みません）"
                             f" / not an ijime-flow store: {'an empty schema' if not tables else 'another database'}"
                             f" ('{schema}' at {self._server}; nothing was written to it)")
        if version != str(SCHEMA_VERSION):
            raise StoreError(f"{shown}: 保存先の形式 {version} は読み取り専用では開けません / store schema {version}"
                             f" is not this version's ({SCHEMA_VERSION}): open it once for writing (e.g. with the library)"
                             " to upgrade it, or use a matching ijime-flow")

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{redact_url(self.url)}: 読み取り専用で開いています / the store was opened read-only:"
                             " nothing is written")

    def append(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow] = ()) -> None:
        self._writable()
        if not records:
            return
        psycopg, _ = drivers()
        latest: dict[str, CaseRow] = {}
        for row in rows:  # one row per case in a statement (PostgreSQL refuses to upsert a row twice)
            if row.case_id not in latest or latest[row.case_id].seq < row.seq:
                latest[row.case_id] = row
        params: list[Any] = [len(records)]
        for i, ((e, body), school) in enumerate(zip(records, _schools(records, rows), strict=True), start=1):
            params += [i, e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body, school]
        for row in latest.values():
            params += self._encode(row)

        def write(db: Any) -> None:
            try:
                if len(params) <= _MAX_PARAMS:  # one statement: in autocommit, one transaction, one round trip
                    shape = (len(records), len(latest))
                    sql = self._append_sqls.get(shape) or self._append_sqls.setdefault(shape, self._append_sql(*shape))
                    db.execute(sql, params)
                else:  # an import of thousands of events: the same writes, statement by statement
                    self._append_in_transaction(db, records, list(latest.values()))
            except psycopg.errors.UniqueViolation:
                raise ConcurrencyError(records[0][0].case_id, records[0][0].seq) from None

        first = records[0][0]
        self._run(write, retry=False, savepoint=True, lost=(
            f"記録されたかどうか分かりません。事案 {first.case_id} を読み込み直して確かめてから再度行ってください",
            f"it is unknown whether the write (case '{first.case_id}', seq {first.seq}) was recorded:"
            " reload the case and check its history before trying again"))

    def _append_in_transaction(self, db: Any, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow]) -> None:
        with db.transaction():
            (last,) = db.execute("UPDATE log_head SET position = position + %s RETURNING position",
                                 (len(records),)).fetchone()
            first = last - len(records) + 1
            with db.cursor() as cursor:
                cursor.executemany("INSERT INTO events (position, case_id, seq, type, at, hash, body, doc, school)"
                                   f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, {_SCHOOL.format(v='%s::text', case='%s')})",
                                   [(first + i, e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body, body,
                                     school, e.case_id)
                                    for i, ((e, body), school) in enumerate(zip(records, _schools(records, rows), strict=True))])
                if rows:
                    cursor.executemany(self._upsert, [self._encode(row) for row in rows])

    def _append_sql(self, events: int, rows: int) -> str:
        """Take ``events`` positions from the log head (locking its row until commit: see the module
        notes on late commits), insert the events at them, and upsert the ``rows`` — all in one
        statement of data-modifying CTEs, so a lost race (a unique violation) leaves nothing."""
        values = ", ".join(["(%s::int, %s::text, %s::int, %s::text, %s::text, %s::text, %s::text, %s::text)"] * events)
        sql = ("WITH head AS (UPDATE log_head SET position = position + %s RETURNING position),"
               " appended AS (INSERT INTO events (position, case_id, seq, type, at, hash, body, doc, school)"
               f" SELECT head.position - {events} + v.i, v.case_id, v.seq, v.type, v.at, v.hash, v.body, v.body::jsonb,"
               f" {_SCHOOL.format(v='v.school', case='v.case_id')}"
               f" FROM head, (VALUES {values}) AS v (i, case_id, seq, type, at, hash, body, school))")
        if rows:
            sql += f", projected AS ({self._upsert_sql(rows)})"
        return sql + " SELECT 1"

    # -- the projection ---------------------------------------------------------------------------------
    def _encode(self, row: CaseRow) -> tuple[Any, ...]:
        return (row.case_id, row.school, row.workflow, row.version, row.definition_sha256, states_json(row.states),
                states_json(row.active), row.closed, row.opened_at, row.updated_at, row.seq, deadlines_json(row),
                row.next_due, subjects_json(row.subjects), states_json(row.actors))

    def _decode(self, values: Sequence[Any]) -> CaseRow:
        (case_id, school, workflow, version, sha256, states, active, closed, opened_at, updated_at, seq, deadlines,
         _, subjects, actors) = values
        return CaseRow(case_id, school, workflow, version, sha256, tuple(states), tuple(active), bool(closed),
                       opened_at, updated_at, seq, parse_deadlines(json.dumps(deadlines)), parse_subjects(subjects),
                       tuple(actors))

    def _state_is(self) -> str:
        return "active @> ?::jsonb"

    def _state_param(self, state: str) -> Any:
        return json.dumps([state])

    def _states_of(self) -> tuple[str, str]:
        return "jsonb_array_elements_text(cases.active) AS s(state)", "s.state"

    def _subject_is(self, subject: str | None, part: str | None) -> tuple[str, list[Any]]:  # on the GIN index
        return "subjects @> ?::jsonb", [json.dumps([{k: v for k, v in (("id", subject), ("part", part)) if v is not None}])]

    def _actor_is(self, actor: str) -> tuple[str, list[Any]]:
        return "actors @> ?::jsonb", [json.dumps([actor])]

    def _time(self, value: datetime) -> Any:
        return value

    def rebuild_projection(self, project: Projector) -> int:
        self._writable()

        def rebuild(db: Any) -> int:
            with db.transaction():
                # the log_head row lock holds off every append (they take it first) until the rows are written
                db.execute("SELECT position FROM log_head FOR UPDATE")
                with db.cursor(name="ijime_flow_rebuild") as events:  # server-side: the log is not loaded whole
                    events.execute("SELECT position, case_id, seq, body FROM events ORDER BY position")
                    rows = [self._encode(row) for row in project(StoredEvent(*r) for r in events)]
                db.execute("DELETE FROM cases")
                with db.cursor() as cursor:
                    cursor.executemany(self._upsert, rows)
                db.execute("DELETE FROM meta WHERE key = 'projection'")
            return len(rows)

        return self._run(rebuild, retry=False, lost=(  # not repeated here: ``project`` may be used only once
            "作り直しは完了していないかもしれません。もう一度実行してください（繰り返しても安全です）",
            "the rebuild may not have been committed: run it again (it is safe to repeat)"))

    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        self._writable()
        # ON CONFLICT DO NOTHING: running it twice is running it once, so a lost connection is retried
        self._run(lambda db: db.execute("INSERT INTO definitions VALUES (%s, %s, %s, %s) ON CONFLICT (sha256)"
                                        " DO NOTHING", (sha256, workflow_id, version, text)), savepoint=True)

    def integrity_problems(self) -> list[str]:
        # a school's role sees its school's rows only: the other schools' positions are no gaps. The board's
        # role (or the owner's) sees them all, and checks them
        return super().integrity_problems() if self._sees_all else []

    def _issued(self) -> int:
        return int(self._rows("SELECT position FROM log_head")[0][0])
