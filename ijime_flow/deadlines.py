"""Deadlines: obligations with time in them, derived from a case's events and its definition.

A deadline declared on a state starts each time the state is entered (at that event's ``at``) and is
met by the first later event whose trigger is one of its ``met_by``. Nothing about deadlines is
stored: like everything else they are read off the log, so they replay and verify with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from .conditions import holds, parse_duration
from .definition import Definition
from .events import Event
from .language import DeadlineDef
from .stepper import context, fold_event

Status = Literal["met", "missed", "open", "overdue"]
STATUS_JA: dict[str, str] = {"met": "期限内に実施", "missed": "期限後に実施", "open": "期限前（未実施）",
                             "overdue": "期限超過（未実施）"}


@dataclass(frozen=True)
class Deadline:
    """One started deadline and where it stands at ``as_of``.

    ``status``: ``met`` (done in time), ``missed`` (done, but late), ``open`` (not done, not yet
    due), ``overdue`` (not done and past due)."""

    id: str
    state: str
    ja: str
    en: str | None
    source: str
    met_by: tuple[str, ...]
    started_at: datetime
    due: datetime
    met_at: datetime | None
    met_seq: int | None
    as_of: datetime

    @property
    def status(self) -> Status:
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "missed"
        return "open" if self.as_of < self.due else "overdue"

    @property
    def status_ja(self) -> str:
        return STATUS_JA[self.status]


def due_time(defn: Definition, spec: DeadlineDef, started_at: datetime) -> datetime:
    """``same_day``: midnight at the end of the day it started, in the workflow's zone (即日)."""
    if spec.within == "same_day":
        local = started_at.astimezone(defn.tz)
        return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=defn.tz)
    due: datetime = started_at + parse_duration(spec.within)
    return due


def case_deadlines(defn: Definition, events: Sequence[Event], as_of: datetime) -> list[Deadline]:
    """Every deadline the case has started, in the order they started."""
    if not defn.deadline_defs:
        return []
    started: list[tuple[str, DeadlineDef, datetime]] = []
    met: dict[int, tuple[datetime, int]] = {}
    before: frozenset[str] = frozenset()
    facts: dict[str, Any] = {}
    for event in events:
        fold_event(facts, defn, event.type, event.trigger, event.from_states, event.data)
        if event.trigger is not None:
            for index, (_, spec, _) in enumerate(started):
                if index not in met and event.trigger in spec.met_by:
                    met[index] = (event.at, event.seq)
        if event.to_states is None:
            continue
        after = frozenset(event.to_states)
        if after != before:
            was = {a for leaf in before for a in defn.ancestors(leaf)}
            now = {a for leaf in after for a in defn.ancestors(leaf)}
            for path in sorted(now - was):
                started.extend((path, spec, event.at) for spec in defn.deadline_defs.get(path, ())
                               if spec.when is None or holds(spec.when, context(defn, facts, event.at, after,
                                                                                event.case_id, None)))
        before = after
    out = []
    for index, (path, spec, at) in enumerate(started):
        met_at, met_seq = met.get(index, (None, None))
        out.append(Deadline(spec.id, path, spec.ja, spec.en, spec.source, tuple(spec.met_by), at,
                            due_time(defn, spec, at), met_at, met_seq, as_of))
    return out
