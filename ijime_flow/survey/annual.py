"""The bullying tables of the national survey (児童生徒の問題行動・不登校等生徒指導上の諸課題に関する調査), computed
from verified logs: :func:`annual_return` (``ijime-flow annual-return``). A pure reading of the store: nothing is written.

How a case is counted (年度 Y: 1 April Y 00:00 – 31 March Y+1 24:00, Asia/Tokyo; the reference date 基準日 defaults
to 31 March Y+1 23:59:59 JST). Every value is read by replaying the case's events whose ``at`` is at or before the
reference date, in seq order, through the engine's own fold (:func:`ijime_flow.stepper.fold_event`):

- 認知件数 / recognised: a ``response`` case whose fact ``bullying_recognised`` is true as of the reference date and
  whose recognition (the first event making it true) falls in Y.
- 学校 / school: the case's school (its first event's ``school``). 校種 / school type: the fact ``school_type`` of that
  school's ``school_year`` case whose fact ``school_year`` is Y (the earliest opened, when there are several); a school
  without one counts under 校種不明 (``unknown``) and is listed.
- 学年 / grade: the fact ``grade``; none recorded: 学年不明 (``unknown``).
- 態様 / forms (many-valued): a case counts once under each form it has, so the form rows add up to more than the
  cases; none recorded: 未記録 (``unrecorded``), and listed as missing.
- 発見のきっかけ / discovered_through (one value): as recorded; none: 未記録 (``unrecorded``), listed as missing.
- 解消状況 / resolution status: ``resolved`` 解消しているもの when the state ``resolved`` is active at the reference date
  or the case reached ``closed`` from ``resolved``; ``in_progress`` 解消に向けて取組中 when it is not closed; ``other``
  その他 otherwise.
- 重大事態 / serious incidents: ``serious_incident`` cases of the school opened in Y (and by the reference date). Their
  criteria: the opened event's ``criterion``, ``criterion_met`` events and ``criterion`` facts up to the reference
  date. 1号 (``type_1``) when they include ``serious_harm`` or ``petition``; 2号 (``type_2``) when they include
  ``absence_30_days`` or ``absence_run``; a case with both counts under 1号, 2号 and 1号かつ2号 (``both``).
- A case whose log does not verify (:meth:`Engine.verify`) is not counted: it is listed with its problem kinds. The
  cases checked are the ``response`` cases opened by the reference date (but not those closed before Y began), the
  ``serious_incident`` cases opened in Y, and the ``school_year`` cases giving a school type (an unverified one gives
  none: the school counts under 校種不明).

Every cell is the set of case ids behind it (:meth:`Table.ids`); its number is their count, so a 計 (``total``) row or
column is the number of distinct cases, never a sum of cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..canonical import check_id, json_time
from ..clock import TOKYO
from ..errors import InvalidData
from ..events import Event, parse_event
from ..policy.contract import load_contract
from ..stepper import fold_event

if TYPE_CHECKING:
    from ..definition import Definition
    from ..engine import Engine
    from ..projection import CaseRow

__all__ = ["SCHOOL_TYPES", "TABLES", "AnnualReturn", "Category", "Missing", "RecognisedCase", "SeriousIncident", "Table",
           "Unverified", "annual_return", "school_year_bounds"]

FIRST_YEAR, LAST_YEAR = 1985, 2999  # the survey has counted bullying since 1985
UNKNOWN, UNRECORDED, TOTAL = "unknown", "unrecorded", "total"
# school types: the fact school_type of workflows/school_year.yaml (the contract has no labels for them)
SCHOOL_TYPES: dict[str, tuple[str, str]] = {
    "elementary": ("小学校", "elementary"), "junior_high": ("中学校", "junior high"), "high": ("高等学校", "high school"),
    "special_needs": ("特別支援学校", "special needs school"), "compulsory": ("義務教育学校", "compulsory school"),
    "secondary": ("中等教育学校", "secondary school")}
TYPE_1, TYPE_2 = frozenset({"serious_harm", "petition"}), frozenset({"absence_30_days", "absence_run"})
# table id -> (Japanese, English)
TABLES: dict[str, tuple[str, str]] = {
    "recognised": ("いじめの認知件数（学年別・校種別）", "Cases recognised, by grade and school type"),
    "forms": ("いじめの態様（複数回答）", "Forms of bullying (several per case)"),
    "discovered_through": ("いじめの発見のきっかけ", "How the bullying was found"),
    "resolution_status": ("いじめの解消状況", "Resolution status at the reference date"),
    "serious_incidents": ("重大事態の発生件数", "Serious incidents")}


class _Plain:  # to_dict: the fields as JSON values (times in UTC with +00:00, tuples as lists)
    def to_dict(self) -> dict[str, Any]:
        return {k: json_time(v) if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v
                for k, v in vars(self).items()}


@dataclass(frozen=True)
class Category(_Plain):
    """A row or a column: its id (what ``--explain`` takes) and its Japanese and English names."""

    id: str
    ja: str
    en: str


@dataclass(frozen=True)
class Table:
    """One table: rows × columns, each cell the sorted case ids counted in it."""

    id: str
    ja: str
    en: str
    rows: tuple[Category, ...]
    cols: tuple[Category, ...]
    cells: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def ids(self, row: str, col: str) -> tuple[str, ...]:
        """The case ids behind one cell; :class:`InvalidData` naming the ids there are for an unknown row or column."""
        for ja, en, given, known in (("行", "row", row, self.rows), ("列", "column", col, self.cols)):
            if given not in {c.id for c in known}:
                raise InvalidData(f"表 {self.id} に{ja}「{given}」はありません / table {self.id} has no {en} '{given}'"
                                  f" (it has: {', '.join(c.id for c in known)})")
        return self.cells.get((row, col), ())

    def count(self, row: str, col: str) -> int:
        return len(self.ids(row, col))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ja": self.ja, "en": self.en, "rows": [r.to_dict() for r in self.rows],
                "cols": [c.to_dict() for c in self.cols],
                "counts": {r.id: {c.id: len(self.cells.get((r.id, c.id), ())) for c in self.cols} for r in self.rows},
                "cases": {r.id: {c.id: list(self.cells.get((r.id, c.id), ())) for c in self.cols} for r in self.rows}}


@dataclass(frozen=True)
class RecognisedCase(_Plain):
    """A counted ``response`` case, as of the reference date."""

    case_id: str
    school: str
    school_type: str  # a key of SCHOOL_TYPES, another recorded id, or "unknown"
    recognised_at: datetime
    grade: int | None
    forms: tuple[str, ...]
    discovered_through: str | None
    resolution: str  # resolved | in_progress | other


@dataclass(frozen=True)
class SeriousIncident(_Plain):
    """A counted ``serious_incident`` case: its criteria as of the reference date and the types they make."""

    case_id: str
    school: str
    school_type: str
    opened_at: datetime
    criteria: tuple[str, ...]
    types: tuple[str, ...]  # type_1, type_2 (both when the two)
    escalated_from: str | None


@dataclass(frozen=True)
class Unverified(_Plain):
    """A case whose log did not verify: not counted."""

    case_id: str
    workflow: str
    school: str | None
    kinds: tuple[str, ...]
    problems: tuple[str, ...]  # the first few messages


@dataclass(frozen=True)
class Missing(_Plain):
    """A survey fact a counted case lacks (``forms``, ``discovered_through``, ``grade``)."""

    case_id: str
    school: str
    fact: str


@dataclass(frozen=True)
class AnnualReturn:
    year: int
    school: str | None  # None: every school of the store (a board's return)
    as_of: datetime
    cases: tuple[RecognisedCase, ...]
    serious: tuple[SeriousIncident, ...]
    tables: tuple[Table, ...]
    unverified: tuple[Unverified, ...]
    missing: tuple[Missing, ...]
    unknown_type_schools: tuple[str, ...]  # schools with no (verified) school_year case for the year

    @property
    def ok(self) -> bool:  # every case looked at verified
        return not self.unverified

    def table(self, table_id: str) -> Table:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise InvalidData(f"表「{table_id}」はありません / no table '{table_id}' (tables: {', '.join(TABLES)})")

    def explain(self, table_id: str, row: str, col: str) -> tuple[str, ...]:  # the case ids behind one cell (--explain)
        return self.table(table_id).ids(row, col)

    def to_dict(self) -> dict[str, Any]:
        start, end = school_year_bounds(self.year)
        return {"year": self.year, "from": json_time(start), "until": json_time(end), "school": self.school,
                "as_of": json_time(self.as_of), "ok": self.ok, "tables": [t.to_dict() for t in self.tables],
                "cases": [c.to_dict() for c in self.cases], "serious_incidents": [s.to_dict() for s in self.serious],
                "unverified": [u.to_dict() for u in self.unverified], "missing": [m.to_dict() for m in self.missing],
                "unknown_type_schools": list(self.unknown_type_schools)}


def check_year(year: object) -> int:
    """A school year as given (an int, or its digits as text); :class:`InvalidData` in plain words otherwise."""
    text = str(year).strip() if isinstance(year, int | str) and not isinstance(year, bool) else ""
    if not (text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR):
        shown = str(year)[:20]
        raise InvalidData(f"年度「{shown}」は使えません（{FIRST_YEAR}〜{LAST_YEAR} の西暦、例: 2019） / year {shown!r} is not a"
                          f" school year: its first calendar year, {FIRST_YEAR}-{LAST_YEAR} (2019 = 2019-04-01..2020-03-31)")
    return int(text)


def school_year_bounds(year: int) -> tuple[datetime, datetime]:
    """1 April ``year`` 00:00 JST and 1 April ``year + 1`` 00:00 JST (the end excluded)."""
    return datetime(year, 4, 1, tzinfo=TOKYO), datetime(year + 1, 4, 1, tzinfo=TOKYO)


# -- reading one case ----------------------------------------------------------------------------
@dataclass
class _Replay:
    """A case's events up to the reference date, folded: its facts, its states, when it was recognised."""

    definition: Definition
    facts: dict[str, Any] = field(default_factory=dict)
    leaves: frozenset[str] = frozenset()
    recognised_at: datetime | None = None
    closed_from: tuple[str, ...] = ()  # the states the last step into a closed state left

    @classmethod
    def of(cls, definition: Definition, events: Iterable[Event], as_of: datetime) -> _Replay:
        replay = cls(definition)
        for event in (e for e in events if e.at <= as_of):
            fold_event(replay.facts, definition, event.type, event.trigger, event.from_states, event.data)
            if event.to_states is not None:
                after = frozenset(event.to_states)
                if definition.is_closed(after) and not definition.is_closed(replay.leaves):
                    replay.closed_from = tuple(event.from_states or ())
                replay.leaves = after
            if replay.recognised_at is None and replay.facts.get("bullying_recognised") is True:
                replay.recognised_at = event.at
        return replay

    def resolution(self) -> str:
        d = self.definition
        if d.is_active("resolved", self.leaves) or (d.is_closed(self.leaves) and d.is_active("resolved", self.closed_from)):
            return "resolved"
        return "other" if d.is_closed(self.leaves) else "in_progress"


