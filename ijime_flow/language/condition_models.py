"""Conditions, the models: a small declarative vocabulary over a case's facts and time. Data, never code.

In YAML a condition is one of::

    all: [cond, ...]                 # every one holds
    any: [cond, ...]                 # at least one holds
    not: cond                        # the condition does not hold
    fact: NAME, equals: V            # also not_equals, lt, lte, gt, gte, in: [..], is_set: true|false
    since: NAME, at_least: P3M       # at least an ISO 8601 duration since the date in fact NAME
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
