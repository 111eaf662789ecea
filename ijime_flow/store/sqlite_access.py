"""How the SQLite store reaches its file: the writer's connection, atomic writes on it (alone or inside
the application's transaction), and connections for reading beside it.

In WAL mode a reader never waits for a writer, nor a writer for readers; but one connection serves
one statement at a time, so reads sent down the writer's connection would queue behind a step's
commit (its fsync). Reads therefore go to :class:`Readers`, a few connections of their own, taken
and given back per read — except in the thread that holds an open transaction, whose reads must
see its own uncommitted writes and so use the writer's connection.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError

_SAVEPOINT = "ijime_flow_write"


class Readers:
    """Read-only connections to one SQLite file, kept idle between reads (at most ``keep``)."""

    def __init__(self, path: str, *, keep: int = 8) -> None:
        self._uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(maxsize=keep)
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0)
        db.execute("PRAGMA query_only=ON")
        return db

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if self._closed:
            raise StoreError("記録先は既に閉じられています / the store is closed")
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = self._open()
        try:
            return list(db.execute(sql, tuple(params)).fetchall())
        finally:
            try:
                self._idle.put_nowait(db)
            except queue.Full:
                db.close()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def file_of(db: sqlite3.Connection) -> str:
    """The file of the connection's main database ('' for an in-memory or temporary one)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file or "")
    return ""


class Access:
    """The writer's connection under its lock, and who holds a transaction on it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.lock = threading.RLock()  # re-entered when a rebuild reads definitions
        self.owner: int | None = None  # the thread of the open transaction, if any

    def commit(self) -> None:
        commit(self.db)

    def in_transaction(self) -> bool:
        """This thread holds the application's transaction (see :meth:`transaction`)."""
        return self.owner == threading.get_ident()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT`` of its own, or — inside the application's
        transaction — a savepoint, so a refused write (a lost race) undoes itself and leaves the
        application's transaction as it was."""
        with self.lock:
            db = self.db
            if self.in_transaction():
                db.execute(f"SAVEPOINT {_SAVEPOINT}")
                try:
                    yield db
                except BaseException:
                    db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                    db.execute(f"RELEASE {_SAVEPOINT}")
                    raise
                db.execute(f"RELEASE {_SAVEPOINT}")
                return
            with _immediate(db):
                yield db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The application's transaction: its own statements on the yielded connection and the engine's
        appends commit together at the end of the block, or — on an exception — none of them."""
        with self.lock:
            if self.in_transaction():
                raise StoreError("取引の中で取引は始められません / a transaction is already open in this thread")
            db = self.db
            if db.in_transaction:
                raise StoreError("接続に未確定の取引があります / the connection has a transaction open already:"
                                 " commit or roll it back before engine.transaction()")
            self.owner = threading.get_ident()
            try:  # the write lock at once: a step inside never waits to upgrade, nor deadlocks
                with _immediate(db):
                    yield db
            finally:
                self.owner = None


@contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; ``ROLLBACK`` if the block raises or the commit fails."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    if db.in_transaction:  # the application may have ended it itself
        commit(db)


def commit(db: sqlite3.Connection) -> None:
    """``COMMIT``; on failure ``ROLLBACK`` and a :class:`StoreError` (nothing was recorded)."""
    try:
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise StoreError(f"書き込みを確定できませんでした（何も記録されていません） / the write could not be committed,"
                         f" nothing was recorded ({exc})") from None
