"""Counting conditions: ``count`` (the values of a many fact) and ``distinct_actors`` (different people who
took a step, optionally in a role) — on a real engine, reloaded, verified and replayed; their schema, their
refusals at load (Japanese first) and the reference checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import jst
from pydantic import TypeAdapter, ValidationError
from verify_reference import verify_store as plain_verify

from ijime_flow import Actor, DefinitionError, Engine, EvalContext, FixedClock, GuardFailed, load_text
from ijime_flow.audit.replay import replay_against
from ijime_flow.clock import TOKYO
from ijime_flow.events import seal
from ijime_flow.language.conditions import Condition, CountOf, DistinctActors, describe, evaluate, walk
from ijime_flow.language.integrity import counting_problems
from ijime_flow.language.schema import workflow_schema
from ijime_flow.store import MemoryStore

WATCH = """\
id: watch
version: "1"
title: {ja: 見守り, en: Watching}
source: test
roles:
  staff: {ja: 教職員}
  counselor: {ja: スクールカウンセラー}
  principal: {ja: 校長, includes: [staff]}
facts:
  check_dates: {type: date, ja: 見守りの日, many: true}
  note: {type: string, ja: 備考}
opened_by: [staff]
initial: watching
states:
  watching: {ja: 見守り中, source: "4(5)"}
  confirmed: {ja: 複数で確認済み, source: "4(5)"}
  closed: {ja: 見守り終了, source: "4(5)", final: true}
transitions:
  - trigger: check_in_with_victim
    ja: 被害生徒の様子を確かめた
    source: "4(5)"
    from: [watching, confirmed]
    roles: [staff, counselor]
  - trigger: report_progress
    ja: 見守りの経過を報告した
    source: "4(5)"
    from: watching
    roles: [staff]
    when: {count: check_dates, at_least: 3}
  - trigger: end_watch
    ja: 見守りを終える
    source: "4(5)"
    from: watching
    to: closed
    roles: [staff]
    when: {distinct_actors: check_in_with_victim, at_least: 2}
  - trigger: end_watch_by_staff
    ja: 教職員の見守りを確かめて終える
    source: "4(5)"
    from: watching
    to: closed
    roles: [staff]
    when: {distinct_actors: check_in_with_victim, at_least: 2, role: staff}
  - trigger: confirm
    ja: 確認した
    source: "4(5)"
    from: watching
    to: confirmed
    roles: [staff]
    when: {distinct_actors: confirm, at_least: 2, ja: 二人目の確認}
  - trigger: confirm
    ja: 確認した（一人目）
    source: "4(5)"
    from: watching
    roles: [staff]
  - trigger: finish
    ja: 確認を終えて終了する
    source: "4(5)"
    from: confirmed
    to: closed
    roles: [staff]
