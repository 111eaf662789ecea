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

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .deadlines import LogFold, Started
from .definition import Definition
from .errors import IjimeFlowError, StoreError
from .events import parse_event
from .store.rows import CaseQuery, CaseRow, GroupBy, OpenDeadline

if TYPE_CHECKING:
    from .store.base import StoredEvent

__all__ = ["CaseQuery", "CaseRow", "GroupBy", "OpenDeadline", "ProjectionProblem", "make_row", "project_log"]

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
