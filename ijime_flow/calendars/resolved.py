"""The calendar a case is judged under, resolved to explicit days, and how a case pins it.

A :class:`ResolvedCalendar` is made when a case is opened (:func:`resolve`) from the workflow's
``calendar:`` block and the school's calendar file (:mod:`.file`), if any:

- **national holidays** of the file's ``country`` (else the workflow's ``calendar.country``, else ``JP``)
  from the ``holidays`` package, for the school years covered: those the file lists, and the school year
  the case is opened in with the one before it (absences recorded late) and the two after it — unless the
  workflow says ``national_holidays: false``;
- **closures**: the file's, and the workflow's own ``calendar.closures`` (an older workflow's list);
- **weekends**: the file's ``weekends`` when it writes them, else the workflow's;
- **school days** the file adds on a weekend or a holiday (振替授業), which count as school days.

Its canonical text (:attr:`ResolvedCalendar.canonical`, canonical JSON) lists every closed day with its
name, so a case replays under exactly the days it was judged under whatever version of ``holidays`` is
installed later. The store keeps the text under its SHA-256 beside the workflow definitions
(``put_definition(sha, "calendar", version, text)``) and the case's first event names it in
``data["_calendar"]`` (:data:`CALENDAR_KEY`, reserved: a caller may not pass it). A case opened before
calendars were pinned has no such key and is judged by its workflow's ``calendar:`` block alone, as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import holidays

from ..canonical import canonical_json, sha256_hex
from .absence import SchoolCalendar, school_year

if TYPE_CHECKING:
    from ..language.models import CalendarDef
    from .file import SchoolCalendarFile

__all__ = ["CALENDAR_KEY", "FORMAT", "WEEKDAYS", "ResolvedCalendar", "country_problem", "national_holidays", "pinned_calendar",
           "resolve"]

CALENDAR_KEY = "_calendar"
FORMAT = "ijime-flow/calendar/1"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOSURE = "休業日 / school closure"
WORKFLOW_CLOSURE = "休業日（ワークフロー） / closure (workflow)"


@dataclass(frozen=True)
class ResolvedCalendar:
    """Which days are school days for one case: every rule written out as days (see the module notes)."""

    country: str | None  # whose national holidays were expanded (None: none were)
    subdivision: str | None
    weekends: tuple[str, ...]
    school_years: tuple[int, ...]  # the school years the holidays were expanded for
    closed: tuple[tuple[date, str], ...]  # (day, name), sorted: national holidays and closures
    school_days: frozenset[date] = frozenset()

    @cached_property
    def days(self) -> SchoolCalendar:
        """The calendar the absence rules count with."""
        return SchoolCalendar(weekends=frozenset(WEEKDAYS.index(d) for d in self.weekends),
                              closures=frozenset(day for day, _ in self.closed), school_days=self.school_days)

    def is_school_day(self, day: date) -> bool:
        return self.days.is_school_day(day)

    def name_of(self, day: date) -> str | None:
        """Why ``day`` is closed (a holiday's name, or a closure), ``None`` when it is not listed."""
        return dict(self.closed).get(day)

    @cached_property
    def canonical(self) -> str:
        data: dict[str, Any] = {"format": FORMAT, "country": self.country, "weekends": list(self.weekends),
                                "school_years": list(self.school_years),
                                "closed": {day.isoformat(): name for day, name in self.closed},
                                "school_days": sorted(day.isoformat() for day in self.school_days)}
        if self.subdivision is not None:
            data["subdivision"] = self.subdivision
        return canonical_json(data)

    @cached_property
    def sha256(self) -> str:
        return sha256_hex(self.canonical)

    @property
    def version(self) -> str:
        """What the store's version column says of it: the school years it covers."""
        years = self.school_years
        return f"{years[0]}-{years[-1]}" if years else "-"

    @classmethod
    def from_canonical(cls, text: str) -> ResolvedCalendar:
        """The calendar of a stored text (``ValueError`` when it is not one)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a calendar text (format {FORMAT})")
            weekends = tuple(str(d) for d in data["weekends"])
            if not set(weekends) <= set(WEEKDAYS):
                raise ValueError(f"unknown weekdays {sorted(set(weekends) - set(WEEKDAYS))}")
            found = cls(country=data["country"], subdivision=data.get("subdivision"), weekends=weekends,
                        school_years=tuple(int(y) for y in data["school_years"]),
                        closed=tuple((date.fromisoformat(k), str(v)) for k, v in sorted(data["closed"].items())),
                        school_days=frozenset(date.fromisoformat(d) for d in data["school_days"]))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a calendar text: {type(exc).__name__}: {exc}") from None
        found.__dict__["canonical"] = text  # as stored: it hashes as the case pinned it
        return found


def resolve(workflow: CalendarDef, school: SchoolCalendarFile | None, opened: date) -> ResolvedCalendar:
    """The calendar of a case opened on ``opened`` (a local date) under a workflow whose ``calendar:`` block
    is ``workflow``, at a school whose calendar file is ``school`` (``None``: none was loaded)."""
    year = school_year(opened)
    years = sorted({year - 1, year, year + 1, year + 2} | set(school.closures if school is not None else ()))
    country: str | None = None
    if workflow.national_holidays is not False:
        country = school.country if school is not None else (workflow.country or "JP")
    subdivision = school.subdivision if school is not None and country is not None else None
    weekends = school.weekends if school is not None and school.weekends is not None else list(workflow.weekends)
    closed: dict[date, str] = dict.fromkeys(workflow.closures, WORKFLOW_CLOSURE)
    extra: set[date] = set()
    if school is not None:
        for days in school.closures.values():
            closed.update(dict.fromkeys(days, CLOSURE))
        for days in school.school_days.values():
            extra |= days
    if country is not None:
        closed.update(national_holidays(country, subdivision, tuple(years)))
    return ResolvedCalendar(country, subdivision, tuple(weekends), tuple(years), tuple(sorted(closed.items())),
                            frozenset(extra))


@lru_cache(maxsize=64)
def national_holidays(country: str, subdivision: str | None, school_years: tuple[int, ...]) -> Mapping[date, str]:
    """The national holidays of ``country`` in the given school years (1 April to 31 March), by day, named in
    Japanese where the ``holidays`` package knows Japanese names."""
    calendar_years = sorted({y for year in school_years for y in (year, year + 1)})
    found = holidays.country_holidays(country, subdiv=subdivision, years=calendar_years, language="ja")
    spans = [(date(year, 4, 1), date(year + 1, 4, 1) - timedelta(days=1)) for year in school_years]
    return {day: str(name) for day, name in sorted(found.items()) if any(a <= day <= b for a, b in spans)}


def pinned_calendar(get_text: Callable[[str], str | None], pin: object) -> ResolvedCalendar | str:
    """The calendar a case pinned (``pin``: the value of ``data["_calendar"]``), read from the store's text
    (``get_text``: ``store.get_definition``), or why it cannot be: missing, altered or unreadable."""
    if not isinstance(pin, str) or len(pin) != 64:
        return (f"学校の暦の指定「{str(pin)[:70]}」が SHA-256 ではありません / the pinned calendar '{str(pin)[:70]}' is"
                " not a SHA-256")
    text = get_text(pin)
    if text is None:
        return (f"固定された学校の暦（{pin[:12]}…）がストアにありません / the pinned school calendar ({pin[:12]}…) is not"
                " in the store")
    if sha256_hex(text) != pin:
        return (f"固定された学校の暦（{pin[:12]}…）の内容がハッシュと一致しません（改ざんまたは破損） / the pinned school"
                f" calendar ({pin[:12]}…) does not hash to its pin: it was altered or damaged")
    try:
        return ResolvedCalendar.from_canonical(text)
    except ValueError as exc:
        return (f"固定された学校の暦（{pin[:12]}…）を読めません / the pinned school calendar ({pin[:12]}…) cannot be"
                f" read: {exc}")


def country_problem(country: str, subdivision: str | None = None) -> str:
    """Why the ``holidays`` package cannot give the national holidays of ``country`` (empty: it can)."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        return (f"国コード「{country}」の祝日は分かりません（ISO 3166 の2文字、例: JP） / no national holidays are known for"
                f" country '{country}' (an ISO 3166 code, e.g. JP)")
    if subdivision is not None and subdivision not in supported[country]:
        return (f"地域「{subdivision}」は {country} にありません（{', '.join(supported[country][:8]) or 'なし / none'}） /"
                f" '{subdivision}' is not a subdivision of {country}")
    return ""
