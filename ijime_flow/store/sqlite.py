"""The SQLite store: one file, WAL journal, ``synchronous=FULL`` (a committed event survives a power
cut), safe for several processes writing to the same file.

Tables: ``events`` (``position`` INTEGER PRIMARY KEY AUTOINCREMENT, the global order; ``(case_id,
seq)`` UNIQUE, which turns a lost race into ``ConcurrencyError``; ``body`` = the canonical JSON the
hash covers), ``definitions`` (canonical text by SHA-256) and ``meta`` (``schema_version``).
Triggers refuse UPDATE and DELETE on ``events``: the log is append-only. They stop mistakes, not
someone with the file: that is what the hash chain and ``verify`` are for.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConcurrencyError, StoreError
from ..events import Event
from .sql import SqlStore

SCHEMA_VERSION = 1

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
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'ijime-flow events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'ijime-flow events are append-only'); END;
"""


class SQLiteStore(SqlStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not an ijime-flow SQLite store or not readable ({exc})") from None
        self._lock = threading.Lock()

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
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def append(self, records: Sequence[tuple[Event, str]]) -> None:
        rows = [(e.case_id, e.seq, e.type, e.at.isoformat(), e.hash, body) for e, body in records]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._insert(rows)  # one transaction, even across cases: a crash midway leaves none of them
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                raise ConcurrencyError(records[0][0].case_id, records[0][0].seq) from None
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _insert(self, rows: Sequence[tuple[str, int, str, str, str, str]]) -> None:
        self._db.executemany("INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, ?, ?, ?, ?, ?)", rows)

    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO definitions VALUES (?, ?, ?, ?)",
                             (sha256, workflow_id, version, text))

    def _issued(self) -> int:
        rows = self._rows("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        self._db.close()
