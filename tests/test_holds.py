"""`holds` (no wording), its compiled form and `evaluate` (with wording, for refusals) always agree."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from ijime_flow.clock import TOKYO
from ijime_flow.language.conditions import Condition, EvalContext, compile_condition, evaluate, holds

CONDITION = TypeAdapter(Condition)

leaves = st.one_of(
    st.builds(lambda v: {"fact": "flag", "equals": v}, st.booleans()),
    st.builds(lambda n, op: {"fact": "count", op: n}, st.integers(0, 5), st.sampled_from(["lt", "lte", "gt", "gte"])),
    st.builds(lambda vs: {"fact": "kind", "in": vs}, st.lists(st.sampled_from(["a", "b", "c"]), min_size=1)),
    st.builds(lambda v: {"fact": "kinds", "contains": v}, st.sampled_from(["a", "b", "c"])),
    st.builds(lambda name, v: {"fact": name, "is_set": v}, st.sampled_from(["flag", "count", "since"]), st.booleans()),
    st.builds(lambda d: {"since": "since", "at_least": d}, st.sampled_from(["P3M", "P30D", "P1Y", "P2W"])),
)
conditions = st.recursive(leaves, lambda inner: st.one_of(
    st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda x: {"not": x}, inner),
), max_leaves=8)
facts = st.fixed_dictionaries({}, optional={
    "flag": st.booleans(), "count": st.integers(0, 5), "kind": st.sampled_from(["a", "b", "c"]),
    "kinds": st.frozensets(st.sampled_from(["a", "b", "c"])),
    "since": st.dates(date(2019, 1, 1), date(2020, 12, 31)),
})


@settings(max_examples=400, deadline=None)
@given(conditions, facts, st.integers(0, 800))
def test_holds_agrees_with_evaluate(raw: dict[str, object], known: dict[str, object], days: int) -> None:
    cond = CONDITION.validate_python(raw)
    at = datetime(2019, 1, 1, 9, tzinfo=TOKYO) + timedelta(days=days)
    ctx = EvalContext(facts=known, at=at, tz=TOKYO)
    assert holds(cond, ctx) == (not evaluate(cond, ctx)) == compile_condition(cond)(ctx)
