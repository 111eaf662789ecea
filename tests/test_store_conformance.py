"""Every store passes the same conformance suite unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance import PersistentStoreConformance, StoreConformance

from ijime_flow.store import MemoryStore, SQLiteStore, Store
from ijime_flow.store.postgres import PostgresStore


class TestMemoryStore(StoreConformance):
    def new_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStore(PersistentStoreConformance):
    @pytest.fixture(autouse=True)
    def _where(self, tmp_path: Path) -> None:
        self.path = tmp_path / "conformance.db"

    def new_store(self) -> Store:
        return SQLiteStore(self.path)

    def reopen(self, store: Store) -> Store:
        store.close()
        return SQLiteStore(self.path)


class TestPostgresStore(PersistentStoreConformance):
    @pytest.fixture(autouse=True)
    def _where(self, pg_url: str) -> None:
        self.url = pg_url

    def new_store(self) -> Store:
        return PostgresStore(self.url)

    def reopen(self, store: Store) -> Store:
        store.close()
        return PostgresStore(self.url)