class _Reader:
    """Reads cases of the store, verifying each before anything of it is counted."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.unverified: list[Unverified] = []

    def events(self, row: CaseRow) -> tuple[Definition, list[Event]] | None:
        """The case's events and pinned definition when its log verifies; else ``None``, the case listed."""
        report = self.engine.verify(row.case_id)
        events = [parse_event(r.body, r.case_id, r.seq) for r in self.engine.store.read_case(row.case_id)] if report.ok else []
        pin = events[0].definition if events else None
        runtime = self.engine.runtime_for(pin.sha256) if pin is not None else None
        if runtime is not None:
            return runtime.definition, events
        self.unverified.append(Unverified(row.case_id, row.workflow, row.school,
                                          tuple(sorted({p.kind for p in report.problems})) or ("definition",),
                                          tuple(str(p)[:300] for p in report.problems[:3])))
        return None


# -- the return ------------------------------------------------------------------------------------
def annual_return(engine: Engine, year: int | str, *, school: str | None = None,
                  as_of: datetime | None = None) -> AnnualReturn:
    """The survey's tables for school year ``year`` (its first calendar year: 2019 = 2019-04-01 – 2020-03-31 JST) of one
    ``school`` or of every school in the store, as of ``as_of`` (default 31 March ``year + 1`` 23:59:59 JST): see the
    module docstring for how each case is counted. Reads only; every case counted verified first."""
    year = check_year(year)
    start, end = school_year_bounds(year)
    as_of = end - timedelta(seconds=1) if as_of is None else as_of
    if as_of.tzinfo is None or as_of.utcoffset() is None or as_of < start:
        raise InvalidData(f"基準日時 {as_of.isoformat()} はタイムゾーンのない、または {year} 年度の始まりより前の日時です / the"
                          f" reference time has no timezone or is before school year {year} begins ({start.isoformat()})")
    school = None if school is None else check_id(school, "school")
    reader = _Reader(engine)
    types = _school_types(engine, reader, year, as_of, school)
    cases, missing = list[RecognisedCase](), list[Missing]()
    for row in engine.cases(workflow="response", school=school):
        if row.opened_at > as_of or (row.closed and row.updated_at < start):
            continue
        read = reader.events(row)
        if read is None:
            continue
        replay = _Replay.of(*read, as_of)
        at = replay.recognised_at
        if replay.facts.get("bullying_recognised") is not True or at is None or not start <= at < end:
            continue
        case_school = read[1][0].school or ""
        grade = replay.facts.get("grade")
        cases.append(found := RecognisedCase(row.case_id, case_school, types.get(case_school, UNKNOWN), at,
                                             grade if isinstance(grade, int) else None,
                                             tuple(sorted(replay.facts.get("forms", ()))),
                                             replay.facts.get("discovered_through"), replay.resolution()))
        missing += [Missing(found.case_id, case_school, name) for name, value in
                    (("forms", found.forms), ("discovered_through", found.discovered_through), ("grade", found.grade))
                    if value is None or value == ()]
    serious = _serious(engine, reader, types, start, end, as_of, school)
    schools = sorted({c.school for c in cases} | {s.school for s in serious})
    return AnnualReturn(year, school, as_of, tuple(cases), tuple(serious), _tables(cases, serious),
                        tuple(reader.unverified), tuple(missing), tuple(s for s in schools if s not in types))