"""

A = Actor("t-101", {"staff"})
B = Actor("t-102", {"staff"})
SC = Actor("s-201", {"counselor"})
HEAD = Actor("p-301", {"principal"})


@pytest.fixture
def watch_engine(tmp_path: Path) -> Engine:
    (tmp_path / "watch.yaml").write_text(WATCH, encoding="utf-8")
    engine = Engine(tmp_path / "cases.db", clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")
    engine.load(tmp_path / "watch.yaml")
    return engine


def check_in(case: Any, actor: Actor, day: int) -> None:
    case.fire("check_in_with_victim", actor=actor, at=jst(2019, 6, day, 10))


# -- distinct actors -----------------------------------------------------------------------------------

def test_a_step_is_refused_until_two_different_staff_checked_in(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    with pytest.raises(GuardFailed) as info:
        case.fire("end_watch", actor=A, at=jst(2019, 6, 1, 12))
    assert "（現在 0 人）" in str(info.value)
    check_in(case, A, 2)
    check_in(case, A, 3)  # the same person twice counts once
    with pytest.raises(GuardFailed) as info:
        case.fire("end_watch", actor=A, at=jst(2019, 6, 3, 12))
    message = str(info.value)
    assert message.startswith("「end_watch」の条件を満たしていません / ")
    assert message.endswith(": 「被害生徒の様子を確かめた」を行った人が異なる 2 人以上であること（現在 1 人） /"
                            " at least 2 different people took 'check_in_with_victim' (now 1)")
    assert "t-101" not in message  # a refusal says how many, never who
    assert "end_watch" not in case.available_triggers(A, at=jst(2019, 6, 3, 12))
    check_in(case, B, 4)
    assert "end_watch" in case.available_triggers(A, at=jst(2019, 6, 4, 12))
    case.fire("end_watch", actor=A, at=jst(2019, 6, 4, 12))
    assert case.closed
    assert watch_engine.verify().ok and plain_verify(watch_engine).ok


def test_role_restriction_counts_only_people_in_that_role(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    check_in(case, A, 2)
    check_in(case, SC, 3)  # a counselor: two people, but one of them staff
    case_two = watch_engine.get_case(case.id)
    with pytest.raises(GuardFailed) as info:
        case_two.fire("end_watch_by_staff", actor=A, at=jst(2019, 6, 3, 12))
    assert "教職員の役割で行った人が異なる 2 人以上であること（現在 1 人）" in str(info.value)
    assert "acting as staff" in str(info.value)
    check_in(case_two, HEAD, 4)  # a principal includes staff: counted
    case_two.fire("end_watch_by_staff", actor=A, at=jst(2019, 6, 4, 12))
    assert case_two.closed


def test_the_tally_is_read_off_the_log_and_verified(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    check_in(case, A, 2)
    check_in(case, B, 3)
    again = watch_engine.get_case(case.id)  # rebuilt from SQLite
    again.fire("end_watch", actor=B, at=jst(2019, 6, 3, 12))
    assert watch_engine.verify().ok and plain_verify(watch_engine).ok
    result = replay_against(watch_engine, case.id, watch_engine.definition("watch"))
    assert result.allowed


def test_a_forged_step_with_one_person_twice_fails_verification(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    check_in(case, A, 2)
    check_in(case, A, 3)
    rows = watch_engine.store.read_case(case.id)
    events = watch_engine.get_case(case.id).history()
    defn = watch_engine.definition("watch")
    store = MemoryStore()
    store.put_definition(defn.sha256, defn.id, defn.version, defn.canonical)
    pin = events[0].data["_calendar"]  # the school calendar the case was judged under travels with it
    store.put_definition(pin, "calendar", "", watch_engine.store.get_definition(pin) or "")
    forged, body = seal(case_id=case.id, seq=4, type="transition", trigger="end_watch", from_states=["watching"],
                        to_states=["closed"], actor_id=A.id, actor_roles=["staff"], at=jst(2019, 6, 3, 12),
                        recorded_at=jst(2019, 6, 3, 12), data={}, definition=None, prev_hash=events[-1].hash)
    store.append([*((e, r.body) for e, r in zip(events, rows, strict=True)), (forged, body)])
    engine = Engine(store, clock=watch_engine.clock)
    report = engine.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "illegal")]
    assert "（現在 1 人）" in report.problems[0].message
    assert [(p.seq, p.kind) for p in plain_verify(engine).problems] == [(4, "illegal")]


def test_a_step_counts_its_own_actor(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    first = case.fire("confirm", actor=A, at=jst(2019, 6, 2, 10))
    assert first.type == "action"  # one person so far: the internal action
    assert case.fire("confirm", actor=A, at=jst(2019, 6, 2, 11)).type == "action"
    second = case.fire("confirm", actor=B, at=jst(2019, 6, 2, 12))  # B is the second person
    assert second.type == "transition" and case.active_states == {"confirmed"}
    assert watch_engine.verify().ok and plain_verify(watch_engine).ok


# -- count of values -----------------------------------------------------------------------------------

def test_count_of_values_of_a_many_fact(watch_engine: Engine) -> None:
    case = watch_engine.open_case("watch", actor=A, at=jst(2019, 6, 1, 9))
    for day in (date(2019, 6, 3), date(2019, 6, 4), date(2019, 6, 4)):  # the same date twice is one value
        case.record_fact("check_dates", day, actor=A, at=jst(2019, 6, 5, 9))
    with pytest.raises(GuardFailed) as info:
        case.fire("report_progress", actor=A, at=jst(2019, 6, 5, 10))
    message = str(info.value)
    assert "「見守りの日」の記録が 3 件以上であること（現在 2 件）" in message
    assert "fact 'check_dates' holds at least 3 values (now 2)" in message
    assert "2019-06-03" not in message  # counts, never the values
    case.record_fact("check_dates", "2019-06-05", actor=A, at=jst(2019, 6, 5, 9))
    assert case.fire("report_progress", actor=A, at=jst(2019, 6, 5, 10)).type == "action"
    assert watch_engine.verify().ok and plain_verify(watch_engine).ok


CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


def ctx(facts: dict[str, Any] | None = None, actors: Any = None) -> EvalContext:
    return EvalContext(facts=facts or {}, at=jst(2019, 6, 1), tz=TOKYO, actors=actors)


@pytest.mark.parametrize(("data", "facts", "expected"), [
    ({"count": "d", "at_least": 1}, {}, False),  # not recorded: no values
    ({"count": "d", "exactly": 0}, {}, True),
    ({"count": "d", "at_most": 2}, {"d": frozenset({1, 2})}, True),
    ({"count": "d", "at_most": 1}, {"d": frozenset({1, 2})}, False),
    ({"count": "d", "exactly": 2}, {"d": frozenset({1, 2})}, True),
    ({"count": "d", "at_least": 1}, {"d": "one"}, True),  # a fact with one value holds one
])
def test_count_evaluation(data: dict[str, Any], facts: dict[str, Any], expected: bool) -> None:
    assert (not evaluate(CONDITION.validate_python(data), ctx(facts))) is expected


def test_distinct_actors_evaluation_and_wording() -> None:
    cond = CONDITION.validate_python({"distinct_actors": "visit", "at_least": 2, "role": "staff"})
    assert isinstance(cond, DistinctActors) and cond in walk(cond)
    tally = {"visit": {"a": frozenset({"staff"}), "b": frozenset({"counselor"})}}
    [failure] = evaluate(cond, ctx(actors=tally))
    assert failure.ja == "「visit」をstaffの役割で行った人が異なる 2 人以上であること（現在 1 人）"
    assert not evaluate(cond, ctx(actors={"visit": {**tally["visit"], "c": frozenset({"staff", "principal"})}}))
    assert evaluate(cond, ctx())  # no tally: no one
    assert describe(cond) == ("「visit」をstaffの役割で行った人が異なる 2 人以上であること",
                              "at least 2 different people acting as staff took 'visit'")
    labelled = CONDITION.validate_python({"count": "d", "at_most": 0, "ja": "欠席の記録がないこと"})
    assert isinstance(labelled, CountOf)
    [failure] = evaluate(labelled, ctx({"d": frozenset({date(2019, 6, 1)})}))
    assert failure.ja == "欠席の記録がないこと（現在 1 件）"


# -- schema and refusals at load -----------------------------------------------------------------------

def test_the_schema_accepts_the_new_shapes() -> None:
    data = json.loads(json.dumps(yaml.safe_load(WATCH), default=str))
    jsonschema.validate(data, workflow_schema())
    data["transitions"][2]["when"] = {"count": "check_dates", "at_least": 1, "at_most": 3}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, workflow_schema())
    data["transitions"][2]["when"] = {"distinct_actors": "check_in_with_victim"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, workflow_schema())


def with_when(when: str) -> str:
    return WATCH.replace("when: {distinct_actors: check_in_with_victim, at_least: 2}\n", f"when: {when}\n", 1)


@pytest.mark.parametrize(("when", "japanese"), [
    ("{count: check_dates}", "数える条件には at_least、at_most、exactly のいずれか一つを書きます"),
    ("{count: check_dates, at_least: 1, at_most: 3}", "数える条件には at_least、at_most、exactly のいずれか一つ"),
    ("{distinct_actors: check_in_with_victim}", "数える条件には"),
    ("{distinct_actors: check_in_with_victim, at_least: 0}", "at_least の値 0 は使えません（at_least: 0 は常に満たされます）"),
    ("{distinct_actors: check_in_with_victim, at_least: '2'}", "at_least は整数で書いてください"),
    ("{distinct_actors: check_in_with_victim, at_least: 2.5}", "at_least は整数で書いてください"),
    ("{distinct_actors: check_in_with_victim, at_least: true}", "at_least は整数で書いてください"),
    ("{distinct_actors: check_in_with_victim, at_least: null}", "at_least には数が必要です"),
    ("{count: check_dates, exactly: -1}", "exactly の値 -1 は使えません（0 から 10000 まで）"),
    ("{count: check_dates, at_most: 100001}", "at_most の値 100001 は使えません"),
    ("{count: check_dates, at_least: 2, role: staff}", "unknown field 'role'"),
    ("{distinct_actors: check_in_with_victim, at_least: 2, fact: note}", "unknown field 'fact'"),
    ("{how_many: check_dates}", "条件には"),
])
def test_bad_shapes_are_refused_at_load_japanese_first(when: str, japanese: str) -> None:
    text = with_when(when)
    with pytest.raises(DefinitionError) as info:
        load_text(text, "watch.yaml")
    line = next(i for i, ln in enumerate(text.splitlines(), start=1) if ln.startswith(f"    when: {when}"))
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("watch.yaml", line), str(info.value)
    assert problem.path.startswith("transitions[2].when"), str(info.value)
    assert japanese in problem.message, problem.message
    if when.startswith("{how_many"):  # the keys a condition may start with name the new ones
        assert "count" in problem.message and "distinct_actors" in problem.message, problem.message
    if not japanese.startswith("unknown"):
        assert problem.message.index(japanese) < problem.message.index(" / "), problem.message


def test_refusals_of_the_model_are_japanese_then_english() -> None:
    with pytest.raises(ValidationError) as info:
        CONDITION.validate_python({"count": "d", "at_least": 1, "exactly": 1})
    message = info.value.errors()[0]["msg"]
    assert " / a counting condition takes exactly one of at_least, at_most, exactly; got ['at_least', 'exactly']" in message
    assert message.removeprefix("Value error, ").startswith("数える条件には")


REFS = WATCH.replace("""    when: {count: check_dates, at_least: 3}
""", """    when:
      all:
        - {count: nothing, at_least: 1}
        - {count: note, at_least: 1}
        - {distinct_actors: no_such_step, at_least: 1}
        - {distinct_actors: check_in_with_victim, at_least: 1, role: janitor}
        - {distinct_actors: wrap_up, at_least: 1}
