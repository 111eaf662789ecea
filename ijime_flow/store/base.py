"""The store interface: an append-only log of events, and definition texts by hash.

Every backend keeps, for each event, its canonical JSON text byte for byte (what the hash covers),
its ``(case_id, seq)`` — unique, which is what makes concurrent writers safe: of two writers that
both append seq N to one case, exactly one succeeds and the other gets ``ConcurrencyError`` — and a
global ``position`` that orders every event of the store, for readers that follow the log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..errors import StoreError
from ..events import Event
from .rows import CaseQuery, CaseRow, GroupBy

# given the whole log in position order, the rows of the projection (see ijime_flow.projection)
Projector = Callable[[Iterator["StoredEvent"]], Iterable[CaseRow]]


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
    def append(self, records: Sequence[tuple[Event, str]], rows: Sequence[CaseRow] = ()) -> None:
        """Append events atomically: all or none, even when they belong to several cases (an escalation
        writes to two). Each record is the event and its canonical JSON text. Raises
        ``ConcurrencyError`` if any ``(case_id, seq)`` already exists (or would leave a gap).

        ``rows`` are the projection rows of the cases these events change, as of their last event:
        written in the same transaction (a row never replaces one with a higher ``seq``)."""

    @abstractmethod
    def read_case(self, case_id: str) -> list[StoredEvent]:
        """The events of one case in ``seq`` order (empty if the case does not exist)."""

    @abstractmethod
    def read_from(self, position: int = 0) -> Iterator[StoredEvent]:
        """Every event with a position greater than ``position``, in position order."""

    def read_rows(self, position: int = 0) -> Iterator[tuple[int, str, int, str]]:
        """:meth:`read_from` as plain ``(position, case_id, seq, body)`` tuples: for readers of the whole
        log (verification), which would otherwise pay for an object per row."""
        for event in self.read_from(position):
            yield event.position, event.case_id, event.seq, event.body

    def read_share(self, share: int, shares: int) -> Iterator[tuple[int, str, int, str]]:
        """:meth:`read_rows` of one of ``shares`` parts of the cases, for processes that read the whole log
        together (verification): the cases whose id's last character, as a code point (an empty id: 0),
        is ``share`` modulo ``shares`` — every row of a case in one part. The ids the engine makes end
        in a hex digit, so two or three parts are of about one size."""
        for row in self.read_rows():
            cid = row[1]
            if (ord(cid[-1]) if cid else 0) % shares == share:
                yield row

    @abstractmethod
    def case_ids(self) -> list[str]:
        """The ids of all cases, in the order they were opened."""

    @abstractmethod
    def put_definition(self, sha256: str, workflow_id: str, version: str, text: str) -> None:
        """Keep a definition's canonical text under its hash (a no-op if already kept)."""

    @abstractmethod
    def get_definition(self, sha256: str) -> str | None:
        """The canonical text kept under this hash, if any."""

    # -- the current-state projection (one row per case) --------------------------------------------
    @abstractmethod
    def case_row(self, case_id: str) -> CaseRow | None:
        """The projection row of one case."""

    @abstractmethod
    def find_cases(self, query: CaseQuery, *, limit: int | None = None, offset: int = 0) -> list[CaseRow]:
        """The rows that match, oldest opened first (then by case id)."""

    @abstractmethod
    def count_cases(self, query: CaseQuery) -> int:
        """How many rows match."""

    @abstractmethod
    def count_cases_by(self, by: GroupBy, query: CaseQuery) -> dict[str, int]:
        """How many matching rows per school, workflow or active state (a case counts once for each
        state active in it, so ``responding`` and its regions each count it)."""

    @abstractmethod
    def rebuild_projection(self, project: Projector) -> int:
        """Replace every row with what ``project`` derives from the whole log, atomically and with
        appends held off meanwhile, so no step lands between the read and the write. Returns the
        number of rows written."""

    read_only: bool = False
    """Opened for reading only: every write method raises ``StoreError`` (SQLite, PostgreSQL)."""

    def projection_stale(self) -> bool:
        """True when the projection must be rebuilt before it can be trusted (a store created by an
        ijime-flow that had no projection)."""
        return False

    def integrity_problems(self) -> list[str]:
        """Problems the store itself can see beyond the hash chains (e.g. missing positions)."""
        return []

    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction of the application's and the engine's writes together: within the block, every
        append of this thread joins it (each as a savepoint: a refused one undoes only itself), the
        connection yielded takes the application's own statements, and all of it commits at the end of
        the block — or, on an exception, none of it. Other threads' reads go on meanwhile and see
        none of it until it commits. Use :meth:`ijime_flow.engine.Engine.transaction`, which also
        holds the engine's steps and puts its cases back as they were after a rollback."""
        raise StoreError(f"{type(self).__name__} は取引に加われません / {type(self).__name__} cannot join a transaction")

    def close(self) -> None:  # noqa: B027 - optional for backends that hold nothing
        """Release what the store holds (connections, files)."""
