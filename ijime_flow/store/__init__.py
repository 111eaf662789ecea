"""Stores: where events and definition texts are kept. See :class:`Store` for the interface."""

from __future__ import annotations

from pathlib import Path

from .base import Store, StoredEvent
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "Store", "StoredEvent", "open_store"]


def open_store(target: str | Path | Store | None) -> Store:
    """``None`` or ``":memory:"`` -> in memory; ``"sqlite:///path"`` or a plain path -> SQLite file;
    ``"postgresql://..."`` -> PostgreSQL (psycopg 3, the ``postgres`` extra); a :class:`Store` -> itself."""
    if isinstance(target, Store):
        return target
    if target is None or str(target) in (":memory:", "memory:", "memory://"):
        return MemoryStore()
    text = str(target)
    if text.startswith("sqlite:///"):
        return SQLiteStore(text.removeprefix("sqlite:///"))
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(text)
    if "://" in text:
        from ..errors import StoreError

        scheme = text.split("://", 1)[0]
        raise StoreError(f"no store for '{scheme}://' URLs in this version (use a file path or sqlite:///path)")
    return SQLiteStore(text)
