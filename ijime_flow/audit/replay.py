"""Replay for auditors: what a case looked like at a past moment, and how its history fares under
another version of the policy.

- :func:`state_at` folds a case's stored events up to a time or a seq, under the definition the
  case **pinned** (the text the store keeps by hash, never the workflow file as it is today): states,
  facts and deadlines as they stood then. It reads no wall clock. A damaged log stops the fold at the
  first event that cannot be used: the point is the state before it, and ``problem`` names that seq.
- :func:`replay_against` replays the whole history under another definition (a revised policy,
  loaded with :func:`ijime_flow.language.loader.load_file`) by the very rules that admit steps live
  (:mod:`ijime_flow.stepper`), and names the first step that definition would not have allowed.
- :func:`render_replay` shows a :class:`ReplayPoint` as people read it, Japanese first.

Replay trusts the log as stored; ``engine.verify`` (``ijime-flow verify``) says whether it may.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..clock import TOKYO, jst, require_aware
from ..deadlines import Deadline, as_deadlines
from ..definition import Definition
from ..errors import IjimeFlowError, InvalidData, PermissionDenied, StoreError
from ..events import DefinitionPin, Event
from ..language.conditions import ActorTally
from ..machine import CompiledMachine
from ..stepper import check_fact, due_automatic, fold_event, note_actor, opening_data, resolve
from .folding import FoldProblem, fold_checked, pinned_definition, read_events
from .timeline import describe_event, states_label

if TYPE_CHECKING:
    from ..engine import Engine


# -- the state at a point ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayPoint:
    """A case as it stood after event ``seq``, under its pinned definition.

    ``at`` is the time of that event; ``as_of`` the time asked (``state_at(at=...)``), or ``at`` when
    a seq or nothing was asked: deadlines are judged as of ``as_of``. ``facts`` are typed as the
    engine holds them (dates as ``date``, ``many`` facts as frozensets)."""

    case_id: str
    school: str | None
    workflow: str
    version: str
    sha256: str
    seq: int
    last_seq: int  # the case's last seq in the store (the point may be earlier)
    at: datetime
    as_of: datetime
    active_states: tuple[str, ...]
    state_labels: tuple[str, ...]  # Japanese, in the order of active_states
    facts: Mapping[str, Any]
    deadlines: tuple[Deadline, ...]
    closed: bool
    events: tuple[Event, ...] = field(repr=False)  # the events up to and including seq
    definition: Definition = field(repr=False, compare=False)
    problem: FoldProblem | None = None  # where a damaged log stopped the replay before the point asked

    @property
    def stopped_at(self) -> int | None:
        """The seq that stopped the replay (it and what follows are not folded), or ``None``."""
        return self.problem.seq if self.problem is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601 as recorded, with ``*_jst`` fields in Japan time. A ``problem``
        key (:meth:`FoldProblem.to_dict`) is there only when a damaged log stopped the replay."""
        labels = self.definition.fact_labels
        return {
            "case_id": self.case_id,
            "school": self.school,
            "definition": {"id": self.workflow, "version": self.version, "sha256": self.sha256},
            "seq": self.seq,
            "last_seq": self.last_seq,
            **_times("at", self.at),
            **_times("as_of", self.as_of),
            "active_states": list(self.active_states),
            "state_labels": list(self.state_labels),
            "closed": self.closed,
            "facts": {name: {"value": _fact_value(value), "ja": labels.get(name, name)}
                      for name, value in sorted(self.facts.items())},
            "deadlines": [_deadline_dict(d) for d in self.deadlines],
            **({"problem": self.problem.to_dict()} if self.problem is not None else {}),
        }


