"""Retention (保存期間): what may be forgotten now, and why — and forgetting exactly that.

The rules are data, per workflow and record class, in the workflow's ``retention:`` block
(:class:`~ijime_flow.language.models.RetentionRule`). Forgetting is per pupil and all at once (the pupil's
key is destroyed: :mod:`.forget`), so what comes due is a **subject** (a pupil named on cases), never a
single record:

- a case's records come due on the latest day any of its rules gives (a rule counts from the day of its
  ``after`` in the workflow's time zone, or from 1 April after that day's school year); a case no rule
  makes due (only ``minimum`` rules, or none) is kept;
- the rules are those of the definition the case pinned and those of the definition of its workflow
  loaded now, whichever is later: a board that lengthens a period keeps old cases longer too, and one
  that shortens it does not shorten what was promised when they were recorded;
- a pupil comes due when every case that names them (withdrawn ones too) has come due and nothing holds
  any of them (:mod:`.holds`): ``held`` names the hold, ``kept`` the day it will come due (or that no rule
  makes it due); a due pupil of whom the key store holds no key (``sealed == 0``) has nothing to erase.

:func:`due` lists every pupil with their status; :func:`apply` forgets exactly the ``due`` ones of that
listing (``engine.forget(subject, actor=..., reason="retention")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..clock import require_aware
from ..errors import InvalidData
from ..language.stored import add_duration
from .holds import Hold, holds_on, minimum_holds
from .minimum import case_rules, closed_at, rule_start, start_day

if TYPE_CHECKING:
    from ..actor import Actor
    from ..engine import Engine

__all__ = ["CaseRetention", "Listing", "RuleDue", "SubjectRetention", "apply", "case_retention", "due"]



@dataclass(frozen=True)
class RuleDue:
    """One rule applied to one case: counted from ``start`` (``None``: the rule does not apply yet or at all),
    due on ``due_on``."""

    record_class: str
    keep: str
    after: str
    count_from: str
    minimum: bool
    source: str
    start: date | None
    due_on: date | None

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.record_class, "keep": self.keep, "after": self.after, "count_from": self.count_from,
                "minimum": self.minimum, "source": self.source, "start": _iso(self.start), "due_on": _iso(self.due_on)}


@dataclass(frozen=True)
class CaseRetention:
    """One case as retention sees it: the rules applied, the day its records come due (``None``: no rule makes
    them due), and the holds that keep it now."""

    case_id: str
    workflow: str
    closed_on: date | None
    due_on: date | None
    rules: tuple[RuleDue, ...]
    holds: tuple[Hold, ...]
    timezone: str = "Asia/Tokyo"  # the workflow's: its days are counted there

    def due_by(self, as_of: datetime) -> bool:
        """Its records have come due by ``as_of`` (the day in the workflow's time zone)."""
        return self.due_on is not None and self.due_on <= as_of.astimezone(ZoneInfo(self.timezone)).date()

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "workflow": self.workflow, "closed_on": _iso(self.closed_on),
                "due_on": _iso(self.due_on), "rules": [r.to_dict() for r in self.rules],
                "holds": [h.to_dict() for h in self.holds]}


@dataclass(frozen=True)
class SubjectRetention:
    """One pupil: ``status`` ``due`` (may be forgotten now, since ``due_on``), ``held`` (a hold keeps one of
    the cases: ``holds``) or ``kept`` (not yet due: ``due_on`` the day it will be, ``None`` if no rule makes
    it due), the reason in words, and each case that names the pupil."""

    subject_id: str
    status: str
    due_on: date | None
    ja: str
    en: str
    cases: tuple[CaseRetention, ...]
    sealed: int | None = None  # the keys the key store holds for the pupil (None: no key store); 0: nothing to erase

    @property
    def erasable(self) -> bool:
        """Due, and something of the pupil is sealed to be erased."""
        return self.status == "due" and self.sealed != 0

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(h for c in self.cases for h in c.holds)

    def to_dict(self) -> dict[str, Any]:
        return {"subject_id": self.subject_id, "status": self.status, "due_on": _iso(self.due_on), "ja": self.ja,
                "en": self.en, "sealed": self.sealed, "erasable": self.erasable, "cases": [c.to_dict() for c in self.cases]}


@dataclass(frozen=True)
class Listing:
    """What :func:`due` found as of ``as_of``: every pupil named on a case and not yet forgotten, by id."""

    as_of: datetime
    subjects: tuple[SubjectRetention, ...] = field(default_factory=tuple)

    @property
    def due(self) -> tuple[SubjectRetention, ...]:
        """The pupils to forget: due, with something sealed to erase (what :func:`apply` forgets)."""
        return tuple(s for s in self.subjects if s.erasable)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "due": [s.subject_id for s in self.due],
                "subjects": [s.to_dict() for s in self.subjects]}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# -- one case ---------------------------------------------------------------------------------------------
def case_retention(engine: Engine, case_id: str, *, minimum: bool = True) -> CaseRetention:
    """The rules, due day and holds of one case (the holds as they are now; ``minimum=False``: without the
    ``minimum`` holds, which :func:`due` asks for per pupil)."""
    case = engine.get_case(case_id)
    defn = case._runtime.definition
    tz = ZoneInfo(defn.spec.timezone)
    events = case.history()
    closed = closed_at(defn, events)
    applied = []
    for rule in case_rules(engine, case):
        at = rule_start(rule, events, closed)
        start = None if at is None else start_day(rule, at, tz)
        due_on = None if start is None else add_duration(start, rule.keep)
        applied.append(RuleDue(rule.class_, rule.keep, rule.after, rule.count_from, rule.minimum, rule.source, start,
                               due_on))
    makes_due = [r for r in applied if not r.minimum and r.due_on is not None]
    due_on = max(r.due_on for r in applied if r.due_on is not None) if makes_due else None
    return CaseRetention(case.id, case.workflow_id, None if closed is None else closed.astimezone(tz).date(), due_on,
                         tuple(applied), tuple(holds_on(engine, case.id, minimum=minimum)), defn.spec.timezone)


