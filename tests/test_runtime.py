"""The runtime: the main line, every refusal with a real bad step, parallel regions, shared machines."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from conftest import (
    ADMIN,
    COMMITTEE,
    COUNSELOR,
    MAIN_LINE,
    PRINCIPAL,
    REGIONS,
    STAFF,
    finish_regions,
    jst,
    open_case,
    walk_main_line,
)

from ijime_flow import (
    Actor,
    Case,
    ConcurrencyError,
    DefinitionError,
    Engine,
    GuardFailed,
    IjimeFlowError,
    InvalidData,
    InvalidTransition,
    PermissionDenied,
    UnknownCase,
    UnknownWorkflow,
    load_text,
)


def snapshot(case: Case) -> tuple[object, ...]:
    return case.seq, case.active_states, dict(case.facts), [e.hash for e in case.history()]


def test_main_line_reaches_responding(engine: Engine) -> None:
    case = walk_main_line(open_case(engine))
    assert case.in_state("responding")
    assert case.active_states == {
        "responding.victim_support.interviewing",
        "responding.perpetrator_guidance.interviewing",
        "responding.bystander_guidance.guiding",
    }
    assert case.in_state("responding.victim_support")
    assert not case.in_state("monitoring")
    history = case.history()
    assert [e.seq for e in history] == list(range(1, len(MAIN_LINE) + 2))
    assert history[0].type == "opened" and history[0].definition is not None
    assert history[0].definition.id == "response"
    assert all(e.prev_hash == prev.hash for prev, e in itertools.pairwise(history))
    assert [e.trigger for e in history[1:]] == [t for t, _, _ in MAIN_LINE]


def test_skipping_the_report_to_the_administrator_is_refused(engine: Engine) -> None:
    case = open_case(engine)
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    before = snapshot(case)
    with pytest.raises(InvalidTransition) as refused:
        case.fire("share_with_committee", actor=ADMIN, at=jst(2019, 5, 1, 11))
    assert refused.value.states == ("initial_response",)
    assert "report_to_administrator" in refused.value.allowed
    assert "initial_response" in str(refused.value)
    assert snapshot(case) == before


def test_unknown_trigger_is_an_invalid_transition(engine: Engine) -> None:
    case = open_case(engine)
    with pytest.raises(InvalidTransition, match="no_such_step"):
        case.fire("no_such_step", actor=STAFF, at=jst(2019, 5, 1, 10))


def test_a_teacher_cannot_report_to_the_board(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="confirm_facts")
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as refused:
        case.fire("report_to_board", actor=STAFF, at=jst(2019, 5, 6))
    assert refused.value.allowed_roles == ("principal",)
    assert "principal" in str(refused.value)
    assert snapshot(case) == before


def test_a_principal_holds_administrator_and_staff(engine: Engine) -> None:
    case = engine.open_case("response", actor=PRINCIPAL, at=jst(2019, 5, 1, 9))
    case.fire("stop_act", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    case.fire("report_to_administrator", actor=PRINCIPAL, at=jst(2019, 5, 1, 11))
    case.fire("share_with_committee", actor=PRINCIPAL, at=jst(2019, 5, 1, 12))
    assert case.active_states == {"shared_with_committee"}
    assert case.history()[-1].actor.roles == ["principal"]


def test_resolution_is_refused_before_three_calendar_months(engine: Engine) -> None:
    case = finish_regions(walk_main_line(open_case(engine)))
    assert case.active_states == {"monitoring"}
    case.record_fact("act_stopped_on", date(2019, 5, 31), actor=COMMITTEE, at=jst(2019, 6, 1))
    case.record_fact("victim_distress", False, actor=COUNSELOR, at=jst(2019, 8, 20))
    before = snapshot(case)
    with pytest.raises(GuardFailed) as refused:
        case.fire("resolve", actor=COMMITTEE, at=jst(2019, 8, 30, 23, 59))
    assert refused.value.earliest == date(2019, 8, 31)  # 31 May + 3 months (calendar), not +90 days
    assert "2019-08-31" in str(refused.value)
    assert snapshot(case) == before
    case.fire("resolve", actor=COMMITTEE, at=jst(2019, 8, 31, 0, 1))
    assert case.active_states == {"resolved"}


def test_resolution_is_refused_while_the_victim_still_suffers(engine: Engine) -> None:
    case = finish_regions(walk_main_line(open_case(engine)))
    case.record_fact("act_stopped_on", date(2019, 5, 10), actor=COMMITTEE, at=jst(2019, 5, 10))
    with pytest.raises(GuardFailed) as not_confirmed:
        case.fire("resolve", actor=COMMITTEE, at=jst(2019, 9, 1))
    assert len(not_confirmed.value.failures) == 1 and not_confirmed.value.earliest is None
    case.record_fact("victim_distress", True, actor=COUNSELOR, at=jst(2019, 9, 1))
    with pytest.raises(GuardFailed, match="苦痛"):
        case.fire("resolve", actor=COMMITTEE, at=jst(2019, 9, 2))


def test_who_may_record_a_fact_is_checked(engine: Engine) -> None:
    case = open_case(engine)
    with pytest.raises(PermissionDenied):
        case.record_fact("victim_distress", False, actor=STAFF, at=jst(2019, 5, 2))
    with pytest.raises(InvalidData, match="bool"):
        case.record_fact("online", "yes", actor=STAFF, at=jst(2019, 5, 2))
    with pytest.raises(InvalidData, match="no_such_fact"):
        case.record_fact("no_such_fact", True, actor=STAFF, at=jst(2019, 5, 2))
    assert case.seq == 1


def test_a_step_that_records_a_fact_needs_it(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="start_fact_finding")
    with pytest.raises(InvalidData, match="bullying_recognised"):
        case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 5))
    with pytest.raises(InvalidData, match="record_fact"):
        case.fire("share_with_all_staff", actor=PRINCIPAL, at=jst(2019, 5, 5), data={"online": True})
    case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 5), data={"bullying_recognised": False})
    assert case.facts["bullying_recognised"] is False


def test_not_recognised_is_reported_then_closed_with_a_reason(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="start_fact_finding")
    case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 5), data={"bullying_recognised": False})
    case.fire("report_to_board", actor=PRINCIPAL, at=jst(2019, 5, 6))
    with pytest.raises(GuardFailed):
        case.fire("begin_response", actor=COMMITTEE, at=jst(2019, 5, 7))
    with pytest.raises(InvalidData, match="reason"):
        case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 7))
    case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 7), data={"reason": "ふざけ合いで双方合意と確認"})
    assert case.closed and case.active_states == {"closed"}
    with pytest.raises(InvalidTransition):
        case.fire("consult_police", actor=PRINCIPAL, at=jst(2019, 5, 8))
    with pytest.raises(InvalidData, match="closed"):
        case.record_fact("online", True, actor=STAFF, at=jst(2019, 5, 8))


def test_police_consultation_only_when_serious_violence_is_feared(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="report_to_administrator")
    with pytest.raises(GuardFailed, match="serious violence or extortion"):
        case.fire("consult_police", actor=PRINCIPAL, at=jst(2019, 5, 3))
    case.record_fact("serious_violence_or_extortion", True, actor=STAFF, at=jst(2019, 5, 3))
    event = case.fire("consult_police", actor=PRINCIPAL, at=jst(2019, 5, 3, 11))
    assert event.type == "action" and event.from_states == event.to_states == ["reported_to_administrator"]
    assert case.active_states == {"reported_to_administrator"}


def test_online_steps_only_on_an_online_case(engine: Engine) -> None:
    case = open_case(engine)
    with pytest.raises(GuardFailed):
        case.fire("delete_posts", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert "delete_posts" not in case.available_triggers(STAFF, at=jst(2019, 5, 1, 10))
    case.record_fact("online", True, actor=STAFF, at=jst(2019, 5, 1, 10))
    assert "delete_posts" in case.available_triggers(STAFF, at=jst(2019, 5, 1, 10))
    case.fire("delete_posts", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert case.active_states == {"discovered"}


def test_available_triggers_depend_on_role_and_state(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="confirm_facts")
    assert "report_to_board" in case.available_triggers(PRINCIPAL, at=jst(2019, 5, 6))
    assert "report_to_board" not in case.available_triggers(STAFF, at=jst(2019, 5, 6))
    assert "stop_act" not in case.available_triggers(STAFF, at=jst(2019, 5, 6))


def test_times_must_be_aware_and_not_in_the_future(engine: Engine) -> None:
    case = open_case(engine)
    with pytest.raises(InvalidData, match="naive"):
        case.fire("stop_act", actor=STAFF, at=datetime(2019, 5, 1, 10))
    with pytest.raises(InvalidData, match="later than now"):
        case.fire("stop_act", actor=STAFF, at=jst(2031, 1, 1))
    event = case.fire("stop_act", actor=STAFF)  # at defaults to the engine's clock
    assert event.at == engine.clock.now()
    assert case.seq == 2


def test_unknown_case_and_workflow(engine: Engine) -> None:
    with pytest.raises(UnknownCase, match="nope"):
        engine.get_case("nope")
    with pytest.raises(UnknownWorkflow):
        engine.open_case("no_such_workflow", actor=STAFF)
    with pytest.raises(PermissionDenied):
        engine.open_case("response", actor=COUNSELOR)


def test_two_writers_on_one_case_one_wins(engine: Engine) -> None:
    case = open_case(engine)
    stale = engine.get_case(case.id)
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    before = snapshot(stale)
    with pytest.raises(ConcurrencyError) as lost:
        stale.fire("secure_safety", actor=STAFF, at=jst(2019, 5, 1, 10))
    assert lost.value.seq == 2
    assert stale.active_states == before[1] and stale.seq == before[0]
    assert [e.trigger for e in engine.get_case(case.id).history()] == [None, "stop_act"]
    assert engine.verify().ok
    with pytest.raises(ConcurrencyError):
        engine.open_case("response", actor=STAFF, case_id=case.id)


def test_every_error_is_an_ijime_flow_error() -> None:
    for cls in (ConcurrencyError, DefinitionError, GuardFailed, InvalidData, InvalidTransition, PermissionDenied,
                UnknownCase, UnknownWorkflow):
        assert issubclass(cls, IjimeFlowError)


# -- parallel regions ----------------------------------------------------------------------------

@pytest.mark.parametrize("order", list(itertools.permutations(REGIONS)), ids="-".join)
def test_monitoring_only_when_all_three_regions_are_done(engine: Engine, order: tuple[str, ...]) -> None:
    """transitions 0.9.3 fires on_final of a parallel state's parent when only the last-declared
    region is final (#715); the engine must wait for all three whatever the order."""
    case = walk_main_line(open_case(engine))
    for done, region in enumerate(order, start=1):
        finish_regions(case, [region])
        if done < 3:
            assert case.in_state(f"responding.{region}.done")
            assert case.in_state("responding") and not case.in_state("monitoring")
            assert not any(e.type == "automatic" for e in case.history())
    assert case.active_states == {"monitoring"}
    automatic = [e for e in case.history() if e.type == "automatic"]
    assert len(automatic) == 1 and automatic[0].trigger == "complete_response"
    assert automatic[0].actor.id == "ijime-flow"
    assert engine.verify(case.id).ok


def test_an_automatic_step_cannot_be_fired_by_hand(engine: Engine) -> None:
    case = walk_main_line(open_case(engine))
    with pytest.raises(InvalidTransition, match="自動"):
        case.fire("complete_response", actor=COMMITTEE, at=jst(2019, 5, 9))


def test_recurrence_returns_to_fact_finding_in_the_same_case(engine: Engine) -> None:
    case = finish_regions(walk_main_line(open_case(engine)))
    case.fire("report_recurrence", actor=STAFF, at=jst(2019, 6, 1))
    assert case.active_states == {"fact_finding"}
    assert case.history()[0].case_id == case.id and engine.verify(case.id).ok


# -- one shared machine per definition ----------------------------------------------------------------

def test_cases_share_one_machine_and_hold_no_model(engine: Engine) -> None:
    cases = [walk_main_line(open_case(engine)) for _ in range(20)]
    assert len({id(c._runtime.machine) for c in cases}) == 1
    machine = cases[0]._runtime.machine
    assert len(machine.raw.models) == 1  # the scratch model only: nothing per case
    remembered = machine.memo_size
    walk_main_line(open_case(engine))
    assert machine.memo_size == remembered  # the same path adds nothing


def test_remembered_moves_agree_with_transitions(engine: Engine) -> None:
    """Random walks over the whole workflow: every move the engine remembers is what a fresh
    transitions machine computes for the same configuration and transition."""
    import random

    from ijime_flow.machine import CompiledMachine
    from ijime_flow.stepper import allowed_triggers

    defn = engine.definition("response")
    shared = CompiledMachine(defn)
    rng = random.Random(20190501)
    checked = 0
    for _ in range(12):
        leaves = frozenset(defn.initial_leaves)
        for _ in range(30):
            moves = [(i, t) for trig in allowed_triggers(defn, leaves)
                     for i, t in defn.transitions_by_trigger[trig] if t.to and defn.source_active(t, leaves)]
            moves += [(i, t) for i, t in defn.automatic if defn.is_active(t.from_[0], leaves)
                      and defn.is_done(t.from_[0], leaves)]
            if not moves:
                break
            index, _ = rng.choice(moves)
            remembered = shared.move(leaves, index)
            assert shared.move(leaves, index) is remembered
            fresh = CompiledMachine(defn).move(leaves, index)
            assert remembered == fresh
            leaves = remembered
            checked += 1
    assert checked > 100


def test_a_reloaded_case_continues(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="confirm_facts")
    again = engine.get_case(case.id)
    assert again.active_states == case.active_states and again.facts == case.facts and again.seq == case.seq
    again.fire("report_to_board", actor=PRINCIPAL, at=jst(2019, 5, 6))
    assert engine.verify(case.id).ok


def test_registered_python_guards(clock: object) -> None:
    text = """
id: guarded
version: "1"
title: {ja: テスト, en: Test}
source: test
roles: {staff: {ja: 教職員}}
opened_by: [staff]
initial: a
states:
  a: {ja: A, source: "1"}
  b: {ja: B, source: "1", final: true}
transitions:
  - {trigger: go, ja: 進む, source: "1", from: a, to: b, roles: [staff], when: {guard: weekday}}
"""
    engine = Engine(clock=clock, school="school-1")  # type: ignore[arg-type]
    engine.add_definition(load_text(text))
    with pytest.raises(DefinitionError, match="weekday"):
        engine.open_case("guarded", actor=STAFF, at=jst(2019, 5, 4))
    engine.register_guard("weekday", lambda ctx: ctx.at.weekday() < 5)
    case = engine.open_case("guarded", actor=STAFF, at=jst(2019, 5, 4))
    with pytest.raises(GuardFailed, match="weekday"):
        case.fire("go", actor=STAFF, at=jst(2019, 5, 4))  # a Saturday
    case.fire("go", actor=STAFF, at=jst(2019, 5, 6))
    assert case.closed and engine.verify().ok


def test_actor_needs_an_id() -> None:
    with pytest.raises(InvalidData):
        Actor("", {"staff"})
