"""``escalates`` rules, checked by doing it: a case opened in memory, the fact or the absences
recorded as the step library records them, and a linked serious-incident case looked for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ..actor import Actor
from ..calendars.absence import absent_days
from ..calendars.file import calendar_beside
from ..calendars.resolved import ResolvedCalendar
from ..clock import FixedClock
from ..definition import Definition
from ..errors import IjimeFlowError
from ..escalation import calendar_of
from .counterexample import Counterexample
from .explore import START, Action, Explorer

if TYPE_CHECKING:
    from .rules import Rule


def check_escalates(rule: Rule, defn: Definition, explorer: Explorer,
                    others: Mapping[str, Definition]) -> tuple[str, Counterexample | None] | None:
    from ..engine import Engine

    spec = rule.escalates
    assert spec is not None
    opening = next(explorer.openings(), None)
    if opening is None:
        return ("事案を開けません / a case of this workflow cannot be opened", None)
    action = opening[0]
    with Engine(clock=FixedClock(START + timedelta(days=800)), school="rule-check") as engine:
        for name, guard in explorer.guards.items():
            engine.register_guard(name, guard)
        for other in others.values():
            engine.add_definition(other)
        engine.add_definition(defn)
        school_calendar = calendar_beside(defn.file)  # the school's calendar file, as Engine.load reads it
        if school_calendar is not None:
            engine.load_calendar(school_calendar)
        try:
            case = engine.open_case(defn.id, actor=Actor(f"{action.role}-1", {action.role}), at=START,
                                    data=action.data_dict())
            if spec.fact is not None:
                fact = defn.spec.facts.get(spec.fact)
                if fact is None:
                    return (f"事実「{spec.fact}」がありません / no fact '{spec.fact}'", None)
                value = spec.value if spec.value is not None else explorer.values(fact, spec.fact, START)[0]
                role = explorer.recorder(spec.fact)
                at = START + timedelta(minutes=1)
                last = Action("fact", spec.fact, role, (("value", value),), at)
                case.record_fact(spec.fact, value, actor=Actor(f"{role}-1", {role}), at=at)
            else:
                count = spec.absence_days or spec.absence_run or 0
                every = 2 if spec.absence_days is not None else 1
                role = explorer.recorder(spec.absence_fact) if spec.absence_fact in defn.spec.facts else "staff"
                first = datetime.combine(spec.start, time(10, 0), tzinfo=defn.tz) if spec.start else START
                days = _absent_days(defn, case.calendar, count, every, spec.start, spec.closed)
                last = Action("absences", spec.absence_fact, role, (("days", tuple(days)),), first)
                actor = Actor(f"{role}-1", {role})
                for day in days:  # each at 17:00, as the step library records them
                    case.record_fact(spec.absence_fact, day, actor=actor, at=datetime.combine(day, time(17, 0), tzinfo=defn.tz))
        except IjimeFlowError as exc:
            return (f"記録できません / could not be recorded: {exc}", None)
        escalated = any(link.relation == "escalated_to" for link in case.linked_cases())
    if escalated:
        return None
    what = (f"事実「{spec.fact}」= {spec.value}" if spec.fact else
            f"登校日{'に1日おきに' if spec.absence_days else '連続'} {spec.absence_days or spec.absence_run} 日の欠席")
    return (f"{what} を記録しても重大事態の事案が開かれません / recording it opens no serious-incident case",
            Counterexample([action], last, "escalated", "重大事態に移行しない", "no serious incident is opened"))


def _absent_days(defn: Definition, pinned: ResolvedCalendar | None, count: int, every: int, start: date | None,
                 closed: list[date]) -> list[date]:
    """``count`` school days from ``start`` (default: the day the case was opened; every other school day
    with ``every=2``, so no run forms). School days are those of the calendar the case pinned (national
    holidays, the school's calendar file, the workflow's ``calendar:``), or — when the rule lists ``closed``
    days — Monday to Friday except those: the policy's calendar, which a workflow cannot redefine (the
    counterexample then names the days themselves, so it shows the same on any workflow)."""
    calendar = pinned.days if pinned is not None else calendar_of(defn)

    def school_day(day: date) -> bool:
        return day.weekday() < 5 and day not in closed if closed else calendar.is_school_day(day)

    return list(absent_days(school_day, start or START.astimezone(defn.tz).date(), count, every))
