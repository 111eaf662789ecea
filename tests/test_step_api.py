"""The step API for applications (issue 14, items 3 and 4): what a case offers an actor now
(``available_steps``), everything one call wrote (``fire_result`` / ``record_fact_result``), distinct
errors that carry their parts, and JSON-ready rows, deadlines and events — on a real SQLite store."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, COUNSELOR, MAIN_LINE, PRINCIPAL, STAFF, WORKFLOWS, jst, open_case, walk_main_line

from ijime_flow import (
    CaseExists,
    ConcurrencyError,
    ConditionFailure,
    Engine,
    FixedClock,
    GuardFailed,
    IjimeFlowError,
    InvalidTransition,
    PermissionDenied,
    StepInfo,
    UnknownTrigger,
    errors,
)
from ijime_flow.store.sqlite import SQLiteStore

UTC_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")


@pytest.fixture
def eng(tmp_path: Path) -> Iterator[Engine]:
    with Engine(SQLiteStore(tmp_path / "steps.db"), clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        yield engine


def by_trigger(steps: list[StepInfo]) -> dict[str, StepInfo]:
    return {s.trigger: s for s in steps}


# -- available_steps -----------------------------------------------------------------------------------
def test_allowed_steps_are_exactly_the_available_triggers_along_the_main_line(eng: Engine) -> None:
    case = open_case(eng)
    for day, (trigger, actor, data) in enumerate(MAIN_LINE, start=1):
        at = jst(2019, 5, day, 9, 30)
        for who in (STAFF, ADMIN, PRINCIPAL, COMMITTEE, COUNSELOR):
            steps = case.available_steps(who, at=at)
            assert [s.trigger for s in steps if s.allowed] == case.available_triggers(who, at=at)
            assert all((s.why_not is None) == s.allowed for s in steps)
            assert all(s.why_not in ("role", "condition") for s in steps if not s.allowed)
            assert [s.trigger for s in steps] == sorted(s.trigger for s in steps)
        case.fire(trigger, actor=actor, at=jst(2019, 5, day, 10), data=data)


def test_a_step_says_why_not_with_the_conditions_own_words(eng: Engine) -> None:
    case = walk_main_line(open_case(eng), until="report_to_board")  # bullying recognised: begin, not close
    steps = by_trigger(case.available_steps(PRINCIPAL, at=jst(2019, 5, 7, 11)))
    close, begin = steps["close"], steps["begin_response"]
    assert (close.allowed, close.why_not) == (False, "condition")
    assert close.reason_ja == "いじめの事実が確認されなかったこと" and close.reason_en == "bullying was not recognised"
    assert close.moves and close.to == "closed"
    assert [(d.name, d.kind, d.type, d.ja) for d in close.data] == [("reason", "field", "text", None)]
    assert (begin.allowed, begin.why_not, begin.roles) == (False, "role", ["committee"])
    assert begin.reason_ja is not None and "校内いじめ問題対策委員会" in begin.reason_ja
    assert by_trigger(case.available_steps(COMMITTEE, at=jst(2019, 5, 7, 11)))["begin_response"].allowed
    internal = steps["share_with_all_staff"]
    assert internal.allowed and not internal.moves and internal.to is None


def test_a_step_lists_the_facts_it_records_with_their_labels(eng: Engine) -> None:
    case = walk_main_line(open_case(eng), until="start_fact_finding")
    confirm = by_trigger(case.available_steps(COMMITTEE, at=jst(2019, 5, 4, 11)))["confirm_facts"]
    assert confirm.allowed
    assert [(d.name, d.kind, d.type, d.ja) for d in confirm.data] == [
        ("bullying_recognised", "fact", "bool", "いじめの事実の確認結果")]


def test_a_step_names_the_open_deadlines_it_meets_with_due_times_in_utc(eng: Engine) -> None:
    case = open_case(eng)  # 2019-05-01 09:00 JST: the same-day report starts now
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    report = by_trigger(case.available_steps(STAFF, at=jst(2019, 5, 1, 11)))["report_to_administrator"]
    assert [(d.id, d.due, d.overdue) for d in report.deadlines] == [
        ("report_to_administrator_same_day", datetime(2019, 5, 1, 15, tzinfo=UTC), False)]
    dumped = report.model_dump(mode="json")
    assert dumped["deadlines"][0]["due"] == "2019-05-01T15:00:00+00:00"
    late = by_trigger(case.available_steps(STAFF, at=jst(2019, 5, 3, 11)))["report_to_administrator"]
    assert late.deadlines[0].overdue
    assert json.loads(json.dumps([s.to_dict() for s in case.available_steps(STAFF, at=jst(2019, 5, 1, 11))]))


def test_everywhere_adds_the_steps_of_other_states_flagged_state(eng: Engine) -> None:
    case = open_case(eng)
    here = case.available_steps(COMMITTEE, at=jst(2019, 5, 1, 10))
    every = by_trigger(case.available_steps(COMMITTEE, at=jst(2019, 5, 1, 10), everywhere=True))
    assert "begin_response" not in by_trigger(here)
    begin = every["begin_response"]
    assert (begin.allowed, begin.why_not) == (False, "state")
    assert begin.reason_ja is not None and "discovered" in begin.reason_ja
    assert {s.trigger: s for s in here}.keys() <= every.keys()


# -- fire_result / record_fact_result ----------------------------------------------------------------------
def test_fire_result_holds_the_automatic_step_too(eng: Engine) -> None:
    case = walk_main_line(open_case(eng))
    steps = [(t, COMMITTEE, {"apology_made": True} if t == "guide_perpetrator" else None)
             for t in ["interview_victim", "assure_victim", "inform_victim_guardians", "complete_victim_support",
                       "interview_perpetrator", "guide_perpetrator", "inform_perpetrator_guardians",
                       "complete_perpetrator_guidance", "guide_bystanders"]]
    for trigger, actor, data in steps:
        assert case.fire(trigger, actor=actor, at=jst(2019, 5, 10, 10), data=data).trigger == trigger
    result = case.fire_result("hold_class_discussion", actor=COMMITTEE, at=jst(2019, 5, 10, 11))
    assert [(e.type, e.trigger) for e in result.events] == [("transition", "hold_class_discussion"),
                                                            ("automatic", "complete_response")]
    assert result.event == result.events[0] and result.opened_cases == []
    assert [e.hash for e in case.history()[-2:]] == [e.hash for e in result.events]
    assert case.in_state("monitoring")


def test_record_fact_result_names_the_case_an_escalation_opened(eng: Engine) -> None:
    case = open_case(eng)
    result = case.record_fact_result("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    assert [e.type for e in result.events] == ["fact", "escalated"]
    [opened] = result.opened_cases
    assert result.events[1].data["case"] == opened
    assert eng.get_case(opened).workflow_id == "serious_incident"
    again = case.record_fact_result("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 2, 10))
    assert [e.type for e in again.events] == ["fact", "escalated"] and again.opened_cases == []  # added to, not opened
    dumped = json.loads(json.dumps(again.to_dict()))
    assert [e["seq"] for e in dumped["events"]] == [e.seq for e in again.events]
    assert all(UTC_ISO.match(e["at"]) for e in dumped["events"])
    plain = case.record_fact("serious_harm", "property_loss", actor=PRINCIPAL, at=jst(2019, 5, 3, 10))
    assert plain.type == "fact" and case.history()[-1] == plain  # compatibility: the first event, nothing more


# -- distinct errors -------------------------------------------------------------------------------------
def test_an_unknown_trigger_is_its_own_invalid_transition(eng: Engine) -> None:
    case = open_case(eng)
    with pytest.raises(UnknownTrigger) as unknown:
        case.fire("stop_akt", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert isinstance(unknown.value, InvalidTransition) and unknown.value.code == "unknown_trigger"
    with pytest.raises(InvalidTransition) as refused:
        case.fire("share_with_committee", actor=ADMIN, at=jst(2019, 5, 1, 10))
    assert not isinstance(refused.value, UnknownTrigger) and refused.value.code == "invalid_transition"


def test_allowed_here_lists_only_what_this_actor_may_take(eng: Engine) -> None:
    case = open_case(eng)
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    at = jst(2019, 5, 1, 11)
    with pytest.raises(InvalidTransition) as refused:
        case.fire("share_with_committee", actor=COUNSELOR, at=at)
    assert refused.value.allowed == tuple(case.available_triggers(COUNSELOR, at=at))
    assert "report_to_administrator" not in refused.value.allowed  # a staff step: not the counselor's
    assert "report_to_administrator" not in str(refused.value).split("allowed here:")[1]
    with pytest.raises(InvalidTransition) as by_staff:
        case.fire("share_with_committee", actor=STAFF, at=at)
    assert "report_to_administrator" in by_staff.value.allowed
    assert "share_with_all_staff" not in by_staff.value.allowed  # an administrator's step


def test_a_case_id_already_taken_is_case_exists(eng: Engine) -> None:
    eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1")
    with pytest.raises(CaseExists) as taken:
        eng.open_case("response", actor=STAFF, at=jst(2019, 5, 2, 9), case_id="case-1")
    assert isinstance(taken.value, ConcurrencyError)  # as it was, for `except ConcurrencyError`; its own words now
    assert taken.value.case_id == "case-1" and taken.value.code == "case_exists"
    assert "reload" not in str(taken.value) and "既に存在します" in taken.value.ja
    assert len(eng.store.read_case("case-1")) == 1


def test_every_error_has_a_distinct_snake_case_code() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, IjimeFlowError)]
    codes = [c.code for c in classes]
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert PermissionDenied.code == "permission_denied" and GuardFailed.code == "guard_failed"


def test_an_error_gives_its_parts_and_a_json_ready_dict(eng: Engine) -> None:
    case = open_case(eng)
    with pytest.raises(PermissionDenied) as denied:
        case.fire("stop_act", actor=COMMITTEE, at=jst(2019, 5, 1, 10))
    exc = denied.value
    assert str(exc) == f"{exc.ja} / {exc.en}"  # the message as it always was, in its two halves
    assert exc.ja.startswith("「stop_act」を行えるのは staff") and exc.en.startswith("'stop_act' may only be done")
    assert exc.fields == {"action": "stop_act", "actor_id": "c-001", "actor_roles": ["committee"],
                          "allowed_roles": ["staff"]}
    out = json.loads(json.dumps(exc.to_dict(), ensure_ascii=False))
    assert out == {"error": "PermissionDenied", "code": "permission_denied", "message": str(exc), "ja": exc.ja,
                   "en": exc.en, "fields": exc.fields}
    guard = GuardFailed("resolve", [ConditionFailure("3か月以上経過していること", "at least 3 months", date(2019, 8, 13))])
    assert str(guard).startswith("「resolve」の条件を満たしていません / conditions of 'resolve' not met: ")
    assert guard.ja == "「resolve」の条件を満たしていません: 3か月以上経過していること"
    assert guard.en == "conditions of 'resolve' not met: at least 3 months"
    assert guard.to_dict()["fields"]["failures"] == [
        {"ja": "3か月以上経過していること", "en": "at least 3 months", "earliest": "2019-08-13"}]


# -- JSON-ready values ---------------------------------------------------------------------------------------
def test_rows_deadlines_and_events_serialise_in_utc(eng: Engine) -> None:
    case = walk_main_line(open_case(eng), until="report_to_administrator")  # 2019-05-02 10:00 JST: a day late
    [row] = eng.cases()
    out = json.loads(json.dumps(row.to_dict()))
    assert out["case_id"] == case.id and out["states"] == ["reported_to_administrator"]
    assert out["opened_at"] == "2019-05-01T00:00:00+00:00" and out["updated_at"] == "2019-05-02T01:00:00+00:00"
    assert out["next_due"] == "2019-05-02T15:00:00+00:00"
    assert out["open_deadlines"] == [{"id": "share_with_committee_same_day", "state": "reported_to_administrator",
                                      "started_at": "2019-05-02T01:00:00+00:00", "due": "2019-05-02T15:00:00+00:00"}]
    deadlines = [json.loads(json.dumps(d.to_dict(), ensure_ascii=False)) for d in case.deadlines(jst(2019, 5, 3, 12))]
    assert [(d["id"], d["status"], d["status_ja"]) for d in deadlines] == [
        ("report_to_administrator_same_day", "missed", "期限後に実施"),
        ("share_with_committee_same_day", "overdue", "期限超過（未実施）")]
    first = deadlines[0]
    assert (first["due"], first["met_at"], first["met_seq"]) == ("2019-05-01T15:00:00+00:00", "2019-05-02T01:00:00+00:00", 3)
    assert first["within"] == "same_day" and first["met_by"] == ["report_to_administrator"]
    for event in case.history():
        body = json.loads(json.dumps(event.to_dict(), ensure_ascii=False))
        assert UTC_ISO.match(body["at"]) and UTC_ISO.match(body["recorded_at"])
        assert datetime.fromisoformat(body["at"]) == event.at and body["hash"] == event.hash
    assert json.loads(json.dumps(case.history()[0].to_dict()))["at"] == "2019-05-01T00:00:00+00:00"