def state_at(engine: Engine, case_id: str, *, at: datetime | None = None, seq: int | None = None) -> ReplayPoint:
    """The case after its last event with ``event.at <= at`` (or ``event.seq <= seq``; neither: after
    every event), folded under its pinned definition. ``at`` must be timezone-aware.

    A damaged log does not hide what is sound: when an event on the way cannot be used (its body does
    not parse, or the definition cannot take it), the point is the state after the event before it and
    ``problem`` says which seq stopped the replay and why (:class:`~.folding.FoldProblem`). When not even
    the first event can be used (or the pinned definition is missing) there is no state:
    :class:`~.folding.NothingToReplay`."""
    if at is not None and seq is not None:
        raise InvalidData("時刻か seq のどちらか一方を指定してください / give 'at' or 'seq', not both")
    if at is not None:
        require_aware(at, "state_at")
    events, stop, last_seq = read_events(engine, case_id)
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= last_seq):
        raise InvalidData(f"事案 {case_id} の seq は 1〜{last_seq} です / seq {seq!r} is out of range: case"
                          f" {case_id} has seq 1 to {last_seq} (its last seq is {last_seq})")
    defn = pinned_definition(engine, case_id, events, stop, last_seq)
    if seq is not None:
        upto = [e for e in events if e.seq <= seq]
        stop = stop if stop is not None and stop.seq <= seq else None
    elif at is not None:
        upto = [e for e in events if e.at <= at]
        if not upto:
            opened = events[0].at
            raise InvalidData(f"事案 {case_id} は {jst(opened)} JST に開始されており、指定の時刻 {jst(at)} JST より後です"
                              f" / the case was opened at {opened.isoformat()}, after the time asked ({at.isoformat()})")
        # an unreadable event has no time we can trust: it counts unless the history had already passed `at`
        stop = stop if stop is not None and all(e.at <= at for e in events) else None
    else:
        upto = list(events)
    fold, folded, stop = fold_checked(case_id, defn, upto, stop, last_seq)
    last = folded[-1]
    leaves = fold.leaves
    as_of = at if at is not None else last.at
    active = defn.sorted_states(leaves)
    return ReplayPoint(
        case_id=case_id, school=events[0].school, workflow=defn.id, version=defn.version, sha256=defn.sha256,
        seq=last.seq, last_seq=last_seq, at=last.at, as_of=as_of, active_states=active,
        state_labels=_labels(defn, active), facts=fold.facts,
        deadlines=tuple(as_deadlines(fold.started, as_of)), closed=defn.is_closed(leaves), events=tuple(folded),
        definition=defn, problem=stop)


# -- the history under another definition -------------------------------------------------------------
@dataclass(frozen=True)
class AgainstResult:
    """A case's history replayed under another definition.

    ``allowed``: every step would have been allowed. Otherwise ``seq``, ``trigger``, ``actor_id``,
    ``actor_roles``, ``kind`` (the refusal: ``PermissionDenied``, ``GuardFailed``, ``InvalidTransition``,
    ``UnknownTrigger`` (the other definition has no such step), ``InvalidData``, or ``automatic`` when
    automatic steps differ) and ``reason``
    describe the first step it would have refused, and ``states`` are the states before that step.
    When allowed, ``states`` are the end states under the other definition, and ``then_automatic``
    the automatic steps it would take after the last event (already folded into ``states``)."""

    case_id: str
    pinned: DefinitionPin
    against: DefinitionPin
    events: int  # how many events were replayed (up to and including the refused one)
    allowed: bool
    states: tuple[str, ...]
    state_labels: tuple[str, ...]  # Japanese, under the other definition
    seq: int | None = None
    trigger: str | None = None
    actor_id: str | None = None
    actor_roles: tuple[str, ...] = ()
    kind: str | None = None
    reason: str = ""
    allowed_roles: tuple[str, ...] = ()
    then_automatic: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """The finding, Japanese first: ``seq 7: report_to_board by t-014 (staff) — not allowed under
        response 2020.1 (roles: principal)``, or that everything is allowed."""
        where = f"{self.against.id} {self.against.version}"
        if self.allowed:
            return (f"全 {self.events} 件の記録は {where} でも認められます / every one of the {self.events} events"
                    f" is allowed under {where}")
        roles = ", ".join(self.actor_roles) or "-"
        label = self.trigger or "?"
        ja_roles = f"（行えるのは {', '.join(self.allowed_roles)}）" if self.allowed_roles else ""
        en_roles = f" (roles: {', '.join(self.allowed_roles)})" if self.allowed_roles else ""
        return (f"seq {self.seq}: {self.actor_id}（{roles}）による「{label}」は {where} では認められません{ja_roles}"
                f" / seq {self.seq}: {label} by {self.actor_id} ({roles}) — not allowed under {where}{en_roles}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "pinned": self.pinned.model_dump(),
            "against": self.against.model_dump(),
            "allowed": self.allowed,
            "events": self.events,
            "message": self.message,
            "states": list(self.states),
            "state_labels": list(self.state_labels),
            "then_automatic": list(self.then_automatic),
            "refused": None if self.allowed else {
                "seq": self.seq, "trigger": self.trigger, "actor": {"id": self.actor_id, "roles": list(self.actor_roles)},
                "kind": self.kind, "allowed_roles": list(self.allowed_roles), "reason": self.reason},
        }

    def render(self) -> str:
        """Text for people: the definitions compared, then the finding (and why) or the end states."""
        out = [f"事案 {self.case_id} の記録を別の定義で再生 / replay of case {self.case_id} under another definition",
               f"  記録時の定義 / pinned:  {_pin(self.pinned)}",
               f"  照合する定義 / against: {_pin(self.against)}",
               self.message]
        if not self.allowed:
            out.append(f"  理由 / reason: {self.reason}")
            out.append(f"  その時点の状態 / states then: {_states(self.states, self.state_labels)}")
        else:
            out.append(f"  終了時の状態 / end states: {_states(self.states, self.state_labels)}")
            if self.then_automatic:
                out.append(f"  最後の記録の後に自動で行われる操作 / automatic steps after the last event:"
                           f" {', '.join(self.then_automatic)}")
        return "\n".join(out)