def _school_types(engine: Engine, reader: _Reader, year: int, as_of: datetime, school: str | None) -> dict[str, str]:
    """School -> school type, from the verified ``school_year`` cases of the year (the earliest opened first)."""
    types: dict[str, str] = {}
    start, _ = school_year_bounds(year)
    for row in engine.cases(workflow="school_year", school=school):
        if row.opened_at > as_of or (row.closed and row.updated_at < start) or row.school in types:
            continue
        read = reader.events(row)
        if read is None:
            continue
        facts = _Replay.of(*read, as_of).facts
        if facts.get("school_year") == year and isinstance(facts.get("school_type"), str) and row.school:
            types[row.school] = facts["school_type"]
    return types


def _serious(engine: Engine, reader: _Reader, types: Mapping[str, str], start: datetime, end: datetime,
             as_of: datetime, school: str | None) -> list[SeriousIncident]:
    found: list[SeriousIncident] = []
    for row in engine.cases(workflow="serious_incident", school=school):
        if not start <= row.opened_at < end or row.opened_at > as_of:
            continue
        read = reader.events(row)
        if read is None:
            continue
        definition, events = read
        criteria = set(_Replay.of(definition, events, as_of).facts.get("criterion", ()))
        for e in events:  # whatever the workflow version declares: the events themselves name them
            value = e.data.get("criterion") if e.type in ("opened", "criterion_met") and e.at <= as_of else None
            criteria |= {value} if isinstance(value, str) else set(value) if isinstance(value, list) else set()
        kinds = tuple(t for t, ids in (("type_1", TYPE_1), ("type_2", TYPE_2)) if criteria & ids)
        origin = events[0].data.get("escalated_from")
        case_school = events[0].school or ""
        found.append(SeriousIncident(row.case_id, case_school, types.get(case_school, UNKNOWN), events[0].at,
                                     tuple(sorted(criteria)), kinds, origin if isinstance(origin, str) else None))
    return found


