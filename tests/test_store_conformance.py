"""Every store passes the same conformance suite unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance import PersistentStoreConformance, StoreConformance, events, row

from ijime_flow import ConcurrencyError
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


def test_postgres_takes_an_append_too_large_for_one_statement(pg_url: str) -> None:
    """Thousands of events at once (an import) go statement by statement, still all or nothing."""
    store = PostgresStore(pg_url)
    many = events("big", 1, 5000)
    store.append(many, [row("big", seq=5000)])
    assert len(store.read_case("big")) == 5000 and store.case_row("big") == row("big", seq=5000)
    with pytest.raises(ConcurrencyError):
        store.append(events("other", 1, 4999) + events("big", 5000, 1), [row("other", seq=4999)])
    assert store.read_case("other") == [] and store.case_row("other") is None
    store.close()
