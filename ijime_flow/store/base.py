"""The store interface: an append-only log of events, and definition texts by hash.

Every backend keeps, for each event, its canonical JSON text byte for byte (what the hash covers),
its ``(case_id, seq)`` — unique, which is what makes concurrent writers safe: of two writers that
both append seq N to one case, exactly one succeeds and the other gets ``ConcurrencyError`` — and a
global ``position`` that orders every event of the store, for readers that follow the log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..events import Event


@dataclass(frozen=True)
class StoredEvent:
    """An event as the store holds it: where it is, and its canonical JSON text."""

    position: int
    case_id: str
    seq: int
    body: str


class Store(ABC):
    """What the engine needs from a place to keep events. Implementations must be append-only."""

    @abstractmethod
    def append(self, records: Sequence[tuple[Event, str]]) -> None:
        """Append events atomically: all or none, even when they belong to several cases (an escalation
        writes to two). Each record is the event and its canonical JSON text. Raises
        ``ConcurrencyError`` if any ``(case_id, seq)`` already exists (or would leave a gap)."""

    @abstractmethod
    def read_case(self, case_id: str) -> list[StoredEvent]:
        """The events of one case in ``seq`` order (empty if the case does not exist)."""

    @abstractmethod
    def read_from(self, position: int = 0) -> Iterator[StoredEvent]:
        """Every event with a position greater than ``position``, in position order."""

    @abstractmethod
    def case_ids(self) -> list[str]:
        """The ids of all cases, in the order they were opened."""

    @abstractmethod
    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        """Keep a definition's canonical text under its hash (a no-op if already kept)."""

    @abstractmethod
    def get_definition(self, sha256: str) -> str | None:
        """The canonical text kept under this hash, if any."""

    def integrity_problems(self) -> list[str]:
        """Problems the store itself can see beyond the hash chains (e.g. missing positions)."""
        return []

    def close(self) -> None:  # noqa: B027 - optional for backends that hold nothing
        """Release what the store holds (connections, files)."""
