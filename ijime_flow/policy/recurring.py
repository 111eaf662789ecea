"""Recurring deadlines (``every``: month, term, year; ``months``) measured against a rule's: does a workflow's
duty recur at least as often as the policy asks?

A recurring deadline asks for a step inside each of its periods (:func:`ijime_flow.calendars.periods.periods`).
It asks at least as much as a rule when every period of the rule holds a whole period of the deadline (or of
one of several deadlines met by the same step): whatever meets the deadline then meets the rule. So a monthly
duty is as strict as a termly one when each term holds a whole month, September is as strict as
September–October, and a school with two terms is measured by its own two terms. The periods are compared in a
school year whose February has 29 days and in one whose February has 28 (a term may end on 02-28).

A rule ``every: term`` needs at least two terms in the workflow's calendar: a single "term" is the school year,
and would turn "once a term" into "once a year".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ..calendars.periods import Period, periods, terms_of
from ..definition import Definition
from ..language.durations import END_OF
from ..language.models import DeadlineDef

__all__ = ["COARSER", "every_not_coarser", "rule_spec", "stricter_recurring", "uncovered"]

ORDER = ("month", "term", "year")
COARSER = {"month": "term", "term": "year"}
YEARS = (2019, 2020)  # school year 2019 has 29 February (2020), 2020 does not (2021)


def rule_spec(every: str, months: Sequence[int] | None, met_by: str = "rule") -> DeadlineDef:
    """A deadline as a rule describes it (its periods are what the rule asks for)."""
    return DeadlineDef.model_validate({"id": "policy_rule", "ja": "規則", "source": "rule", "met_by": [met_by],
                                       "every": every, "months": list(months) if months is not None else None})


def _inside(outer: Period, inner: tuple[datetime, datetime]) -> bool:
    return outer.start <= inner[0] and inner[1] <= outer.end


def uncovered(found: Iterable[DeadlineDef], defn: Definition, every: str, months: Sequence[int] | None,
              year: int | None = None, after: datetime | None = None) -> Period | None:
    """The first period of the rule (``every``, ``months``) that holds no whole period of the recurring
    deadlines ``found`` — None when every one does. ``year``: that school year only (else :data:`YEARS`);
    ``after``: only the periods that end after it."""
    rule = rule_spec(every, months)
    recurring = [d for d in found if d.every is not None]
    for y in (year,) if year is not None else YEARS:
        ours = [(p.start, p.end) for d in recurring for p in periods(defn, d, y)]
        for period in periods(defn, rule, y):
            if after is not None and period.end <= after:
                continue
            if every == "term" and len(terms_of(defn)) < 2:
                return period  # one "term" is the whole year
            if not any(_inside(period, window) for window in ours):
                return period
    return None


def stricter_recurring(mine: DeadlineDef, defn: Definition, policy: DeadlineDef) -> bool:
    """Whether the recurring deadline ``mine`` (of ``defn``) asks at least as much as the recurring ``policy``."""
    if mine.every is None or policy.every is None:
        return False
    return uncovered([mine], defn, policy.every, policy.months) is None


def every_not_coarser(within: str, limit: str) -> bool | None:
    """For two ``end_of_<period>`` values: whether ``within`` recurs at least as often as ``limit`` by the
    periods alone (month, term, year); None when either is not ``end_of_<period>``."""
    if within not in END_OF or limit not in END_OF:
        return None
    return ORDER.index(END_OF[within]) <= ORDER.index(END_OF[limit])
