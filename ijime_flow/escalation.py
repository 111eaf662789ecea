"""Escalation criteria: when recording a step or a fact meets one, a linked case is opened at once.

Like :mod:`ijime_flow.stepper`, these functions are used both by the live engine and by the
verifier, so a history is judged by the rules that wrote it. A criterion is met at most once per
case; the figures that met it (for absence: how many days, first and last) are recorded with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from .calendars.absence import SchoolCalendar, count_threshold, run_threshold
from .definition import Definition
from .language.conditions import Check, EvalContext, compile_condition, describe
from .language.models import CriterionDef

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
