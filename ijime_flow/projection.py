"""The current-state projection: one row per case, for listing and counting without reading logs.

A :class:`CaseRow` holds what a board of education asks of its cases — which school, which
workflow, which states are active, when it was opened and last moved, which deadlines are started
and not yet met — and nothing else (no facts, no free text). Every store keeps one row per case,
written in the same transaction as the events that change it, so a row is never ahead of or behind
the log. It is derived data: :func:`project_log` rebuilds every row from the events alone, and the
rebuilt rows equal the ones kept incrementally (a test walks random cases to prove it).

Queries (:class:`CaseQuery`) are answered by the store itself — SQL ``WHERE`` clauses on indexed
columns for SQLite and PostgreSQL — so a board with 100,000 cases never loads them into Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from .deadlines import LogFold, OpenDeadline, Started
from .definition import Definition
from .errors import IjimeFlowError, InvalidData, StoreError
from .events import parse_event

if TYPE_CHECKING:
    from .store.base import StoredEvent

__all__ = ["CaseQuery", "CaseRow", "OpenDeadline", "project_log"]

GroupBy = Literal["school", "workflow", "state"]
GROUPS: tuple[str, ...] = ("school", "workflow", "state")


@dataclass(frozen=True)
class CaseRow:
    """Where one case stands, as of its last event."""

    case_id: str
    school: str | None  # None only for cases opened before cases had schools
    workflow: str
    version: str
    definition_sha256: str
    states: tuple[str, ...]  # the active leaf states, sorted
    active: tuple[str, ...]  # every active state: the leaves and the states they are inside, sorted
    closed: bool
    opened_at: datetime
    updated_at: datetime  # the ``at`` of the last event
    seq: int  # the seq of the last event
    open_deadlines: tuple[OpenDeadline, ...] = ()

    @property
    def next_due(self) -> datetime | None:
        """The earliest due time among the open deadlines."""
        return min((d.due for d in self.open_deadlines), default=None)

    def overdue(self, as_of: datetime) -> bool:
        """A deadline has passed by ``as_of`` and has not been met (the ``overdue`` of :class:`Deadline`)."""
        due = self.next_due
        return due is not None and due <= as_of


@dataclass(frozen=True)
class CaseQuery:
    """Which cases: every given field must match (``None`` = any).

    ``state`` matches a case with that state active, a leaf or a state it is inside (``responding``
    matches a case in ``responding.victim_support.interviewing``); ``overdue_at`` matches a case with
    a deadline due at or before that time and not met."""

    school: str | None = None
    workflow: str | None = None
    state: str | None = None
    closed: bool | None = None
    overdue_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.overdue_at is not None and self.overdue_at.tzinfo is None:
            raise InvalidData(f"overdue_at ({self.overdue_at.isoformat()}) has no timezone; give an aware time")

    def matches(self, row: CaseRow) -> bool:
        """The same test in Python, for the in-memory store (the SQL stores answer in SQL)."""
        return ((self.school is None or row.school == self.school)
                and (self.workflow is None or row.workflow == self.workflow)
                and (self.state is None or self.state in row.active)
                and (self.closed is None or row.closed == self.closed)
                and (self.overdue_at is None or row.overdue(self.overdue_at)))


def check_group(by: str) -> None:
    if by not in GROUPS:
        raise InvalidData(f"cases can be counted by {', '.join(GROUPS)}, not {by!r}")


# -- building rows ------------------------------------------------------------------------------
def make_row(defn: Definition, case_id: str, school: str | None, leaves: frozenset[str], opened_at: datetime,
             updated_at: datetime, seq: int, started: tuple[Started, ...]) -> CaseRow:
    """The row of a case. Every fire builds one, so it fills the frozen dataclass's ``__dict__``
    directly (a third of the cost of its ``__init__``); a test checks it equals ``CaseRow(...)``."""
    row = object.__new__(CaseRow)
    row.__dict__.update(
        case_id=case_id, school=school, workflow=defn.id, version=defn.version, definition_sha256=defn.sha256,
        states=defn.sorted_states(leaves), active=defn.active_paths(leaves), closed=defn.is_closed(leaves),
        opened_at=opened_at, updated_at=updated_at, seq=seq,
        open_deadlines=tuple(s.open for s in started if s.met_at is None))
    return row


@dataclass
class _CaseFold:
    """What the rebuild keeps per case while it reads the log in global order."""

    log: LogFold
    school: str | None
    opened_at: datetime
    updated_at: datetime | None = None
    seq: int = 0


@dataclass
class ProjectionProblem:
    case_id: str
    message: str


def project_log(events: Iterable[StoredEvent], definition_for: Callable[[str], Definition | None],
                problems: list[ProjectionProblem]) -> Iterator[CaseRow]:
    """Every case's row, rebuilt from the events alone (in global order, as ``read_from`` gives them).

    ``definition_for`` maps a pinned SHA-256 to its definition. A case whose events cannot be read or
    whose definition is unknown gets no row; it is added to ``problems`` (``verify`` tells the rest),
    and the other cases are projected all the same."""
    folds: dict[str, _CaseFold | None] = {}
    for stored in events:
        fold = folds.get(stored.case_id)
        if stored.case_id in folds and fold is None:
            continue  # already given up on
        try:
            event = parse_event(stored.body, stored.case_id, stored.seq)
            if fold is None:
                pin = event.definition
                defn = definition_for(pin.sha256) if pin is not None else None
                if event.type != "opened" or pin is None or defn is None:
                    raise StoreError(f"its first event does not pin a known definition ({pin.id if pin else 'none'})")
                fold = folds[stored.case_id] = _CaseFold(LogFold(defn), event.school, event.at)
            if event.seq != fold.seq + 1:
                raise StoreError(f"seq {event.seq} follows seq {fold.seq}")
            fold.log.add(event)
            fold.updated_at, fold.seq = event.at, event.seq
            if not all(leaf in fold.log.definition.nodes for leaf in fold.log.leaves):
                raise StoreError(f"seq {event.seq} names states its workflow does not have")
        except (IjimeFlowError, KeyError, TypeError, ValueError) as exc:
            problems.append(ProjectionProblem(stored.case_id, f"seq {stored.seq}: {exc}"))
            folds[stored.case_id] = None
    for case_id, fold in folds.items():
        if fold is not None and fold.updated_at is not None:
            yield make_row(fold.log.definition, case_id, fold.school, fold.log.leaves, fold.opened_at,
                           fold.updated_at, fold.seq, fold.log.started)


# -- encoding for the SQL stores --------------------------------------------------------------------
# Every fire writes its case's row, so these are on the hot path: one prebuilt encoder, and caches
# for the values that repeat from step to step (the same configurations, the same open deadlines).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@lru_cache(maxsize=4096)
def utc_text(value: datetime) -> str:
    """A time as fixed-width UTC ISO 8601 text: text order is time order (SQLite compares text)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def deadlines_json(row: CaseRow) -> str:
    return _deadlines_json(row.open_deadlines) if row.open_deadlines else "[]"


@lru_cache(maxsize=1024)
def _deadlines_json(deadlines: tuple[OpenDeadline, ...]) -> str:
    return _dumps([{"id": d.id, "state": d.state, "started_at": d.started_at.isoformat(), "due": d.due.isoformat()}
                   for d in deadlines])


def parse_deadlines(text: str) -> tuple[OpenDeadline, ...]:
    return tuple(OpenDeadline(d["id"], d["state"], datetime.fromisoformat(d["started_at"]),
                              datetime.fromisoformat(d["due"])) for d in json.loads(text))


@lru_cache(maxsize=4096)
def states_json(states: tuple[str, ...]) -> str:
    return _dumps(list(states))
