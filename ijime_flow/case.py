"""A case: one pupil's matter under one workflow, driven step by step and kept as its event log.

A :class:`Case` holds only what is derived from its log (active states, facts, the head of the
chain); the machine of its definition is shared with every other case. The store holds the truth:
:meth:`Engine.get_case` rebuilds a case from it at any time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import logs
from .actor import SYSTEM, Actor, Subject, check_actor, check_part
from .audit.subjects import People, check_change
from .canonical import check_id, check_text
from .clock import FUTURE_TOLERANCE, checked_time, require_aware, storable
from .deadlines import Deadline, Started, advance, as_deadlines
from .errors import ConcurrencyError, InvalidData, InvalidTransition, UnknownCase
from .escalation import OPENS, links_of, opened_records
from .events import Event, EventType, _construct, data_object, parse_event, seal
from .language.conditions import ActorTally, EvalContext, holds
from .language.models import TransitionDef
from .privacy.sealing import open_event, seal_data, take_about, unwrap
from .projection import CaseRow, make_row
from .step_api import IDEMPOTENCY, StepInfo, StepResult, check_reserved, keyed_result, step_infos
from .stepper import (
    allowed_triggers,
    apply_facts,
    check_fact,
    context,
    due_automatic,
    fact_json,
    note_actor,
    resolve,
)

__all__ = ["FUTURE_TOLERANCE", "Case", "LinkedCase", "checked_time"]

if TYPE_CHECKING:
    from .calendars.resolved import ResolvedCalendar
    from .engine import Engine
    from .escalation import Met
    from .machine import Runtime

@dataclass(frozen=True)
class LinkedCase:
    """A linked case: by escalation, ``escalated_to`` (this case opened it) or ``escalated_from``; by a step that
    ``opens`` a case, ``opened`` (this case's step opened it) or ``opened_from``. ``criterion``: the criterion, or
    the step's trigger."""

    case_id: str
    relation: str
    criterion: str
    seq: int  # the event of this case that records the link

Linked = tuple[str, list[tuple[Event, str]], list[CaseRow]]  # a linked case's id, records and projection row
# (event type, trigger, states before, states after, actor, data) of one event to append
Step = tuple[EventType, str | None, frozenset[str], frozenset[str], Actor, Any]
MAX_AUTOMATIC = 32


class Case:
    """Use :meth:`Engine.open_case` or :meth:`Engine.get_case`; do not construct directly."""

    _void = False  # opened in a transaction that was rolled back: it does not exist

    def __init__(self, engine: Engine, runtime: Runtime, case_id: str, leaves: frozenset[str],
                 facts: dict[str, Any], seq: int, head: str | None, *, school: str | None, opened_at: datetime,
                 started: tuple[Started, ...] = (), met: set[str] | None = None,
                 escalated_to: str | None = None, actors: ActorTally | None = None, people: People | None = None) -> None:
        self._engine = engine
        self._runtime = runtime
        self.id = case_id
        self.school = school  # None only for a case opened before cases had schools
        self.opened_at = opened_at
        self._started = started  # every deadline started so far, met or not (for the projection row)
        self._leaves = leaves
        self._facts = facts
        self._seq = seq
        self._head = head
        self._met = set(met or ())  # escalation criteria already met on this case
        self._escalated_to = escalated_to  # the linked case escalation opened, if any
        self._actors: ActorTally = actors or {}  # who took the steps distinct_actors conditions count
        self._people = people or People()  # the subjects named and who recorded events, as of _head

    # -- reading --------------------------------------------------------------------------------
    @property
    def workflow_id(self) -> str:
        return self._runtime.definition.id

    @property
    def definition_sha256(self) -> str:
        return self._runtime.definition.sha256

    @property
    def calendar(self) -> ResolvedCalendar | None:
        """The school calendar the case pinned when opened (``None``: opened before calendars were pinned)."""
        return self._runtime.calendar

    @property
    def active_states(self) -> frozenset[str]:
        """The active leaf states as dotted paths (several while inside a parallel state)."""
        return self._leaves

    @property
    def facts(self) -> Mapping[str, Any]:
        """The facts recorded so far, typed (dates as ``date``; ``many`` facts as frozensets)."""
        return dict(self._facts)

    @property
    def seq(self) -> int:  # the seq of the last event of this case
        return self._seq

    @property
    def closed(self) -> bool:
        return self._runtime.definition.is_closed(self._leaves)

    def in_state(self, state: str) -> bool:
        """True when ``state`` or a state inside it is active."""
        return self._runtime.definition.is_active(state, self._leaves)

    def available_triggers(self, actor: Actor, at: datetime | None = None) -> list[str]:
        """The triggers this actor may fire now: right state, right role, conditions met."""
        defn = self._runtime.definition
        at = self._engine.clock.now() if at is None else at
        require_aware(at, "at")
        roles = defn.role_closure(check_actor(actor).roles)
        ctx = context(defn, self._facts, at, self._leaves, self.id, self._engine.guards, self._actors)

        def may(t: TransitionDef) -> bool:
            # a step whose data records facts may satisfy its own condition: offer it
            return (not t.automatic and defn.source_active(t, self._leaves) and bool(roles & set(t.roles))
                    and (t.when is None or bool(t.records) or holds(t.when, own(t.trigger))))

        def own(trigger: str) -> EvalContext:  # a step's condition counts its own actor (see stepper.resolve)
            if trigger not in defn.counted_triggers:
                return ctx
            return context(defn, self._facts, at, self._leaves, self.id, self._engine.guards,
                           note_actor(defn, self._actors, "action", trigger, actor.id, roles))

        return [trigger for trigger in allowed_triggers(defn, self._leaves)
                if any(may(t) for _, t in defn.transitions_by_trigger[trigger])]

    def available_steps(self, actor: Actor, at: datetime | None = None, *, everywhere: bool = False) -> list[StepInfo]:
        """Every step at the active states, sorted by trigger, as this actor may take it at ``at``
        (default: the engine's clock): those it may take (``allowed``, the same as
        :meth:`available_triggers`) and those it may not, with ``why_not`` (``role`` or ``condition``)
        and the reason. ``everywhere``: also every other manual step of the workflow, ``why_not="state"``.
        JSON-ready: see :mod:`ijime_flow.step_api`."""
        defn = self._runtime.definition
        at = self._engine.clock.now() if at is None else at
        require_aware(at, "at")
        roles = defn.role_closure(check_actor(actor).roles)
        return step_infos(defn, self._leaves, self._facts, roles, actor.id, at, self.id, self._engine.guards,
                          self._actors, self._started, everywhere=everywhere)

    def deadlines(self, at: datetime | None = None) -> list[Deadline]:
        """Every deadline this case has started, with its due time and whether it was met, as of
        ``at`` (default: the engine's clock)."""
        as_of = self._engine.clock.now() if at is None else at
        require_aware(as_of, "at")
        return as_deadlines(self._started, as_of)  # the fold the case already holds: no second read of its log

    def history(self) -> list[Event]:
        """Every event of the case, in order, as the store holds them."""
        keys = self._engine.keys  # personal values opened where their key exists, else 「消去済み / erased」
        return [open_event(keys, parse_event(row.body, row.case_id, row.seq)) for row in self._engine.store.read_case(self.id)]

    @property
    def subjects(self) -> tuple[Subject, ...]:
        """The pupils the case is about, named and not withdrawn, sorted by id (see :mod:`ijime_flow.audit.subjects`)."""
        return tuple(Subject(i, p) for i, p in self._people.subjects)

    # -- acting -----------------------------------------------------------------------------------
    def fire(self, trigger: str, *, actor: Actor, at: datetime | None = None,
             data: Mapping[str, Any] | None = None, key: str | None = None) -> Event:
        """Take a step. Returns the recorded event; raises and records nothing if the step is refused.
        :meth:`fire_result` returns every event the step wrote. ``key``: an idempotency key (see there)."""
        return self.fire_result(trigger, actor=actor, at=at, data=data, key=key).event

    def fire_result(self, trigger: str, *, actor: Actor, at: datetime | None = None,
                    data: Mapping[str, Any] | None = None, key: str | None = None) -> StepResult:
        """Take a step, as :meth:`fire`; return everything it wrote: the step, the automatic steps it
        led to, the ``escalated`` events, and the ids of the cases an escalation opened.

        ``key``: an idempotency key. A call with a key this case's log already holds (from any process)
        records nothing and returns the first call's result, read back from the log; the key is kept
        in the hashed event, in ``data["_idempotency"]`` (a name ``data`` may not use)."""
        with self._engine.lock:
            found = self._keyed(key, "step", trigger)
            if found is not None:
                return found
            defn = self._runtime.definition
            check_id(trigger, "trigger")
            check_actor(actor)
            at, now = self._when(at)
            plain, about = take_about(data)  # About(subject, value): whose key seals a personal value
            payload = data_object(plain)
            check_reserved(payload)
            roles = defn.role_closure(actor.roles)
            try:
                chosen = resolve(defn, self._leaves, self._facts, trigger, roles, actor.id, at, payload, self.id,
                                 self._engine.guards, self._actors)
            except InvalidTransition as exc:  # "allowed here": what this actor may take, not every step of the state
                raise type(exc)(exc.trigger, exc.states, self.available_triggers(actor, at), exc.reason) from None
            t = chosen.transition
            link = None if t.opens is None else opened_records(self._engine, self, t, actor, at, now)  # a linked case
            payload, before = payload if link is None else {**payload, OPENS: link[0]}, self._leaves
            after = self._runtime.machine.move(before, chosen.index) if t.to is not None else before
            facts = dict(self._facts)
            for name in t.clears:
                facts.pop(name, None)
            apply_facts(facts, defn, chosen.recorded)
            kind: EventType = "transition" if t.to is not None else "action"
            actors = note_actor(defn, self._actors, kind, trigger, actor.id, roles)
            steps: list[Step] = [(kind, trigger, before, after, actor, payload)]
            steps += self._automatic_steps(after, facts, at, actors)
            result = self._commit(steps, at, now, facts, kind, payload, actors, key=key, about=about, link=link)
            logs.info("case.fired", case_id=self.id, workflow=defn.id, trigger=trigger, from_states=defn.sorted_states(before),
                      to_states=defn.sorted_states(self._leaves), seq=result.event.seq)
            return result

    def record_fact(self, name: str, value: Any, *, actor: Actor, at: datetime | None = None,
                    key: str | None = None) -> Event:
        """Record a fact (e.g. ``serious_violence_or_extortion``). It moves nothing, but conditions read it. Returns
        the ``fact`` event; :meth:`record_fact_result` every event the call wrote. ``key``: as in :meth:`fire_result`."""
        return self.record_fact_result(name, value, actor=actor, at=at, key=key).event

    def record_fact_result(self, name: str, value: Any, *, actor: Actor, at: datetime | None = None,
                           key: str | None = None) -> StepResult:
        """Record a fact, as :meth:`record_fact`; return the ``fact`` event and the ``escalated`` events
        it led to, with the ids of the cases an escalation opened."""
        return self.record_facts([(name, value)], actor=actor, at=at, key=key)

    def record_facts(self, facts: Mapping[str, Any] | Iterable[tuple[str, Any]], *, actor: Actor,
                     at: datetime | None = None, key: str | None = None) -> StepResult:
        """Record several facts in one call and one store transaction, all or none: one ``fact`` event
        each, in order, and after each the ``escalated`` events it led to. ``facts``: a mapping, or
        ``(name, value)`` pairs — a ``many`` fact (e.g. ``absence``) may appear in several pairs.
        Any refused fact refuses the call and records none. ``key``: as in :meth:`fire_result`."""
        with self._engine.lock:
            found = self._keyed(key, "fact", None)
            if found is not None:
                return found
            defn = self._runtime.definition
            pairs = list(facts.items()) if isinstance(facts, Mapping) else list(facts)
            if not pairs:
                raise InvalidData("記録する事実がありません / no facts to record")
            check_actor(actor)
            at, now = self._when(at)
            roles = defn.role_closure(actor.roles)
            if defn.is_closed(self._leaves):
                raise InvalidData(f"事案 {self.id} は終結しています / case '{self.id}' is closed: nothing more"
                                  " can be recorded on it")
            steps: list[Step] = []
            met_at: list[tuple[int, Met]] = []
            after, already, about = dict(self._facts), set(self._met), dict[str, str]()
            for pair in pairs:
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise InvalidData(f"facts: expected (name, value) pairs, got {pair!r:.60}")
                name, (value, owner) = pair[0], unwrap(pair[1])
                about |= {name: owner} if owner else {}
                typed = check_fact(defn, check_id(name, "fact"), value, roles, actor.id)
                before, after = after, dict(after)
                apply_facts(after, defn, {name: typed})
                payload = {"fact": name, "value": fact_json(typed)}
                steps.append(("fact", None, self._leaves, self._leaves, actor, payload))
                for m in self._runtime.criteria.met_by(before, after, "fact", payload, at, self._leaves, self.id, already):
                    met_at.append((len(steps), m))
                    already.add(m.criterion.id)
            result = self._commit(steps, at, now, after, "fact", {}, met_at=met_at, key=key, about=about)
            for event in result.events:
                if event.type == "fact":
                    logs.info("case.fact_recorded", case_id=self.id, workflow=defn.id, fact=event.data["fact"],
                              seq=event.seq)
            return result

    def add_subject(self, subject_id: str, part: str, *, actor: Actor, at: datetime | None = None) -> StepResult:
        """Name a pupil the case is about (a pseudonymous id, never a name) in a ``part`` (victim, perpetrator,
        bystander, reporter), or give one named already another part: one ``subject`` event."""
        return self._subject(subject_id, check_part(part), actor, at)

    def remove_subject(self, subject_id: str, *, actor: Actor, at: datetime | None = None) -> StepResult:
        """Withdraw a pupil named by mistake: one ``subject`` event with ``part`` null."""
        return self._subject(subject_id, None, actor, at)

    def _subject(self, subject_id: str, part: str | None, actor: Actor, at: datetime | None) -> StepResult:
        with self._engine.lock:
            at, now, data = *self._when(at), {"subject": subject_id, "part": part}
            check_change(self._runtime.definition, self._leaves, dict(self._people.subjects), data, None,
                         check_actor(actor).id, actor.roles, escalated=False)
            result = self._commit([("subject", None, self._leaves, self._leaves, actor, data)], at, now, self._facts,
                                  "subject", data, met_at=[])
            logs.info("case.subject", case_id=self.id, subject_id=subject_id, part=part, seq=result.event.seq)
            return result

    # -- internals ----------------------------------------------------------------------------------
    def _when(self, at: datetime | None) -> tuple[datetime, datetime]:
        """The step's time and the clock's now (read once per step: it is also the ``recorded_at``)."""
        now = storable(self._engine.clock.now(), "the clock's now()")
        return checked_time(at, now, opened_at=self.opened_at), now

    def _automatic_steps(self, leaves: frozenset[str], facts: dict[str, Any], at: datetime,
                         actors: ActorTally) -> list[Step]:
        defn, steps = self._runtime.definition, list[Step]()
        for _ in range(MAX_AUTOMATIC):
            due = due_automatic(defn, leaves, facts, at, self.id, self._engine.guards, actors)
            if due is None:
                return steps
            index, t = due
            after = self._runtime.machine.move(leaves, index)
            steps.append(("automatic", t.trigger, leaves, after, SYSTEM, {}))
            leaves = after
        raise InvalidData(f"automatic steps loop in workflow {defn.id}: more than {MAX_AUTOMATIC} in a row")

    def _keyed(self, key: str | None, kind: str, trigger: str | None) -> StepResult | None:
        """The first result of a call with this idempotency key, if the log holds one."""
        if key is None:
            return None
        return keyed_result(self._engine.store.read_case(self.id), check_text(key, "key"), kind, trigger)

    def _commit(self, steps: list[Step], at: datetime, recorded_at: datetime, facts: dict[str, Any], kind: str,
                data: Mapping[str, Any], actors: ActorTally | None = None, *,
                met_at: list[tuple[int, Met]] | None = None, key: str | None = None,
                about: Mapping[str, str] | None = None, link: Linked | None = None) -> StepResult:
        """Seal the steps, add what escalation criteria they meet, and append everything — this case's
        events and the linked case's — in one atomic write. Only then does the case change. ``actors``:
        the tally after the steps (``None``: as it was). ``met_at``: the criteria met, each after how many
        of ``steps`` (``None``: those the whole call meets, after all of them). ``key``: an idempotency key,
        kept on the first event; a lost race to a call with the same key returns that call's result."""
        if self._void:
            raise UnknownCase(self.id)
        actors = self._actors if actors is None else actors
        leaves = steps[-1][3]
        if met_at is None:
            met_at = [(len(steps), m) for m in self._runtime.criteria.met_by(self._facts, facts, kind, data, at,
                                                                              steps[0][3], self.id, self._met)]
        met = [m for _, m in met_at]
        linked, link_records, link_rows = self._escalated_to, list[tuple[Event, str]](), list[CaseRow]()
        opened: list[str] = []  # the case an escalation opens, if this commit opens one
        if met:
            linked, link_records, link_rows = self._engine.escalation_records(self, met, at, recorded_at)
            opened = [linked] if self._escalated_to is None else []
            woven: list[Step] = []
            for i, step in enumerate(steps, 1):  # each escalated event right after the step that met its criterion
                woven.append(step)
                woven += [("escalated", None, step[3], step[3], SYSTEM,
                           {"criterion": m.criterion.id, "figures": m.figures, "case": linked}) for n, m in met_at if n == i]
            steps = woven
        if link is not None:  # the case the step opens: in the same write (escalation.opened_records)
            link_records, link_rows, opened = [*link_records, *link[1]], [*link_rows, *link[2]], [*opened, link[0]]
        if key is not None:
            first = steps[0]
            steps[0] = (*first[:5], {**first[5], IDEMPOTENCY: {"key": key, "events": len(steps)}})
        defn = self._runtime.definition
        records, shown, seq, head, started = [], list[Event](), self._seq, self._head, self._started
        for step_kind, trigger, before, after, actor, payload in steps:
            seq += 1
            sealed = seal_data(self._engine.keys, defn, self.id, self.school or "", self._people.subjects, seq, step_kind,
                               trigger, payload, about or {})  # personal values sealed before the hash (ijime_flow.privacy)
            event, body = seal(
                case_id=self.id, seq=seq, type=step_kind, trigger=trigger,
                from_states=sorted(before), to_states=sorted(after),
                actor_id=actor.id, actor_roles=sorted(actor.roles), at=at, recorded_at=recorded_at,
                data=sealed, definition=None, prev_hash=head)
            records.append((event, body))
            shown.append(event if sealed is payload else event.model_copy(update={"data": payload}))  # returned as given
            head = event.hash
            # the facts after this commit are the facts after each of its events: only the first step records any
            started = advance(defn, started, trigger=trigger, at=at, seq=seq, before=before, after=after, facts=facts,
                              case_id=self.id, actors=actors)
        people = self._people.after(event for event, _ in records)
        row = make_row(defn, self.id, self.school, leaves, self.opened_at, at, seq, started, people.subjects, people.actors)
        try:
            self._engine.store.append(records + link_records, [row, *link_rows])
        except ConcurrencyError:
            found = self._keyed(key, "fact" if kind == "fact" else "step", steps[0][1])
            if found is None:
                raise
            return found  # another writer made this very call first
        self._engine._changing(self)
        self._people = people
        self._seq, self._head, self._leaves, self._facts, self._started = seq, head, leaves, facts, started
        self._actors = actors
        if met:
            self._met |= {m.criterion.id for m in met}
            self._escalated_to = linked
            logs.warning("case.escalated", case_id=self.id, to_case=linked, criteria=[m.criterion.id for m in met])
        return _construct(StepResult, {"events": shown, "opened_cases": opened})  # not validated: built by the engine

    def linked_cases(self) -> list[LinkedCase]:
        """The cases this one is linked to, both ways, from the log: by escalation (``escalated_to``,
        ``escalated_from``) or by a step that opened one (``opened``, ``opened_from``)."""
        return [LinkedCase(*link) for link in links_of(self.history())]

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.workflow_id} {sorted(self._leaves)} seq={self._seq}>"