# -- the tables ----------------------------------------------------------------------------------------
def _labels() -> dict[str, list[Category]]:
    """The survey's categories with their Japanese and English names, from the contract (workflow ``response``)."""
    response = load_contract().workflow("response")
    out = {f.id: [Category(v.id, v.ja, v.en) for v in f.values or []] for f in response.facts if f.values}
    out |= {d.id: [Category(v.id, v.ja, v.en) for v in d.values] for d in response.derived}
    return out


def _with_seen(known: list[Category], seen: Iterable[str | None]) -> list[Category]:
    """The known categories, then any other recorded id (a later workflow's value), named by its id."""
    ids = {c.id for c in known}
    return known + [Category(v, v, v) for v in sorted({s for s in seen if s is not None and s not in ids})]


def _table(table_id: str, rows: list[Category], cols: list[Category], items: Iterable[tuple[str, str, Iterable[str]]]) -> Table:
    """``items``: (case id, column id, the row ids it counts under); 計 rows and columns are the distinct cases."""
    cells: dict[tuple[str, str], set[str]] = {}
    for case_id, col, row_ids in items:
        for row in [*row_ids, TOTAL]:
            for c in (col, TOTAL):
                cells.setdefault((row, c), set()).add(case_id)
    ja, en = TABLES[table_id]
    return Table(table_id, ja, en, tuple(rows), tuple(cols), {k: tuple(sorted(v)) for k, v in cells.items()})


