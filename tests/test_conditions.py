"""Conditions: evaluation over facts and time (calendar months, Tokyo dates), guards, and load-time refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from ijime_flow import DefinitionError, EvalContext, load_text
from ijime_flow.language.conditions import Condition, describe, evaluate, parse_duration, walk

TOKYO = ZoneInfo("Asia/Tokyo")
PACKAGE = Path(__file__).resolve().parent.parent / "ijime_flow"
CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


def cond(data: dict[str, Any]) -> Any:
    return CONDITION.validate_python(data)


def ctx(facts: dict[str, Any] | None = None, at: datetime | None = None, **kwargs: Any) -> EvalContext:
    return EvalContext(facts=facts or {}, at=at or datetime(2019, 6, 1, 10, tzinfo=TOKYO), tz=TOKYO, **kwargs)


def holds(data: dict[str, Any], facts: dict[str, Any] | None = None, **kwargs: Any) -> bool:
    return not evaluate(cond(data), ctx(facts, **kwargs))


# -- fact comparisons --------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "facts", "expected"), [
    ({"fact": "x", "equals": True}, {"x": True}, True),
    ({"fact": "x", "equals": True}, {"x": False}, False),
    ({"fact": "x", "equals": True}, {}, False),
    ({"fact": "x", "equals": "a"}, {"x": "a"}, True),
    ({"fact": "x", "not_equals": "a"}, {"x": "b"}, True),
    ({"fact": "x", "not_equals": "a"}, {"x": "a"}, False),
    ({"fact": "x", "not_equals": "a"}, {}, True),
    ({"fact": "n", "lt": 3}, {"n": 2}, True),
    ({"fact": "n", "lt": 3}, {"n": 3}, False),
    ({"fact": "n", "lte": 3}, {"n": 3}, True),
    ({"fact": "n", "lte": 3}, {"n": 4}, False),
    ({"fact": "n", "gt": 3}, {"n": 4}, True),
    ({"fact": "n", "gt": 3}, {"n": 3}, False),
    ({"fact": "n", "gte": 3}, {"n": 3}, True),
    ({"fact": "n", "gte": 3.5}, {"n": 3}, False),
    ({"fact": "n", "lt": 3}, {}, False),
    ({"fact": "n", "lt": 3}, {"n": "two"}, False),  # not comparable: does not hold, does not crash
    ({"fact": "k", "in": ["a", "b"]}, {"k": "b"}, True),
    ({"fact": "k", "in": ["a", "b"]}, {"k": "c"}, False),
    ({"fact": "k", "in": ["a", "b"]}, {}, False),
    ({"fact": "k", "is_set": True}, {"k": None}, True),
    ({"fact": "k", "is_set": True}, {}, False),
    ({"fact": "k", "is_set": False}, {}, True),
    ({"fact": "k", "is_set": False}, {"k": 1}, False),
    ({"fact": "d", "lt": "2019-06-01"}, {"d": date(2019, 5, 31)}, True),  # a date operand written as text
    ({"fact": "d", "lt": "2019-06-01"}, {"d": date(2019, 6, 1)}, False),
    ({"fact": "d", "equals": date(2019, 6, 1)}, {"d": date(2019, 6, 1)}, True),
])
def test_fact_comparisons(data: dict[str, Any], facts: dict[str, Any], expected: bool) -> None:
    assert holds(data, facts) is expected


def test_equals_does_not_confuse_types() -> None:
    assert not holds({"fact": "x", "equals": "true"}, {"x": True})
    assert not holds({"fact": "x", "equals": 1}, {"x": "1"})


# -- all / any / not ---------------------------------------------------------------------------------

A = {"fact": "a", "equals": True}
B = {"fact": "b", "equals": True}


@pytest.mark.parametrize(("a", "b"), [(True, True), (True, False), (False, True), (False, False)])
def test_all_any_not_truth_tables(a: bool, b: bool) -> None:
    facts = {"a": a, "b": b}
    assert holds({"all": [A, B]}, facts) is (a and b)
    assert holds({"any": [A, B]}, facts) is (a or b)
    assert holds({"not": A}, facts) is (not a)
    assert holds({"not": {"all": [A, {"not": B}]}}, facts) is (not (a and not b))


def test_all_reports_each_failure_and_any_reports_one() -> None:
    facts = {"a": False, "b": False}
    failures = evaluate(cond({"all": [A, B]}), ctx(facts))
    assert len(failures) == 2
    assert "a = true" in failures[0].en and "b = true" in failures[1].en
    [one] = evaluate(cond({"any": [A, B]}), ctx(facts))
    assert one.en.startswith("one of:")


def test_labels_from_yaml_are_used_in_failures() -> None:
    [failure] = evaluate(cond({"fact": "a", "equals": True, "ja": "Aであること", "en": "A holds"}), ctx({"a": False}))
    assert (failure.ja, failure.en) == ("Aであること", "A holds")
    [labelled] = evaluate(cond({"all": [A, B], "ja": "両方", "en": "both"}), ctx({"a": False, "b": False}))
    assert (labelled.ja, labelled.en) == ("両方", "both")


def test_fact_labels_appear_in_japanese_wording() -> None:
    [failure] = evaluate(cond(A), ctx({"a": False}, fact_labels={"a": "いじめの確認"}))
    assert "いじめの確認" in failure.ja
    assert describe(cond(A)) == ("「a」が true であること", "a = true")


def test_walk_visits_every_nested_condition() -> None:
    tree = cond({"all": [A, {"any": [B, {"not": {"guard": "g"}}]}]})
    kinds = [type(c).__name__ for c in walk(tree)]
    assert kinds == ["AllOf", "FactIs", "AnyOf", "FactIs", "NotCond", "GuardRef"]


# -- since: calendar months in the school's time zone ----------------------------------------------

SINCE_3M = {"since": "stopped", "at_least": "P3M"}


def at_tokyo(y: int, m: int, d: int, hour: int = 12) -> datetime:
    return datetime(y, m, d, hour, tzinfo=TOKYO)


def test_three_calendar_months_from_may_31_is_august_31() -> None:
    facts = {"stopped": date(2019, 5, 31)}
    assert not evaluate(cond(SINCE_3M), ctx(facts, at=at_tokyo(2019, 8, 31)))
    [failure] = evaluate(cond(SINCE_3M), ctx(facts, at=at_tokyo(2019, 8, 30)))
    assert failure.earliest == date(2019, 8, 31)
    assert "2019-08-31" in str(failure)


def test_three_calendar_months_from_november_30_is_february_29_in_a_leap_year() -> None:
    assert date(2019, 11, 30) + parse_duration("P3M") == date(2020, 2, 29)
    facts = {"stopped": date(2019, 11, 30)}
    [failure] = evaluate(cond(SINCE_3M), ctx(facts, at=at_tokyo(2020, 2, 28)))
    assert failure.earliest == date(2020, 2, 29)
    assert not evaluate(cond(SINCE_3M), ctx(facts, at=at_tokyo(2020, 2, 29)))


def test_days_and_years() -> None:
    facts = {"stopped": date(2019, 5, 31)}
    p30d = {"since": "stopped", "at_least": "P30D"}
    [failure] = evaluate(cond(p30d), ctx(facts, at=at_tokyo(2019, 6, 29)))
    assert failure.earliest == date(2019, 5, 31) + timedelta(days=30)
    assert not evaluate(cond(p30d), ctx(facts, at=at_tokyo(2019, 6, 30)))
    [failure] = evaluate(cond({"since": "stopped", "at_least": "P1Y"}), ctx({"stopped": date(2020, 2, 29)},
                                                                            at=at_tokyo(2021, 2, 27)))
    assert failure.earliest == date(2021, 2, 28)


def test_late_night_utc_that_is_already_tomorrow_in_tokyo_counts_as_tomorrow() -> None:
    facts = {"stopped": date(2019, 5, 31)}
    just_after = datetime(2019, 8, 30, 15, 30, tzinfo=UTC)  # 2019-08-31 00:30 in Tokyo
    just_before = datetime(2019, 8, 30, 14, 59, tzinfo=UTC)  # 2019-08-30 23:59 in Tokyo
    assert ctx(facts, at=just_after).local_date == date(2019, 8, 31)
    assert not evaluate(cond(SINCE_3M), ctx(facts, at=just_after))
    [failure] = evaluate(cond(SINCE_3M), ctx(facts, at=just_before))
    assert failure.earliest == date(2019, 8, 31)


def test_a_datetime_fact_is_read_as_its_tokyo_date() -> None:
    stopped = datetime(2019, 5, 30, 16, 0, tzinfo=UTC)  # 2019-05-31 01:00 in Tokyo
    [failure] = evaluate(cond(SINCE_3M), ctx({"stopped": stopped}, at=at_tokyo(2019, 8, 30)))
    assert failure.earliest == date(2019, 8, 31)


def test_since_an_unrecorded_fact_fails_without_a_date() -> None:
    [failure] = evaluate(cond(SINCE_3M), ctx({}, at=at_tokyo(2030, 1, 1)))
    assert failure.earliest is None
    assert "not recorded" in failure.en


def test_any_reports_the_earliest_waiting_date() -> None:
    facts = {"stopped": date(2019, 5, 31), "other": date(2019, 7, 1)}
    either = {"any": [SINCE_3M, {"since": "other", "at_least": "P1M"}]}
    [failure] = evaluate(cond(either), ctx(facts, at=at_tokyo(2019, 7, 15)))
    assert failure.earliest == date(2019, 8, 1)


@pytest.mark.parametrize("bad", ["3 months", "P", "PXM", "", "P3X"])
def test_since_refuses_a_malformed_duration(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        cond({"since": "stopped", "at_least": bad})
    assert "ISO 8601" in str(info.value)


# -- guards ------------------------------------------------------------------------------------------

def test_guard_calls_the_registered_callable_with_the_context() -> None:
    seen: list[EvalContext] = []

    def school_day(context: EvalContext) -> bool:
        seen.append(context)
        return context.local_date.weekday() < 5

    guards = {"school_day": school_day}
    guard = cond({"guard": "school_day"})
    assert not evaluate(guard, ctx(at=at_tokyo(2019, 6, 3), guards=guards, case_id="c-1"))  # a Monday
    [failure] = evaluate(guard, ctx(at=at_tokyo(2019, 6, 2), guards=guards))  # a Sunday
    assert "school_day" in failure.en
    assert len(seen) == 2 and seen[0].case_id == "c-1"


def test_missing_guard_fails_with_a_message() -> None:
    [failure] = evaluate(cond({"guard": "nope"}), ctx(guards={"other": lambda _: True}))
    assert "nope" in failure.en and "not registered" in failure.en
    assert "nope" in failure.ja
    [failure] = evaluate(cond({"guard": "nope"}), ctx())
    assert "not registered" in failure.en


# -- refused at load ---------------------------------------------------------------------------------

WORKFLOW = """\
id: conds
version: "1"
title: {ja: 条件, en: Conditions}
source: test
roles:
  staff: {ja: 教職員}
