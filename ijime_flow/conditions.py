"""Conditions: a small declarative vocabulary over a case's facts and time. Data, never code.

In YAML a condition is one of::

    all: [cond, ...]                 # every one holds
    any: [cond, ...]                 # at least one holds
    not: cond                        # the condition does not hold
    fact: NAME, equals: V            # also not_equals, lt, lte, gt, gte, in: [..], is_set: true|false
    since: NAME, at_least: P3M       # at least an ISO 8601 duration since the date in fact NAME
    guard: NAME                      # a named Python guard registered by the embedding application

Each may carry ``ja`` / ``en`` labels, used in refusal messages instead of the generated wording.
Nothing here evaluates text as code: the evaluator walks these models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

import isodate
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    Tag,
    field_validator,
    model_validator,
)

from .errors import ConditionFailure

Scalar = StrictBool | int | float | str | date
COMPARISONS: tuple[str, ...] = ("equals", "not_equals", "lt", "lte", "gt", "gte", "in", "contains", "is_set")


class _Cond(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    ja: str | None = Field(default=None, description="Japanese wording used in refusal messages")
    en: str | None = Field(default=None, description="English wording used in refusal messages")


class AllOf(_Cond):
    """Every listed condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Cond):
    """At least one listed condition holds."""

    any: list[Condition] = Field(min_length=1)


class NotCond(_Cond):
    """The given condition does not hold."""

    not_: Condition = Field(alias="not")


class FactIs(_Cond):
    """A comparison on one fact of the case. Exactly one operator is given."""

    fact: str
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    contains: Scalar | None = Field(default=None, description="a many-valued fact holds this value")
    is_set: StrictBool | None = None

    _op: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _one_operator(self) -> FactIs:
        given = [name for name in COMPARISONS if self.operand_given(name)]
        if len(given) != 1:
            raise ValueError(
                f"a fact condition takes exactly one of {', '.join(COMPARISONS)}; got {given or 'none'}"
            )
        self._op = given[0]  # computed once: conditions are evaluated on every step
        if self.operand is None:
            raise ValueError(f"'{given[0]}' needs a value (null is not a value; use is_set: false for 'not recorded')")
        return self

    def operand_given(self, op: str) -> bool:
        field = "in_" if op == "in" else op
        return field in self.model_fields_set

    @property
    def op(self) -> str:
        return self._op

    @property
    def operand(self) -> Any:
        return getattr(self, "in_" if self.op == "in" else self.op)


class Since(_Cond):
    """At least ``at_least`` (ISO 8601, calendar months honoured) has passed since the date in ``since``."""

    since: str = Field(description="name of a date fact")
    at_least: str = Field(description="ISO 8601 duration, e.g. P3M (3 calendar months), P30D, P1Y")

    @field_validator("at_least")
    @classmethod
    def _iso_duration(cls, value: str) -> str:
        return check_duration(value)


def check_duration(value: str) -> str:
    """``value`` if it is an ISO 8601 duration, else a ``ValueError`` saying so."""
    try:
        parse_duration(value)
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f"'{value}' is not an ISO 8601 duration such as P3M or P30D") from exc
    return value


class GuardRef(_Cond):
    """A named Python guard registered by the embedding application (``engine.register_guard``)."""

    guard: str


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, tag in (("all", "AllOf"), ("any", "AnyOf"), ("not", "NotCond"), ("since", "Since"),
                     ("guard", "GuardRef"), ("fact", "FactIs")):
        if key in value:
            return tag
    return None


Condition = Annotated[
    Union[  # noqa: UP007 - Annotated tags need the explicit Union form
        Annotated[AllOf, Tag("AllOf")],
        Annotated[AnyOf, Tag("AnyOf")],
        Annotated[NotCond, Tag("NotCond")],
        Annotated[FactIs, Tag("FactIs")],
        Annotated[Since, Tag("Since")],
        Annotated[GuardRef, Tag("GuardRef")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition needs one of the keys all, any, not, fact, since or guard",
    ),
]
CONDITION_TAGS = frozenset({"AllOf", "AnyOf", "NotCond", "FactIs", "Since", "GuardRef"})

for _model in (AllOf, AnyOf, NotCond):
    _model.model_rebuild()


@lru_cache(maxsize=256)
def parse_duration(text: str) -> Any:
    """An ISO 8601 duration as ``isodate`` gives it: a ``timedelta`` or an ``isodate.Duration``
    (which adds calendar months: 31 May + P3M is 31 August; 30 November + P3M is 29 February)."""
    return isodate.parse_duration(text)


# ---------------------------------------------------------------------------------------------
# Evaluation

GuardFn = Callable[["EvalContext"], bool]
FactKind = Literal["bool", "int", "number", "string", "date", "datetime", "enum"]


@dataclass(slots=True)
class EvalContext:
    """What a condition may look at: the case's facts, the time of the step and the school's zone.
    (Not frozen: several are built for every step, and a frozen dataclass is slow to build.)"""

    facts: Mapping[str, Any]
    at: datetime
    tz: tzinfo
    case_id: str = ""
    active_states: frozenset[str] = frozenset()
    guards: Mapping[str, GuardFn] | None = None
    fact_labels: Mapping[str, str] | None = None

    @property
    def local_date(self) -> date:
        return self.at.astimezone(self.tz).date()

    def label(self, fact: str) -> str:
        return (self.fact_labels or {}).get(fact, fact)


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
    earliest: date = start + parse_duration(cond.at_least)
    return earliest


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
