"""ISO 8601 durations as the language accepts them: ``within:`` of a deadline, ``at_least:`` of ``since``.

A duration is written ``PnYnMnDTnHnMnS`` (any parts, in that order, at least one) or ``PnW``, with:

- whole numbers only (``P1.5M`` and ``P1,5D`` are refused: calendar arithmetic has no half months);
- no sign (``-P1D``): a duration always counts forward from the moment it starts;
- at least one part that is not zero (``P0D``, ``PT0S`` would be due the moment they start);
- nothing around it (``"P3M\\n"``, ``" P3M"``): what is hashed is what is meant;
- at most 100 years (:data:`MAX_DURATION_MONTHS`), counting a year as 12 months and a month as 31
  days, so ``P100Y``, ``P1200M``, ``P37200D`` and ``PT892800H`` are the longest of their kinds. Added to
  any date from 1900 to 2200 the result stays far inside what Python's dates hold (year 9999).

:func:`parse_duration` is how the runtime reads a duration of a definition written by this version, and it
refuses exactly what :func:`check_duration` refuses, with the same :class:`DurationError` (a ``ValueError``),
so a definition that was validated can never fail later with an ``OverflowError`` or an ``isodate`` error.
A definition read back from a store may hold durations earlier versions accepted and these rules refuse:
:mod:`.stored` reads those (the runtime adds every duration through :func:`.stored.add_duration`).

A deadline's ``within`` may also be one of two words (:func:`check_within`):

- ``same_day`` (即日): by midnight at the end of the day it started, in the workflow's time zone;
- ``immediately`` (直ちに): within :data:`IMMEDIATELY_GRACE` (one hour) of the moment it started. The
  policy means "at once, before anything else"; a time is what the rest of the system can hold to: the
  projection lists overdue cases by a due *time* (no case is loaded), a clock can say when it became
  overdue, and a record is often made a little after the act (``at`` may be earlier than recording).
  "Before any other step" was the other reading, and it was refused: parallel regions and automatic
  steps move without anyone neglecting anything, and a case where nothing else happens would never be
  overdue. The grace is fixed, not configurable: it is part of what a definition means, and a stored
  definition must keep meaning what it meant when its cases were recorded (a grace of its own would have
  to be a field of the definition, hashed with it). It is shorter than ``same_day`` for policy checks,
  even late at night (23:30 + 1 hour is after midnight): 直ちに asks more than 即日.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

import isodate

MAX_DURATION_MONTHS = 1200  # 100 years
_DAYS_PER_MONTH = 31  # the longest month: the bound holds whatever date a duration is added to
MAX_DURATION_SECONDS = MAX_DURATION_MONTHS * _DAYS_PER_MONTH * 86_400
_MAX_DIGITS = 9  # more digits than this is over the bound anyway; int() of huge text is not free

_PART = r"([0-9]+)"
_DURATION = re.compile(
    rf"P(?:{_PART}W|(?:{_PART}Y)?(?:{_PART}M)?(?:{_PART}D)?(?:T(?=[0-9])(?:{_PART}H)?(?:{_PART}M)?(?:{_PART}S)?)?)"
)
# the same shape for the JSON Schema (editors): ECMA-262 regular expressions, anchored
DURATION_PATTERN = "^" + _DURATION.pattern + "$"
DATE_DURATION_PATTERN = r"^P(?:[0-9]+W|(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?)$"  # without hours: 'since' counts dates
_SECONDS = (("weeks", 7 * 86_400), ("years", 0), ("months", 0), ("days", 86_400), ("hours", 3_600),
            ("minutes", 60), ("seconds", 1))
_EXAMPLES = "P3M, P30D, P2W, PT2H"
SAME_DAY = "same_day"
IMMEDIATELY = "immediately"
IMMEDIATELY_GRACE = timedelta(hours=1)
"""How long ``within: immediately`` (直ちに) leaves: due this long after the deadline started."""
PERIODS = ("month", "term", "year")
"""What a recurring deadline (``every``) recurs per: a month, a term (the workflow's ``calendar.terms``), a
school year; each period's deadline is due at its end, and its ``within`` is ``end_of_<period>``."""
END_OF = {f"end_of_{p}": p for p in PERIODS}
WITHIN_PATTERN = f"^{SAME_DAY}$|^{IMMEDIATELY}$|{DURATION_PATTERN}|" + "|".join(f"^{w}$" for w in END_OF)


class DurationError(ValueError):
    """A duration the language does not accept; the message says why, in Japanese then English."""


def shown(text: str) -> str:
    """The text on one line (a line break or a control character written as an escape), cut at 40."""
    line = repr(text)[1:-1]
    return line if len(line) <= 40 else line[:37] + "..."


def _refusal(text: str) -> DurationError:
    seen = shown(text)
    if text != text.strip():
        return DurationError(f"期間「{seen}」の前後に空白や改行は書けません / the ISO 8601 duration '{seen}' has"
                             " white space or a line break around it: remove it")
    if text[:1] in ("-", "+", "−"):
        return DurationError(f"期間「{seen}」に符号は付けられません（期間は常に先へ数えます） / the ISO 8601 duration"
                             f" '{seen}' takes no sign: a duration always counts forward")
    if "." in text or "," in text:
        return DurationError(f"期間「{seen}」に小数は使えません（整数で: P1.5M ではなく P45D） /"
                             f" '{seen}': ISO 8601 durations here take whole numbers only (P45D, not P1.5M)")
    return DurationError(f"「{seen}」は ISO 8601 の期間ではありません（例: {_EXAMPLES}） /"
                         f" '{seen}' is not an ISO 8601 duration such as {_EXAMPLES}")


def _parts(text: str) -> dict[str, int]:
    """The parts of a well-formed duration, or a :class:`DurationError`."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or match.lastindex is None:  # no match, or "P" with no part at all
        raise _refusal(text if isinstance(text, str) else repr(text))
    if any(len(group) > _MAX_DIGITS for group in match.groups() if group is not None):
        raise _too_long(text)
    return {name: int(group or 0) for (name, _), group in zip(_SECONDS, match.groups(), strict=True)}


def _too_long(text: str) -> DurationError:
    seen = shown(text)
    return DurationError(f"期間「{seen}」は長すぎます（最長 100 年: P100Y、P1200M、P37200D） / the ISO 8601 duration"
                         f" '{seen}' is too long: at most 100 years (P100Y, P1200M, P37200D; a month counted as 31 days)")


@lru_cache(maxsize=256)
def parse_duration(text: str) -> timedelta | isodate.Duration:
    """A duration as a ``timedelta``, or an ``isodate.Duration`` when it has years or months (which
    adds calendar months: 31 May + P3M is 31 August; 30 November + P3M is 29 February).
    Raises :class:`DurationError` for anything the module docstring refuses."""
    parts = _parts(text)
    months = parts["years"] * 12 + parts["months"]
    seconds = sum(parts[name] * factor for name, factor in _SECONDS)
    if months == 0 and seconds == 0:
        raise DurationError(f"期間「{text}」の長さが 0 です（0 でない値を一つ以上） / the ISO 8601 duration '{text}'"
                            " is zero long: give at least one part that is not 0")
    if months * _DAYS_PER_MONTH * 86_400 + seconds > MAX_DURATION_SECONDS:
        raise _too_long(text)
    short = timedelta(weeks=parts["weeks"], days=parts["days"], hours=parts["hours"], minutes=parts["minutes"],
                      seconds=parts["seconds"])
    if months == 0:
        return short
    return isodate.Duration(days=short.days, seconds=short.seconds, years=parts["years"], months=parts["months"])


def check_duration(value: str) -> str:
    """``value`` if it is a duration the language accepts, else a :class:`DurationError` saying why."""
    parse_duration(value)
    return value


def check_within(value: str) -> str:
    """``value`` if it is a deadline's ``within`` the language accepts: ``same_day``, ``immediately`` or a
    duration (:func:`check_duration`); else a :class:`DurationError` saying why."""
    if value in (SAME_DAY, IMMEDIATELY):
        return value
    if isinstance(value, str) and value[:1].isalpha() and value[:1].upper() != "P":  # a word, not a duration
        seen = shown(value)
        raise DurationError(f"期限「{seen}」は書けません（same_day: 即日、immediately: 直ちに、または ISO 8601 の期間:"
                            f" {_EXAMPLES}） / within '{seen}' is not a deadline: write same_day, immediately or an"
                            f" ISO 8601 duration such as {_EXAMPLES}")
    return check_duration(value)


_UNITS = (("years", "年", "year"), ("months", "か月", "month"), ("weeks", "週間", "week"), ("days", "日", "day"),
          ("hours", "時間", "hour"), ("minutes", "分", "minute"), ("seconds", "秒", "second"))


def within_words(within: str) -> tuple[str, str]:
    """A deadline's ``within`` as people read it, (Japanese, English): 直ちに, 即日, 3日以内 ..."""
    if within == IMMEDIATELY:
        return "直ちに（1時間以内）", "immediately (within 1 hour)"
    if within == SAME_DAY:
        return "即日（当日中）", "the same day (by midnight)"
    if within in END_OF:
        ja, en = {"month": ("月", "month"), "term": ("学期", "term"), "year": ("年度", "school year")}[END_OF[within]]
        return f"{ja}ごと（{ja}末まで）", f"every {en} (by its end)"
    try:
        parts = _parts(within)
    except DurationError:  # a stored definition's duration that the strict rules refuse: as written
        return f"{within} 以内", f"within {within}"
    given = [(n, ja, en) for (name, ja, en) in _UNITS if (n := parts[name])]
    if not given:
        return f"{within} 以内", f"within {within}"
    return ("".join(f"{n}{ja}" for n, ja, _ in given) + "以内",
            "within " + " ".join(f"{n} {en}{'s' if n != 1 else ''}" for n, _, en in given))


def check_date_duration(value: str) -> str:
    """:func:`check_duration`, and no hours, minutes or seconds: for ``since``, which counts local dates."""
    check_duration(value)
    if "T" in value:  # the waiting period is counted in local dates: hours would silently count as 0 days
        raise DurationError(f"at_least は日付で数えるため時間（{value}）は書けません（例: P1D, P3M） / 'since' counts"
                            f" whole days from a date: '{value}' has hours, minutes or seconds (use e.g. P1D or P3M)")
    return value
