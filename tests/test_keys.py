"""Idempotency keys across processes: the same key, sent by several processes at the same moment, records
once and every one of them gets the first call's result — for a step, for facts and for opening a case."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ADMIN, STAFF, WORKFLOWS, jst, open_case

from ijime_flow import CaseExists, Engine, FixedClock, InvalidData


def _engine(target: object) -> Engine:
    engine = Engine(target, clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")  # type: ignore[arg-type]
    engine.load(WORKFLOWS)
    return engine


def test_opening_with_a_key_twice_opens_one_case(any_engine: Engine) -> None:
    first = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), key="form-17")
    again = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 5), key="form-17")
    assert again.id == first.id and any_engine.case_ids() == [first.id]
    assert [e.type for e in again.history()] == ["opened"]
    assert again.history()[0].data["_idempotency"] == {"key": "form-17", "events": 1}
    other = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), key="form-18")
    assert other.id != first.id and any_engine.verify().ok


def test_a_case_id_taken_without_the_key_is_still_case_exists(any_engine: Engine) -> None:
    any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="c-1")
    with pytest.raises(CaseExists):
        any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="c-1", key="k")
    with pytest.raises(InvalidData, match="_idempotency"):
        any_engine.open_case("response", actor=STAFF, data={"_idempotency": {"key": "x"}})


def test_the_key_of_an_opening_is_not_a_key_for_a_step(any_engine: Engine) -> None:
    case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), key="k-1")
    with pytest.raises(InvalidData):
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10), key="k-1")
    assert case.seq == 1


RACER = textwrap.dedent("""
    import json, sys
    from datetime import date
    from ijime_flow import Actor, Engine
    engine = Engine(sys.argv[1], school="school-1")
    engine.load(sys.argv[2])
    admin, staff = Actor("v-" + sys.argv[4], {"administrator"}), Actor("t-" + sys.argv[4], {"staff"})
    stale = engine.get_case(sys.argv[3])  # loaded before the start: every racer steps from the same seq
    print("ready", flush=True)
    sys.stdin.readline()  # all start at once
    step = stale.fire_result("share_with_all_staff", actor=admin, key="share-1")
    facts = engine.get_case(sys.argv[3]).record_facts([("absence", date(2019, 5, 13)), ("absence", date(2019, 5, 14))],
                                                      actor=staff, key="absences-week-20")
    opened = engine.open_case("response", actor=staff, key="report-form-9")
    print(json.dumps({"step": [e.hash for e in step.events], "facts": [e.hash for e in facts.events],
                      "opened": opened.id}), flush=True)
""")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_racing_processes_with_one_key_record_once_and_agree(kind: str, tmp_path: Path,
                                                           request: pytest.FixtureRequest) -> None:
    target = str(tmp_path / "race.db") if kind == "sqlite" else request.getfixturevalue("pg_url")
    engine = _engine(target)
    case_id = open_case(engine).id
    script = tmp_path / "racer.py"
    script.write_text(RACER, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(script), target, str(WORKFLOWS), case_id, str(i)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    results = [json.loads(out) for out, _ in outs]
    assert all(r == results[0] for r in results), results  # every racer got the first call's result
    history = engine.get_case(case_id).history()
    keyed = [e for e in history if "_idempotency" in e.data]
    assert [e.data["_idempotency"]["key"] for e in keyed] == ["share-1", "absences-week-20"]  # each recorded once
    assert [e.trigger for e in history].count("share_with_all_staff") == 1
    assert [e.data.get("fact") for e in history].count("absence") == 2
    assert sorted(engine.case_ids()) == sorted([case_id, results[0]["opened"]])  # one case opened by four
    assert engine.verify().ok
    engine.close()


def test_a_step_inside_a_rolled_back_transaction_leaves_its_key_free(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "tx.db")
    case = open_case(engine)
    with pytest.raises(RuntimeError), engine.transaction():
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10), key="k-stop")
        raise RuntimeError("the application's own write failed")
    result = case.fire_result("stop_act", actor=STAFF, at=jst(2019, 5, 1, 11), key="k-stop")
    assert [e.at for e in result.events] == [jst(2019, 5, 1, 11)]  # recorded now: the first never was
    assert ADMIN.id not in {e.actor.id for e in engine.get_case(case.id).history()}
    engine.close()