facts:
  x: {type: int, ja: 数}
  stopped: {type: date, ja: 止んだ日}
opened_by: [staff]
initial: start
states:
  start: {ja: 開始, source: "1"}
  done: {ja: 終了, source: "1", final: true}
transitions:
  - trigger: finish
    ja: 終える
    source: "1"
    from: start
    to: done
    roles: [staff]
    when: WHEN
"""


def with_when(when: str) -> str:
    return WORKFLOW.replace("WHEN", when)


def test_valid_conditions_load() -> None:
    defn = load_text(with_when("{all: [{fact: x, lt: 3}, {since: stopped, at_least: P3M}, {not: {guard: g}}]}"))
    assert defn.spec.transitions[0].when is not None


@pytest.mark.parametrize("when", [
    "{fact: x, equals: 1, lt: 3}",
    "{fact: x}",
    "{fact: x, equals: null}",
    "{fact: x, equals: [1, 2]}",
    "{since: stopped, at_least: three months}",
    "{since: stopped}",
    "{all: []}",
    "{any: {fact: x, equals: 1}}",
    "{nope: x}",
    "{fact: x, equals: 1, extra: 2}",
    "[{fact: x, equals: 1}]",
    "just text",
    "{guard: g, fact: x}",
])
def test_malformed_conditions_are_refused_at_load(when: str) -> None:
    text = with_when(when)
    with pytest.raises(DefinitionError) as info:
        load_text(text, "conds.yaml")
    line = next(i for i, ln in enumerate(text.splitlines(), start=1) if ln.startswith("    when:"))
    assert all(p.file == "conds.yaml" for p in info.value.problems)
    assert any(p.line == line for p in info.value.problems), str(info.value)
    assert all(p.path.startswith("transitions[0].when") for p in info.value.problems), str(info.value)


def test_two_operators_are_named_in_the_refusal() -> None:
    with pytest.raises(DefinitionError) as info:
        load_text(with_when("{fact: x, equals: 1, lt: 3}"))
    message = info.value.message
    assert "exactly one" in message and "equals" in message and "lt" in message


# -- data, never code --------------------------------------------------------------------------------

def test_no_eval_or_exec_in_the_package() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    offending = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
                 for path in sources
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if "eval(" in line or "exec(" in line]
    assert offending == []
