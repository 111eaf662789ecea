"""The SQLite store: one file, WAL journal, ``synchronous=FULL`` (a committed event survives a power
cut), safe for several processes writing to the same file.

Tables: ``events`` (``position`` INTEGER PRIMARY KEY AUTOINCREMENT, the global order; ``(case_id,
seq)`` UNIQUE, which turns a lost race into ``ConcurrencyError``; ``body`` = the canonical JSON the
hash covers), ``cases`` (the current-state projection, one row per case, written in the same
transaction as the events; states as JSON arrays searched with ``json_each``, times as fixed-width
UTC text so that text order is time order; no index on ``next_due``: one school's cases are few, and
an "overdue" query scans them in SQL, sparing every step a page write), ``definitions`` (canonical text by SHA-256) and ``meta``
(``schema_version``; ``projection = stale`` on a file from schema 1, until the engine rebuilds it).
Triggers refuse UPDATE and DELETE on ``events``: the log is append-only. They stop mistakes, not
someone with the file: that is what the hash chain and ``verify`` are for.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConcurrencyError, StoreError
from ..events import Event
from .base import Projector, StoredEvent
from .rows import CaseRow, deadlines_json, parse_deadlines, parse_subjects, states_json, subjects_json, utc_text
from .sql import SqlStore, cases_ddl
from .sqlite_access import Access, Readers, file_of

SCHEMA_VERSION = 3  # 2: the cases projection; 3: its subjects and actors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    sha256 TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    version TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (case_id, seq)
);
""" + cases_ddl(json="TEXT", boolean="INTEGER", time="TEXT", options=" WITHOUT ROWID", due_index=False) + """
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'ijime-flow events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'ijime-flow events are append-only'); END;
"""


_INSERT_EVENT = "INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, ?, ?, ?, ?, ?)"


