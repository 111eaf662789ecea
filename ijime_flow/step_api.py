"""The step API an application builds its screens on: what steps a case offers an actor now
(:class:`StepInfo`, from :meth:`Case.available_steps <ijime_flow.case.Case.available_steps>`) and
everything one call wrote (:class:`StepResult`, from ``Case.fire_result`` / ``Case.record_fact_result``).

Both are pydantic models, JSON-ready with ``model_dump(mode="json")`` (or :meth:`StepInfo.to_dict`):
every time in them is written in UTC, ISO 8601 with ``+00:00`` (:func:`~ijime_flow.canonical.json_time`),
whatever zone it was given in. Whether a step is offered is decided by the same rules as ``fire``
(:mod:`ijime_flow.stepper`): the right state, a role the actor holds, and its condition — a step whose
data records facts is offered even while its condition fails, since those facts may satisfy it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer, field_serializer

from .canonical import json_time
from .deadlines import Started
from .definition import Definition
from .errors import CaseExists, ConcurrencyError, InvalidData
from .escalation import OPENED_FROM, OPENS
from .events import Event, parse_event
from .language.conditions import ActorTally, EvalContext, GuardFn, evaluate, holds
from .language.models import TransitionDef
from .stepper import allowed_triggers, context, note_actor

__all__ = ["IDEMPOTENCY", "DataField", "DeadlineDue", "StepInfo", "StepResult", "WhyNot", "keyed_case_id", "keyed_result",
           "opened_with", "retry", "step_infos"]

if TYPE_CHECKING:
    from .case import Case
    from .engine import Engine
    from .store import StoredEvent

T = TypeVar("T")
# the reserved key, in the data of the first event a keyed call wrote: {"key": ..., "events": how many it wrote here}
IDEMPOTENCY = "_idempotency"


_RESERVED = (IDEMPOTENCY, OPENS, OPENED_FROM)


def check_reserved(payload: Mapping[str, Any]) -> None:
    """Data keys only the engine writes: ``_idempotency`` (pass ``key=``) and ``opens`` (the case a step opens)."""
    for name in _RESERVED:
        if name in payload:
            raise InvalidData(f"data の {name} は予約されています / '{name}' is reserved in data"
                              + (": pass key=" if name == IDEMPOTENCY else ": the engine records the links between cases"))

UtcTime = Annotated[AwareDatetime, PlainSerializer(json_time, return_type=str, when_used="json")]
WhyNot = Literal["role", "condition", "state"]


class DataField(BaseModel):
    """One piece of data a step needs in ``fire(..., data=...)``: a fact it ``records`` (``kind="fact"``,
    typed and labelled by the workflow) or a field it ``requires`` (``kind="field"``: non-empty text;
    the workflow gives it no label, so ``ja`` and ``en`` are ``None``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["fact", "field"]
    type: str  # the fact's type (bool, int, number, string, enum, date, datetime); "text" for a field
    ja: str | None
    en: str | None = None
    values: list[str] | None = None  # an enum fact's allowed values
    many: bool = False


class DeadlineDue(BaseModel):
    """An open deadline of the case that taking the step meets."""

    model_config = ConfigDict(frozen=True)

    id: str
    state: str
    ja: str
    en: str | None
    due: UtcTime
    overdue: bool  # already past due at the time asked about


class StepInfo(BaseModel):
    """One step of the workflow at the case's active states, as offered to one actor.

    ``allowed`` False comes with ``why_not``: ``"role"`` (the actor holds none of ``roles``),
    ``"condition"`` (its ``when`` does not hold; ``earliest`` is the first date a waiting period is
    over, if that is what fails) or ``"state"`` (not a step of the active states: listed only with
    ``everywhere=True``), and the reason in Japanese (``reason_ja``, e.g. the unmet condition's
    wording) and English."""

    model_config = ConfigDict(frozen=True)

    trigger: str
    ja: str
    en: str | None
    source: str  # the policy section
    moves: bool  # True: the step changes state; False: an internal action, recorded, state unchanged
    to: str | None
    roles: list[str]
    allowed: bool
    why_not: WhyNot | None = None
    reason_ja: str | None = None
    reason_en: str | None = None
    earliest: date | None = None
    data: list[DataField]
    deadlines: list[DeadlineDue]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StepResult(BaseModel):
    """Everything one ``fire_result`` / ``record_fact_result`` call wrote on the case, in order: the
    step (``event``, the first), the automatic steps it led to and the ``escalated`` events; and
    ``opened_cases``, the ids of the linked cases an escalation opened (empty if none)."""

    model_config = ConfigDict(frozen=True)

    events: list[Event]
    opened_cases: list[str] = []

    @property
    def event(self) -> Event:
        """The step itself: what ``fire`` and ``record_fact`` return."""
        return self.events[0]

    @field_serializer("events", when_used="json")
    def _events_json(self, events: list[Event]) -> list[dict[str, Any]]:
        return [e.to_dict() for e in events]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def step_infos(defn: Definition, leaves: frozenset[str], facts: Mapping[str, Any], roles: frozenset[str],
               actor_id: str, at: datetime, case_id: str, guards: Mapping[str, GuardFn] | None,
               actors: ActorTally, started: Sequence[Started], *, everywhere: bool = False) -> list[StepInfo]:
    """The steps at ``leaves`` (every manual step of the workflow with ``everywhere``), sorted by
    trigger, each as :class:`StepInfo` for an actor holding ``roles`` (their closure) at ``at``."""
    ctx = context(defn, facts, at, leaves, case_id, guards, actors)

    def own(trigger: str) -> EvalContext:  # a step's condition counts its own actor (see stepper.resolve)
        if trigger not in defn.counted_triggers:
            return ctx
        return context(defn, facts, at, leaves, case_id, guards, note_actor(defn, actors, "action", trigger, actor_id, roles))

    here = allowed_triggers(defn, leaves)
    triggers = sorted({t.trigger for t in defn.spec.transitions if not t.automatic}) if everywhere else here
    out = []
    for trigger in triggers:
        manual = [t for _, t in defn.transitions_by_trigger[trigger] if not t.automatic]
        at_state = [t for t in manual if defn.source_active(t, leaves)]
        permitted = [t for t in at_state if roles & set(t.roles)]
        if not at_state:
            states = "、".join(defn.sorted_states(leaves)) or "（なし）"
            out.append(_info(defn, manual[0], started, at, "state", f"現在の状態（{states}）では行えない操作です",
                             f"not a step of the active states {list(defn.sorted_states(leaves))}"))
        elif not permitted:
            t = at_state[0]
            names = sorted({r for s in at_state for r in s.roles})
            labels = "、".join(defn.role_labels.get(r, r) for r in names)
            out.append(_info(defn, t, started, at, "role", f"「{t.ja}」を行えるのは {labels} だけです",
                             f"'{trigger}' may only be done by roles: {', '.join(names)}"))
        else:
            chosen = next((t for t in permitted if t.when is None or t.records or holds(t.when, own(trigger))), None)
            if chosen is not None:
                out.append(_info(defn, chosen, started, at))
                continue
            t = permitted[0]
            assert t.when is not None  # a step without a condition is always chosen
            failures = evaluate(t.when, own(trigger))
            dates = [f.earliest for f in failures if f.earliest is not None]
            out.append(_info(defn, t, started, at, "condition", "; ".join(f.ja for f in failures),
                             "; ".join(f.en for f in failures), max(dates) if dates else None))
    return out


def _info(defn: Definition, t: TransitionDef, started: Sequence[Started], at: datetime, why: WhyNot | None = None,
          ja: str | None = None, en: str | None = None, earliest: date | None = None) -> StepInfo:
    facts = defn.spec.facts
    data = [DataField(name=n, kind="fact", type=facts[n].type, ja=facts[n].ja, en=facts[n].en, values=facts[n].values,
                      many=facts[n].many) for n in t.records]
    data += [DataField(name=n, kind="field", type="text", ja=None) for n in t.requires]
    due = [DeadlineDue(id=s.spec.id, state=s.state, ja=s.spec.ja, en=s.spec.en, due=s.due, overdue=at >= s.due)
           for s in started if s.met_at is None and t.trigger in s.spec.met_by]
    return StepInfo(trigger=t.trigger, ja=t.ja, en=t.en, source=t.source, moves=t.to is not None, to=t.to,
                    roles=list(t.roles), allowed=why is None, why_not=why, reason_ja=ja, reason_en=en, earliest=earliest,
                    data=data, deadlines=due)


_KEYED = uuid.UUID("8d3c1f5e-6a1b-5f0e-9c57-1d2b3a4c5e6f")  # the namespace of case ids derived from keys


def keyed_case_id(school: str | None, workflow_id: str, key: str) -> str:
    """The id of the case ``open_case(..., key=key)`` opens: the same in every process."""
    return uuid.uuid5(_KEYED, f"{school}/{workflow_id}/{key}").hex


def opened_with(rows: Sequence[StoredEvent], key: str) -> bool:
    """The case's first event (of its stored events ``rows``) was written by a call with this idempotency key."""
    if not rows:
        return False
    kept = parse_event(rows[0].body, rows[0].case_id, rows[0].seq).data.get(IDEMPOTENCY)
    return isinstance(kept, dict) and kept.get("key") == key


def keyed_result(rows: Sequence[StoredEvent], key: str, kind: str, trigger: str | None) -> StepResult | None:
    """The result of the call recorded with idempotency ``key`` on a case (its stored events ``rows``),
    rebuilt from the log; ``None`` if no call used it. A key used by another kind of call (another
    trigger, or a fact where a step was taken) is refused: ``InvalidData``."""
    needle = f'"{IDEMPOTENCY}":'
    for i, row in enumerate(rows):
        if needle not in row.body:
            continue
        event = parse_event(row.body, row.case_id, row.seq)
        mark = event.data.get(IDEMPOTENCY)
        if not isinstance(mark, dict) or mark.get("key") != key:
            continue
        if (event.type == "fact") != (kind == "fact") or (kind != "fact" and event.trigger != trigger):
            raise InvalidData(f"冪等キー {key!r} は別の操作に使われています / idempotency key {key!r} was already used for"
                              f" another call ({event.trigger or event.type} at seq {event.seq})")
        events = [event] + [parse_event(r.body, r.case_id, r.seq) for r in rows[i + 1:i + int(mark.get("events", 1))]]
        linked = {str(e.data.get("case")) for r in rows[:i] if '"escalated"' in r.body
                  for e in [parse_event(r.body, r.case_id, r.seq)] if e.type == "escalated"}
        opened = [str(e.data["case"]) for e in events if e.type == "escalated" and str(e.data["case"]) not in linked][:1]
        return StepResult.model_construct(events=events, opened_cases=opened)
    return None


def retry(engine: Engine, case_id: str, fn: Callable[[Case], T], *, attempts: int = 3) -> T:
    """``fn(case)`` on the case reloaded from the store, again (reloaded once more) each time another writer
    recorded on it first (``ConcurrencyError``), at most ``attempts`` times in all; the last
    ``ConcurrencyError`` is raised if every attempt lost. Any other error — a refusal of the step on the
    reloaded case, ``CaseExists`` — is raised at once, as it is."""
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise InvalidData(f"attempts must be a positive integer, not {attempts!r}")
    for attempt in range(1, attempts + 1):
        case = engine.get_case(case_id)
        try:
            return fn(case)
        except CaseExists:
            raise
        except ConcurrencyError:
            if attempt == attempts:
                raise
    raise AssertionError("not reached")
