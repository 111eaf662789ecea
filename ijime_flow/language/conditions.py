"""Conditions: evaluation (:func:`holds`, :func:`evaluate`, :func:`compile_condition`) and wording
(:func:`describe`) over the models of :mod:`.condition_models`, which are re-exported here. Data, never
code: the evaluator walks the models; nothing evaluates text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Literal

from ..errors import ConditionFailure
from .condition_models import (
    COMPARISONS,
    CONDITION_TAGS,
    AllOf,
    AnyOf,
    Condition,
    CountOf,
    DistinctActors,
    FactIs,
    GuardRef,
    NotCond,
    Scalar,
    Since,
    _Cond,
)
from .counting import ActorTally, count_failures, count_holds, describe_count
from .durations import DurationError, check_duration, parse_duration
from .stored import add_duration

__all__ = [
    "COMPARISONS",
    "CONDITION_TAGS",
    "ActorTally",
    "AllOf",
    "AnyOf",
    "Check",
    "Condition",
    "CountOf",
    "DistinctActors",
    "DurationError",
    "EvalContext",
    "FactIs",
    "FactKind",
    "GuardFn",
    "GuardRef",
    "NotCond",
    "Scalar",
    "Since",
    "check_duration",
    "compile_condition",
    "describe",
    "evaluate",
    "holds",
    "parse_duration",
    "walk",
]


# ---------------------------------------------------------------------------------------------
# Evaluation

GuardFn = Callable[["EvalContext"], bool]
FactKind = Literal["bool", "int", "number", "string", "date", "datetime", "enum"]


@dataclass(slots=True)
class EvalContext:
    """What a condition may look at: the case's facts, the time of the step and the school's zone, and
    who took the counted steps (``actors``: see :mod:`.counting`; ``None`` counts no one). The labels
    are for refusal messages. (Not frozen: several are built for every step, and a frozen dataclass is
    slow to build.)"""

    facts: Mapping[str, Any]
    at: datetime
    tz: tzinfo
    case_id: str = ""
    active_states: frozenset[str] = frozenset()
    guards: Mapping[str, GuardFn] | None = None
    fact_labels: Mapping[str, str] | None = None
    actors: ActorTally | None = None
    step_labels: Mapping[str, str] | None = None
    role_labels: Mapping[str, str] | None = None

    @property
    def local_date(self) -> date:
        return self.at.astimezone(self.tz).date()

    def label(self, fact: str) -> str:
        return (self.fact_labels or {}).get(fact, fact)

    def step_label(self, trigger: str) -> str:
        return (self.step_labels or {}).get(trigger, trigger)

    def role_label(self, role: str) -> str:
        return (self.role_labels or {}).get(role, role)


def holds(cond: Condition, ctx: EvalContext) -> bool:
    """Whether ``cond`` holds, without composing any wording: for checks whose answer nobody reads
    as a refusal (criteria, automatic steps, deadline conditions, what an actor may do)."""
    if isinstance(cond, AllOf):
        return all(holds(item, ctx) for item in cond.all)
    if isinstance(cond, AnyOf):
        return any(holds(item, ctx) for item in cond.any)
    if isinstance(cond, NotCond):
        return not holds(cond.not_, ctx)
    if isinstance(cond, FactIs):
        return _fact_holds(cond, ctx)
    if isinstance(cond, Since):
        earliest = _since_earliest(cond, ctx)
        return earliest is not None and ctx.local_date >= earliest
    if isinstance(cond, CountOf | DistinctActors):
        return count_holds(cond, ctx)
    guard = (ctx.guards or {}).get(cond.guard)
    return guard is not None and bool(guard(ctx))


Check = Callable[[EvalContext], bool]


def compile_condition(cond: Condition) -> Check:
    """``holds`` for one fixed condition, as plain closures: for conditions checked after every step
    (escalation criteria), where walking the pydantic models each time costs more than the step."""
    if isinstance(cond, AllOf):
        parts = [compile_condition(c) for c in cond.all]
        return lambda ctx: all(part(ctx) for part in parts)
    if isinstance(cond, AnyOf):
        options = [compile_condition(c) for c in cond.any]
        return lambda ctx: any(option(ctx) for option in options)
    if isinstance(cond, NotCond):
        inner = compile_condition(cond.not_)
        return lambda ctx: not inner(ctx)
    if isinstance(cond, FactIs) and cond.op == "is_set":
        fact, wanted = cond.fact, bool(cond.is_set)
        return lambda ctx: (fact in ctx.facts) == wanted
    return lambda ctx: holds(cond, ctx)


def evaluate(cond: Condition, ctx: EvalContext) -> list[ConditionFailure]:
    """The failures of ``cond`` in ``ctx``; an empty list means it holds."""
    if isinstance(cond, AllOf):
        failures: list[ConditionFailure] = []
        for item in cond.all:
            failures.extend(evaluate(item, ctx))
        return failures if not failures or cond.ja is None else [_labelled(cond, failures)]
    if isinstance(cond, AnyOf):
        branches = [evaluate(item, ctx) for item in cond.any]
        if any(not b for b in branches):
            return []
        ja, en = describe(cond, ctx.label)
        earliest = [f.earliest for b in branches for f in b if f.earliest]
        return [ConditionFailure(ja, en, min(earliest) if earliest else None)]
    if isinstance(cond, NotCond):
        if evaluate(cond.not_, ctx):
            return []
        ja, en = describe(cond, ctx.label)
        return [ConditionFailure(ja, en)]
    if isinstance(cond, FactIs):
        return [] if _fact_holds(cond, ctx) else [ConditionFailure(*describe(cond, ctx.label))]
    if isinstance(cond, Since):
        return _since_failures(cond, ctx)
    if isinstance(cond, CountOf | DistinctActors):
        return count_failures(cond, ctx)
    if isinstance(cond, GuardRef):
        guard = (ctx.guards or {}).get(cond.guard)
        if guard is None:
            return [ConditionFailure(f"ガード「{cond.guard}」が登録されていません",
                                     f"guard '{cond.guard}' is not registered")]
        return [] if guard(ctx) else [ConditionFailure(*describe(cond, ctx.label))]
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - the union is closed


def _labelled(cond: _Cond, failures: list[ConditionFailure]) -> ConditionFailure:
    earliest = [f.earliest for f in failures if f.earliest]
    return ConditionFailure(cond.ja or "", cond.en or cond.ja or "", max(earliest) if earliest else None)


def _fact_holds(cond: FactIs, ctx: EvalContext) -> bool:
    op = cond.op
    is_set = cond.fact in ctx.facts
    if op == "is_set":
        return is_set == cond.is_set
    if not is_set:
        return op == "not_equals"
    value = ctx.facts[cond.fact]
    if op == "contains":
        sample = next(iter(value), None) if isinstance(value, frozenset | set | list) else None
        operand = _like(sample, cond.operand)
    else:
        operand = [_like(value, o) for o in cond.operand] if op == "in" else _like(value, cond.operand)
    if op == "equals":
        return bool(value == operand)
    if op == "not_equals":
        return bool(value != operand)
    if op == "in":
        return value in operand
    if op == "contains":
        return isinstance(value, frozenset | set | list) and operand in value
    try:
        if op == "lt":
            return bool(value < operand)
        if op == "lte":
            return bool(value <= operand)
        if op == "gt":
            return bool(value > operand)
        return bool(value >= operand)
    except TypeError:
        return False


def _like(value: Any, operand: Any) -> Any:
    """Read an operand as the fact's type: a date written as text (from JSON) compares as a date."""
    if isinstance(value, date) and isinstance(operand, str):
        try:
            return (datetime if isinstance(value, datetime) else date).fromisoformat(operand)
        except ValueError:
            return operand
    return operand


