"""Deciding whether a step may be taken, and why not — the rules, apart from any storage.

Both the live engine (:mod:`ijime_flow.case`) and the verifier (:mod:`ijime_flow.audit.verify`) call these
functions, so a history is judged by exactly the rules that admitted it.

Rules, in order, for ``fire(trigger)``:

1. the trigger must be declared (else ``UnknownTrigger``, an ``InvalidTransition``) and leave a state
   that is active now                                                -> else ``InvalidTransition``;
2. the actor must hold one of its roles (with included roles)      -> else ``PermissionDenied``;
3. the data must carry the facts it ``records`` and the fields it ``requires`` -> else ``InvalidData``;
4. its ``when`` condition must hold at the step's time, on the facts as they would be after the
   step's own recorded facts (and a ``distinct_actors`` count with the step's own actor)
                                                                    -> else ``GuardFailed``.

Where several declared transitions share a trigger and an active source, the first whose
conditions hold is taken: one trigger moves one transition.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .canonical import MAX_INT, check_text
from .clock import EARLIEST, LATEST, storable
from .definition import Definition
from .errors import ConditionFailure, GuardFailed, InvalidData, InvalidTransition, PermissionDenied, UnknownTrigger
from .language.conditions import ActorTally, EvalContext, GuardFn, evaluate, holds
from .language.counting import tallied
from .language.models import FactDef, FieldDef, TransitionDef
from .privacy.sealing import Erased, Sealed, is_sealed

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Chosen:
    index: int
    transition: TransitionDef
    recorded: dict[str, Any]  # typed fact values this step records


def context(defn: Definition, facts: Facts, at: datetime, leaves: frozenset[str], case_id: str,
            guards: Mapping[str, GuardFn] | None, actors: ActorTally | None = None) -> EvalContext:
    """What a condition reads. ``actors``: who took the counted steps so far (:func:`note_actor`); only a
    ``distinct_actors`` condition reads it, and it is passed as it is kept, so it costs nothing here."""
    if not defn.counted_triggers:
        return EvalContext(facts=facts, at=at, tz=defn.tz, case_id=case_id, active_states=leaves,
                           guards=guards, fact_labels=defn.fact_labels)
    return EvalContext(facts=facts, at=at, tz=defn.tz, case_id=case_id, active_states=leaves, guards=guards,
                       fact_labels=defn.fact_labels, actors=actors, step_labels=defn.step_labels,
                       role_labels=defn.role_labels)


def note_actor(defn: Definition, actors: ActorTally, kind: str, trigger: str | None, actor_id: str,
               roles: Iterable[str]) -> ActorTally:
    """The tally of who took the counted steps, after one more event: a manual step (``transition`` or
    ``action``) whose trigger a ``distinct_actors`` condition of the definition counts adds its actor's
    pseudonymous id, with the roles held (and those they include). The same tally for anything else —
    every event of a definition that counts nothing — so only such a definition pays for it."""
    if trigger is None or trigger not in defn.counted_triggers or kind not in ("transition", "action"):
        return actors
    return tallied(actors, trigger, actor_id, defn.role_closure(frozenset(roles)))


def allowed_triggers(defn: Definition, leaves: frozenset[str]) -> list[str]:
    """Triggers that some role could fire from this configuration (conditions not evaluated)."""
    return sorted({t.trigger for t in defn.spec.transitions if not t.automatic and defn.source_active(t, leaves)})


def resolve(defn: Definition, leaves: frozenset[str], facts: Facts, trigger: str, roles: frozenset[str],
            actor_id: str, at: datetime, data: Mapping[str, Any], case_id: str,
            guards: Mapping[str, GuardFn] | None, actors: ActorTally | None = None) -> Chosen:
    """The transition ``trigger`` takes (rules 1-4 of the module docstring). ``actors``: the tally before
    the step (:func:`note_actor`); its conditions count the step's own actor too."""
    first_failures: list[ConditionFailure] | None = None
    after_step: ActorTally | None = None
    for index, t in candidates(defn, leaves, trigger, roles, actor_id):
        recorded = step_data(defn, t, data)
        if t.when is None:
            return Chosen(index, t, recorded)
        merged = {**facts, **recorded} if recorded else facts
        if after_step is None and defn.counted_triggers:
            after_step = note_actor(defn, actors or {}, "transition", trigger, actor_id, roles)
        failures = evaluate(t.when, context(defn, merged, at, leaves, case_id, guards, after_step))
        if not failures:
            return Chosen(index, t, recorded)
        first_failures = first_failures or failures
    raise GuardFailed(trigger, first_failures or [])


