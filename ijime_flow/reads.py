"""The engine's reads: the case list and counts from the projection, due deadlines, one case rebuilt from
its log. A mixin of :class:`ijime_flow.engine.Engine`, which gives it the store, the clock and the
definitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from . import logs
from .actor import check_part
from .calendars.pinning import CalendarPins
from .canonical import check_id, check_int
from .case import Case
from .clock import Clock, storable
from .deadlines import Deadline, LogFold
from .definition import Definition
from .errors import InvalidData, StoreError, UnknownCase, UnknownWorkflow
from .events import parse_event
from .machine import Runtime
from .privacy.sealing import open_event
from .projection import CaseQuery, CaseRow, GroupBy, ProjectionProblem, check_due_before, deadlines_due, project_log
from .store import Store

if TYPE_CHECKING:
    from .engine import Engine


class Reads:
    """What the engine answers without taking a step."""

    store: Store
    clock: Clock
    _current: dict[str, Definition]
    _list_stale: bool
    calendars: CalendarPins

    def runtime_for(self, sha256: str) -> Runtime | None:
        raise NotImplementedError

    def _definition_by_hash(self, sha256: str) -> Definition | None:
        raise NotImplementedError

    # -- the current-state projection -----------------------------------------------------------------
    def cases(self, *, school: str | None = None, workflow: str | None = None, state: str | None = None,
              closed: bool | None = None, overdue: bool = False, as_of: datetime | None = None,
              limit: int | None = None, offset: int = 0, due_before: datetime | None = None, subject: str | None = None,
              part: str | None = None, actor: str | None = None) -> list[CaseRow]:
        """The cases that match, oldest opened first, from the projection (a store query: no case is
        loaded). ``state``: that state is active (a leaf or a state it is inside). ``overdue``: a
        deadline has passed by ``as_of`` (default now) and has not been met. ``due_before``: an open case
        with a deadline not met due before that time, overdue ones too. ``subject``: a case about that pupil
        (a pseudonymous id), in ``part`` if given (``part`` alone: any pupil in that part); ``actor``: a case
        that actor recorded any event on."""
        query = self._query(school, workflow, state, closed, overdue, as_of, subject, part, actor)
        if due_before is not None:
            query = replace(query, due_before=check_due_before(due_before))
        if limit is not None and check_int(limit, "limit") < 1:
            raise InvalidData(f"limit は1以上です / limit must be at least 1, not {limit}")
        if check_int(offset, "offset") < 0:
            raise InvalidData(f"offset は0以上です / offset must not be negative, not {offset}")
        return self.store.find_cases(query, limit=limit, offset=offset)

    def deadlines_due(self, within: timedelta, *, as_of: datetime | None = None,
                      school: str | None = None) -> Iterator[tuple[str, Deadline]]:
        """``(case_id, deadline)`` not met, of open cases, due before ``as_of`` (default now) + ``within``,
        earliest first, overdue ones marked ``status == "overdue"``: see :func:`ijime_flow.projection.deadlines_due`."""
        return deadlines_due(cast("Engine", self), within, as_of=as_of, school=school)

    def count_cases(self, *, school: str | None = None, workflow: str | None = None, state: str | None = None,
                    closed: bool | None = None, overdue: bool = False, as_of: datetime | None = None,
                    subject: str | None = None, part: str | None = None, actor: str | None = None) -> int:
        """How many cases match (the filters of :meth:`cases`)."""
        return self.store.count_cases(self._query(school, workflow, state, closed, overdue, as_of, subject, part, actor))

    def count_cases_by(self, by: GroupBy, *, school: str | None = None, workflow: str | None = None,
                       state: str | None = None, closed: bool | None = None, overdue: bool = False,
                       as_of: datetime | None = None) -> dict[str, int]:
        """How many matching cases per ``school``, ``workflow`` or active ``state``."""
        return self.store.count_cases_by(by, self._query(school, workflow, state, closed, overdue, as_of))

    def _query(self, school: str | None, workflow: str | None, state: str | None, closed: bool | None,
               overdue: bool, as_of: datetime | None, subject: str | None = None, part: str | None = None,
               actor: str | None = None) -> CaseQuery:
        if self._list_stale:
            raise StoreError("この保存先の事案一覧は古い版のままで、読み取り専用では作り直せません。書き込みできる形で一度開いて"
                             "ください（検証・履歴・再生・書き出しはそのまま使えます） / the case list of this store is from"
                             " an earlier version and cannot be rebuilt read-only: open the store once writable"
                             " (e.g. Engine(path)); verify, history, replay and export read the log and work as it is")
        if as_of is not None:
            as_of = storable(as_of, "as_of")
        for value, what in ((school, "school"), (workflow, "workflow"), (state, "state"), (subject, "subject"),
                            (actor, "actor")):
            if value is not None:
                check_id(value, what)
        if part is not None:
            check_part(part)
        for flag, what in ((closed, "closed"), (overdue, "overdue")):
            if flag is not None and not isinstance(flag, bool):
                raise InvalidData(f"{what} は True か False です / {what} must be True or False, not {flag!r}")
        if state is not None and self._current:  # a misspelt state would quietly match nothing
            defs = [self._current[workflow]] if workflow in self._current else list(self._current.values())
            if not any(state in d.nodes for d in defs):
                raise InvalidData(f"状態「{state}」はありません / no state '{state}' in workflow"
                                  f" {', '.join(d.id for d in defs)}")
        overdue_at = (as_of or self.clock.now()) if overdue else None
        return CaseQuery(school=school, workflow=workflow, state=state, closed=closed, overdue_at=overdue_at,
                         subject=subject, part=part, actor=actor)

    def rebuild_projection(self) -> ProjectionReport:
        """Rebuild every case's row from the log alone, replacing the projection atomically (appends
        wait meanwhile). A case whose log cannot be read is left out and named in the report."""
        problems: list[ProjectionProblem] = []
        written = self.store.rebuild_projection(
            lambda events: project_log(events, self._definition_by_hash, problems))
        for problem in problems:
            logs.warning("projection.case_skipped", case_id=problem.case_id)
        return ProjectionReport(written, problems)

    def get_case(self, case_id: str) -> Case:
        """Rebuild a case from the store: its pinned definition, states, facts and chain head."""
        rows = self.store.read_case(check_id(case_id, "case_id"))
        if not rows:
            raise UnknownCase(case_id)
        keys = getattr(self, "keys", None)  # personal values opened where their key exists, else 「消去済み / erased」
        events = [open_event(keys, parse_event(row.body, row.case_id, row.seq)) for row in rows]
        pin = events[0].definition
        if pin is None:
            raise UnknownCase(case_id)
        runtime = self.runtime_for(pin.sha256)
        if runtime is None:
            raise UnknownWorkflow(f"{pin.id} {pin.version} ({pin.sha256[:12]})", sorted(self._current))
        runtime = self.calendars.runtime(self.store, runtime, events[0].data)  # judged under the calendar it pinned
        definition = runtime.definition
        fold = LogFold(definition)
        met: set[str] = set()
        escalated_to: str | None = None
        for event in events:
            fold.add(event)
            if event.type == "escalated":
                met.add(str(event.data["criterion"]))
                escalated_to = str(event.data["case"])
        return Case(cast("Engine", self), runtime, case_id, fold.leaves, fold.facts, events[-1].seq, events[-1].hash,
                    school=events[0].school, opened_at=events[0].at, started=fold.started, met=met,
                    escalated_to=escalated_to, actors=fold.actors, people=fold.people)

    def case_ids(self) -> list[str]:
        return self.store.case_ids()



@dataclass(frozen=True)
class ProjectionReport:
    """What :meth:`Engine.rebuild_projection` did: rows written, and the cases it had to leave out."""

    rows: int
    problems: list[ProjectionProblem]
