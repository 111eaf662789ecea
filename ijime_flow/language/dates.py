"""Dates as a workflow file writes them: ``2019-05-30`` (YYYY-MM-DD), and nothing else.

A date written another way — ``2019/05/30``, ``2019年6月6日``, ``令和元年6月6日``, ``R1.6.6``, ``20190530``,
``2019-5-3`` — is refused (the canonical form, and so the hash, must not depend on how someone wrote a
day), but the refusal shows the accepted form with an example and, when the text can only mean one day,
that day: ``もしかして: 2019-06-06``. A Japanese era year counts from the era's first year (元年 is 1), and
the day must fall inside the era (令和元年4月1日 is not a day: 令和 began on 1 May 2019).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from .suggest import shown

EXAMPLE = "2019-05-30"
ERAS: tuple[tuple[str, str, date], ...] = (  # name, initial, first day; latest first
    ("令和", "R", date(2019, 5, 1)),
    ("平成", "H", date(1989, 1, 8)),
    ("昭和", "S", date(1926, 12, 25)),
    ("大正", "T", date(1912, 7, 30)),
    ("明治", "M", date(1868, 1, 25)),
)
_WESTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ERA = re.compile(r"^(令和|平成|昭和|大正|明治|[RHSTM])\s*(元|\d{1,2})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?$",
                  re.IGNORECASE)
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_WEEKDAY = re.compile(r"\s*[(（][^)）]*[)）]\s*$")  # 2019年6月6日（木）


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _era_day(era: str, year_text: str, month: int, day: int) -> date | None:
    index = next(i for i, (name, initial, _) in enumerate(ERAS) if era in (name, initial) or era.upper() == initial)
    _, _, first = ERAS[index]
    year = 1 if year_text == "元" else int(year_text)
    found = _day(first.year + year - 1, month, day) if year >= 1 else None
    if found is None or found < first or (index > 0 and found >= ERAS[index - 1][2]):
        return None
    return found


def read_loosely(text: str) -> date | None:
    """The one day ``text`` can mean, written some other way than YYYY-MM-DD; None when it is not clear."""
    text = _WEEKDAY.sub("", unicodedata.normalize("NFKC", text).strip())
    for pattern in (_WESTERN, _COMPACT):
        match = pattern.match(text)
        if match:
            return _day(*(int(g) for g in match.groups()))
    match = _ERA.match(text)
    if match:
        era, year, month, day = match.groups()
        return _era_day(era, year, int(month), int(day))
    match = _DAY_FIRST.match(text)
    if match:
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second:
            return _day(year, second, first)
        if second > 12 >= first:
            return _day(year, first, second)
    return None


def date_refusal(value: object) -> str:
    """Why ``value`` is not a date here, Japanese first: the accepted form, an example, and the day it
    most likely means when there is one (``もしかして: 2019-06-06``)."""
    text = value if isinstance(value, str) else shown(value)
    seen = shown(text)
    meant = read_loosely(text) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if meant is not None and meant.isoformat() != text:
        guess = meant.isoformat()
        return (f"日付「{seen}」は YYYY-MM-DD の形で書いてください（例: {EXAMPLE}。もしかして: {guess}） / write the"
                f" date '{seen}' as YYYY-MM-DD (e.g. {EXAMPLE}; did you mean: {guess})")
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return (f"「{seen}」という日はありません（YYYY-MM-DD、例: {EXAMPLE}） / there is no day '{seen}'"
                f" (YYYY-MM-DD, e.g. {EXAMPLE})")
    era = _ERA.match(unicodedata.normalize("NFKC", text).strip()) if isinstance(value, str) else None
    if era is not None:  # an era's year, but no day of that era
        index = next(i for i, e in enumerate(ERAS) if era[1] in e[:2] or era[1].upper() == e[1])
        name, first = ERAS[index][0], ERAS[index][2].isoformat()
        last = (ERAS[index - 1][2] - timedelta(days=1)).isoformat() if index else ""
        return (f"日付「{seen}」は{name}の日付にありません（{name}は {first} から{f' {last} まで' if last else ''}）。"
                f"YYYY-MM-DD の形で書いてください（例: {EXAMPLE}） / '{seen}' is no day of the era {name} ({first} to"
                f" {last or 'now'}): write the date as YYYY-MM-DD (e.g. {EXAMPLE})")
    return (f"日付「{seen}」は YYYY-MM-DD の形で書いてください（例: {EXAMPLE}） / write the date '{seen}' as"
            f" YYYY-MM-DD (e.g. {EXAMPLE})")


def check_date(value: object) -> object:
    """``value`` unchanged unless it is a number or a boolean, which YAML and pydantic would otherwise read
    as a day counted from 1970 (``0`` is 1970-01-01): then a :class:`ValueError` with :func:`date_refusal`."""
    if isinstance(value, bool | int | float):
        raise ValueError(date_refusal(value))
    return value