def replay_against(engine: Engine, case_id: str, definition: Definition) -> AgainstResult:
    """Replay the case's history under ``definition`` and report the first step it would not have
    allowed. Steps are judged as ``verify`` judges them (each at its own ``at``, on the states and
    facts replayed under ``definition``); ``escalated``, ``criterion_met`` and ``subject`` events are
    carried along unchecked. The recorded states are not compared: the other definition may name them otherwise."""
    events, stop, last_seq = read_events(engine, case_id)
    pinned = pinned_definition(engine, case_id, events, stop, last_seq)
    if stop is not None:  # the whole history is replayed: a damaged body ends it, in plain words
        raise StoreError(stop.reason)
    defn = definition
    if defn.id != pinned.id:
        raise InvalidData(f"事案 {case_id} のワークフローは {pinned.id} で、{defn.id} ではありません / case {case_id}"
                          f" runs workflow '{pinned.id}'; the definition given is workflow '{defn.id}'")
    runtime = engine.runtime_for(defn.sha256)  # the same definition loaded or pinned: its machine, moves remembered
    machine = runtime.machine if runtime is not None else CompiledMachine(defn)
    leaves = frozenset(defn.initial_leaves)
    facts: dict[str, Any] = {}
    actors: ActorTally = {}  # who took the steps distinct_actors conditions count
    due: tuple[int, Any] | None = None

    def refused(ev: Event, kind: str, reason: str, allowed_roles: Sequence[str] = ()) -> AgainstResult:
        states = defn.sorted_states(leaves)
        return AgainstResult(case_id, pinned.pin, defn.pin, ev.seq, False, states, _labels(defn, states), seq=ev.seq,
                             trigger=ev.trigger or ev.type, actor_id=ev.actor.id, actor_roles=tuple(ev.actor.roles),
                             kind=kind, reason=reason, allowed_roles=tuple(allowed_roles))

    first = events[0]
    try:
        if "escalated_from" not in first.data and "opened_from" not in first.data:  # opened by a link: another case's
            roles = defn.role_closure(first.actor.roles)
            if not roles & set(defn.spec.opened_by):
                raise PermissionDenied(f"open {defn.id}", first.actor.id, sorted(roles), defn.spec.opened_by)
        opening_data(defn, first.data)
        fold_event(facts, defn, first.type, first.trigger, first.from_states, first.data)
    except PermissionDenied as exc:
        return refused(first, type(exc).__name__, str(exc), exc.allowed_roles)
    except IjimeFlowError as exc:
        return refused(first, type(exc).__name__, str(exc))

    for ev in events[1:]:
        if ev.type in ("escalated", "criterion_met", "subject", "hold", "hold_released", "erased"):
            try:  # carried along: only what it does to the facts
                fold_event(facts, defn, ev.type, ev.trigger, sorted(leaves), ev.data)
            except IjimeFlowError as exc:
                return refused(ev, type(exc).__name__, str(exc))
            continue
        if ev.type == "opened":
            return refused(ev, "InvalidData", "一つの事案に二つ目の開始記録があります / a second 'opened' event inside one case")
        if due is not None and (ev.type != "automatic" or ev.trigger != due[1].trigger):
            return refused(ev, "automatic", f"この定義では自動の操作「{due[1].trigger}」がここで行われます / the automatic"
                                            f" step '{due[1].trigger}' would have been taken here under {defn.id}"
                                            f" {defn.version}, before '{ev.trigger or ev.type}'")
        after = leaves
        try:
            if ev.type in ("transition", "action"):
                chosen = resolve(defn, leaves, facts, ev.trigger or "", defn.role_closure(ev.actor.roles), ev.actor.id,
                                 ev.at, ev.data, case_id, engine.guards, actors)
                if chosen.transition.to is not None:
                    after = machine.move(leaves, chosen.index)
            elif ev.type == "fact":
                if defn.is_closed(leaves):
                    raise InvalidData(f"事案 {case_id} は終結しています / case '{case_id}' is closed: nothing more can be"
                                      " recorded on it")
                check_fact(defn, ev.data.get("fact", ""), ev.data.get("value"), defn.role_closure(ev.actor.roles),
                           ev.actor.id)
            elif ev.type == "automatic":
                if due is None or due[1].trigger != ev.trigger:
                    return refused(ev, "automatic", f"自動の操作「{ev.trigger}」はこの定義ではここで行われません /"
                                                    f" the automatic step '{ev.trigger}' would not have been due here"
                                                    f" under {defn.id} {defn.version}")
                after = machine.move(leaves, due[0])
            fold_event(facts, defn, ev.type, ev.trigger, sorted(leaves), ev.data)
            actors = note_actor(defn, actors, ev.type, ev.trigger, ev.actor.id, ev.actor.roles)
        except PermissionDenied as exc:
            return refused(ev, type(exc).__name__, str(exc), exc.allowed_roles)
        except IjimeFlowError as exc:
            return refused(ev, type(exc).__name__, str(exc))
        leaves = after
        due = (due_automatic(defn, leaves, facts, ev.at, case_id, engine.guards, actors)
               if ev.type in ("transition", "automatic") else None)

    then: list[str] = []
    at = events[-1].at
    while due is not None and len(then) < 32:  # what the engine would have done after the last step
        then.append(due[1].trigger)
        leaves = machine.move(leaves, due[0])
        due = due_automatic(defn, leaves, facts, at, case_id, engine.guards, actors)
    states = defn.sorted_states(leaves)
    return AgainstResult(case_id, pinned.pin, defn.pin, len(events), True, states, _labels(defn, states),
                         then_automatic=tuple(then))