# -- every pupil ------------------------------------------------------------------------------------------
def _named(engine: Engine) -> dict[str, list[str]]:
    """Each pupil named on a case (withdrawn too) -> those cases, in order; without the pupils forgotten since
    they were last named anywhere (an ``erased`` event recorded after every ``subject`` event naming them)."""
    found: dict[str, list[str]] = {}
    named_at: dict[str, datetime] = {}
    erased_at: dict[str, datetime] = {}
    for case_id in engine.case_ids():
        for event in engine.get_case(case_id).history():
            subject, kind = event.data.get("subject"), str(event.type)
            if not isinstance(subject, str) or kind not in ("subject", "erased"):
                continue
            seen = named_at if kind == "subject" else erased_at
            seen[subject] = max(seen.get(subject, event.recorded_at), event.recorded_at)
            if kind == "subject" and case_id not in found.get(subject, ()):
                found.setdefault(subject, []).append(case_id)
    return {s: cases for s, cases in found.items() if s not in erased_at or erased_at[s] < named_at[s]}


def due(engine: Engine, as_of: datetime | None = None) -> Listing:
    """Every pupil named on a case and not yet forgotten, as of ``as_of`` (default: the engine's clock now):
    ``due``, ``held`` or ``kept``, with the cases and rules that say so."""
    if as_of is None:
        as_of = engine.clock.now()
    require_aware(as_of, "as_of")
    cases: dict[str, CaseRetention] = {}
    out = []
    for subject, case_ids in sorted(_named(engine).items()):
        for case_id in case_ids:
            if case_id not in cases:
                cases[case_id] = case_retention(engine, case_id, minimum=False)
        item = _subject(subject, [_for_pupil(engine, cases[c], subject, as_of) for c in case_ids], as_of)
        out.append(replace(item, sealed=_sealed(engine, subject)))
    return Listing(as_of, tuple(out))


def _for_pupil(engine: Engine, case: CaseRetention, subject: str, as_of: datetime) -> CaseRetention:
    """The case as it holds one pupil as of ``as_of``: a record class kept at least so long (hold ``minimum``) holds
    only a pupil whose value is sealed in it, and only until its minimum ends (:mod:`.minimum`)."""
    kept = minimum_holds(engine, case.case_id, subject=subject, as_of=as_of)
    return replace(case, holds=case.holds + tuple(kept)) if kept else case


def _sealed(engine: Engine, subject: str) -> int | None:
    keys = getattr(engine, "keys", None)
    owned = getattr(keys, "owned", None)
    return None if owned is None else len(owned(subject))


def _subject(subject: str, cases: list[CaseRetention], as_of: datetime) -> SubjectRetention:
    kept = tuple(cases)
    for c in cases:
        if c.holds:
            hold = c.holds[0]
            return SubjectRetention(subject, "held", None, hold.ja, hold.en, kept)
    for c in cases:
        if c.due_on is None:
            return SubjectRetention(subject, "kept", None, f"事案 {c.case_id} を保存期間の満了とする規則がありません",
                                    f"no retention rule makes case {c.case_id} due", kept)
    last = max(cases, key=lambda c: c.due_on or date.min)
    assert last.due_on is not None
    for c in cases:
        if not c.due_by(as_of):
            return SubjectRetention(subject, "kept", last.due_on, f"保存期間中です（{last.due_on.isoformat()} に満了:"
                                    f" 事案 {last.case_id}）", f"within its retention period until {last.due_on.isoformat()}"
                                    f" (case {last.case_id})", kept)
    return SubjectRetention(subject, "due", last.due_on, f"保存期間が満了しました（{last.due_on.isoformat()}: 事案"
                            f" {last.case_id}、{_rule_words(last)}）", f"its retention period ended on"
                            f" {last.due_on.isoformat()} (case {last.case_id}, {_rule_words(last)})", kept)


def _rule_words(case: CaseRetention) -> str:
    rule = max((r for r in case.rules if r.due_on is not None), key=lambda r: r.due_on or date.min)
    return f"{rule.record_class}: {rule.keep} after {rule.after}"


# -- forgetting what is due -------------------------------------------------------------------------------
def apply(engine: Engine, as_of: datetime | None = None, *, actor: Actor,
          listing: Listing | None = None) -> tuple[SubjectRetention, ...]:
    """Forget every pupil :func:`due` lists as due as of ``as_of`` (or of the ``listing`` given: exactly what
    was shown), each by ``engine.forget(subject, actor=actor, reason="retention")``, which checks the holds
    again before destroying anything. ``as_of`` may not be later than the clock's now: nothing is erased
    before its time. Returns the pupils forgotten, in order."""
    now = engine.clock.now()
    listing = listing if listing is not None else due(engine, as_of)
    if listing.as_of > now:
        raise InvalidData(f"保存期間の満了は現在（{now.isoformat()}）より後の時点（{listing.as_of.isoformat()}）では"
                          f"適用できません / retention cannot be applied as of {listing.as_of.isoformat()}, later than"
                          f" now ({now.isoformat()}): nothing is erased before its time")
    forget = getattr(engine, "forget", None)
    if forget is None:
        raise InvalidData("この ijime-flow には消去（forget）がありません / this ijime-flow cannot forget yet")
    done = []
    for item in listing.due:
        forget(item.subject_id, actor=actor, reason="retention")
        done.append(item)
    return tuple(done)
