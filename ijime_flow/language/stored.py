"""Definitions read back from a store: what earlier versions accepted, read as they ran it.

The language is strict about what is *written* — ``ijime-flow validate``, :func:`~.loader.load_text`,
:meth:`Engine.load <ijime_flow.Engine.load>` and :meth:`Engine.add_definition <ijime_flow.Engine.add_definition>`
refuse every duration :mod:`.durations` refuses. Earlier versions accepted any text ``isodate`` parsed,
and a store keeps every definition a case was opened under. Those cases must still read back, so a
definition read from its stored text (:meth:`Definition.from_canonical <ijime_flow.Definition.from_canonical>`,
:meth:`Engine.runtime_for <ijime_flow.Engine.runtime_for>`) is read leniently. Its text is kept as stored,
byte for byte (so it still hashes to the pin of its cases), lint is not run, and each duration the strict
rules refuse is read as earlier versions ran it:

- white space around it (``"P3M\\n"``, ``" P1D"``): the duration without it;
- fractions of days, weeks, hours, minutes or seconds (``P1.5D``, ``PT1,5H``): exactly, as ``isodate``
  read them (``P1.5D`` is 36 hours). In ``since`` (which counts local dates) a part of a day counts as
  nothing, as it always did: ``date + timedelta`` keeps whole days only;
- a sign: ``+P1D`` is ``P1D``; ``-P1D`` counts backwards, so the deadline is due *before* it started:
  overdue from the moment it starts, ``missed`` when met. A ``since`` with it holds from the fact's date on;
- zero (``P0D``, ``PT0S``, ``PT``), and a ``T`` with nothing after it (``P1DT`` is ``P1D``): due the
  moment it starts — ``met`` only by an event at that very time;
- hours in ``since`` (``PT2H``): counted in whole days, so as nothing, as before;
- longer than 100 years: exact wherever the result is a date Python holds (``P200Y`` from 2999 is due
  in 3199). Beyond that, earlier versions failed with ``OverflowError`` or ``ValueError``, so no
  recorded event started such a deadline; now the due time is clamped to :data:`LATEST_DUE`
  (9999-12-30 UTC; :data:`EARLIEST_DUE` for a negative one) and a ``since`` to ``date.max``
  (``date.min``). Clamped rather than dropped: the deadline the definition declares stays listed —
  open, never overdue, due later than any time the system holds — instead of silently vanishing;
- fractions of months or years (``P1.5M``): ``isodate`` read them but could never add them to a date
  (``ValueError``), and neither can we: calendar months have no halves. The definition reads, and so
  does every case that has not reached such a deadline or condition (none could, before); the step
  that would start it, or evaluate it, is refused with :class:`~ijime_flow.errors.StoredDefinitionError`
  naming the definition and the field.

What ``isodate`` never read (``P``, ``3M``, ``soon``) no version wrote; such a text, and anything else
that cannot run at all — not a workflow, a time zone this machine does not know, a state or fact it names
but does not declare (:func:`~.lint.unrunnable`, checked by ``Engine.runtime_for``; the reference checks
added later, such as role cycles, repeated enum values or ``requires`` naming a fact, are not applied) —
fails to read with :class:`~ijime_flow.errors.StoredDefinitionError` naming the definition (id, version,
SHA-256 prefix) and the field, Japanese then English — never as a definition that is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import isodate
from pydantic import ValidationError, ValidationInfo

from ..canonical import sha256_hex
from ..errors import Problem, StoredDefinitionError
from .durations import (
    IMMEDIATELY,
    IMMEDIATELY_GRACE,
    DurationError,
    check_date_duration,
    check_duration,
    parse_duration,
    shown,
)

EARLIEST_DUE = datetime(1, 1, 2, tzinfo=UTC)
"""The earliest due time a stored definition's deadline is given (a day inside Python's dates, so any zone shows it)."""
LATEST_DUE = datetime(9999, 12, 30, tzinfo=UTC)
"""The latest due time a stored definition's deadline is given (see the module docstring)."""
_CONTEXT = "ijime_flow.stored"  # the key of the pydantic validation context on the stored path
_D = TypeVar("_D", bound=date)


class StoredDuration(str):
    """A duration as a stored definition has it: the text as stored (it dumps and hashes as stored),
    with the definition and the field it belongs to, for the runtime's errors."""

    definition: str
    field: str