# -- text ---------------------------------------------------------------------------------------------------
def render_replay(point: ReplayPoint) -> str:
    """The timeline up to the point (pinned definition's labels), then the state there: states,
    facts, deadlines. Japanese first, times in Japan time."""
    defn = point.definition
    out = [f"事案 {point.case_id} — {defn.spec.title.ja} / {defn.spec.title.en or defn.id}",
           f"定義 / definition: {point.workflow} {point.version} (sha256 {point.sha256[:12]}…)"]
    problem = point.problem
    if problem is not None:
        out.append(f"注意 / note: {problem.message}")
    for event in point.events:
        out.extend(describe_event(defn, event))
    if problem is not None:
        out.append(f"#{problem.seq:<3} 再生できません / cannot be folded: {problem.reason}")
        out.append(f"     seq {problem.seq} 以降は表示していません / seq {problem.seq} and after are not shown")
    out.append("")
    asked = f"（seq {point.seq} / {point.last_seq}、最後の記録 {jst(point.at)} JST）"
    out.append(f"{jst(point.as_of)} JST 時点の状態 / state at {point.as_of.isoformat()}{asked}")
    out.append(f"  状態 / states: {states_label(defn, point.active_states)}")
    out.extend(f"    {state}: {label}" for state, label in zip(point.active_states, point.state_labels, strict=True))
    if point.closed:
        out.append("  終結しています / the case is closed")
    out.append("  事実 / facts:" + ("" if point.facts else " （なし / none）"))
    for name, value in sorted(point.facts.items()):
        out.append(f"    {name} ({defn.fact_labels.get(name, name)}) = {_fact_text(value)}")
    out.append("  期限 / deadlines:" + ("" if point.deadlines else " （なし / none）"))
    for d in point.deadlines:
        met = f"、実施 {jst(d.met_at)} JST (seq {d.met_seq})" if d.met_at is not None else ""
        out.append(f"    {d.id}: {d.status_ja} / {d.status} — {d.ja}（{d.within_ja}、期限 {jst(d.due)} JST{met}）")
    if problem is not None:
        out.append(f"  ※ seq {problem.seq} 以降の記録は反映されていません（期限の判定も同じ） / events from seq"
                   f" {problem.seq} on are not taken into account (nor are they in the deadlines)")
    return "\n".join(out)


# -- helpers ------------------------------------------------------------------------------------------------
def _labels(defn: Definition, states: Sequence[str]) -> tuple[str, ...]:
    return tuple(defn.state_label(s) for s in states)


def _states(states: Sequence[str], labels: Sequence[str]) -> str:
    return ", ".join(f"{label} ({state})" for state, label in zip(states, labels, strict=True)) or "—"


def _times(name: str, at: datetime | None) -> dict[str, str | None]:
    return {name: at.isoformat() if at else None, f"{name}_jst": at.astimezone(TOKYO).isoformat() if at else None}


def _fact_value(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted((_fact_value(v) for v in value), key=str)
    return value.isoformat() if isinstance(value, date) else value


def _fact_text(value: Any) -> str:
    shown = _fact_value(value)
    if shown is True:
        return "はい (true)"
    if shown is False:
        return "いいえ (false)"
    return ", ".join(map(str, shown)) if isinstance(shown, list) else str(shown)


def _deadline_dict(d: Deadline) -> dict[str, Any]:
    return {"id": d.id, "state": d.state, "ja": d.ja, "en": d.en, "source": d.source, "met_by": list(d.met_by),
            "status": d.status, "status_ja": d.status_ja, **_times("started_at", d.started_at), **_times("due", d.due),
            **_times("met_at", d.met_at), "met_seq": d.met_seq}


def _pin(pin: DefinitionPin) -> str:
    return f"{pin.id} {pin.version} (sha256 {pin.sha256[:12]}…)"

