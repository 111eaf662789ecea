"""The rows a store keeps beside the log: one :class:`CaseRow` per case (the current-state projection),
the :class:`CaseQuery` a store answers over them, and their encoding for the SQL stores.

The store defines the types it stores; how a row is made from a case's events (the fold) is
:mod:`ijime_flow.projection`, which builds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from ..canonical import json_time
from ..errors import InvalidData

__all__ = ["GROUPS", "CaseQuery", "CaseRow", "GroupBy", "OpenDeadline", "check_group", "require_zone"]


@dataclass(frozen=True)
class OpenDeadline:
    """A deadline the case has started and no event has met yet (it may or may not be past due)."""

    id: str
    state: str
    started_at: datetime
    due: datetime
    period: str | None = None  # a recurring deadline's period (2019-06, 2019:term_2, 2019)

    def to_dict(self) -> dict[str, Any]:
        """JSON values; times in UTC with ``+00:00`` (:func:`~ijime_flow.canonical.json_time`)."""
        out = {"id": self.id, "state": self.state, "started_at": json_time(self.started_at), "due": json_time(self.due)}
        return out if self.period is None else {**out, "period": self.period}


GroupBy = Literal["school", "workflow", "state"]
GROUPS: tuple[str, ...] = ("school", "workflow", "state")


@dataclass(frozen=True)
class CaseRow:
    """Where one case stands, as of its last event."""

    case_id: str
    school: str | None  # None only for cases opened before cases had schools
    workflow: str
    version: str
    definition_sha256: str
    states: tuple[str, ...]  # the active leaf states, sorted
    active: tuple[str, ...]  # every active state: the leaves and the states they are inside, sorted
    closed: bool
    opened_at: datetime
    updated_at: datetime  # the ``at`` of the last event
    seq: int  # the seq of the last event
    open_deadlines: tuple[OpenDeadline, ...] = ()
    subjects: tuple[tuple[str, str], ...] = ()  # the pupils the case is about: (pseudonymous id, part), sorted by id
    actors: tuple[str, ...] = ()  # who recorded any event on the case (the engine's ``ijime-flow`` excluded), sorted

    @property
    def next_due(self) -> datetime | None:
        """The earliest due time among the open deadlines."""
        return min((d.due for d in self.open_deadlines), default=None)

    def overdue(self, as_of: datetime) -> bool:
        """A deadline has passed by ``as_of`` and has not been met (the ``overdue`` of :class:`Deadline`)."""
        due = self.next_due
        return due is not None and due <= as_of

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON values, with ``next_due``; every time in UTC with ``+00:00``
        (:func:`~ijime_flow.canonical.json_time`)."""
        due = self.next_due
        return {"case_id": self.case_id, "school": self.school, "workflow": self.workflow, "version": self.version,
                "definition_sha256": self.definition_sha256, "states": list(self.states), "active": list(self.active),
                "closed": self.closed, "opened_at": json_time(self.opened_at), "updated_at": json_time(self.updated_at),
                "seq": self.seq, "open_deadlines": [d.to_dict() for d in self.open_deadlines],
                "next_due": None if due is None else json_time(due),
                "subjects": [{"id": i, "part": p} for i, p in self.subjects], "actors": list(self.actors)}

    def due_before(self, before: datetime) -> bool:
        """A deadline not met falls due before ``before`` (one already overdue counts too)."""
        due = self.next_due
        return due is not None and due < before


@dataclass(frozen=True)
class CaseQuery:
    """Which cases: every given field must match (``None`` = any).

    ``state`` matches a case with that state active, a leaf or a state it is inside (``responding``
    matches a case in ``responding.victim_support.interviewing``); ``overdue_at`` matches a case with
    a deadline due at or before that time and not met; ``subject`` a case about that pupil (in the ``part``
    given, if one is: ``part`` alone, a case with any pupil in that part); ``actor`` a case that actor
    recorded any event on."""

    school: str | None = None
    workflow: str | None = None
    state: str | None = None
    closed: bool | None = None
    overdue_at: datetime | None = None
    due_before: datetime | None = None
    subject: str | None = None
    part: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        if self.overdue_at is not None and self.overdue_at.tzinfo is None:
            raise InvalidData(f"overdue_at ({self.overdue_at.isoformat()}) has no timezone; give an aware time")
        if self.due_before is not None:
            require_zone(self.due_before, "due_before")

    def matches(self, row: CaseRow) -> bool:
        """The same test in Python, for the in-memory store (the SQL stores answer in SQL)."""
        return ((self.school is None or row.school == self.school)
                and (self.workflow is None or row.workflow == self.workflow)
                and (self.state is None or self.state in row.active)
                and (self.closed is None or row.closed == self.closed)
                and (self.overdue_at is None or row.overdue(self.overdue_at))
                and (self.due_before is None or (not row.closed and row.due_before(self.due_before)))
                and (self.actor is None or self.actor in row.actors)
                and ((self.subject is None and self.part is None) or any(
                    (self.subject is None or i == self.subject) and (self.part is None or p == self.part)
                    for i, p in row.subjects)))


def require_zone(value: object, what: str) -> None:
    """A time to compare deadlines with must be an aware ``datetime``: a naive one is refused in plain words."""
    if not isinstance(value, datetime):
        raise InvalidData(f"{what} は日時（datetime）で指定してください / {what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidData(f"{what} の日時にタイムゾーンがありません（日本時間なら tzinfo=ZoneInfo('Asia/Tokyo')） / {what}"
                          f" ({value.isoformat()}) is a naive datetime: give it a timezone, e.g. tzinfo=ZoneInfo('Asia/Tokyo')")


def check_group(by: str) -> None:
    if by not in GROUPS:
        raise InvalidData(f"cases can be counted by {', '.join(GROUPS)}, not {by!r}")


# -- encoding for the SQL stores --------------------------------------------------------------------
# Every fire writes its case's row, so these are on the hot path: one prebuilt encoder, and caches
# for the values that repeat from step to step (the same configurations, the same open deadlines).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@lru_cache(maxsize=4096)
def utc_text(value: datetime) -> str:
    """A time as fixed-width UTC ISO 8601 text: text order is time order (SQLite compares text)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def deadlines_json(row: CaseRow) -> str:
    return _deadlines_json(row.open_deadlines) if row.open_deadlines else "[]"


@lru_cache(maxsize=1024)
def _deadlines_json(deadlines: tuple[OpenDeadline, ...]) -> str:
    return _dumps([{"id": d.id, "state": d.state, "started_at": d.started_at.isoformat(), "due": d.due.isoformat(),
                    **({} if d.period is None else {"period": d.period})} for d in deadlines])


def parse_deadlines(text: str) -> tuple[OpenDeadline, ...]:
    return tuple(OpenDeadline(d["id"], d["state"], datetime.fromisoformat(d["started_at"]),
                              datetime.fromisoformat(d["due"]), d.get("period")) for d in json.loads(text))


@lru_cache(maxsize=1024)
def subjects_json(subjects: tuple[tuple[str, str], ...]) -> str:
    return _dumps([{"id": i, "part": p} for i, p in subjects])


def parse_subjects(value: Any) -> tuple[tuple[str, str], ...]:
    """A row's subjects from the stored JSON (text, or already decoded by the driver)."""
    items = json.loads(value) if isinstance(value, str) else value
    return tuple((str(d["id"]), str(d["part"])) for d in items)


@lru_cache(maxsize=4096)
def states_json(states: tuple[str, ...]) -> str:
    return _dumps(list(states))
