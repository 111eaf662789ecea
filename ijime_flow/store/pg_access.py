"""How the PostgreSQL store reaches its server: connections from a pool (its own or the application's),
one per thread at a time, an operation run on one (retried once if a read loses it), a transaction
held for the application, and the driver's errors said in plain words. A mixin of
:class:`ijime_flow.store.postgres.PostgresStore`, which sets the attributes it reads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import StoreError
from .pg_support import drivers, is_lost, missing_schemas, scrub

T = TypeVar("T")


class PgAccess:
    url: str
    read_only: bool
    _pool: Any  # writes
    _reads: Any  # reads outside a transaction (the same pool when the application gives one)
    _local: threading.local
    _kwargs: dict[str, Any]
    _server: str
    _timeout: float

    def _writable(self) -> None:
        raise NotImplementedError

    def _connect(self) -> Any:
        psycopg, _ = drivers()
        try:
            return psycopg.connect(self.url, **self._kwargs)
        except psycopg.Error as exc:
            raise StoreError(self._unreachable(" ".join(str(exc).split()))) from None

    def _unreachable(self, reason: str) -> str:
        return f"データベースに接続できません / cannot reach the PostgreSQL server at {self._server}: {scrub(reason, self.url)}"

    def _take(self, pool: Any = None) -> Any:
        """A connection of ``pool`` (default: the writer's) that is up, as far as can be told without a
        round trip (the pool's ``check``); nothing is sent to the server on the way, so whatever fails
        here, nothing was written."""
        psycopg, pools = drivers()
        pool = self._pool if pool is None else pool
        for _ in range(2):
            try:
                return pool.getconn()
            except pools.PoolClosed:
                raise StoreError("記録先は既に閉じられています / the store is closed") from None
            except psycopg.Error:  # none within the timeout: an attempt of our own raises why, or the
                self._connect().close()  # server is back and the pool, having given up, tries again at once
        raise StoreError(self._unreachable(f"no connection from the pool within {self._timeout:g} s, twice"))

    def _run(self, work: Callable[[Any], T], *, retry: bool = True, lost: tuple[str, str] = ("", ""),
             savepoint: bool = False) -> T:
        """``work(connection)`` on a connection of this thread's; with ``retry``, once more on a new
        connection if the first is lost midway (reads). ``lost``: what a lost connection means, in
        Japanese and English. Inside an operation or transaction under way in this thread, its
        connection (``savepoint``: in a savepoint of its own, so a refused write undoes only itself)."""
        psycopg, _ = drivers()
        held = getattr(self._local, "held", None)
        if held is not None:  # re-entered (a rebuild reading a definition) or in a transaction: the caller handles errors
            if savepoint:
                with held.transaction():
                    return work(held)
            return work(held)
        tries = 2 if retry else 1
        pool = self._reads if retry and not savepoint else self._pool  # a read, or a write
        while True:
            tries -= 1
            conn = self._local.held = self._take(pool)
            try:
                if conn.autocommit:
                    return work(conn)
                with conn.transaction():  # a connection of the application's pool, not in autocommit
                    return work(conn)
            except psycopg.Error as exc:
                if is_lost(exc, conn) and tries:
                    continue
                raise self._error(exc, conn, lost) from None
            finally:
                self._local.held = None
                pool.putconn(conn)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """The application's transaction on one connection of the pool, yielded for its own statements:
        see :meth:`Store.transaction`."""
        self._writable()
        psycopg, _ = drivers()
        if getattr(self._local, "held", None) is not None:
            raise StoreError("取引の中で取引は始められません / a transaction is already open in this thread")
        conn = self._local.held = self._take()
        try:
            with conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise self._error(exc, conn, (
                "取引は確定していないかもしれません。記録を読み込み直して確かめてください",
                "the transaction may not have been committed: reload and check before trying again")) from None
        finally:
            self._local.held = None
            self._pool.putconn(conn)

    def _error(self, exc: Exception, conn: Any, lost: tuple[str, str] = ("", "")) -> StoreError:
        """The driver's error as a StoreError, in plain words (never with the password)."""
        psycopg, _ = drivers()
        text = scrub(exc, self.url)
        if is_lost(exc, conn):
            return StoreError(f"データベースとの接続が切れました。{lost[0]} / the connection to the PostgreSQL server at"
                              f" {self._server} was lost{': ' + lost[1] if lost[1] else ''} ({text})")
        if isinstance(exc, psycopg.errors.InvalidSchemaName):
            return self._no_schema(conn)
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction) and self.read_only:
            return StoreError(f"読み取り専用で開いたストアには書き込めません / the store was opened read-only: the"
                              f" PostgreSQL server at {self._server} refused the write, nothing was written ({text})")
        code = getattr(exc, "sqlstate", None) or type(exc).__name__
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):  # 42501: a grant, or a school's row-level security
            return StoreError(f"この接続の役割には許されていない操作です（学校ごとのアクセス）。何も書き込まれていません"
                              f" / the role of this connection may not do this (access per school, or a grant) at"
                              f" {self._server}: nothing was written ({code} {text})")
        return StoreError(f"データベースが操作を拒否しました（何も書き込まれていません） / the PostgreSQL server at"
                          f" {self._server} refused the operation, nothing was written: {code} {text}")

    def _no_schema(self, conn: Any) -> StoreError:
        missing = missing_schemas(conn) or ["(search_path is empty)"]
        names = ", ".join(missing)
        if self.read_only:
            return StoreError(f"スキーマ {names} がありません（読み取る記録がありません） / the schema {names} in"
                              f" search_path does not exist at {self._server}: there is no store to read (check the URL)")
        return StoreError(f"スキーマ {names} がありません。CREATE SCHEMA {missing[0]} で作成してください"
                          f" / the schema {names} in search_path does not exist at {self._server}:"
                          f" create it (CREATE SCHEMA {missing[0]}) or name another in the URL")
