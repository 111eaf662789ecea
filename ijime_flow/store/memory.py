"""An in-memory store: for tests, demos and short-lived embedding. Nothing survives the process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from ..errors import ConcurrencyError
from ..events import Event
from .base import Store, StoredEvent


class MemoryStore(Store):
    def __init__(self) -> None:
        self._events: list[StoredEvent] = []
        self._by_case: dict[str, list[StoredEvent]] = {}
        self._definitions: dict[str, str] = {}
        self._lock = threading.Lock()

    def append(self, records: Sequence[tuple[Event, str]]) -> None:
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