def candidates(defn: Definition, leaves: frozenset[str], trigger: str, roles: frozenset[str],
               actor_id: str) -> tuple[tuple[int, TransitionDef], ...]:
    """Rules 1 and 2: the declared transitions of ``trigger`` that leave an active state, are not
    automatic and may be taken in one of ``roles``, in declared order; refused, with the reason, when
    there are none. Remembered per (configuration, trigger, roles), the only things they depend on;
    a refusal (it names the actor) is worked out again each time."""
    key = (leaves, trigger, roles)
    found = defn.candidates_memo.get(key)
    if found is not None:
        return found
    declared = defn.transitions_by_trigger.get(trigger)
    states = list(defn.sorted_states(leaves))  # for the refusals below
    if not declared:
        raise UnknownTrigger(trigger, states, allowed_triggers(defn, leaves),
                             f"「{trigger}」という操作はワークフロー {defn.id} にありません")
    here = [(i, t) for i, t in declared if defn.source_active(t, leaves)]
    if not here:
        raise InvalidTransition(trigger, states, allowed_triggers(defn, leaves))
    manual = [(i, t) for i, t in here if not t.automatic]
    if not manual:
        raise InvalidTransition(trigger, states, allowed_triggers(defn, leaves),
                                "この操作はシステムが自動で行います")
    permitted = [(i, t) for i, t in manual if roles & set(t.roles)]
    if not permitted:
        allowed = sorted({r for _, t in manual for r in t.roles})
        raise PermissionDenied(trigger, actor_id, sorted(roles), allowed)
    found = tuple(permitted)
    if len(defn.candidates_memo) < 65536:  # configurations x triggers x role sets: bounded by the definition
        defn.candidates_memo[key] = found
    return found


