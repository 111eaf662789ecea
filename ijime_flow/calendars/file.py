"""A school's calendar file (``calendar.yaml``, beside its workflows): the school's own closures per school year.

::

    # 学校の暦 / school calendar
    country: JP            # national holidays from the holidays package (ISO 3166 code); subdivision: optional
    school_years:
      2026:                # 1 April 2026 – 31 March 2027
        closures:          # 休業日: single days or ranges
          - 2026-07-21..2026-08-31   # 夏季休業
          - 2026-12-25..2027-01-07
        school_days: []    # 授業日 on a weekend or holiday (振替授業), optional

``weekends`` (e.g. ``[saturday, sunday]``) may be written here too; without it the workflow's
``calendar.weekends`` count. National holidays are never listed: they come from the ``holidays`` package.

The file is read as a workflow file is (:func:`~ijime_flow.language.yaml_source.parse`: YAML 1.2, duplicate
keys refused), and every problem is reported together with its file, line and field, Japanese first: an
unknown field or weekday, a day outside its school year, a range that ends before it starts, a day that is
both a closure and a school day, a country or subdivision the ``holidays`` package does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DefinitionError, Problem
from ..language.dates import date_refusal
from ..language.models import Weekday
from ..language.shape_messages import validation_problems
from ..language.yaml_source import Located, parse
from .resolved import country_problem

__all__ = ["CALENDAR_FILE", "CalendarFile", "SchoolCalendarFile", "SchoolYearDef", "calendar_beside", "load_calendar",
           "load_calendar_text"]

CALENDAR_FILE = "calendar.yaml"
_RANGE = ".."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchoolYearDef(_Model):
    """One school year (1 April to 31 March): the school's closure days and its extra school days."""

    closures: list[date | str] = Field(default_factory=list, description="休業日: a day (2026-07-21) or a range"
                                                                         " (2026-07-21..2026-08-31)")
    school_days: list[date | str] = Field(default_factory=list, description="授業日 on a weekend or a holiday (振替授業)")


class CalendarFile(_Model):
    """A whole calendar file."""

    country: str = Field(default="JP", description="ISO 3166 code of the national holidays (holidays package)")
    subdivision: str | None = Field(default=None, description="a region of the country, when its holidays differ")
    weekends: list[Weekday] | None = Field(default=None, description="default: the workflow's calendar.weekends")
    school_years: dict[int, SchoolYearDef] = Field(default_factory=dict)


@dataclass(frozen=True)
class SchoolCalendarFile:
    """A calendar file read and checked: the days it lists, resolved from its ranges."""

    file: str
    spec: CalendarFile
    closures: dict[int, frozenset[date]]  # by school year
    school_days: dict[int, frozenset[date]]

    @property
    def country(self) -> str:
        return self.spec.country

    @property
    def subdivision(self) -> str | None:
        return self.spec.subdivision

    @property
    def weekends(self) -> list[str] | None:
        return None if self.spec.weekends is None else list(self.spec.weekends)


def load_calendar(path: str | Path) -> SchoolCalendarFile:
    """Read a calendar file; :class:`DefinitionError` naming every problem (file, line, field) when it is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError([Problem(str(path), 1, 1, "", "暦のファイルがありません / calendar file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "", f"暦のファイルを読めません（UTF-8 で保存してください） /"
                                                            f" cannot read the calendar file: {exc}")]) from None
    return load_calendar_text(text, str(path))


def load_calendar_text(text: str, file: str = "<calendar>") -> SchoolCalendarFile:
    """Read a calendar from YAML text (``file`` names it in messages)."""
    located = parse(text, file, CalendarFile)
    data = {} if located.data is None else located.data
    if not isinstance(data, dict):
        raise DefinitionError([located.problem((), "暦のファイルは country、school_years などのキーと値の組（マッピング）です"
                                                   " / a calendar file must be a mapping (country, school_years, ...)")])
    try:
        spec = CalendarFile.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(validation_problems(exc, located, CalendarFile)) from None
    problems: list[Problem] = []
    problem = country_problem(spec.country, spec.subdivision)
    if problem:
        problems.append(located.problem(("subdivision",) if "subdivision" in problem else ("country",), problem))
    closures: dict[int, frozenset[date]] = {}
    school_days: dict[int, frozenset[date]] = {}
    for year, entry in spec.school_years.items():
        if not 1900 <= year <= 2200:
            problems.append(located.problem(("school_years", year), f"年度「{year}」は西暦の年で書いてください（例: 2026） /"
                                                                    f" school year '{year}' must be a year, e.g. 2026",
                                            at_key=True))
            continue
        closures[year] = frozenset(_days(located, year, "closures", entry.closures, problems))
        school_days[year] = frozenset(_days(located, year, "school_days", entry.school_days, problems))
        both = sorted(closures[year] & school_days[year])
        if both:
            problems.append(located.problem(("school_years", year, "school_days"),
                                            f"{both[0].isoformat()} は休業日にも授業日にも書かれています / {both[0].isoformat()}"
                                            " is listed both as a closure and as a school day"))
    if problems:
        raise DefinitionError(sorted(problems, key=lambda p: (p.line, p.col)))
    return SchoolCalendarFile(file, spec, closures, school_days)


def _days(located: Located, year: int, field: str, entries: list[date | str], problems: list[Problem]) -> Iterator[date]:
    """The days of ``entries`` (single days and ranges) of school year ``year``; a problem for each bad one."""
    first, last = date(year, 4, 1), date(year + 1, 3, 31)
    for i, entry in enumerate(entries):
        where = ("school_years", year, field, i)
        span = _span(entry)
        if isinstance(span, str):
            problems.append(located.problem(where, span))
            continue
        start, end = span
        if end < start:
            problems.append(located.problem(where, f"範囲の終わり {end.isoformat()} が始まり {start.isoformat()} より前です /"
                                                   f" the range ends ({end.isoformat()}) before it starts ({start.isoformat()})"))
            continue
        if start < first or end > last:
            outside = start if start < first else end
            span_ja = f"{year}年度（{first.isoformat()}〜{last.isoformat()}）"
            span_en = f"school year {year} ({first.isoformat()} .. {last.isoformat()})"
            problems.append(located.problem(where, f"{outside.isoformat()} は {span_ja}の外です / {outside.isoformat()} is"
                                                   f" outside {span_en}"))
            continue
        day = start
        while day <= end:
            yield day
            day += timedelta(days=1)


def _span(entry: Any) -> tuple[date, date] | str:
    """(first, last) of a day or a ``A..B`` range, or why it is neither."""
    if isinstance(entry, date):
        return entry, entry
    text = str(entry).strip()
    parts = text.split(_RANGE) if _RANGE in text else [text]
    if len(parts) > 2:
        parts = []
    days: list[date] = []
    for part in parts:
        try:
            days.append(date.fromisoformat(part.strip()))
        except ValueError:
            refusal = date_refusal(part.strip())
            return refusal if len(parts) == 1 else f"範囲「{text}」: {refusal}"
    if not days:
        return (f"「{text}」は日付（2026-07-21）か範囲（2026-07-21..2026-08-31）ではありません / '{text}' is neither a day"
                " (2026-07-21) nor a range (2026-07-21..2026-08-31)")
    return days[0], days[-1]


def calendar_beside(workflow: str | Path) -> Path | None:
    """The calendar file beside a workflow file (a mutant's name, ``file#id``, counts as its file), or in a folder."""
    path = Path(str(workflow).split("#")[0])
    folder = path if path.is_dir() else path.parent
    candidate = folder / CALENDAR_FILE
    return candidate if candidate.is_file() else None
