"""Record classes kept at least so long (最低保存期間): what a ``minimum: true`` retention rule that declares its
records (``steps`` or ``facts``, e.g. the school year's ``survey``: the questionnaires and the interviews after
them) keeps from being forgotten early.

A ``minimum`` rule makes nothing due by itself (:mod:`.retention`); one that names its records also keeps them:
until the day its period ends (``keep`` counted from its ``after``, as :mod:`.retention` counts it) no pupil whose
personal value is sealed in one of those records may be forgotten — by a request nor by retention — since their
key would erase it (:func:`ijime_flow.privacy.holds.check_forget`, hold kind ``minimum``). Forgetting a pupil
named by mistake (reason ``correction``) is not refused: a record about the wrong pupil is no record to keep.

A rule applies to a case only once the case holds records of its class (``after: recorded``: the last of them
starts the period). A rule without ``steps`` or ``facts`` (the response workflow's ``survey``: the whole case,
whose own rules keep it) keeps nothing here. The rules are the pinned definition's and those of the workflow's
definition loaded now, as for retention. Only a pupil's own key matters: a value sealed under the case's key is
never erased by forgetting a pupil.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..calendars.absence import school_year
from ..events import parse_event
from ..language.models import RetentionRule
from ..language.stored import add_duration
from .sealing import SEALED, is_sealed

if TYPE_CHECKING:
    from ..case import Case
    from ..definition import Definition
    from ..engine import Engine
    from ..events import Event

__all__ = ["MinimumKept", "minimum_kept"]

NOT_RECORDS = ("hold", "hold_released", "erased")  # what says something about the records, not a record of the case


@dataclass(frozen=True)
class MinimumKept:
    """One record class of one case kept at least until ``ends_on`` (the day it may be forgotten: the period has
    ended), counted from ``start`` (its last record, the opening or the closing, as the rule says)."""

    case_id: str
    record_class: str
    keep: str
    source: str
    start: date
    ends_on: date

    def words(self) -> tuple[str, str]:
        """Why, Japanese and English: the case, the class and the day the minimum ends."""
        return (f"事案 {self.case_id} の記録区分「{self.record_class}」は最低保存期間（{self.keep}、{self.start.isoformat()}"
                f" から）中です: {self.ends_on.isoformat()} まで消去できません（{self.source}）",
                f"the {self.record_class} records of case {self.case_id} are kept at least {self.keep} from"
                f" {self.start.isoformat()}: not erased before {self.ends_on.isoformat()} ({self.source})")


# -- how a retention rule reads a case (shared with :mod:`.retention`) ---------------------------------------
def case_rules(engine: Engine, case: Case) -> list[RetentionRule]:
    """The rules of the definition the case pinned and of its workflow's definition loaded now (see retention)."""
    pinned = case._runtime.definition
    rules = list(pinned.spec.retention or ())
    current = engine.definitions.get(case.workflow_id)
    if current is not None and current.sha256 != pinned.sha256:
        rules += [r for r in current.spec.retention or () if r not in rules]
    return rules


def closed_at(defn: Definition, events: list[Event]) -> datetime | None:
    """When the case was first closed (``None``: it is open)."""
    return next((e.at for e in events if e.to_states is not None and defn.is_closed(frozenset(e.to_states))), None)


def class_records(rule: RetentionRule, events: list[Event]) -> list[Event]:
    """The case's records of the rule's class: its ``facts`` and ``steps`` when it names them, else every record."""
    records = [e for e in events if e.type not in NOT_RECORDS]
    if rule.facts is None and rule.steps is None:
        return records
    wanted, steps = set(rule.facts or ()), set(rule.steps or ())
    return [e for e in records if (e.type == "fact" and e.data.get("fact") in wanted) or e.trigger in steps
            or (e.type in ("transition", "action", "opened") and bool(wanted & set(e.data)))]


def rule_start(rule: RetentionRule, events: list[Event], closed: datetime | None) -> datetime | None:
    """The moment a rule counts from: the opening, the closing, or its class's last record (``None``: not yet)."""
    if rule.after == "opened":
        return events[0].at
    if rule.after == "closed":
        return closed
    records = class_records(rule, events)
    return records[-1].at if records else None


def start_day(rule: RetentionRule, at: datetime, tz: ZoneInfo) -> date:
    """The day a rule's period starts: that moment's day in the workflow's zone, or 1 April after its school year."""
    start = at.astimezone(tz).date()
    return date(school_year(start) + 1, 4, 1) if rule.count_from == "next_school_year" else start


def _rules(engine: Engine, case: Case) -> list[RetentionRule]:
    return [r for r in case_rules(engine, case) if r.minimum and (r.steps or r.facts)]


def _kids(value: Any) -> Iterable[str]:
    """The key ids of every sealed value inside ``value`` (event data: fields, lists, nested maps)."""
    if is_sealed(value):
        yield str(value[SEALED].get("kid"))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _kids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _kids(item)


def _pupil_kids(engine: Engine, case: Case, events: list[Event], subject: str | None) -> set[str] | None:
    """The key ids on this case of ``subject`` (or, without one, of every pupil ever named on it); ``None`` when
    the engine has no key store to ask (then any sealed value counts: kept to be safe)."""
    owned = getattr(getattr(engine, "keys", None), "owned", None)
    if owned is None:
        return None
    if subject is not None:
        named = [subject]
    else:
        named = sorted({str(e.data["subject"]) for e in events if e.type == "subject" and isinstance(e.data.get("subject"), str)})
    return {kid for s in named for kid, case_id in owned(s) if case_id == case.id}


def minimum_kept(engine: Engine, case_id: str, *, subject: str | None = None,
                 as_of: datetime | None = None) -> list[MinimumKept]:
    """The record classes of one case that keep ``subject`` (default: any pupil named on it) from being forgotten
    as of ``as_of`` (default: the engine clock's now): a ``minimum`` rule with ``steps`` / ``facts`` that applies,
    whose period has not ended, and whose records hold a value sealed under the pupil's key. Empty: none."""
    case = engine.get_case(case_id)
    rules = _rules(engine, case)
    if not rules:
        return []
    events = [parse_event(row.body, row.case_id, row.seq) for row in engine.store.read_case(case.id)]  # sealed, as stored
    defn = case._runtime.definition
    today = (engine.clock.now() if as_of is None else as_of).astimezone(ZoneInfo(defn.spec.timezone)).date()
    kids = _pupil_kids(engine, case, events, subject)
    closed, out = closed_at(defn, events), []
    for rule in rules:
        records = class_records(rule, events)
        at = rule_start(rule, events, closed)
        if at is None or not records:
            continue  # the rule does not apply (yet): no record of its class
        start = start_day(rule, at, ZoneInfo(defn.spec.timezone))
        ends_on = add_duration(start, rule.keep)
        if today >= ends_on:
            continue
        sealed = {kid for e in records for kid in _kids(dict(e.data))}
        if sealed and (kids is None or sealed & kids):
            out.append(MinimumKept(case.id, rule.class_, rule.keep, rule.source, start, ends_on))
    return out