class SQLiteStore(SqlStore):
    def __init__(self, path: str | Path | sqlite3.Connection, *, read_only: bool = False,
                 readers: bool = True) -> None:
        """``path``: the file; or an open ``sqlite3.Connection`` of the application's, so that its own
        rows and the engine's events can commit in one transaction (:meth:`transaction`). A given
        connection is used as it is, with ``journal_mode=WAL``, ``synchronous=FULL`` and a busy timeout
        set on it; the database may hold the application's own tables; it must have no transaction
        open, it is used from whichever thread calls the engine
        (make it with ``check_same_thread=False`` if several do), and :meth:`close` leaves it open.

        ``read_only``: the file must exist and be an ijime-flow store of this schema; it is opened
        with SQLite's ``mode=ro`` and ``query_only``, so nothing is ever written to it. Otherwise the
        file is created if missing, and a file of another application (tables, but no ijime-flow
        ``meta``) is refused, never added to. ``readers``: reads go to connections of their own, so
        they never queue behind a write (see :mod:`ijime_flow.store.sqlite_access`)."""
        given = path if isinstance(path, sqlite3.Connection) else None
        self._owned = given is None
        self.path = file_of(given) if given is not None else str(path)
        self.read_only = read_only
        if given is None and not self.path.strip():
            raise StoreError("SQLite のファイル名がありません / no SQLite file path (an empty path is a temporary database)")
        try:
            if given is not None:
                if given.in_transaction:
                    raise StoreError("接続に未確定の取引があります / the connection given has a transaction open:"
                                     " commit or roll it back first")
                self._db = given
                self._db.execute("PRAGMA busy_timeout=30000")
                if read_only:  # writing, the application's own tables may be beside ours: that is the point
                    self._check_ours(reading=True)
                if not read_only:
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=FULL")
                    self._migrate()
            elif read_only:
                file = Path(self.path)
                if not file.is_file():
                    raise StoreError(f"{self.path}: 保存先がありません / no such store")
                self._db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                           check_same_thread=False, timeout=30.0)
                self._db.execute("PRAGMA query_only=ON")
                self._db.execute("PRAGMA busy_timeout=30000")
                self._check_ours(reading=True)
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
                self._db.execute("PRAGMA busy_timeout=30000")
                self._check_ours(reading=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: ijime-flow の保存先ではないか、読めません / not an ijime-flow SQLite store or"
                             f" not readable ({exc})") from None
        self._access = Access(self._db)
        self._lock = self._access.lock
        self._readers = Readers(self.path) if readers and self.path and Path(self.path).is_file() else None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._readers is None or self._access.in_transaction():  # a transaction reads its own writes
            return super()._rows(sql, params)
        return self._readers.rows(sql, params)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The application's transaction on the store's connection: see :meth:`Store.transaction`."""
        self._writable()
        return self._access.transaction()

    def close(self) -> None:
        if self._readers is not None:
            self._readers.close()
        if self._owned:
            self._db.close()

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)  # idempotent: every statement says IF NOT EXISTS
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: store schema {row[0]} is newer than this ijime-flow"
                                 f" ({SCHEMA_VERSION}); upgrade ijime-flow")
            elif int(row[0]) < SCHEMA_VERSION:  # 1 -> 2: the cases table is new; 2 -> 3: it has two more columns;
                # either way its rows come from the log
                have = {r[1] for r in self._db.execute("PRAGMA table_info(cases)")}
                for column in ("subjects", "actors"):
                    if column not in have:
                        self._db.execute(f"ALTER TABLE cases ADD COLUMN {column} TEXT NOT NULL DEFAULT '[]'")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('projection', 'stale')")
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path}: 読み取り専用で開いています / the store was opened read-only: nothing is written")

    def _check_ours(self, *, reading: bool) -> None:
        """Refuse a database of another application: one with tables but no ijime-flow ``meta`` row.
        Reading, also an empty file (nothing to read) and a schema this version cannot read as it is."""
        tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = row[0] if row else None
        ours = version is not None and {"events", "definitions"} <= tables
        if not ours and (tables or reading):
            raise StoreError(f"{self.path}: ijime-flow の保存先ではありません（他のアプリケーションのファイルには書き込みません）"
                             f" / not an ijime-flow store: {'an empty file' if not tables else 'another database'}"
                             " (nothing was written to it)")
        if reading and version is not None and version != str(SCHEMA_VERSION):
            raise StoreError(f"{self.path}: 保存先の形式 {version} は読み取り専用では開けません / store schema {version}"
                             f" is not this version's ({SCHEMA_VERSION}): open it once for writing (e.g. with the library)"
                             " to upgrade it, or use a matching ijime-flow")

    def append(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow] = ()) -> None:
        self._writable()
        events = [(e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body) for e, body in records]
        cases = [self._encode(row) for row in rows]
        access = self._access
        if access.owner is None and len(events) == 1 and len(cases) == 1:  # the usual fire, spelt out: it is the hot path
            db = self._db
            with access.lock:
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute(_INSERT_EVENT, events[0])
                    db.execute(self._upsert, cases[0])
                except BaseException as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.IntegrityError):
                        raise ConcurrencyError(records[0][0].case_id, records[0][0].seq) from None
                    raise
                access.commit()
            return
        try:
            with access.writing():  # one transaction (or savepoint), even across cases: all of them or none
                self._insert(events)
                if len(cases) == 1:  # one case (execute is cheaper than executemany of one)
                    self._db.execute(self._upsert, cases[0])
                elif cases:
                    self._db.executemany(self._upsert, cases)
        except sqlite3.IntegrityError:
            raise ConcurrencyError(records[0][0].case_id, records[0][0].seq) from None

    def _insert(self, rows: Sequence[tuple[str, int, str, str, str, str]]) -> None:
        if len(rows) == 1:
            self._db.execute(_INSERT_EVENT, rows[0])
        else:
            self._db.executemany(_INSERT_EVENT, rows)

    # -- the projection ---------------------------------------------------------------------------------
    _no_limit = -1

    def _encode(self, row: CaseRow) -> tuple[Any, ...]:
        due = row.next_due
        return (row.case_id, row.school, row.workflow, row.version, row.definition_sha256, states_json(row.states),
                states_json(row.active), row.closed, utc_text(row.opened_at), utc_text(row.updated_at), row.seq,
                deadlines_json(row), None if due is None else utc_text(due), subjects_json(row.subjects),
                states_json(row.actors))

    def _decode(self, values: Sequence[Any]) -> CaseRow:
        (case_id, school, workflow, version, sha256, states, active, closed, opened_at, updated_at, seq, deadlines,
         _, subjects, actors) = values
        return CaseRow(case_id, school, workflow, version, sha256, tuple(json.loads(states)), tuple(json.loads(active)),
                       bool(closed), datetime.fromisoformat(opened_at), datetime.fromisoformat(updated_at), seq,
                       parse_deadlines(deadlines), parse_subjects(subjects), tuple(json.loads(actors)))

    def _state_is(self) -> str:
        return "EXISTS (SELECT 1 FROM json_each(cases.active) WHERE json_each.value = ?)"

    def _states_of(self) -> tuple[str, str]:
        return "json_each(cases.active) AS s", "s.value"

    def _subject_is(self, subject: str | None, part: str | None) -> tuple[str, list[Any]]:
        tests = [(f"json_extract(p.value, '$.{key}') = ?", value) for key, value in (("id", subject), ("part", part))
                 if value is not None]
        return (f"EXISTS (SELECT 1 FROM json_each(cases.subjects) AS p WHERE {' AND '.join(t for t, _ in tests)})",
                [v for _, v in tests])

    def _actor_is(self, actor: str) -> tuple[str, list[Any]]:
        return "EXISTS (SELECT 1 FROM json_each(cases.actors) WHERE json_each.value = ?)", [actor]

    def _time(self, value: datetime) -> Any:
        return utc_text(value)

    def rebuild_projection(self, project: Projector) -> int:
        self._writable()
        with self._access.writing():  # appends from every process wait until the rows are written
            cursor = self._db.execute("SELECT position, case_id, seq, body FROM events ORDER BY position")
            rows = [self._encode(row) for row in project(StoredEvent(*r) for r in cursor)]
            self._db.execute("DELETE FROM cases")
            self._db.executemany(self._upsert, rows)
            self._db.execute("DELETE FROM meta WHERE key = 'projection'")
        return len(rows)

    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        self._writable()
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO definitions VALUES (?, ?, ?, ?)",
                             (sha256, workflow_id, version, text))

    def _issued(self) -> int:
        rows = self._rows("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(rows[0][0]) if rows else 0
