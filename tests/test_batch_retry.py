"""retry on ConcurrencyError, record_facts in one transaction, idempotency keys on every store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ADMIN, STAFF, WORKFLOWS, jst, open_case

from ijime_flow import CaseExists, ConcurrencyError, Engine, FixedClock, InvalidData, InvalidTransition, PermissionDenied, retry

# ten school days in a row (Monday 2019-05-13 on, weekends skipped): the run of 7 is met by the 7th
SCHOOL_DAYS = [d for d in (date(2019, 5, 13) + timedelta(days=i) for i in range(14)) if d.weekday() < 5]


def _engine(target: object) -> Engine:
    engine = Engine(target, clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")  # type: ignore[arg-type]
    engine.load(WORKFLOWS)
    return engine


# -- retry --------------------------------------------------------------------------------------------
def test_retry_reloads_and_wins_after_a_lost_race(tmp_path: Path) -> None:
    one, two = _engine(tmp_path / "race.db"), _engine(tmp_path / "race.db")
    case_id = open_case(one).id
    stale = two.get_case(case_id)
    one.get_case(case_id).fire("share_with_all_staff", actor=ADMIN)  # the other engine moves on first
    with pytest.raises(ConcurrencyError):
        stale.fire("share_with_all_staff", actor=ADMIN)
    calls: list[int] = []

    def step(case: object) -> int:
        calls.append(1)
        if len(calls) == 1:  # a third writer wins between the reload and the write
            one.get_case(case_id).fire("share_with_all_staff", actor=ADMIN)
            return stale.fire("share_with_all_staff", actor=ADMIN).seq
        return two.get_case(case_id).fire("share_with_all_staff", actor=ADMIN).seq

    assert retry(two, case_id, lambda c: c.fire("share_with_all_staff", actor=ADMIN).seq) == 3
    assert retry(two, case_id, step) == 5 and len(calls) == 2
    assert one.verify(case_id).ok


def test_retry_is_bounded_and_never_retries_a_refusal(engine: Engine) -> None:
    case_id = open_case(engine).id
    tries: list[int] = []

    def lose(case: object) -> None:
        tries.append(1)
        raise ConcurrencyError(case_id, 2)

    with pytest.raises(ConcurrencyError):
        retry(engine, case_id, lose, attempts=3)
    assert len(tries) == 3
    tries.clear()

    def refused(case: object) -> None:
        tries.append(1)
        raise PermissionDenied("x", "t", [], ["principal"])

    with pytest.raises(PermissionDenied):
        retry(engine, case_id, refused)
    with pytest.raises(CaseExists):
        retry(engine, case_id, lambda c: (tries.append(1), (_ for _ in ()).throw(CaseExists(case_id))))
    assert len(tries) == 2
    with pytest.raises(InvalidTransition):  # a refusal after reload is raised as is
        retry(engine, case_id, lambda c: c.fire("resolve", actor=ADMIN))
    with pytest.raises(InvalidData):
        retry(engine, case_id, lose, attempts=0)


RACER = textwrap.dedent("""
    import sys
    from ijime_flow import Actor, Engine, retry
    engine = Engine(sys.argv[1], school="school-1")
    engine.load(sys.argv[2])
    admin = Actor("v-" + sys.argv[4], {"administrator"})
    for _ in range(15):
        retry(engine, sys.argv[3], lambda case: case.fire("share_with_all_staff", actor=admin), attempts=1000)
    print("done", flush=True)
