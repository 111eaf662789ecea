"""An engine's school calendar: the calendar file it loaded, and the calendars its cases pin.

:class:`CalendarPins` is what :class:`~ijime_flow.Engine` keeps of calendars (``engine.calendars``):

- :meth:`CalendarPins.load`: a ``calendar.yaml`` (``Engine.load(folder)`` loads the one in that folder;
  ``Engine.load_calendar(path)`` one elsewhere). New cases are opened under the last one loaded.
- :meth:`CalendarPins.pin`: when a case is opened, its calendar resolved (:func:`.resolved.resolve`), its
  canonical text kept in the store under its SHA-256, and the SHA-256 put in the opening data
  (``_calendar``, which a caller may not pass).
- :meth:`CalendarPins.runtime`: the runtime a case is judged under when it is read back: its
  definition's, judged under the calendar it pinned, read from the store (a case with no pin keeps its
  workflow's own ``calendar:`` block).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidData, StoredDefinitionError
from .file import CALENDAR_FILE, SchoolCalendarFile, load_calendar
from .resolved import CALENDAR_KEY, ResolvedCalendar, pinned_calendar, resolve

if TYPE_CHECKING:
    from ..definition import Definition
    from ..machine import Runtime
    from ..store import Store

__all__ = ["CalendarPins"]


class CalendarPins:
    """The calendar file an engine loaded, and the calendars and runtimes it made (see the module notes)."""

    def __init__(self) -> None:
        self.file: SchoolCalendarFile | None = None
        self._lock = threading.Lock()
        self._resolved: dict[tuple[str, int, int], ResolvedCalendar] = {}  # (definition, file, school year) ->
        self._runtimes: dict[tuple[str, str], Runtime] = {}  # (definition sha, calendar sha) -> runtime
        self._kept: set[str] = set()

    def load(self, path: str | Path) -> SchoolCalendarFile:
        """Read ``path`` (:func:`.file.load_calendar`: a :class:`DefinitionError` naming file, line and field
        when it is wrong) and open new cases under it."""
        loaded = load_calendar(path)
        with self._lock:
            self.file = loaded
            self._resolved.clear()
        return loaded

    def load_beside(self, folder: Path) -> SchoolCalendarFile | None:
        """The ``calendar.yaml`` of ``folder``, loaded, when there is one."""
        candidate = folder / CALENDAR_FILE
        return self.load(candidate) if candidate.is_file() else None

    def calendar_for(self, definition: Definition, at: datetime) -> ResolvedCalendar:
        """The calendar a case of ``definition`` opened at ``at`` is judged under."""
        opened = at.astimezone(definition.tz).date()
        school = self.file
        year = opened.year if opened.month >= 4 else opened.year - 1
        key = (definition.sha256, id(school), year)
        found = self._resolved.get(key)
        if found is None:
            found = resolve(definition.spec.calendar, school, opened)
            with self._lock:
                if self.file is school:
                    self._resolved[key] = found
        return found

    def pin(self, store: Store, runtime: Runtime, data: dict[str, Any], at: datetime) -> tuple[Runtime, dict[str, Any]]:
        """A new case's runtime under its calendar, and its opening data with the pin (the calendar's text kept)."""
        if CALENDAR_KEY in data:
            raise InvalidData(f"data の {CALENDAR_KEY} は予約されています（事案の学校の暦はエンジンが固定します） /"
                              f" '{CALENDAR_KEY}' is reserved in data: the engine pins the case's school calendar")
        calendar = self.calendar_for(runtime.definition, at)
        if calendar.sha256 not in self._kept:
            store.put_definition(calendar.sha256, "calendar", calendar.version, calendar.canonical)
            self._kept.add(calendar.sha256)
        return self._under(runtime, calendar), {**data, CALENDAR_KEY: calendar.sha256}

    def forget_kept(self) -> None:
        """The store may no longer hold what was kept (a transaction was rolled back): keep it again when next needed."""
        self._kept.clear()

    def runtime(self, store: Store, runtime: Runtime, opening: Mapping[str, Any]) -> Runtime:
        """The runtime of a case read back (``opening``: its first event's data): under the calendar it pinned,
        read from ``store``; as it is when it pinned none. :class:`StoredDefinitionError` when the pinned
        calendar is missing from the store, altered, or cannot be read."""
        if CALENDAR_KEY not in opening:
            return runtime
        pin = opening[CALENDAR_KEY]
        found = self._runtimes.get((runtime.definition.sha256, str(pin)))
        if found is not None:
            return found
        calendar = pinned_calendar(store.get_definition, pin)
        if isinstance(calendar, str):
            raise StoredDefinitionError(calendar)
        return self._under(runtime, calendar)

    def _under(self, runtime: Runtime, calendar: ResolvedCalendar) -> Runtime:
        key = (runtime.definition.sha256, calendar.sha256)
        found = self._runtimes.get(key)
        if found is None:
            found = runtime.under(calendar)
            with self._lock:
                if len(self._runtimes) < 10_000:
                    self._runtimes[key] = found
        return found