""").replace("""  closed: {ja: 見守り終了""", """  phase:
    ja: 段階
    source: "4(5)"
    initial: inner
    states:
      inner: {ja: 内, source: "4(5)", final: true}
  closed: {ja: 見守り終了""") + """  - trigger: wrap_up
    ja: 自動で終える
    source: "4(5)"
    from: phase
    to: closed
    automatic: true
"""


def test_reference_checks_of_counting_conditions() -> None:
    with pytest.raises(DefinitionError) as caught:  # checked on every load, lint or not
        load_text(REFS, "refs.yaml", run_lint=False)
    found = [(p.message.rsplit("[", 1)[1].rstrip("]"), p.path.rsplit(".", 1)[-1]) for p in caught.value.problems]
    assert found == [("unknown-fact", "count"), ("fact-type", "count"), ("unknown-trigger", "distinct_actors"),
                     ("unknown-role", "role"), ("count-never", "distinct_actors")]
    assert caught.value.problems[0].path == "transitions[1].when.all[0].count"
    for problem in caught.value.problems:  # Japanese, then English
        japanese, _, english = problem.message.partition(" / ")
        assert english.isascii() and not japanese.isascii(), problem.message
    assert list(counting_problems(load_text(WATCH).spec)) == []


def test_counting_in_an_escalation_criterion_is_reported() -> None:
    text = WATCH + """escalation:
  to: serious_incident
  criteria:
    - id: many_visits
      ja: 多くの見守り
      source: test
      when: {distinct_actors: check_in_with_victim, at_least: 5}
"""
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "esc.yaml", run_lint=False)
    [problem] = caught.value.problems
    assert "[count-never]" in problem.message and problem.path == "escalation.criteria[0].when.distinct_actors"


def test_a_definition_without_counting_tallies_nothing(watch_engine: Engine) -> None:
    from conftest import WORKFLOWS

    from ijime_flow import load_file

    assert load_file(WORKFLOWS / "response.yaml").counted_triggers == frozenset()
    assert watch_engine.definition("watch").counted_triggers == frozenset({"check_in_with_victim", "confirm"})