def _since_earliest(cond: Since, ctx: EvalContext) -> date | None:
    """The first local date on which the waiting period is over; None while the fact is not recorded."""
    start = ctx.facts.get(cond.since)
    if isinstance(start, datetime):
        start = start.astimezone(ctx.tz).date()
    if not isinstance(start, date):
        return None
    return add_duration(start, cond.at_least)  # never overflows; a stored duration read as it was written


def _since_failures(cond: Since, ctx: EvalContext) -> list[ConditionFailure]:
    earliest = _since_earliest(cond, ctx)
    if earliest is not None and ctx.local_date >= earliest:
        return []
    ja, en = describe(cond, ctx.label)
    if earliest is None:
        return [ConditionFailure(f"{ja}（「{ctx.label(cond.since)}」が未記録）",
                                 f"{en} (fact '{cond.since}' not recorded)")]
    return [ConditionFailure(ja, en, earliest)]


_OP_JA = {"equals": "が {v} であること", "not_equals": "が {v} でないこと", "lt": "が {v} 未満であること",
          "lte": "が {v} 以下であること", "gt": "が {v} を超えること", "gte": "が {v} 以上であること",
          "in": "が {v} のいずれかであること", "contains": "に {v} が含まれること"}
_OP_EN = {"equals": "{f} = {v}", "not_equals": "{f} ≠ {v}", "lt": "{f} < {v}", "lte": "{f} ≤ {v}",
          "gt": "{f} > {v}", "gte": "{f} ≥ {v}", "in": "{f} in {v}", "contains": "{f} contains {v}"}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def describe(cond: Condition, label: Callable[[str], str] = str) -> tuple[str, str]:
    """The condition in words: (Japanese, English). Labels given in YAML win."""
    ja, en = _describe(cond, label)
    return cond.ja or ja, cond.en or en


def _describe(cond: Condition, label: Callable[[str], str]) -> tuple[str, str]:
    if isinstance(cond, AllOf):
        parts = [describe(c, label) for c in cond.all]
        return "、".join(p[0] for p in parts), " and ".join(p[1] for p in parts)
    if isinstance(cond, AnyOf):
        parts = [describe(c, label) for c in cond.any]
        return ("次のいずれか: " + " / ".join(p[0] for p in parts),
                "one of: " + " or ".join(p[1] for p in parts))
    if isinstance(cond, NotCond):
        ja, en = describe(cond.not_, label)
        return f"「{ja}」ではないこと", f"not ({en})"
    if isinstance(cond, FactIs):
        if cond.op == "is_set":
            if cond.is_set:
                return f"「{label(cond.fact)}」が記録されていること", f"fact '{cond.fact}' is recorded"
            return f"「{label(cond.fact)}」が記録されていないこと", f"fact '{cond.fact}' is not recorded"
        v = _show(cond.operand)
        return (f"「{label(cond.fact)}」" + _OP_JA[cond.op].format(v=v),
                _OP_EN[cond.op].format(f=cond.fact, v=v))
    if isinstance(cond, Since):
        return (f"「{label(cond.since)}」から {cond.at_least} 以上経過していること",
                f"at least {cond.at_least} since '{cond.since}'")
    if isinstance(cond, CountOf | DistinctActors):
        return describe_count(cond, label)
    return f"条件「{cond.guard}」を満たすこと", f"guard '{cond.guard}' holds"


def walk(cond: Condition) -> list[Condition]:
    """The condition and every condition inside it, depth first."""
    out: list[Condition] = [cond]
    if isinstance(cond, AllOf):
        for c in cond.all:
            out.extend(walk(c))
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            out.extend(walk(c))
    elif isinstance(cond, NotCond):
        out.extend(walk(cond.not_))
    return out
