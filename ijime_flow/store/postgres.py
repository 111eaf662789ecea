"""The PostgreSQL store (psycopg 3): for a board of education, many schools, many writer processes.

``Engine("postgresql://user@host/db")``. Tables (created on first use, under an advisory lock so
many processes may start at once; use a dedicated database or schema — ``?options=-csearch_path%3Dx``):

- ``events``: ``position`` (the global order), ``(case_id, seq)`` unique — a lost race becomes
  ``ConcurrencyError`` —, ``body`` (the canonical JSON text, byte for byte: what the hash covers) and
  ``doc`` (a JSONB copy for queries);
- ``log_head``: one row holding the last position handed out;
- ``cases``: the current-state projection, one row per case, written in the same transaction as the
  events (states as JSONB arrays with a GIN index, times as ``timestamptz``);
- ``definitions`` (canonical text by SHA-256) and ``meta`` (``schema_version``).

**Late commits.** Two transactions that took positions from a sequence can commit in the other
order, and a reader following positions would skip the one that commits late. Here every append
first locks the single ``log_head`` row (``UPDATE … RETURNING``) and holds it until commit, so
positions are handed out — and become visible — strictly in commit order, with no gaps (a rolled-back
append returns its numbers). A reader of ``read_from(p)`` can never miss an event below the highest
position it has seen. The price is that appends are serialised, which a school-scale log affords
(measured in ``bench/``). Triggers refuse UPDATE and DELETE on ``events``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..errors import ConcurrencyError, StoreError
from ..events import Event
from .base import Projector, StoredEvent
from .rows import CaseRow, deadlines_json, parse_deadlines, states_json
from .sql import SqlStore, cases_ddl

SCHEMA_VERSION = 2  # 2: the cases projection
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


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError("PostgreSQL needs psycopg 3: python -m pip install 'ijime-flow[postgres]'") from None
    return psycopg


class PostgresStore(SqlStore):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        psycopg = _psycopg()
        self.url = url
        try:
            self._db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL ({_safe(url)}): {exc}") from None
        self._lock = threading.RLock()  # re-entered when a rebuild reads definitions
        self._append_sqls: dict[tuple[int, int], str] = {}  # by (events, rows): a handful of shapes
        self._migrate()

    def _migrate(self) -> None:
        """Create or upgrade the schema, once: a database already at this version is not touched, so
        processes starting while others write take no table locks (DDL on a table in use would)."""
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(hashtext('ijime-flow schema'))")
            row = None
            if self._db.execute("SELECT to_regclass('meta')").fetchone()[0] is not None:
                row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is not None and int(row[0]) == SCHEMA_VERSION:
                return
            if row is None or int(row[0]) < SCHEMA_VERSION:
                self._db.execute(_SCHEMA)
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"store schema {row[0]} is newer than this ijime-flow ({SCHEMA_VERSION}); upgrade ijime-flow")
            elif int(row[0]) < SCHEMA_VERSION:  # 1 -> 2: the cases table is new; its rows come from the log
                self._db.execute("INSERT INTO meta VALUES ('projection', 'stale') ON CONFLICT (key) DO UPDATE"
                                 " SET value = 'stale'")
                self._db.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def append(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow] = ()) -> None:
        if not records:
            return
        psycopg = _psycopg()
        latest: dict[str, CaseRow] = {}
        for row in rows:  # one row per case in a statement (PostgreSQL refuses to upsert a row twice)
            if row.case_id not in latest or latest[row.case_id].seq < row.seq:
                latest[row.case_id] = row
        params: list[Any] = [len(records)]
        for i, (e, body) in enumerate(records, start=1):
            params += [i, e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body]
        for row in latest.values():
            params += self._encode(row)
        with self._lock:
            try:
                if len(params) <= _MAX_PARAMS:  # one statement: in autocommit, one transaction, one round trip
                    shape = (len(records), len(latest))
                    sql = self._append_sqls.get(shape) or self._append_sqls.setdefault(shape, self._append_sql(*shape))
                    self._db.execute(sql, params)
                else:  # an import of thousands of events: the same writes, statement by statement
                    self._append_in_transaction(records, list(latest.values()))
            except psycopg.errors.UniqueViolation:
                raise ConcurrencyError(records[0][0].case_id, records[0][0].seq) from None

    def _append_in_transaction(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow]) -> None:
        with self._db.transaction():
            (last,) = self._db.execute("UPDATE log_head SET position = position + %s RETURNING position",
                                       (len(records),)).fetchone()
            first = last - len(records) + 1
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO events (position, case_id, seq, type, at, hash, body, doc)"
                                   " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
                                   [(first + i, e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body, body)
                                    for i, (e, body) in enumerate(records)])
                if rows:
                    cursor.executemany(self._upsert, [self._encode(row) for row in rows])

    def _append_sql(self, events: int, rows: int) -> str:
        """Take ``events`` positions from the log head (locking its row until commit: see the module
        notes on late commits), insert the events at them, and upsert the ``rows`` — all in one
        statement of data-modifying CTEs, so a lost race (a unique violation) leaves nothing."""
        values = ", ".join(["(%s::int, %s::text, %s::int, %s::text, %s::text, %s::text, %s::text)"] * events)
        sql = ("WITH head AS (UPDATE log_head SET position = position + %s RETURNING position),"
               " appended AS (INSERT INTO events (position, case_id, seq, type, at, hash, body, doc)"
               f" SELECT head.position - {events} + v.i, v.case_id, v.seq, v.type, v.at, v.hash, v.body, v.body::jsonb"
               f" FROM head, (VALUES {values}) AS v (i, case_id, seq, type, at, hash, body))")
        if rows:
            sql += f", projected AS ({self._upsert_sql(rows)})"
        return sql + " SELECT 1"

    # -- the projection ---------------------------------------------------------------------------------
    def _encode(self, row: CaseRow) -> tuple[Any, ...]:
        return (row.case_id, row.school, row.workflow, row.version, row.definition_sha256, states_json(row.states),
                states_json(row.active), row.closed, row.opened_at, row.updated_at, row.seq, deadlines_json(row),
                row.next_due)

    def _decode(self, values: Sequence[Any]) -> CaseRow:
        (case_id, school, workflow, version, sha256, states, active, closed, opened_at, updated_at, seq, deadlines,
         _) = values
        return CaseRow(case_id, school, workflow, version, sha256, tuple(states), tuple(active), bool(closed),
                       opened_at, updated_at, seq, parse_deadlines(json.dumps(deadlines)))

    def _state_is(self) -> str:
        return "active @> ?::jsonb"

    def _state_param(self, state: str) -> Any:
        return json.dumps([state])

    def _states_of(self) -> tuple[str, str]:
        return "jsonb_array_elements_text(cases.active) AS s(state)", "s.state"

    def _time(self, value: datetime) -> Any:
        return value

    def rebuild_projection(self, project: Projector) -> int:
        with self._lock, self._db.transaction():
            # the log_head row lock holds off every append (they take it first) until the rows are written
            self._db.execute("SELECT position FROM log_head FOR UPDATE")
            with self._db.cursor(name="ijime_flow_rebuild") as events:  # server-side: the log is not loaded whole
                events.execute("SELECT position, case_id, seq, body FROM events ORDER BY position")
                rows = [self._encode(row) for row in project(StoredEvent(*r) for r in events)]
            self._db.execute("DELETE FROM cases")
            with self._db.cursor() as cursor:
                cursor.executemany(self._upsert, rows)
            self._db.execute("DELETE FROM meta WHERE key = 'projection'")
        return len(rows)

    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO definitions VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                             (sha256, workflow_id, version, text))

    def _issued(self) -> int:
        return int(self._rows("SELECT position FROM log_head")[0][0])


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        scheme, rest = url.split("//", 1)
        user = rest.split("@", 1)[0].split(":", 1)[0]
        return f"{scheme}//{user}:***@{rest.split('@', 1)[1]}"
    return url
