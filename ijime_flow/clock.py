"""Injectable clocks. The engine never reads the wall clock except through one of these."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import NoReturn, Protocol
from zoneinfo import ZoneInfo

from .errors import InvalidData

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far past its clock a step's ``at`` may be (a step dated later is refused, and verification holds
the recorded ``at`` to the same margin over ``recorded_at``)."""

TOKYO: tzinfo = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: it says what it was told, and moves only when asked."""

    def __init__(self, at: datetime) -> None:
        require_aware(at, "FixedClock")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        require_aware(at, "FixedClock.set")
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at = self._at + delta


def require_aware(at: datetime, what: str) -> None:
    """Refuse naive datetimes: a time without a zone cannot be placed on the school's calendar."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        _not_aware(at, what)


def _not_aware(at: object, what: str) -> NoReturn:
    if not isinstance(at, datetime):
        raise InvalidData(f"{what}: 'at' must be a datetime, got {type(at).__name__}")
    raise InvalidData(
        f"{what}: 日時にタイムゾーンがありません / 'at' is a naive datetime ({at.isoformat()});"
        " give a timezone, e.g. datetime(..., tzinfo=ZoneInfo('Asia/Tokyo'))"
    )


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""No step is dated before this: a school record of that age is a typing mistake (year 0001, 1019)."""
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""Nor at or after this (year 9999 is a typing mistake too, and deadlines must stay computable)."""


def storable(at: datetime, what: str = "at") -> datetime:
    """A time the event format carries and reads back: aware, with a UTC offset of whole minutes (an
    offset like zoneinfo's +09:18:59 for old Tokyo dates, or seconds, becomes the same instant in UTC),
    and from :data:`EARLIEST` up to :data:`LATEST`. ``InvalidData`` otherwise."""
    offset = at.utcoffset() if isinstance(at, datetime) and at.tzinfo is not None else None
    if offset is None:
        _not_aware(at, what)
    if offset.seconds % 60 or offset.microseconds:
        try:
            at = at.astimezone(UTC)
        except OverflowError:  # year 1 east of UTC, year 9999 west of it: not a time in range either
            _out_of_range(at, what)
    if EARLIEST.year < at.year < LATEST.year - 1:  # the common case: no aware comparison needed
        return at
    try:
        inside = EARLIEST <= at < LATEST
    except OverflowError:
        inside = False
    if not inside:
        _out_of_range(at, what)
    return at


def _out_of_range(at: datetime, what: str) -> NoReturn:
    raise InvalidData(f"{what}: {EARLIEST.year}年から{LATEST.year - 1}年までの日時にしてください / {what}"
                      f" ({at.isoformat()}) is not between {EARLIEST.year} and {LATEST.year - 1}: check the year")


JST_MINUTE = "%Y-%m-%d %H:%M"


def jst(at: datetime) -> str:
    """A time as people at the school read it: Japan time, to the minute (``2019-05-13 12:40``)."""
    return at.astimezone(TOKYO).strftime(JST_MINUTE)


def parse_local_time(text: str) -> datetime:
    """An ISO 8601 date or time given by a person (``--at``, ``--as-of``); without a zone it is Japan
    time, and a date alone is its midnight JST."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidData(f"時刻「{text}」を読めません / {text!r} is not an ISO 8601 date or time"
                          " (e.g. 2019-05-03T17:00, 2019-05-03T17:00+09:00, 2019-05-03)") from None
    return storable(at.replace(tzinfo=TOKYO) if at.tzinfo is None else at, f"時刻 / time {text!r}")


def checked_time(at: datetime | None, now: datetime, *, opened_at: datetime | None = None) -> datetime:
    """The time of a step: ``now`` by default; never naive, never in the future, never before the case
    was opened (``opened_at``), always one the event format carries (:func:`storable`).
    ``now`` is the clock's reading, already passed through ``storable``."""
    if at is None:
        return now
    at = storable(at)
    if at > now + FUTURE_TOLERANCE:
        raise InvalidData(f"未来の日時は記録できません / 'at' ({at.isoformat()}) is later than now"
                          f" ({now.isoformat()}): a step is recorded when it has happened")
    if opened_at is not None and at < opened_at:
        raise InvalidData(f"事案の開始（{opened_at.isoformat()}）より前の日時は記録できません / 'at' ({at.isoformat()}) is"
                          f" before the case was opened ({opened_at.isoformat()})")
    return at