def opening_data(defn: Definition, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the data a case is opened with; return the typed facts it records (``records_on_open``)."""
    recorded: dict[str, Any] = {}
    for name in defn.spec.records_on_open:
        if name not in data:
            raise InvalidData(f"事案を開くには「{defn.fact_labels.get(name, name)}」の記録が必要です"
                              f" / opening a {defn.id} case needs data '{name}'")
        recorded[name] = coerce_fact(defn.spec.facts[name], name, data[name])
    others = sorted(n for n in data if n in defn.spec.facts and n not in defn.spec.records_on_open)
    if others:
        raise InvalidData(f"{', '.join(others)}: facts are recorded with case.record_fact after opening")
    return recorded


def step_data(defn: Definition, t: TransitionDef, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the data of a step; return the typed values of the facts it records."""
    recorded: dict[str, Any] = {}
    for name in t.records:
        if name not in data:
            raise InvalidData(f"「{t.trigger}」には「{defn.fact_labels.get(name, name)}」の記録が必要です"
                              f" / '{t.trigger}' needs data '{name}'")
        recorded[name] = coerce_fact(defn.spec.facts[name], name, data[name])
    for name in t.requires:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidData(f"「{t.trigger}」には {name} の記入が必要です / '{t.trigger}' needs data '{name}'")
    for name, field in (t.fields or {}).items():
        if data.get(name) is not None:
            check_field(t.trigger, name, field, data[name])
    for name in data:
        if name in defn.spec.facts and name not in t.records:
            raise InvalidData(f"'{name}' is a fact: record it with record_fact, or declare it in"
                              f" 'records' of '{t.trigger}'")
    return recorded


def check_fact(defn: Definition, name: str, value: Any, roles: frozenset[str], actor_id: str) -> Any:
    """Check that the actor may record this fact and that the value fits; return the typed value."""
    fact = defn.spec.facts.get(name)
    if fact is None:
        known = ", ".join(defn.spec.facts) or "none"
        raise InvalidData(f"「{name}」はワークフロー {defn.id} の事実にありません / unknown fact '{name}' (declared: {known})")
    if fact.roles is not None and not roles & set(fact.roles):
        raise PermissionDenied(f"record {name}", actor_id, sorted(roles), fact.roles)
    return coerce_fact(fact, name, value)


def coerce_fact(fact: FactDef, name: str, value: Any) -> Any:
    """A fact value as Python holds it (``date`` for date facts), from Python or from JSON. Numbers,
    text, dates and times are held to what every store keeps alike (see :mod:`ijime_flow.canonical`):
    integers within ±(2**53 − 1), finite numbers, text without NUL or lone surrogates, dates and times
    from 1900 to 2999 (a time's odd UTC offset becomes UTC)."""
    if fact.personal and (isinstance(value, Erased | Sealed) or is_sealed(value)):  # read without its key: as it reads
        return value if isinstance(value, str) else Sealed(str(value["_sealed"].get("ct", "")))
    kind, bad = fact.type, False
    if kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "int":
        bad = not isinstance(value, int) or isinstance(value, bool) or not -MAX_INT <= value <= MAX_INT
    elif kind == "number":
        bad = not isinstance(value, int | float) or isinstance(value, bool) or not (
            math.isfinite(value) if isinstance(value, float) else -MAX_INT <= value <= MAX_INT)
    elif kind in ("string", "enum"):
        bad = not isinstance(value, str) or (kind == "enum" and value not in (fact.values or []))
        if not bad:
            check_text(value, f"fact '{name}'")
    elif kind == "date":
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                bad = True
        bad = bad or not isinstance(value, date) or isinstance(value, datetime) or not (
            EARLIEST.date() <= value < LATEST.date())
    else:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                bad = True
        bad = bad or not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None
        if not bad:
            value = storable(value, f"fact '{name}'")
    if bad:
        allowed = f" (one of: {', '.join(fact.values or [])})" if kind == "enum" else ""
        ranged = f" from {EARLIEST.year} to {LATEST.year - 1}" if kind in ("date", "datetime") else ""
        raise InvalidData(f"「{fact.ja}」の値が正しくありません / fact '{name}' must be a {kind}{allowed}{ranged},"
                          f" got {f'a {type(value).__name__}' if fact.personal else _shown(value)}")  # never a personal value
    return value


def check_field(trigger: str, name: str, field: FieldDef, value: Any) -> None:
    """A typed data field's value (as JSON: dates as ISO 8601 text); the message names the field, never the value."""
    kind = field.type
    if field.personal and (isinstance(value, Erased | Sealed) or is_sealed(value)):
        return
    if kind == "text":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("int", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and (kind == "number" or isinstance(value, int))
    else:
        try:
            parsed: Any = date.fromisoformat(value) if kind == "date" else datetime.fromisoformat(value)
            ok = kind == "date" or parsed.tzinfo is not None
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise InvalidData(f"「{trigger}」の {name} は {kind} で記入してください / '{trigger}' data '{name}' must be a {kind}")


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 2, 40, 40, 40


def _shown(value: Any) -> str:
    """A short picture of a refused value: never the whole of a huge or deeply nested one."""
    try:
        return _SHOWN.repr(value)
    except Exception:  # a value whose repr itself fails
        return f"a {type(value).__name__}"


def fact_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def apply_facts(facts: dict[str, Any], defn: Definition, recorded: Mapping[str, Any]) -> None:
    """Fold recorded values into the case's facts (a ``many`` fact collects distinct values)."""
    for name, value in recorded.items():
        if defn.spec.facts[name].many:
            facts[name] = frozenset(facts.get(name, frozenset())) | {value}
        else:
            facts[name] = value


def due_automatic(defn: Definition, leaves: frozenset[str], facts: Facts, at: datetime, case_id: str,
                  guards: Mapping[str, GuardFn] | None,
                  actors: ActorTally | None = None) -> tuple[int, TransitionDef] | None:
    """The first automatic step whose ``from`` state is active and done, and whose condition holds."""
    for index, t in defn.automatic_ready(leaves):
        if t.when is None or holds(t.when, context(defn, facts, at, leaves, case_id, guards, actors)):
            return index, t
    return None


def fold_event(facts: dict[str, Any], defn: Definition, kind: str, trigger: str | None,
               from_states: list[str] | None, data: Mapping[str, Any]) -> None:
    """Apply what an event does to the facts: a ``fact`` event's one fact; a step's cleared facts,
    then the declared facts in its data (``step_data`` admits no other fact names)."""
    declared = defn.spec.facts
    if kind == "fact":
        name = data["fact"]
        apply_facts(facts, defn, {name: coerce_fact(declared[name], name, data["value"])})
    elif kind in ("transition", "action"):
        t = defn.transition_for(trigger or "", from_states or [])
        for name in t.clears if t else ():
            facts.pop(name, None)
        apply_facts(facts, defn, {n: coerce_fact(declared[n], n, v) for n, v in data.items() if n in declared})
    elif kind == "criterion_met" and "criterion" in declared:  # a further criterion met on a linked case
        apply_facts(facts, defn, {"criterion": coerce_fact(declared["criterion"], "criterion", data["criterion"])})
    elif kind == "opened":  # the facts the workflow is opened with (records_on_open)
        apply_facts(facts, defn, {n: coerce_fact(declared[n], n, data[n]) for n in defn.spec.records_on_open if n in data})