@dataclass
class StoredRead:
    """One reading of a stored text: its name in messages, and what the strict rules would refuse in it."""

    label: str  # "response 2019.1 (0123456789ab…)"
    file: str
    lenient: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, text: str, file: str) -> StoredRead:
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            obj = None
        ident, version = (obj.get("id"), obj.get("version")) if isinstance(obj, dict) else (None, None)
        name = " ".join(shown(str(part)) for part in (ident, version) if part is not None) or "?"
        return cls(f"{name} ({sha256_hex(text)[:12]}…)", file)

    @property
    def context(self) -> dict[str, Any]:
        return {_CONTEXT: self}

    def duration(self, value: str, where: str, *, dates: bool = False) -> StoredDuration:
        """``value`` as the stored path reads it; a :class:`DurationError` only when no version could read it."""
        try:
            (check_date_duration if dates else check_duration)(value)
        except DurationError as strict:
            self.lenient.append(Problem(self.file, 1, 1, where, str(strict)))
            _lenient(value)  # a DurationError when isodate never read it either
        text = StoredDuration(value)
        text.definition, text.field = self.label, where
        return text

    def refused(self, exc: ValidationError) -> StoredDefinitionError:
        """The first problems pydantic found, each at its field (``states.middle.deadlines.0.within``)."""
        ja: list[str] = []
        en: list[str] = []
        for e in exc.errors()[:3]:
            where = ".".join(str(p) for p in e["loc"]) or "(top)"
            message = e["msg"].removeprefix("Value error, ")
            japanese, _, english = message.partition(" / ") if " / " in message else (message, "", message)
            ja.append(f"{where}: {japanese}")
            en.append(f"{where}: {english}")
        more = f" (+{exc.error_count() - 3})" if exc.error_count() > 3 else ""
        return self.error("は読めません", "cannot be read", "; ".join(ja) + more, "; ".join(en) + more)

    def check_timezone(self, name: str) -> None:
        try:
            ZoneInfo(name)
        except (KeyError, ValueError, OSError):
            raise self.error("を実行できません", "cannot be run", f"timezone: 時間帯「{shown(name)}」がこの環境にありません",
                             f"timezone: '{shown(name)}' is not a time zone this machine knows (install tzdata?)"
                             ) from None

    def error(self, ja: str, en: str, detail_ja: str, detail_en: str | None = None) -> StoredDefinitionError:
        """Japanese, then `` / `` and English: the definition, what is wrong, the field."""
        return StoredDefinitionError(f"保存された定義 {self.label} {ja}（{detail_ja}） / the stored definition"
                                     f" {self.label} {en}: {detail_en or detail_ja}")


def reading(info: ValidationInfo) -> StoredRead | None:
    """The stored reading a validator runs in, or None on the strict path (no such context)."""
    context = info.context
    found = context.get(_CONTEXT) if isinstance(context, dict) else None
    return found if isinstance(found, StoredRead) else None


@lru_cache(maxsize=256)
def _lenient(text: str) -> timedelta | isodate.Duration:
    """What the runtime made of a stored duration: the strict reading, else ``isodate``'s (white space stripped)."""
    try:
        return parse_duration(text)
    except DurationError as strict:
        try:
            found: timedelta | isodate.Duration = isodate.parse_duration(text.strip())
        except (isodate.ISO8601Error, ValueError, OverflowError, InvalidOperation):
            raise strict from None
        return found


def add_duration(start: _D, text: str) -> _D:
    """``start`` plus the duration ``text``: a datetime for a deadline, a date for ``since``. A stored
    duration (:class:`StoredDuration`) is read leniently and clamped as the module docstring says; any
    other is read strictly (:func:`~.durations.parse_duration`). Never an ``OverflowError`` or an
    ``isodate`` ``ValueError``: only :class:`StoredDefinitionError` for fractional months or years.
    A deadline's ``immediately`` (直ちに) is :data:`~.durations.IMMEDIATELY_GRACE` (``same_day`` depends on
    the zone: :func:`ijime_flow.deadlines.due_time` reads it)."""
    if text == IMMEDIATELY:
        return start + IMMEDIATELY_GRACE  # a step's time is at most 2999: no overflow
    duration = _lenient(text) if isinstance(text, StoredDuration) else parse_duration(text)
    if isinstance(duration, isodate.Duration) and not (float(duration.years).is_integer()
                                                       and float(duration.months).is_integer()):
        raise _uncomputable(text)
    try:
        result: _D = start + duration
    except (OverflowError, ValueError):  # past year 9999 or before year 1
        return _bound(start, forward=_forward(duration))
    if isinstance(result, datetime) and not 1 < result.year < 9999 and not EARLIEST_DUE <= result <= LATEST_DUE:
        return _bound(start, forward=result > LATEST_DUE)
    return result


def _forward(duration: timedelta | isodate.Duration) -> bool:
    if isinstance(duration, timedelta):
        return duration >= timedelta(0)
    months = duration.years * 12 + duration.months
    return bool(months > 0 or (months == 0 and duration.tdelta >= timedelta(0)))


def _bound(start: _D, *, forward: bool) -> _D:
    if isinstance(start, datetime):
        return cast(_D, LATEST_DUE if forward else EARLIEST_DUE)
    return cast(_D, date.max if forward else date.min)


def _uncomputable(text: str) -> StoredDefinitionError:
    label, where = getattr(text, "definition", "?"), getattr(text, "field", "duration")
    return StoredDefinitionError(
        f"保存された定義 {label} の {where}「{shown(text)}」は日付に足せません（月・年に小数があります）。この期限・条件に"
        f"至る操作はできません / the stored definition {label}: {where} '{shown(text)}' cannot be added to a date"
        " (fractional months or years): the step that reaches it cannot be taken; open new cases under a"
        " corrected version")
