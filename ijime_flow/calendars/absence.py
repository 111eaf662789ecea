"""Absence thresholds for a serious incident of non-attendance (不登校重大事態).

The anti-bullying law (いじめ防止対策推進法 第28条第1項第2号) treats a pupil being forced to miss school
for a considerable period as a serious incident. Two separate rules are computed here, both as pure
functions of a set of absent dates (local dates in Asia/Tokyo, so plain ``datetime.date`` values):

* **Count in a window** (:func:`count_threshold`). The guide figure is 30 absent days. The window is
  either the *school year* of the new absence (1 April to 31 March; see :func:`school_year`), or a
  *rolling 365-day* window (``d - 364 days .. d``), as a workflow chooses. Every absent date counts,
  whatever the calendar says.
* **A run of consecutive school days** (:func:`run_threshold`), commonly 7, which calls for a prompt
  investigation. Only school days count (see :class:`SchoolCalendar`): weekends and listed closure
  dates (holidays, school closures) are skipped, so they neither break a run nor add to it, while a
  school day on which the pupil was not absent breaks it. An absence recorded on a closed day counts
  for nothing in a run.

Common rules:

* Absent dates are a *set*: the same date recorded twice counts once, so recording it again never
  produces a finding.
* A finding is produced **exactly once**, when the threshold is reached: each function is asked about
  one newly recorded date and returns a finding only if that date made a window (or run) reach the
  threshold which, without it, held nothing at or above the threshold. It returns ``None`` otherwise.
* Dates may be recorded out of order. A late-recorded date counts where it falls: in its school year,
  in every 365-day window that contains it, and in the run of school days it belongs to.

Rolling windows and out-of-order recording: the windows considered are all 365-day windows that
contain the new date (ending on it or up to 364 days later). A finding is returned when one of them
now holds the threshold and none of them held it without the new date; the window reported is the
earliest-ending one that does. Recorded in date order this is simply "the 365 days ending at the new
date". Runs likewise: the run containing the new date is the new date plus the two runs (before and
after it) that it joins; a finding is returned when the joined run reaches the threshold and neither
part did on its own. Two runs that each already produced a finding and are later joined by a
late-recorded day produce no further finding.

``first`` and ``last`` of a finding are the earliest and latest absent dates counted; when dates are
recorded in date order ``last`` is the date that made the threshold.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["WINDOWS", "AbsenceFinding", "SchoolCalendar", "count_threshold", "run_threshold", "school_year"]

WINDOWS: tuple[str, ...] = ("school_year", "rolling_365")
_ROLLING_SPAN = timedelta(days=364)  # a 365-day window is d - 364 days .. d inclusive
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SchoolCalendar:
    """Which dates are school days: not a weekend day (``date.weekday()`` numbers, Monday=0) and not
    a listed closure (national holidays, school closures, long vacations listed day by day) — or a listed
    extra school day (``school_days``: 振替授業 on a weekend or a holiday)."""

    weekends: frozenset[int] = frozenset({5, 6})  # Saturday=5, Sunday=6
    closures: frozenset[date] = frozenset()
    school_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        bad = sorted(d for d in self.weekends if not 0 <= d <= 6)
        if bad:
            raise ValueError(f"weekend day numbers must be 0 (Monday) .. 6 (Sunday), got {bad}")

    def is_school_day(self, day: date) -> bool:
        return (day.weekday() not in self.weekends and day not in self.closures) or day in self.school_days


def absent_days(is_school_day: Callable[[date], bool], start: date, count: int, every: int = 1) -> Iterator[date]:
    """``count`` absent dates from ``start``: every school day (``every=1``, a run) or every other one
    (``every=2``: absent, present, absent ... — absences that never form a run)."""
    day, left, school_days = start, count, 0
    while left > 0:
        if is_school_day(day):
            if school_days % every == 0:
                yield day
                left -= 1
            school_days += 1
        day += timedelta(days=1)


def school_year(day: date) -> int:
    """The school year a date belongs to: 2019 for 2019-04-01 .. 2020-03-31."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class AbsenceFinding:
    """A threshold reached. ``rule`` is ``"school_year"``, ``"rolling_365"`` or ``"consecutive"``."""

    rule: str  # "school_year" | "rolling_365" | "consecutive"
    count: int  # how many absent days the rule counted
    first: date  # first absent date counted
    last: date  # last absent date counted
    period: str  # human words: "school year 2019" / "365 days to 2020-04-10" / "consecutive school days"

    def describe(self) -> str:
        """Japanese then English, e.g. ``2019年度に欠席30日（2019-04-15〜2019-06-20） / 30 absent days in
        school year 2019: 2019-04-15 ... 2019-06-20``."""
        span_ja = f"（{self.first.isoformat()}〜{self.last.isoformat()}）"
        span_en = f"{self.first.isoformat()} ... {self.last.isoformat()}"
        if self.rule == "school_year":
            ja = f"{school_year(self.first)}年度に欠席{self.count}日"
        elif self.rule == "rolling_365":
            ja = f"{self.last.isoformat()}までの365日間に欠席{self.count}日"
        elif self.rule == "consecutive":
            ja = f"授業日に連続して欠席{self.count}日"
        else:
            ja = f"欠席{self.count}日（{self.period}）"
        if self.rule == "consecutive":
            en = f"{self.count} {self.period} absent: {span_en}"
        else:
            en = f"{self.count} absent days in {self.period}: {span_en}"
        return f"{ja}{span_ja} / {en}"


