"""The current-state projection: one row per case, for listing and counting without reading logs.

A :class:`CaseRow` holds what a board of education asks of its cases — which school, which
workflow, which states are active, when it was opened and last moved, which deadlines are started
and not yet met — and nothing else (no facts, no free text). Every store keeps one row per case,
written in the same transaction as the events that change it, so a row is never ahead of or behind
the log. It is derived data: :func:`project_log` rebuilds every row from the events alone, and the
rebuilt rows equal the ones kept incrementally (a test walks random cases to prove it).

Deadlines coming due (:func:`deadlines_due`, :func:`follow_deadlines`) are read off the rows too.

Queries (:class:`CaseQuery`) are answered by the store itself — SQL ``WHERE`` clauses on indexed
columns for SQLite and PostgreSQL — so a board with 100,000 cases never loads them into Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .audit.subjects import Pairs
from .clock import storable
from .deadlines import Deadline, LogFold, Started
from .definition import Definition
from .errors import IjimeFlowError, InvalidData, StoreError
from .events import parse_event
from .store.rows import CaseQuery, CaseRow, GroupBy, OpenDeadline, require_zone

if TYPE_CHECKING:
    from .engine import Engine
    from .store.base import StoredEvent

__all__ = ["CaseQuery", "CaseRow", "DueKey", "GroupBy", "OpenDeadline", "ProjectionProblem", "check_due_before",
           "deadlines_due", "follow_deadlines", "make_row", "open_deadlines", "project_log"]

# -- building rows ------------------------------------------------------------------------------
def make_row(defn: Definition, case_id: str, school: str | None, leaves: frozenset[str], opened_at: datetime,
             updated_at: datetime, seq: int, started: tuple[Started, ...], subjects: Pairs = (),
             actors: tuple[str, ...] = ()) -> CaseRow:
    """The row of a case (``subjects`` and ``actors``: its :class:`~ijime_flow.audit.subjects.People`). Every fire
    builds one, so it fills the frozen dataclass's ``__dict__`` directly (a third of the cost of its
    ``__init__``); a test checks it equals ``CaseRow(...)``."""
    row = object.__new__(CaseRow)
    row.__dict__.update(
        case_id=case_id, school=school, workflow=defn.id, version=defn.version, definition_sha256=defn.sha256,
        states=defn.sorted_states(leaves), active=defn.active_paths(leaves), closed=defn.is_closed(leaves),
        opened_at=opened_at, updated_at=updated_at, seq=seq,
        open_deadlines=tuple(s.open for s in started if s.met_at is None), subjects=subjects, actors=actors)
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
                           fold.updated_at, fold.seq, fold.log.started, fold.log.people.subjects, fold.log.people.actors)


# -- deadlines coming due ------------------------------------------------------------------------
# Which open cases have a deadline not met that falls due soon, read off the rows (``Engine.cases(
# due_before=...)``: a store query on ``next_due``), never a case's log; the case's pinned definition
# gives the labels. "Due before t": due strictly before t — one already overdue (期限超過) is listed
# too, marked ``status == "overdue"``. Closed cases never appear, nor deadlines already met. No thread,
# no timer: the application calls these on its own schedule (see :func:`follow_deadlines`).

DueKey = tuple[str, str, str, datetime, str]
"""What :func:`follow_deadlines` remembers of a deadline it reported: case, deadline id, state, start, status."""


def check_due_before(value: object, what: str = "due_before") -> datetime:
    """An aware time within the range events carry; a naive one (or not a datetime) is ``InvalidData``."""
    require_zone(value, what)
    assert isinstance(value, datetime)
    return storable(value, what)


def check_within(within: object) -> timedelta:
    if not isinstance(within, timedelta):
        raise InvalidData(f"within は timedelta で指定してください / within must be a timedelta, not {type(within).__name__}")
    if within < timedelta(0):
        raise InvalidData(f"within は0以上です / within must not be negative, not {within}")
    return within


def open_deadlines(engine: Engine, row: CaseRow, as_of: datetime) -> list[Deadline]:
    """The row's deadlines not met, as :class:`Deadline` at ``as_of`` (labels from the pinned definition).
    A deadline whose definition cannot be read is shown by its id."""
    try:
        runtime = engine.runtime_for(row.definition_sha256)
    except StoreError:
        runtime = None
    specs = {(path, spec.id): spec for path, specs in runtime.definition.deadline_defs.items()
             for spec in specs} if runtime is not None else {}
    out = []
    for d in row.open_deadlines:
        spec = specs.get((d.state, d.id))
        out.append(Deadline(d.id, d.state, spec.ja if spec else d.id, spec.en if spec else None,
                            spec.source if spec else "", tuple(spec.met_by) if spec else (), d.started_at, d.due,
                            None, None, as_of, spec.within if spec else ""))
    return out


def deadlines_due(engine: Engine, within: timedelta, *, as_of: datetime | None = None,
                  school: str | None = None) -> Iterator[tuple[str, Deadline]]:
    """``(case_id, deadline)`` for every deadline not met, of an open case, due before ``as_of + within``
    (``as_of`` defaults to the engine clock's now), earliest due first. Those already overdue come first
    and have ``status == "overdue"``; the others ``"open"``. ::

        for case_id, d in engine.deadlines_due(timedelta(days=2)):
            print(case_id, d.id, d.ja, jst(d.due), d.status_ja)
    """
    now = engine.clock.now() if as_of is None else check_due_before(as_of, "as_of")
    try:
        before = storable(now + check_within(within), "as_of + within")
    except OverflowError:
        raise InvalidData(f"as_of + within は日時の範囲を超えます / as_of + within ({within}) is past year 9999") from None
    found = [(row.case_id, d) for row in engine.cases(school=school, due_before=before)
             for d in open_deadlines(engine, row, now) if d.due < before]
    found.sort(key=lambda item: (item[1].due, item[0], item[1].id))
    return iter(found)


def follow_deadlines(engine: Engine, callback: Callable[[str, Deadline], object], *, within: timedelta,
                     as_of: datetime | None = None, school: str | None = None,
                     seen: set[DueKey] | None = None) -> set[DueKey]:
    """Call ``callback(case_id, deadline)`` for each deadline of :func:`deadlines_due` not reported by an
    earlier call: once when it comes within ``within``, and once more when it becomes overdue. Returns
    the keys to pass as ``seen`` next time (only those still due: a met deadline or a closed case drops
    out). Nothing runs between calls. A callback that raises stops this call; given the same ``seen``, the
    next call reports again what this one had reported (at least once, never lost). The library starts
    no thread: the application calls it on its own schedule (cron, a scheduler, a loop)::

        from datetime import timedelta
        from ijime_flow.projection import follow_deadlines

        seen: set[DueKey] = set()
        while True:                      # or once per cron run, keeping `seen` between runs
            seen = follow_deadlines(engine, lambda case_id, d: notify(case_id, d.ja, jst(d.due), d.status_ja),
                                    within=timedelta(hours=6), seen=seen)
            time.sleep(600)
    """
    before = set(seen or ())
    current: set[DueKey] = set()
    for case_id, d in deadlines_due(engine, within, as_of=as_of, school=school):
        key: DueKey = (case_id, d.id, d.state, d.started_at, d.status)
        if key not in before:
            callback(case_id, d)
        current.add(key)
    return current
