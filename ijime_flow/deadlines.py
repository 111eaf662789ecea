"""Deadlines: obligations with time in them, derived from a case's events and its definition.

A deadline declared on a state starts each time the state is entered (at that event's ``at``) and is
met by the first later event whose trigger is one of its ``met_by``. A recurring one (``every``: month,
term, year) starts one deadline per period of the case's school year instead, each due at its period's end
and met only by a step inside the period (:mod:`ijime_flow.calendars.periods`). Nothing about deadlines is
stored: like everything else they are read off the log, so they replay and verify with it.

``within`` says when it is due (:func:`due_time`): ``same_day`` (即日) at midnight ending the day it
started, in the workflow's zone; ``immediately`` (直ちに) one hour after it started
(:data:`~ijime_flow.language.durations.IMMEDIATELY_GRACE`, where the module says why a time and not
"before any other step"); a duration, that long after it started. Whatever the kind, a deadline met
at or before its due time is 期限内に実施 (``met``), met later 期限後に実施 (``missed``), and not met
by then 期限超過 (``overdue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from .audit.subjects import People
from .calendars.periods import Period, case_year, periods
from .canonical import json_time
from .definition import Definition
from .errors import InvalidData, StoreError
from .events import Event
from .language.conditions import ActorTally, holds
from .language.durations import IMMEDIATELY, SAME_DAY, within_words
from .language.models import DeadlineDef
from .language.stored import add_duration
from .stepper import context, fold_event, note_actor
from .store.rows import OpenDeadline

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
    within: str = ""  # as the definition says it: same_day, immediately, a duration or end_of_<period>
    period: str | None = None  # a recurring deadline's period: 2019-06, 2019:term_2, 2019 (calendars.periods)
    period_ja: str | None = None

    @property
    def status(self) -> Status:
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "missed"
        return "open" if self.as_of < self.due else "overdue"

    @property
    def status_ja(self) -> str:
        return STATUS_JA[self.status]

    @property
    def within_ja(self) -> str:
        """How long it allows, in Japanese: 直ちに（1時間以内）, 即日（当日中）, 3日以内 ...; a recurring one, its
        period: 2019年度 6月の末まで."""
        return within_words(self.within)[0] if self.period_ja is None else f"{self.period_ja}の末まで"

    @property
    def within_en(self) -> str:
        return within_words(self.within)[1] if self.period is None else f"by the end of {self.period}"

    def to_dict(self) -> dict[str, Any]:
        """The deadline as JSON values, with ``status`` (and ``status_ja``, ``within_ja``, ``within_en``);
        every time in UTC with ``+00:00`` (:func:`~ijime_flow.canonical.json_time`)."""
        def when(value: datetime | None) -> str | None:
            return None if value is None else json_time(value)

        return {"id": self.id, "state": self.state, "ja": self.ja, "en": self.en, "source": self.source,
                "met_by": list(self.met_by), "started_at": json_time(self.started_at), "due": json_time(self.due),
                "met_at": when(self.met_at), "met_seq": self.met_seq, "as_of": json_time(self.as_of),
                "within": self.within, "within_ja": self.within_ja, "within_en": self.within_en,
                "period": self.period, "period_ja": self.period_ja, "status": self.status, "status_ja": self.status_ja}


def due_time(defn: Definition, spec: DeadlineDef, started_at: datetime) -> datetime:
    """``same_day``: midnight at the end of the day it started, in the workflow's zone (即日);
    ``immediately``: an hour after it started (直ちに); a duration: that long after it started."""
    if spec.within == SAME_DAY:
        local = started_at.astimezone(defn.tz)
        return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=defn.tz)
    if spec.within == IMMEDIATELY:
        return add_duration(started_at, IMMEDIATELY)
    return add_duration(started_at, spec.within)  # never overflows: see ijime_flow.language.stored


class Started(NamedTuple):
    """A deadline as the log has it so far: where and when it started, when it is due, and the event
    that met it (if one has)."""

    state: str
    spec: DeadlineDef
    started_at: datetime
    due: datetime
    open: OpenDeadline  # how the projection shows it while it is not met
    met_at: datetime | None = None
    met_seq: int | None = None
    period: Period | None = None  # a recurring deadline's period (met only by a step inside it)


def _meets(s: Started, trigger: str, at: datetime) -> bool:
    return s.met_at is None and trigger in s.spec.met_by and (s.period is None or s.started_at <= at < s.due)


def advance(defn: Definition, started: tuple[Started, ...], *, trigger: str | None, at: datetime, seq: int,
            before: frozenset[str], after: frozenset[str], facts: dict[str, Any], case_id: str,
            actors: ActorTally | None = None) -> tuple[Started, ...]:
    """The deadlines after one more event: those it meets (its trigger is in their ``met_by``), then
    those it starts (states it enters, whose ``when`` holds on the facts, and the tally of who took the
    counted steps, after it). The same tuple when nothing changes. Live firing, :func:`case_deadlines`
    and the projection all use this."""
    if not defn.deadline_defs:
        return started
    if trigger is not None and any(s.met_at is None and trigger in s.spec.met_by for s in started):
        started = tuple(s._replace(met_at=at, met_seq=seq) if _meets(s, trigger, at) else s for s in started)
    entered = defn.entered_deadline_states(before, after) if after is not before else ()
    if entered:
        ctx = None
        new = []
        for path in entered:
            for spec in defn.deadline_defs[path]:
                if spec.when is not None:
                    ctx = ctx or context(defn, facts, at, after, case_id, None, actors)
                    if not holds(spec.when, ctx):
                        continue
                if spec.every is not None:  # one per period of the case's school year not over yet
                    year = case_year(facts, at, defn)
                    new += [Started(path, spec, p.start, p.end, OpenDeadline(spec.id, path, p.start, p.end, p.label),
                                    period=p) for p in periods(defn, spec, year) if p.end > at]
                    continue
                due = due_time(defn, spec, at)
                new.append(Started(path, spec, at, due, OpenDeadline(spec.id, path, at, due)))
        started = started + tuple(new)
    return started


@dataclass
class LogFold:
    """What a case's events say so far — its active leaves, its facts, the deadlines started — one
    event at a time. Reloading a case, rebuilding the projection and listing deadlines all fold a
    log through this one step."""

    definition: Definition
    leaves: frozenset[str] = frozenset()
    facts: dict[str, Any] = field(default_factory=dict)
    started: tuple[Started, ...] = ()
    actors: ActorTally = field(default_factory=dict)  # who took the counted steps (see stepper.note_actor)
    people: People = field(default_factory=People)  # the subjects named and who recorded events (see audit.subjects)

    def add(self, event: Event) -> None:
        """Fold one more event. An event the definition cannot take (states it does not have, data that
        does not fold) is a damaged log: ``StoreError`` naming the case and seq, never a ``KeyError``."""
        after = self.leaves if event.to_states is None else frozenset(event.to_states)
        nodes = self.definition.nodes
        try:
            if event.to_states is not None and not all(leaf in nodes for leaf in after):
                unknown = sorted(leaf for leaf in after if leaf not in nodes)
                raise StoreError(f"case {event.case_id} seq {event.seq}: 記録の状態 {unknown} はワークフロー"
                                 f" {self.definition.id} にありません / names states its workflow does not have"
                                 f" ({', '.join(unknown)[:200]}): run `ijime-flow verify`")
            fold_event(self.facts, self.definition, event.type, event.trigger, event.from_states, event.data)
            self.actors = note_actor(self.definition, self.actors, event.type, event.trigger, event.actor.id,
                                     event.actor.roles)
            self.started = advance(self.definition, self.started, trigger=event.trigger, at=event.at, seq=event.seq,
                                   before=self.leaves, after=after, facts=self.facts, case_id=event.case_id,
                                   actors=self.actors)
            self.people = self.people.after((event,))
        except (KeyError, TypeError, ValueError, OverflowError, InvalidData) as exc:  # InvalidData: a tampered fact value
            why = str(exc)[:300] if isinstance(exc, InvalidData) else type(exc).__name__
            raise StoreError(f"case {event.case_id} seq {event.seq}: この記録は読めません / the event cannot be read"
                             f" under {self.definition.id} {self.definition.version} ({why}):"
                             " run `ijime-flow verify`") from None
        self.leaves = after


def fold_deadlines(defn: Definition, events: Sequence[Event]) -> tuple[Started, ...]:
    """Every deadline the events have started, met or not, in the order they started."""
    fold = LogFold(defn)
    for event in events:
        fold.add(event)
    return fold.started


def case_deadlines(defn: Definition, events: Sequence[Event], as_of: datetime) -> list[Deadline]:
    """Every deadline the case has started, in the order they started."""
    return as_deadlines(fold_deadlines(defn, events), as_of)


def as_deadlines(started: Sequence[Started], as_of: datetime) -> list[Deadline]:
    """Started deadlines (from a :class:`LogFold`) and where they stand at ``as_of``."""
    return [Deadline(s.spec.id, s.state, s.spec.ja, s.spec.en, s.spec.source, tuple(s.spec.met_by), s.started_at,
                     s.due, s.met_at, s.met_seq, as_of, s.spec.within, None if s.period is None else s.period.label,
                     None if s.period is None else s.period.ja) for s in started]