def _tables(cases: list[RecognisedCase], serious: list[SeriousIncident]) -> tuple[Table, ...]:
    labels = _labels()
    total = Category(TOTAL, "計", "total")
    seen_types = [c.school_type for c in cases] + [s.school_type for s in serious]
    known = [Category(k, ja, en) for k, (ja, en) in SCHOOL_TYPES.items()]
    cols = [*_with_seen(known, (t for t in seen_types if t != UNKNOWN)), Category(UNKNOWN, "校種不明", "school type unknown"),
            total]
    grades = sorted({1, 2, 3, 4, 5, 6} | {c.grade for c in cases if c.grade is not None})
    grade_rows = [*(Category(str(g), f"{g}年", f"grade {g}") for g in grades), Category(UNKNOWN, "学年不明", "grade unknown"),
                  total]
    unrecorded = Category(UNRECORDED, "未記録", "not recorded")
    form_rows = [*_with_seen(labels["forms"], (f for c in cases for f in c.forms)), unrecorded,
                 Category(TOTAL, "計（認知件数）", "total (cases, not a sum)")]
    found_rows = [*_with_seen(labels["discovered_through"], (c.discovered_through for c in cases)), unrecorded, total]
    serious_en = {v.id: v.en for v in labels["serious_incident_type"]}
    serious_rows = [Category("type_1", "1号", serious_en.get("type_1", "type (i)")),
                    Category("type_2", "2号", serious_en.get("type_2", "type (ii)")),
                    Category("both", "1号かつ2号", serious_en.get("both", "both")), total]
    return (
        _table("recognised", grade_rows, cols,
               ((c.case_id, c.school_type, [UNKNOWN if c.grade is None else str(c.grade)]) for c in cases)),
        _table("forms", form_rows, cols, ((c.case_id, c.school_type, c.forms or (UNRECORDED,)) for c in cases)),
        _table("discovered_through", found_rows, cols,
               ((c.case_id, c.school_type, [c.discovered_through or UNRECORDED]) for c in cases)),
        _table("resolution_status", [*labels["resolution_status"], total], cols,
               ((c.case_id, c.school_type, [c.resolution]) for c in cases)),
        _table("serious_incidents", serious_rows, cols,
               ((s.case_id, s.school_type, [*s.types, *(["both"] if len(s.types) == 2 else [])]) for s in serious)),
    )
