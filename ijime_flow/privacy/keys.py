"""Key stores: the keys personal values are sealed under, kept apart from the events.

A key is one AES-256 key per (school, owner, case): ``owner`` is a pupil's pseudonymous id (a subject of the
case) or ``""`` for data about no one in particular (the case's own). Keying by case as well as by pupil
tells forgetting exactly which cases hold a pupil's values without reading any log, and lets one case's
values be forgotten without the pupil's others. Each key has a random id (``kid``), the only thing an event
names; the event never holds key material.

- :class:`MemoryKeys` — in memory (the memory store's default);
- :class:`SQLiteKeys` — a separate SQLite file beside the store (``cases.db`` → ``cases.keys.db``), so that a
  copy of the events file (a backup, a bundle, a file handed to an auditor) never carries a key.
  ``secure_delete`` is on; after a deletion the WAL is checkpointed and truncated and the file vacuumed,
  so the deleted key's bytes are overwritten in the file's pages and the WAL;
- :class:`PostgresKeys` — a table ``subject_keys`` in the store's schema (a database role separate from the
  events' may be granted it alone); after a deletion the table is vacuumed (see its docstring for what
  PostgreSQL can and cannot promise).

A board plugs in its own key service (a KMS, an HSM) through :class:`KeyStore`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import StoreError

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["DisclosedKeys", "KeyStore", "MemoryKeys", "NoKeys", "PostgresKeys", "SQLiteKeys", "default_keys", "keys_path",
           "prepare_keys"]


@runtime_checkable
class KeyStore(Protocol):
    """Where sealing keys live. ``key`` gets or makes one, durably, before any event sealed under it is
    written; ``get`` returns ``None`` for a destroyed (or never made) key; ``destroy`` deletes keys for good.

    A key store may also offer ``keys_for(school, owners, case_id)``: every owner's key of a case made in one
    durable write (the shipped ones do). The engine calls it when a case is opened and when a pupil is named
    (:func:`prepare_keys`), so a step that seals a value finds its key made; a store without it gets one
    ``key`` call per owner."""

    def key(self, school: str, owner: str, case_id: str) -> tuple[str, bytes]:
        """The (kid, 32-byte key) of (school, owner, case), made if there is none."""
        ...

    def get(self, kid: str) -> bytes | None:
        ...

    def owned(self, owner: str, school: str | None = None) -> list[tuple[str, str]]:
        """(kid, case_id) of every key of ``owner`` (of one school, or any)."""
        ...

    def destroy(self, kids: Iterable[str]) -> int:
        """Delete these keys and purge them from storage; how many were there."""
        ...


class MemoryKeys:
    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, str, str, bytes]] = {}  # kid -> (school, owner, case, key)
        self._by: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def key(self, school: str, owner: str, case_id: str) -> tuple[str, bytes]:
        with self._lock:
            kid = self._by.get((school, owner, case_id))
            if kid is None:
                kid = uuid.uuid4().hex
                self._rows[kid] = (school, owner, case_id, os.urandom(32))
                self._by[(school, owner, case_id)] = kid
            return kid, self._rows[kid][3]

    def keys_for(self, school: str, owners: Iterable[str], case_id: str) -> None:
        for owner in owners:
            self.key(school, owner, case_id)

    def get(self, kid: str) -> bytes | None:
        row = self._rows.get(kid)
        return None if row is None else row[3]

    def owned(self, owner: str, school: str | None = None) -> list[tuple[str, str]]:
        return sorted((kid, r[2]) for kid, r in self._rows.items() if r[1] == owner and school in (None, r[0]))

    def destroy(self, kids: Iterable[str]) -> int:
        with self._lock:
            found = 0
            for kid in kids:
                row = self._rows.pop(kid, None)
                if row is not None:
                    found += 1
                    self._by.pop(row[:3], None)
            return found


class NoKeys(MemoryKeys):
    """No keys at all, and none made: the engine of a history bundle (a bundle carries ciphertext only; keys never
    leave their key store). Its personal values read as sealed, or as erased where an ``erased`` event says so."""

    def key(self, school: str, owner: str, case_id: str) -> tuple[str, bytes]:
        raise StoreError("この保存先では個人情報を記録できません（鍵がありません） / this store has no keys: no personal"
                         " value can be recorded in it")

    def keys_for(self, school: str, owners: Iterable[str], case_id: str) -> None:
        """Nothing made ahead: a value sealed here is refused when it is recorded (:meth:`key`)."""


class DisclosedKeys(NoKeys):
    """The keys a disclosure bundle carries (the requester's own, kid -> (owner, key)); every other value reads as
    sealed, not erased, and no key is made."""

    def __init__(self, keys: dict[str, tuple[str, bytes]]) -> None:
        super().__init__()
        self._rows = {kid: ("", owner, "", key) for kid, (owner, key) in keys.items()}


class _Cached:
    """Keys read once per process: a step seals without a round trip once its case's keys are made."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, str, str], tuple[str, bytes]] = {}
        self._kids: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def key(self, school: str, owner: str, case_id: str) -> tuple[str, bytes]:
        found = self._by.get((school, owner, case_id))
        if found is None:
            with self._lock:
                found = self._make(school, owner, case_id, uuid.uuid4().hex, os.urandom(32))
                self._by[(school, owner, case_id)] = found
                self._kids[found[0]] = found[1]
        return found

    def keys_for(self, school: str, owners: Iterable[str], case_id: str) -> None:
        missing = sorted({o for o in owners if (school, o, case_id) not in self._by})
        if not missing:
            return
        with self._lock:
            made = self._make_many(school, case_id, [(o, uuid.uuid4().hex, os.urandom(32)) for o in missing])
            for owner, found in zip(missing, made, strict=True):
                self._by[(school, owner, case_id)] = found
                self._kids[found[0]] = found[1]

    def get(self, kid: str) -> bytes | None:
        found = self._kids.get(kid)
        if found is None:
            found = self._read(kid)
            if found is not None:
                self._kids[kid] = found
        return found

    def destroy(self, kids: Iterable[str]) -> int:
        kids = sorted(set(kids))
        gone = set(kids)
        with self._lock:
            for kid in kids:
                self._kids.pop(kid, None)
            self._by = {k: v for k, v in self._by.items() if v[0] not in gone}
            return self._delete(kids) if kids else 0

    def _make(self, school: str, owner: str, case_id: str, kid: str, key: bytes) -> tuple[str, bytes]:
        return self._make_many(school, case_id, [(owner, kid, key)])[0]

    def _make_many(self, school: str, case_id: str, new: list[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
        """Insert (owner, kid, key) rows unless the owner has a key of this case already, in one durable write;
        the (kid, key) each owner has afterwards."""
        raise NotImplementedError

    def _read(self, kid: str) -> bytes | None:
        raise NotImplementedError

    def _delete(self, kids: list[str]) -> int:
        raise NotImplementedError


_DDL = ("CREATE TABLE IF NOT EXISTS subject_keys (kid TEXT PRIMARY KEY, school TEXT NOT NULL, owner TEXT NOT NULL,"
        " case_id TEXT NOT NULL, key {blob} NOT NULL, UNIQUE (school, owner, case_id))")


def _create_key_table(conn: Any) -> None:
    """Create ``subject_keys`` once, with row-level security per school (:mod:`ijime_flow.store.pg_security`).
    Only when it is missing: PostgreSQL checks the right to create before it sees the table exists, so a
    school's role (which may not create) could not open its store if this ran every time."""
    if conn.execute("SELECT to_regclass('subject_keys')").fetchone()[0] is not None:
        return
    from ..store.pg_security import protect_tables

    conn.execute(_DDL.format(blob="bytea"))
    protect_tables(conn, ("subject_keys",))


def keys_path(store_path: str) -> str:
    """The key file beside an SQLite store: ``cases.db`` → ``cases.keys.db``."""
    path = Path(store_path)
    return str(path.with_name(f"{path.stem if path.suffix else path.name}.keys.db"))


class SQLiteKeys(_Cached):
    """Keys in their own SQLite file (WAL, ``synchronous=FULL``, ``secure_delete=ON``)."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        super().__init__()
        self.path = str(path)
        try:
            target = f"{Path(self.path).resolve().as_uri()}?mode=ro" if read_only else self.path
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30.0, uri=read_only)
            if not read_only:
                for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON"):
                    self._db.execute(f"PRAGMA {pragma}")
                self._db.execute(_DDL.format(blob="BLOB"))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: 鍵の保存先を開けません / cannot open the key file ({exc})") from None
        self._db_lock = threading.Lock()

    def _make_many(self, school: str, case_id: str, new: list[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR IGNORE INTO subject_keys VALUES (?, ?, ?, ?, ?)",
                                     [(kid, school, owner, case_id, key) for owner, kid, key in new])
                rows = [self._db.execute("SELECT kid, key FROM subject_keys WHERE school = ? AND owner = ? AND case_id = ?",
                                         (school, owner, case_id)).fetchone() for owner, _, _ in new]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [(str(row[0]), bytes(row[1])) for row in rows]

    def _read(self, kid: str) -> bytes | None:
        with self._db_lock:
            row = self._db.execute("SELECT key FROM subject_keys WHERE kid = ?", (kid,)).fetchone()
        return None if row is None else bytes(row[0])

    def owned(self, owner: str, school: str | None = None) -> list[tuple[str, str]]:
        with self._db_lock:
            rows = self._db.execute("SELECT kid, case_id FROM subject_keys WHERE owner = ? AND (? IS NULL OR school = ?)"
                                    " ORDER BY kid", (owner, school, school)).fetchall()
        return [(str(k), str(c)) for k, c in rows]

    def _delete(self, kids: list[str]) -> int:
        marks = ", ".join("?" * len(kids))
        with self._db_lock:
            gone = self._db.execute(f"DELETE FROM subject_keys WHERE kid IN ({marks})", kids).rowcount
            # secure_delete zeroed the freed cells; the WAL still holds page images from before: fold it in,
            # rebuild the file without free pages, and truncate the WAL to nothing
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(gone)

    def close(self) -> None:
        self._db.close()


class PostgresKeys(_Cached):
    """Keys in the table ``subject_keys`` of the store's schema, through the store's connections (inside
    ``engine.transaction()`` a new key joins the application's transaction, as the events do).

    After a deletion the table is vacuumed (``VACUUM subject_keys``): the dead tuples are removed and their
    space made free. What PostgreSQL cannot promise: a vacuum does not zero freed space, so a deleted key's
    bytes may stay in the table's data file until the page is rewritten (``VACUUM FULL`` rewrites the table,
    but the old file's blocks are only unlinked), and the WAL segments, their archive, replicas and base
    backups written before keep it until they are recycled or expire. A board that must be able to prove a key
    gone keeps keys in a key service (:class:`KeyStore`) and not in the database."""

    def __init__(self, store: Any) -> None:
        super().__init__()
        self._store = store
        if not store.read_only:
            store._run(_create_key_table, retry=False, savepoint=True)

    def _make_many(self, school: str, case_id: str, new: list[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
        def work(conn: Any) -> list[tuple[str, bytes]]:
            out = []
            for owner, kid, key in new:
                conn.execute("INSERT INTO subject_keys VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                             (kid, school, owner, case_id, key))
                row = conn.execute("SELECT kid, key FROM subject_keys WHERE school = %s AND owner = %s AND case_id = %s",
                                   (school, owner, case_id)).fetchone()
                out.append((str(row[0]), bytes(row[1])))
            return out

        found: list[tuple[str, bytes]] = self._store._run(work, retry=False, savepoint=True)
        return found

    def _read(self, kid: str) -> bytes | None:
        row = self._store._run(lambda conn: conn.execute("SELECT key FROM subject_keys WHERE kid = %s", (kid,)).fetchone())
        return None if row is None else bytes(row[0])

    def owned(self, owner: str, school: str | None = None) -> list[tuple[str, str]]:
        rows = self._store._run(lambda conn: conn.execute(
            "SELECT kid, case_id FROM subject_keys WHERE owner = %s AND (%s::text IS NULL OR school = %s) ORDER BY kid",
            (owner, school, school)).fetchall())
        return [(str(k), str(c)) for k, c in rows]

    def _delete(self, kids: list[str]) -> int:
        gone: int = self._store._run(lambda conn: conn.execute("DELETE FROM subject_keys WHERE kid = ANY(%s)",
                                                               (kids,)).rowcount, retry=False, savepoint=True)
        if getattr(self._store._local, "held", None) is None:  # VACUUM cannot run inside a transaction block
            conn = self._store._take()
            try:
                autocommit = conn.autocommit
                conn.autocommit = True
                conn.execute("VACUUM subject_keys")
                conn.autocommit = autocommit
            finally:
                self._store._pool.putconn(conn)
        return gone


def prepare_keys(keys: KeyStore, school: str, owners: Iterable[str], case_id: str) -> None:
    """Make the keys of these owners of a case ahead of the first value sealed under them, in one write where the
    key store can (``keys_for``): a case's opening makes its own and each named pupil's, naming a pupil makes
    theirs. A step that seals then finds its key made and waits on no write but its event's."""
    many = getattr(keys, "keys_for", None)
    if many is not None:
        many(school, list(owners), case_id)
        return
    for owner in owners:
        keys.key(school, owner, case_id)


def default_keys(store: Store) -> KeyStore:
    """The key store an engine uses unless given one: beside an SQLite file, a table in PostgreSQL, else memory."""
    from ..store import SQLiteStore

    if isinstance(store, SQLiteStore) and store.path and store.path != ":memory:":
        path = keys_path(store.path)
        if not store.read_only:
            return SQLiteKeys(path)
        if Path(path).is_file():  # a reading command: the keys there are, nothing created
            return SQLiteKeys(path, read_only=True)
    if type(store).__name__ == "PostgresStore":
        return PostgresKeys(store)
    return MemoryKeys()
