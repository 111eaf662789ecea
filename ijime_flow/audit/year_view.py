"""The board's view of a school year (年間の取組の状況): per school, each recurring duty of its year case
(``workflows/school_year.yaml``: one case per school per school year) per month, term or year, met in time,
met late, overdue or still open — and what was not done, by duty and period, naming the schools.

Read from an :class:`~ijime_flow.engine.Engine`: the ``school_year`` rows of the projection
(``engine.cases(workflow=...)``), each case's deadlines (``engine.get_case(id).deadlines(as_of)``) and its
pinned definition (the duties, in the order it declares them, and the periods of each,
:func:`ijime_flow.calendars.periods.periods`). A case's year is its ``school_year`` fact (else the school year
it was opened in). A period already over when the case was opened started no deadline: its cell is
``untracked`` (－), never counted as done nor as not done. A recurring duty is met only by a step inside its
period, so a step after the period leaves it overdue (✗); ``missed`` (遅, met late) is kept for the duties
that allow it.

Which schools: those given, else every school the store has a case of (any workflow, any year); a school with
no year case for the year is listed in ``without_case``. A school with two year cases for the same year (one
opened by mistake) shows both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..calendars.periods import case_year, periods
from ..canonical import json_time
from ..clock import require_aware
from ..errors import InvalidData

if TYPE_CHECKING:
    from ..deadlines import Deadline
    from ..definition import Definition
    from ..engine import Engine

__all__ = ["MARKS", "WORKFLOW", "DutyCell", "DutyRow", "NotDone", "SchoolDuties", "YearView", "year_view"]

WORKFLOW = "school_year"
MARKS: dict[str, str] = {"met": "済", "missed": "遅", "overdue": "✗", "open": "…", "untracked": "－"}
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "met": ("期限内に実施", "met in time"), "missed": ("期限後に実施", "met late"),
    "overdue": ("期限超過（未実施）", "overdue, not done"), "open": ("期限前（未実施）", "open, not yet due"),
    "untracked": ("記録開始前に終わった期間", "period over before the year's case was opened"),
}


def _time(at: datetime | None) -> str | None:
    return None if at is None else json_time(at)


@dataclass(frozen=True)
class DutyCell:
    """One duty in one period: ``period`` (``2019-06``, ``2019:term_2``, ``2019``), ``period_ja`` (2019年度 6月),
    ``short`` (6月, 2学期, 年度, 9月・10月), ``status`` (``met``, ``missed``, ``overdue``, ``open``, ``untracked``),
    ``due`` (the period's end) and ``met_at`` (the step that met it)."""

    period: str
    period_ja: str
    short: str
    status: str
    due: datetime | None
    met_at: datetime | None = None

    @property
    def mark(self) -> str:
        return MARKS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "period_ja": self.period_ja, "short": self.short, "status": self.status,
                "status_ja": STATUS_WORDS[self.status][0], "mark": self.mark, "due": _time(self.due),
                "met_at": _time(self.met_at)}


@dataclass(frozen=True)
class DutyRow:
    """One duty (a deadline of the year case) and its cells, in period order."""

    id: str
    ja: str
    en: str | None
    source: str
    cells: tuple[DutyCell, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ja": self.ja, "en": self.en, "source": self.source,
                "cells": [c.to_dict() for c in self.cells]}


@dataclass(frozen=True)
class SchoolDuties:
    """One school's year case and its duties."""

    school: str
    case_id: str
    states: tuple[str, ...]  # Japanese labels of its active states
    closed: bool
    duties: tuple[DutyRow, ...]

    def count(self, status: str) -> int:
        return sum(1 for d in self.duties for c in d.cells if c.status == status)

    @property
    def overdue(self) -> bool:
        return self.count("overdue") > 0

    def to_dict(self) -> dict[str, Any]:
        return {"school": self.school, "case_id": self.case_id, "states": list(self.states), "closed": self.closed,
                "counts": {s: self.count(s) for s in MARKS}, "overdue": self.overdue,
                "duties": [d.to_dict() for d in self.duties]}


@dataclass(frozen=True)
class NotDone:
    """A duty of one period not done by its end (overdue), and the schools that did not do it."""

    duty: str
    ja: str
    en: str | None
    period: str
    period_ja: str
    schools: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"duty": self.duty, "ja": self.ja, "en": self.en, "period": self.period, "period_ja": self.period_ja,
                "schools": list(self.schools)}


