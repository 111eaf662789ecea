"""The periods of a school year a recurring deadline (``every``) runs per: months, terms, the year.

A school year runs from 1 April to 31 March (Asia/Tokyo by default: the workflow's time zone). Its terms
(学期) are the workflow's ``calendar.terms``, by month and day, the same every year; a workflow that writes
none has three: 4/1–8/31, 9/1–12/31, 1/1–3/31 (the usual 三学期制 of a municipal school's rules). A period
starts at midnight of its first day and ends at midnight after its last, in the workflow's time zone; a
duty of that period is due at its end and met only by a step whose time falls inside it.

Which school year: a case's int fact ``school_year`` (:data:`YEAR_FACT`) when it has one (a year's case is
opened with its year, perhaps before 1 April), else the school year of the moment the state is entered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..language.models import DeadlineDef, TermDef
from .absence import school_year

if TYPE_CHECKING:
    from ..definition import Definition

__all__ = ["DEFAULT_TERMS", "YEAR_FACT", "Period", "case_year", "periods", "term_problems", "terms_of"]

YEAR_FACT = "school_year"
DEFAULT_TERMS = (
    TermDef.model_validate({"id": "term_1", "ja": "1学期", "en": "First term", "from": "04-01", "to": "08-31"}),
    TermDef.model_validate({"id": "term_2", "ja": "2学期", "en": "Second term", "from": "09-01", "to": "12-31"}),
    TermDef.model_validate({"id": "term_3", "ja": "3学期", "en": "Third term", "from": "01-01", "to": "03-31"}),
)
_ORDER = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]  # the months of a school year, in order
_MONTH_JA = {m: f"{m}月" for m in range(1, 13)}


@dataclass(frozen=True)
class Period:
    """One period of one school year: ``label`` is ``2019-06`` (a month), ``2019:term_2`` (a term) or ``2019``
    (the year, or a window of months in it); ``ja`` as staff read it (2019年度 6月, 2019年度 2学期 ...)."""

    label: str
    ja: str
    start: datetime
    end: datetime


def terms_of(defn: Definition) -> tuple[TermDef, ...]:
    calendar = defn.spec.calendar
    terms = calendar.terms if calendar is not None else None
    return tuple(terms) if terms else DEFAULT_TERMS


def _day(year: int, month_day: str) -> date:
    """A month-day of school year ``year`` (April–December in ``year``, January–March in the next)."""
    month, day = int(month_day[:2]), int(month_day[3:])
    return date(year if month >= 4 else year + 1, month, day)


def term_problems(terms: list[TermDef]) -> Iterator[tuple[int, str]]:
    """(index, message) for each term that is not a real day range, or that is out of order or overlaps the one
    before (in a school year: April first). Checked on a leap school year so that 02-29 is a day."""
    previous: date | None = None
    for i, term in enumerate(terms):
        try:
            first, last = _day(2019, term.from_), _day(2019, term.to)
        except ValueError:
            yield i, (f"学期「{term.id}」の日付 {term.from_}〜{term.to} が暦にありません / term '{term.id}': {term.from_} to"
                      f" {term.to} is not a real range of days")
            continue
        if last < first:
            yield i, (f"学期「{term.id}」は終わり（{term.to}）が始まり（{term.from_}）より前です（年度は4月に始まります） / term"
                      f" '{term.id}' ends before it starts (a school year starts in April)")
        elif previous is not None and first <= previous:
            yield i, (f"学期「{term.id}」が前の学期と重なるか順序が逆です / term '{term.id}' overlaps the term before it"
                      " or is out of order")
        previous = last


def case_year(facts: Mapping[str, Any], at: datetime, defn: Definition) -> int:
    """The school year a case's recurring deadlines belong to (see the module docstring)."""
    given = facts.get(YEAR_FACT)
    if isinstance(given, int) and not isinstance(given, bool) and 1900 < given < 2200:
        return given
    return school_year(at.astimezone(defn.tz).date())


def periods(defn: Definition, spec: DeadlineDef, year: int) -> list[Period]:
    """The periods of school year ``year`` a recurring deadline runs per, in order."""
    tz = defn.tz

    def at(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz)

    def month_start(month: int) -> date:
        return date(year if month >= 4 else year + 1, month, 1)

    def month_end(month: int) -> date:
        first = month_start(month)
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)

    if spec.every == "month":
        months = [m for m in _ORDER if spec.months is None or m in spec.months]
        return [Period(f"{month_start(m).year:04d}-{m:02d}", f"{year}年度 {_MONTH_JA[m]}", at(month_start(m)),
                       at(month_end(m))) for m in months]
    if spec.every == "term":
        return [Period(f"{year}:{t.id}", f"{year}年度 {t.ja}", at(_day(year, t.from_)), at(_day(year, t.to) + timedelta(days=1)))
                for t in terms_of(defn)]
    if spec.months:
        listed = sorted(spec.months, key=_ORDER.index)
        words = "・".join(_MONTH_JA[m] for m in listed)
        return [Period(f"{year}", f"{year}年度（{words}）", at(month_start(listed[0])), at(month_end(listed[-1])))]
    return [Period(f"{year}", f"{year}年度", at(date(year, 4, 1)), at(date(year + 1, 4, 1)))]
