"""An in-memory store: for tests, demos and short-lived embedding. Nothing survives the process."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import ConcurrencyError
from ..events import Event
from .base import Projector, Store, StoredEvent
from .rows import CaseQuery, CaseRow, GroupBy, check_group


class MemoryStore(Store):
    def __init__(self) -> None:
        self._events: list[StoredEvent] = []
        self._by_case: dict[str, list[StoredEvent]] = {}
        self._definitions: dict[str, str] = {}
        self._rows: dict[str, CaseRow] = {}
        self._lock = threading.RLock()  # held through a transaction by its thread
        self.outside: frozenset[str] = frozenset()  # a bundle's linked cases left out on purpose (audit.links)

    def append(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow] = ()) -> None:
        with self._lock:
            expected: dict[str, int] = {}
            for event, _ in records:  # records may span cases (an escalation writes two): all or none
                have = expected.get(event.case_id, len(self._by_case.get(event.case_id, ())))
                if event.seq != have + 1:
                    raise ConcurrencyError(event.case_id, event.seq)
                expected[event.case_id] = event.seq
            for event, body in records:
                stored = StoredEvent(len(self._events) + 1, event.case_id, event.seq, body)
                self._events.append(stored)
                self._by_case.setdefault(event.case_id, []).append(stored)
            for row in rows:
                old = self._rows.get(row.case_id)
                if old is None or old.seq < row.seq:
                    self._rows[row.case_id] = row

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All of the block's appends or none (no connection to yield: ``None``). Unlike the SQL stores,
        other threads may see the block's appends before it ends."""
        with self._lock:
            events, by_case = len(self._events), {k: len(v) for k, v in self._by_case.items()}
            rows, definitions = dict(self._rows), dict(self._definitions)
            try:
                yield None
            except BaseException:
                del self._events[events:]
                self._by_case = {k: v[:by_case[k]] for k, v in self._by_case.items() if k in by_case}
                self._rows, self._definitions = rows, definitions
                raise

    def read_case(self, case_id: str) -> list[StoredEvent]:
        return list(self._by_case.get(case_id, ()))

    def read_from(self, position: int = 0) -> Iterator[StoredEvent]:
        return iter(self._events[max(position, 0):])

    def case_ids(self) -> list[str]:
        return list(self._by_case)

    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        self._definitions.setdefault(sha256, text)

    def get_definition(self, sha256: str) -> str | None:
        return self._definitions.get(sha256)

    def case_row(self, case_id: str) -> CaseRow | None:
        return self._rows.get(case_id)

    def find_cases(self, query: CaseQuery, *, limit: int | None = None, offset: int = 0) -> list[CaseRow]:
        found = sorted((r for r in list(self._rows.values()) if query.matches(r)), key=lambda r: (r.opened_at, r.case_id))
        return found[offset:None if limit is None else offset + limit]

    def count_cases(self, query: CaseQuery) -> int:
        return sum(1 for r in list(self._rows.values()) if query.matches(r))

    def count_cases_by(self, by: GroupBy, query: CaseQuery) -> dict[str, int]:
        check_group(by)
        counts: Counter[str] = Counter()
        for row in list(self._rows.values()):
            if query.matches(row):
                if by == "state":
                    counts.update(row.active)
                else:
                    counts[getattr(row, by) or ""] += 1  # "": a case from before cases had schools
        return dict(sorted(counts.items()))

    def rebuild_projection(self, project: Projector) -> int:
        with self._lock:
            rows = {row.case_id: row for row in project(iter(list(self._events)))}
            self._rows = rows
            return len(rows)
