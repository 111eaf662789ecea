"""Conditions, the models: a small declarative vocabulary over a case's facts and time. Data, never code.

In YAML a condition is one of::

    all: [cond, ...]                 # every one holds
    any: [cond, ...]                 # at least one holds
    not: cond                        # the condition does not hold
    fact: NAME, equals: V            # also not_equals, lt, lte, gt, gte, in: [..], is_set: true|false
    since: NAME, at_least: P3M       # at least an ISO 8601 duration since the date in fact NAME
    count: NAME, at_least: 3         # how many values a ``many`` fact holds; also at_most, exactly
    distinct_actors: TRIGGER, at_least: 2, role: staff   # how many different people took the step
    guard: NAME                      # a named Python guard registered by the embedding application

Each may carry ``ja`` / ``en`` labels, used in refusal messages instead of the generated wording.
Nothing here evaluates text as code: the evaluator (:mod:`.conditions`) walks these models.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .durations import DATE_DURATION_PATTERN, check_date_duration
from .stored import reading

Scalar = StrictBool | int | float | str | date
COUNT_BOUNDS: tuple[str, ...] = ("at_least", "at_most", "exactly")
MAX_COUNT = 10_000  # more than any school records of one case: a bigger number is a slip of the keyboard
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
    at_least: str = Field(description="ISO 8601 duration in days, weeks, months or years, e.g. P3M (3 calendar"
                                      " months), P30D, P1Y (at most P100Y)",
                          json_schema_extra={"pattern": DATE_DURATION_PATTERN})

    @field_validator("at_least")
    @classmethod
    def _iso_duration(cls, value: str, info: ValidationInfo) -> str:
        stored = reading(info)  # a definition read back from a store: as earlier versions read it
        if stored is not None:
            return stored.duration(value, f"at_least (since '{info.data.get('since', '?')}')", dates=True)
        return check_date_duration(value)


class _Counted(_Cond):
    """A count compared with a whole number: exactly one of ``at_least``, ``at_most``, ``exactly``
    (a range is ``all: [{..., at_least: 2}, {..., at_most: 5}]``)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [name]} for name in COUNT_BOUNDS]})

    at_least: int | None = Field(default=None, description="the count is this or more (1 or more)",
                                 json_schema_extra={"minimum": 1, "maximum": MAX_COUNT})
    at_most: int | None = Field(default=None, description="the count is this or fewer",
                                json_schema_extra={"minimum": 0, "maximum": MAX_COUNT})
    exactly: int | None = Field(default=None, description="the count is this",
                                json_schema_extra={"minimum": 0, "maximum": MAX_COUNT})

    _bound: str = PrivateAttr(default="")

    @field_validator("at_least", "at_most", "exactly", mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if value is None:
            return value  # "needs a value": said once, below
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} は整数で書いてください（「{str(value)[:40]}」は数ではありません） / '{name}' takes"
                             f" a whole number, not {value!r:.40}")
        low = 1 if name == "at_least" else 0
        if not low <= value <= MAX_COUNT:
            why_ja = "at_least: 0 は常に満たされます" if name == "at_least" and value == 0 else f"{low} から {MAX_COUNT} まで"
            why_en = ("at_least: 0 always holds" if name == "at_least" and value == 0
                      else f"from {low} to {MAX_COUNT}")
            raise ValueError(f"{name} の値 {value} は使えません（{why_ja}） / '{name}' cannot be {value} ({why_en})")
        return value

    @model_validator(mode="after")
    def _one_bound(self) -> _Counted:
        given = [name for name in COUNT_BOUNDS if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(f"数える条件には at_least、at_most、exactly のいずれか一つを書きます（書かれたもの:"
                             f" {'、'.join(given) or 'なし'}） / a counting condition takes exactly one of at_least,"
                             f" at_most, exactly; got {given or 'none'}")
        if getattr(self, given[0]) is None:
            raise ValueError(f"{given[0]} には数が必要です（null は数ではありません） / '{given[0]}' needs a number"
                             " (null is not one)")
        self._bound = given[0]  # computed once: conditions are evaluated on every step
        return self

    @property
    def bound(self) -> str:
        """Which of ``at_least``, ``at_most``, ``exactly`` is given."""
        return self._bound

    @property
    def number(self) -> int:
        value: int = getattr(self, self._bound)
        return value

    def holds_for(self, count: int) -> bool:
        if self._bound == "at_least":
            return count >= self.number
        if self._bound == "at_most":
            return count <= self.number
        return count == self.number


class CountOf(_Counted):
    """How many values a ``many`` fact holds (its distinct values: absent dates, say), compared with a
    number. A fact not recorded holds none."""

    count: str = Field(description="name of a fact with many: true")


class DistinctActors(_Counted):
    """How many different people (pseudonymous actor ids) took the step ``distinct_actors`` in the case's
    history, compared with a number; with ``role``, only those who held that role (directly or through
    ``includes``) when they took it. The same person twice counts once; automatic steps count no one. A
    step's own condition counts its own actor, as it counts the facts the step records."""

    distinct_actors: str = Field(description="the trigger of a manual step")
    role: str | None = Field(default=None, description="count only people acting in this role (with included roles)")


class GuardRef(_Cond):
    """A named Python guard registered by the embedding application (``engine.register_guard``)."""

    guard: str


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, tag in (("all", "AllOf"), ("any", "AnyOf"), ("not", "NotCond"), ("since", "Since"),
                     ("guard", "GuardRef"), ("count", "CountOf"), ("distinct_actors", "DistinctActors"),
                     ("fact", "FactIs")):
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
        Annotated[CountOf, Tag("CountOf")],
        Annotated[DistinctActors, Tag("DistinctActors")],
        Annotated[GuardRef, Tag("GuardRef")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="条件には all、any、not、fact、since、count、distinct_actors、guard のいずれかのキーが必要です"
                             " / a condition needs one of the keys all, any, not, fact, since, count, distinct_actors"
                             " or guard",
    ),
]
CONDITION_TAGS = frozenset({"AllOf", "AnyOf", "NotCond", "FactIs", "Since", "CountOf", "DistinctActors", "GuardRef"})

for _model in (AllOf, AnyOf, NotCond):
    _model.model_rebuild()
