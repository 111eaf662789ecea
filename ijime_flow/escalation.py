"""Linked cases: escalation criteria — when recording a step or a fact meets one, a linked case is opened at
once — and the records that open a linked case, by escalation or by a step that ``opens`` one (a concern found
in a school's survey opening a ``response`` case).

Like :mod:`ijime_flow.stepper`, these functions are used both by the live engine and by the
verifier, so a history is judged by the rules that wrote it. A criterion is met at most once per
case; the figures that met it (for absence: how many days, first and last) are recorded with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .calendars.absence import SchoolCalendar, count_threshold, run_threshold
from .definition import Definition
from .language.conditions import Check, EvalContext, compile_condition, describe
from .language.models import CriterionDef, TransitionDef

if TYPE_CHECKING:
    from .actor import Actor
    from .case import Case
    from .engine import Engine
    from .events import Event
    from .projection import CaseRow

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Met:
    """A criterion met by one event, with the figures that met it (Japanese / English)."""

    criterion: CriterionDef
    figures: str


def calendar_of(defn: Definition) -> SchoolCalendar:
    """The workflow's own ``calendar:`` block (weekends, listed closures): what a case opened before
    calendars were pinned is judged by. A case that pinned one is judged by it (:class:`Criteria`)."""
    spec = defn.spec.calendar
    return SchoolCalendar(weekends=frozenset(WEEKDAYS.index(d) for d in spec.weekends),
                          closures=frozenset(spec.closures))


class Criteria:
    """The escalation rules of one definition, counting school days with ``calendar`` (default: the
    workflow's own ``calendar:`` block, :func:`calendar_of`)."""

    def __init__(self, defn: Definition, calendar: SchoolCalendar | None = None) -> None:
        self.defn = defn
        self._calendar = calendar
        escalation = defn.spec.escalation
        self._checks: dict[str, Check] = {c.id: compile_condition(c.when) for c in (escalation.criteria if escalation else [])
                                          if c.when is not None}

    @cached_property
    def calendar(self) -> SchoolCalendar:
        return self._calendar if self._calendar is not None else calendar_of(self.defn)

    def met_by(self, before: Mapping[str, Any], after: Mapping[str, Any], kind: str, data: Mapping[str, Any],
               at: datetime, leaves: frozenset[str], case_id: str, already: set[str]) -> list[Met]:
        """The criteria the event just recorded meets: its ``kind`` and ``data``, the facts ``before``
        and ``after`` it. ``already`` holds the ids met earlier in this case: they are not met again.
        (Called after every step, live and in verification: an absence rule is looked at only for a
        fact of its own, and the conditions' context is made once, when one is evaluated.)"""
        found: list[Met] = []
        ctx: EvalContext | None = None
        for criterion, check, fact in self._plan:
            if criterion.id in already:
                continue
            if check is not None:
                if ctx is None:
                    ctx = EvalContext(facts=after, at=at, tz=self.defn.tz, case_id=case_id, active_states=leaves)
                if check(ctx):
                    assert criterion.when is not None
                    ja, en = describe(criterion.when, lambda name: self.defn.fact_labels.get(name, name))
                    found.append(Met(criterion, f"{ja} / {en}"))
            elif fact is not None and kind == "fact" and data.get("fact") == fact:
                figures = self._absence_figures(criterion, fact, before, data)
                if figures is not None:
                    found.append(Met(criterion, figures))
        return found

    @cached_property
    def _plan(self) -> list[tuple[CriterionDef, Check | None, str | None]]:
        """Each criterion with its compiled condition, or the fact its absence rule counts."""
        escalation = self.defn.spec.escalation
        plan: list[tuple[CriterionDef, Check | None, str | None]] = []
        for criterion in escalation.criteria if escalation else []:
            rule = criterion.absence or criterion.absence_run
            plan.append((criterion, self._checks.get(criterion.id) if criterion.when is not None else None,
                         None if criterion.when is not None or rule is None else rule.fact))
        return plan

    def _absence_figures(self, criterion: CriterionDef, fact: str, before: Mapping[str, Any],
                         data: Mapping[str, Any]) -> str | None:
        new_day = after_value(data.get("value"))
        if new_day is None or new_day in before.get(fact, frozenset()):
            return None  # the same absent date recorded twice counts once
        absent = set(before.get(fact, frozenset()))  # the days before this one: new_day is added by the rule
        if criterion.absence is not None:
            finding = count_threshold(absent, new_day, criterion.absence.days, criterion.absence.window)
        else:
            assert criterion.absence_run is not None
            finding = run_threshold(absent, new_day, criterion.absence_run.days, self.calendar)
        return finding.describe() if finding is not None else None


def after_value(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


# -- the records that open a linked case ------------------------------------------------------------------
OPENS, OPENED_FROM, STEP = "opens", "opened_from", "step"  # the data keys of a link made by a step


def seal_opened(definition: Definition, case_id: str, actor: Actor, at: datetime, recorded_at: datetime,
                data: dict[str, Any], school: str | None) -> tuple[Event, str]:
    """The first event of a case: its initial states, the pin of the definition it runs under, its school."""
    from .events import seal

    return seal(case_id=case_id, seq=1, type="opened", trigger=None, from_states=None,
                to_states=sorted(definition.initial_leaves), actor_id=actor.id, actor_roles=sorted(actor.roles),
                at=at, recorded_at=recorded_at, data=data, definition=definition.pin, prev_hash=None, school=school)


def _row_of(engine: Engine, case_id: str, earlier: list[Any], records: list[tuple[Event, str]]) -> CaseRow:
    """The linked case's projection row, by the very fold that rebuilds the projection (links are rare)."""
    from .errors import StoreError
    from .projection import ProjectionProblem, project_log
    from .store import StoredEvent

    problems: list[ProjectionProblem] = []
    rows = list(project_log([*earlier, *(StoredEvent(0, e.case_id, e.seq, body) for e, body in records)],
                            engine._definition_by_hash, problems))
    if problems or len(rows) != 1:
        raise StoreError(f"case {case_id} cannot be projected: {problems[0].message if problems else 'no events'}")
    return rows[0]


def escalation_records(engine: Engine, source: Case, met: list[Met], at: datetime,
                       recorded_at: datetime) -> tuple[str, list[tuple[Event, str]], list[CaseRow]]:
    """The events that open (or add to) the case ``source`` escalates to: its id, the sealed records and its
    projection row, to be appended in the same write as ``source``'s own ``escalated`` events. The escalated case
    belongs to the school of ``source``."""
    import uuid

    from .actor import SYSTEM
    from .audit.subjects import subject_records
    from .errors import UnknownCase
    from .events import parse_event, seal

    escalation = source._runtime.definition.spec.escalation
    assert escalation is not None
    target = engine.definition(escalation.to)
    engine._keep(target)
    records: list[tuple[Event, str]] = []
    earlier: list[Any] = []
    if source._escalated_to is None:
        case_id = uuid.uuid4().hex
        leaves = sorted(target.initial_leaves)
        first, rest = met[0], met[1:]
        event, body = seal_opened(target, case_id, SYSTEM, at, recorded_at, {
            "criterion": first.criterion.id, "figures": first.figures, "escalated_from": source.id}, source.school)
        records.append((event, body))
        seq, head = 1, event.hash
    else:
        case_id = source._escalated_to
        earlier = engine.store.read_case(case_id)
        if not earlier:
            raise UnknownCase(case_id)
        last = parse_event(earlier[-1].body, earlier[-1].case_id, earlier[-1].seq)
        seq, head, leaves, rest = last.seq, last.hash, list(last.to_states or []), met
    for m in rest:
        seq += 1
        event, body = seal(
            case_id=case_id, seq=seq, type="criterion_met", trigger=None, from_states=leaves, to_states=leaves,
            actor_id=SYSTEM.id, actor_roles=sorted(SYSTEM.roles), at=at, recorded_at=recorded_at,
            data={"criterion": m.criterion.id, "figures": m.figures, "escalated_from": source.id},
            definition=None, prev_hash=head)
        records.append((event, body))
        head = event.hash
    if not earlier:  # the case it opens is about the same pupils, named by the engine (later, each names its own)
        records += subject_records(case_id, seq + 1, head, leaves, SYSTEM, at, recorded_at,
                                   [(s.id, s.part) for s in source.subjects])
    return case_id, records, [_row_of(engine, case_id, earlier, records)]


def opened_records(engine: Engine, source: Case, t: TransitionDef, actor: Actor, at: datetime,
                   recorded_at: datetime) -> tuple[str, list[tuple[Event, str]], list[CaseRow]]:
    """The records of the case a step ``opens`` (``opens: {workflow, facts}``), to be appended in the same write
    as the step: its ``opened`` event names the source case and step (``opened_from``, ``step``) and is recorded
    by the step's actor, then one ``fact`` event per fact of ``facts``, checked as ``record_fact`` checks them.
    The step's own data names the new case (``opens``). The case belongs to the school of ``source``."""
    import uuid

    from .errors import DefinitionError, IjimeFlowError, Problem
    from .events import seal
    from .stepper import check_fact, fact_json

    assert t.opens is not None
    target = engine.definition(t.opens.workflow)
    engine._keep(target)
    case_id = uuid.uuid4().hex
    event, body = seal_opened(target, case_id, actor, at, recorded_at, {OPENED_FROM: source.id, STEP: t.trigger},
                              source.school)
    records, head, leaves = [(event, body)], event.hash, sorted(target.initial_leaves)
    roles = target.role_closure(actor.roles)
    for seq, (name, value) in enumerate(sorted(t.opens.facts.items()), start=2):
        try:
            typed = check_fact(target, name, value, roles, actor.id)
        except IjimeFlowError as exc:
            raise DefinitionError([Problem(source._runtime.definition.file, 1, 1, "opens",
                                           f"「{t.trigger}」が開く {target.id} の事案に「{name}」を記録できません / the case"
                                           f" '{t.trigger}' opens cannot record '{name}': {exc}")]) from None
        event, body = seal(case_id=case_id, seq=seq, type="fact", trigger=None, from_states=leaves, to_states=leaves,
                           actor_id=actor.id, actor_roles=sorted(actor.roles), at=at, recorded_at=recorded_at,
                           data={"fact": name, "value": fact_json(typed)}, definition=None, prev_hash=head)
        records.append((event, body))
        head = event.hash
    return case_id, records, [_row_of(engine, case_id, [], records)]


def link_in(kind: str, trigger: str | None, data: Any) -> tuple[str, str, str] | None:
    """The link one event records — (the other case's id, relation, criterion or step) — or ``None``: ``escalated_to``
    / ``escalated_from`` (escalation), ``opened`` / ``opened_from`` (a step that opens a case). The one reading of the
    link keys that the case, the verifier and bundles share."""
    if not isinstance(data, dict):
        return None
    if kind == "escalated":
        other, relation, why = data.get("case"), "escalated_to", data.get("criterion")
    elif kind in ("opened", "criterion_met") and "escalated_from" in data:
        other, relation, why = data["escalated_from"], "escalated_from", data.get("criterion")
    elif kind == "opened" and OPENED_FROM in data:
        other, relation, why = data[OPENED_FROM], "opened_from", data.get(STEP)
    elif kind in ("action", "transition") and OPENS in data:
        other, relation, why = data[OPENS], "opened", trigger
    else:
        return None
    return (other, relation, "" if why is None else str(why)) if isinstance(other, str) else None


def links_of(events: list[Event]) -> list[tuple[str, str, str, int]]:
    """(case id, relation, criterion or step, seq) of every link a case's events record (:func:`link_in`)."""
    return [(*found, event.seq) for event in events if (found := link_in(event.type, event.trigger, event.data))]