@dataclass(frozen=True)
class YearView:
    """Every school's year as of ``as_of``: ``schools`` (one per year case, by school), ``without_case`` (the
    schools with no year case for ``year``), and :attr:`not_done`."""

    year: int
    as_of: datetime
    workflow: str
    schools: tuple[SchoolDuties, ...]
    without_case: tuple[str, ...]

    @property
    def not_done(self) -> tuple[NotDone, ...]:
        """Each (duty, period) overdue at some school, with those schools: in the order the duties are declared
        (as the first school's case lists them), then period order."""
        found: dict[tuple[str, str], tuple[DutyRow, DutyCell, set[str]]] = {}
        order: dict[tuple[str, str], tuple[int, int]] = {}
        for school in self.schools:
            for i, duty in enumerate(school.duties):
                for j, cell in enumerate(duty.cells):
                    order.setdefault((duty.id, cell.period), (i, j))
                    if cell.status == "overdue":
                        found.setdefault((duty.id, cell.period), (duty, cell, set()))[2].add(school.school)
        return tuple(NotDone(d.id, d.ja, d.en, c.period, c.period_ja, tuple(sorted(s)))
                     for key, (d, c, s) in sorted(found.items(), key=lambda item: order[item[0]]))

    @property
    def overdue(self) -> bool:
        return any(s.overdue for s in self.schools)

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "as_of": json_time(self.as_of), "workflow": self.workflow, "overdue": self.overdue,
                "schools": [s.to_dict() for s in self.schools], "without_case": list(self.without_case),
                "not_done": [n.to_dict() for n in self.not_done]}


# -- computing it -----------------------------------------------------------------------------------------
def _short(period_ja: str, year: int) -> str:
    """6月, 2学期, 年度, 9月・10月: a period's Japanese label without its year."""
    text = period_ja.removeprefix(f"{year}年度").strip()
    if text.startswith("（") and text.endswith("）"):
        text = text[1:-1]
    return text or "年度"


def _duties(defn: Definition, year: int, deadlines: list[Deadline]) -> tuple[DutyRow, ...]:
    by_key: dict[tuple[str, str, str | None], Deadline] = {(d.state, d.id, d.period): d for d in deadlines}
    rows = []
    for path, specs in defn.deadline_defs.items():
        for spec in specs:
            cells = []
            if spec.every is not None:
                for p in periods(defn, spec, year):
                    d = by_key.get((path, spec.id, p.label))
                    status = "untracked" if d is None else d.status
                    cells.append(DutyCell(p.label, p.ja, _short(p.ja, year), status, p.end,
                                          None if d is None else d.met_at))
            else:  # a deadline started by entering a state: each time it started
                for d in (d for d in deadlines if d.state == path and d.id == spec.id):
                    local = d.started_at.astimezone(defn.tz)
                    label = local.date().isoformat()
                    cells.append(DutyCell(label, f"{local.month}月{local.day}日から", label[5:], d.status, d.due, d.met_at))
            rows.append(DutyRow(spec.id, spec.ja, spec.en, spec.source, tuple(cells)))
    return tuple(rows)


def year_view(engine: Engine, year: int, *, as_of: datetime | None = None, schools: Iterable[str] | None = None,
              workflow: str = WORKFLOW) -> YearView:
    """The year ``year`` (a school year: 1 April ``year`` to 31 March) of every school (or of ``schools``) as
    of ``as_of`` (default: the engine clock's now)."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 2200:
        raise InvalidData(f"年度は西暦の整数です（例: 2019） / the school year is a year such as 2019, not {year!r:.40}")
    as_of = engine.clock.now() if as_of is None else as_of
    require_aware(as_of, "as_of")
    wanted = None if schools is None else sorted(set(schools))
    found: list[SchoolDuties] = []
    for row in engine.cases(workflow=workflow):
        if row.school is None or (wanted is not None and row.school not in wanted):
            continue
        case = engine.get_case(row.case_id)
        defn = case._runtime.definition
        if case_year(case.facts, row.opened_at, defn) != year:
            continue
        states = tuple(defn.state_label(s) for s in row.states)
        found.append(SchoolDuties(row.school, row.case_id, states, row.closed, _duties(defn, year, case.deadlines(as_of))))
    found.sort(key=lambda s: s.school)  # stable: a school's cases stay oldest opened first
    known = wanted if wanted is not None else sorted({r.school for r in engine.cases() if r.school is not None})
    with_case = {s.school for s in found}
    return YearView(year, as_of, workflow, tuple(found), tuple(s for s in known if s not in with_case))