""")


def test_two_processes_racing_with_retry_lose_no_step(tmp_path: Path) -> None:
    db = tmp_path / "procs.db"
    case_id = open_case(_engine(db)).id
    script = tmp_path / "racer.py"
    script.write_text(RACER, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(script), str(db), str(WORKFLOWS), case_id, str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    engine = _engine(db)
    assert engine.get_case(case_id).seq == 1 + 30 and engine.verify(case_id).ok


# -- record_facts ---------------------------------------------------------------------------------------
def test_a_week_of_absences_in_one_call_escalates_after_the_seventh(any_engine: Engine) -> None:
    case = open_case(any_engine)
    result = case.record_facts([("absence", d) for d in SCHOOL_DAYS], actor=STAFF, at=jst(2019, 5, 27, 9))
    kinds = [e.type for e in result.events]
    assert kinds == ["fact"] * 7 + ["escalated"] + ["fact"] * 3
    assert result.events[7].data["criterion"] == "absence_run" and len(result.opened_cases) == 1
    assert case.facts["absence"] == frozenset(SCHOOL_DAYS)
    again = any_engine.get_case(case.id)
    assert again.seq == case.seq == 12 and again.facts == case.facts
    assert any_engine.verify().ok


def test_record_facts_is_all_or_nothing(any_engine: Engine) -> None:
    case = open_case(any_engine)
    with pytest.raises(InvalidData):
        case.record_facts({"absence": date(2019, 5, 13), "no_such_fact": 1}, actor=STAFF)
    with pytest.raises(InvalidData):
        case.record_facts([("absence", date(2019, 5, 13)), ("absence", "not a date")], actor=STAFF)
    assert case.seq == 1 and any_engine.get_case(case.id).seq == 1 and "absence" not in case.facts
    result = case.record_facts({"serious_violence_or_extortion": False, "absence": date(2019, 5, 13)}, actor=STAFF)
    assert [e.data["fact"] for e in result.events] == ["serious_violence_or_extortion", "absence"]
    assert result.event.seq == 2 and any_engine.verify().ok


def test_record_facts_loses_a_race_whole(tmp_path: Path) -> None:
    one, two = _engine(tmp_path / "r.db"), _engine(tmp_path / "r.db")
    case = open_case(one)
    stale = two.get_case(case.id)
    case.record_fact("absence", date(2019, 5, 13), actor=STAFF)
    with pytest.raises(ConcurrencyError):
        stale.record_facts([("absence", d) for d in SCHOOL_DAYS[1:4]], actor=STAFF)
    assert one.get_case(case.id).seq == 2


# -- idempotency keys ---------------------------------------------------------------------------------------
def test_the_same_key_records_once_and_returns_the_first_result(any_engine: Engine) -> None:
    case = open_case(any_engine)
    first = case.fire_result("share_with_all_staff", actor=ADMIN, key="req-1")
    assert case.fire_result("share_with_all_staff", actor=ADMIN, key="req-1") == first
    assert case.fire("share_with_all_staff", actor=ADMIN, key="req-1") == first.event
    fact = case.record_fact_result("serious_violence_or_extortion", False, actor=STAFF, key="req-2")
    assert case.record_fact("serious_violence_or_extortion", False, actor=STAFF, key="req-2") == fact.event
    week = case.record_facts([("absence", d) for d in SCHOOL_DAYS], actor=STAFF, key="req-3")
    again = any_engine.get_case(case.id)  # another process, as far as the store can tell
    assert again.record_facts([("absence", d) for d in SCHOOL_DAYS], actor=STAFF, key="req-3") == week
    assert len(week.events) == 11 and week.opened_cases and again.seq == case.seq == 1 + 1 + 1 + 11
    with pytest.raises(InvalidData):  # a key of another call
        again.fire("share_with_all_staff", actor=ADMIN, key="req-2")
    with pytest.raises(InvalidData):  # the reserved name
        again.fire("share_with_all_staff", actor=ADMIN, data={"_idempotency": 1})
    assert case.fire_result("share_with_all_staff", actor=ADMIN, key="req-4") != first  # a new key: a new step
    assert any_engine.verify().ok


def test_a_stale_case_with_a_taken_key_gets_the_first_result(tmp_path: Path) -> None:
    one, two = _engine(tmp_path / "k.db"), _engine(tmp_path / "k.db")
    case = open_case(one)
    stale = two.get_case(case.id)
    first = case.fire_result("share_with_all_staff", actor=ADMIN, key="k")
    assert stale.fire_result("share_with_all_staff", actor=ADMIN, key="k") == first
    assert one.get_case(case.id).seq == 2 and one.verify().ok