def _check_threshold(threshold: int) -> None:
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")


def count_threshold(absent: Iterable[date], new_day: date, threshold: int, window: str) -> AbsenceFinding | None:
    """The count rule: a finding when recording ``new_day`` makes its window reach ``threshold``
    distinct absent dates (``absent`` may or may not already contain ``new_day``).

    ``window`` is ``"school_year"`` (the dates in new_day's school year, including ones after it
    recorded out of order) or ``"rolling_365"`` (365-day windows containing new_day; in date order,
    ``new_day - 364 days <= d <= new_day``). Returns ``None`` when the threshold is not reached, when
    it was already reached without new_day, and when new_day was already recorded.
    """
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}: expected 'school_year' or 'rolling_365'")
    _check_threshold(threshold)
    before = set(absent)
    if new_day in before:
        return None  # recorded again: nothing changes
    days = sorted(before | {new_day})
    if window == "school_year":
        year = school_year(new_day)
        in_year = [d for d in days if school_year(d) == year]
        if len(in_year) != threshold:  # without new_day it held len - 1: below threshold iff len <= threshold
            return None
        return AbsenceFinding("school_year", len(in_year), in_year[0], in_year[-1], f"school year {year}")
    # rolling_365: windows containing new_day end at new_day .. new_day + 364; the fullest ones end on an absent date.
    start = bisect_left(days, new_day)
    stop = bisect_right(days, new_day + _ROLLING_SPAN)
    reached: tuple[int, date, date] | None = None
    for end in days[start:stop]:
        lo = bisect_left(days, end - _ROLLING_SPAN)
        count = bisect_right(days, end) - lo
        if count > threshold:  # holds threshold even without new_day: already reached
            return None
        if count == threshold and reached is None:
            reached = (count, days[lo], end)
    if reached is None:
        return None
    count, first, last = reached
    return AbsenceFinding("rolling_365", count, first, last, f"365 days to {last.isoformat()}")


def _run_side(school_absent: set[date], new_day: date, step: timedelta, calendar: SchoolCalendar, bound: date) -> list[date]:
    """Absent school days adjacent to new_day going one way, skipping non-school days, up to the first
    school day not absent (or past ``bound``, the furthest absent date that way)."""
    found: list[date] = []
    day = new_day
    while True:
        day += step
        if (step > timedelta(0) and day > bound) or (step < timedelta(0) and day < bound):
            return found
        if not calendar.is_school_day(day):
            continue
        if day not in school_absent:
            return found
        found.append(day)


def run_threshold(absent: Iterable[date], new_day: date, threshold: int, calendar: SchoolCalendar) -> AbsenceFinding | None:
    """The run rule: a finding when recording ``new_day`` makes the run of consecutive school days
    absent that contains it reach ``threshold`` school days, and neither part of that run without
    new_day (before it, after it) already had ``threshold``. Non-school days are skipped and neither
    break nor count. ``None`` when new_day is not a school day or was already recorded."""
    _check_threshold(threshold)
    before = set(absent)
    if new_day in before or not calendar.is_school_day(new_day):
        return None
    school_absent = {d for d in before if calendar.is_school_day(d)}
    lo = min(school_absent, default=new_day)
    hi = max(school_absent, default=new_day)
    earlier = _run_side(school_absent, new_day, -_ONE_DAY, calendar, lo)
    later = _run_side(school_absent, new_day, _ONE_DAY, calendar, hi)
    length = len(earlier) + 1 + len(later)
    if length < threshold or len(earlier) >= threshold or len(later) >= threshold:
        return None
    first = earlier[-1] if earlier else new_day
    last = later[-1] if later else new_day
    return AbsenceFinding("consecutive", length, first, last, "consecutive school days")
