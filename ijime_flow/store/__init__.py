"""Stores: where events and definition texts are kept. See :class:`Store` for the interface."""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreError
from .base import Store, StoredEvent
from .memory import MemoryStore
from .sqlite import SQLiteStore
from .urls import is_memory, redact_url, sqlite_path

__all__ = ["MemoryStore", "SQLiteStore", "Store", "StoredEvent", "open_store", "redact_url"]


def open_store(target: str | Path | Store | None, *, read_only: bool = False, persistent: bool = False,
               school: str | None = None) -> Store:
    """``None`` or ``":memory:"`` -> in memory; ``"sqlite:///path"`` or a plain path -> SQLite file;
    ``"postgresql://..."`` -> PostgreSQL (psycopg 3, the ``postgres`` extra); a :class:`Store` -> itself.

    ``read_only``: the store must exist and be an ijime-flow store, and nothing is written to it (no
    tables created, no upgrade; SQLite's ``mode=ro``, PostgreSQL sessions read-only at the server): what
    reading commands use, so that pointing one at another application's file or schema changes nothing.
    ``persistent``: refuse targets that keep nothing (memory, an empty SQLite path), for commands whose
    point is to keep what they write. ``school``: the school a PostgreSQL store serves (its database role
    must be that school's or the board's: :mod:`ijime_flow.store.pg_security`); other stores ignore it."""
    if isinstance(target, Store):
        return target
    shown = redact_url(target) if target is not None else "memory"
    if is_memory(target):
        if persistent or read_only:
            raise StoreError(f"{shown}: メモリ上の保存先は何も残りません / an in-memory store keeps nothing: give an"
                             " SQLite file path or a postgresql:// URL")
        return MemoryStore()
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(text, read_only=read_only, school=school)
    path = sqlite_path(text)
    if path is None:
        scheme = text.split("://", 1)[0]
        raise StoreError(f"'{scheme}://' の保存先には対応していません / no store for '{scheme}://' URLs in this version"
                         " (use a file path, sqlite:///path or postgresql://...)")
    if not path.strip():
        raise StoreError(f"{shown}: SQLite のファイル名がありません / no SQLite file path in '{shown}'"
                         " (an empty path would be a temporary database that keeps nothing)")
    return SQLiteStore(path, read_only=read_only)
