"""Holds (保全) and retention (保存期間): each kind of hold refuses forgetting, and pupils come due exactly when
their cases' rules say, across a school year (1 April - 31 March) counted in Japan time — on memory, an SQLite
file and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, COMMITTEE, PRINCIPAL, STAFF, WORKFLOWS, jst

from ijime_flow import Actor, Case, Engine, FixedClock, Subject
from ijime_flow.cli.main import main
from ijime_flow.errors import HoldInForce, InvalidData, PermissionDenied
from ijime_flow.events import seal
from ijime_flow.privacy.holds import check_forget, record_hold, release_hold
from ijime_flow.privacy.retention import apply, case_retention, due
from ijime_flow.privacy.sealing import About

BOARD = Actor("b-001", {"board"})
CLOSING = [("stop_act", STAFF, {}), ("report_to_administrator", STAFF, {}), ("share_with_committee", ADMIN, {}),
           ("start_fact_finding", COMMITTEE, {}), ("confirm_facts", COMMITTEE, {"bullying_recognised": False}),
           ("report_to_board", PRINCIPAL, {})]


def _at(clock: FixedClock, when: datetime) -> datetime:
    clock.set(max(clock.now(), when))
    return when


def response(engine: Engine, clock: FixedClock, opened: datetime, subjects: list[str]) -> Case:
    return engine.open_case("response", actor=STAFF, at=_at(clock, opened),
                            subjects=[Subject(s, "victim") for s in subjects])


def close_response(case: Case, clock: FixedClock, when: datetime, about: str | None = None) -> Case:
    """Closed as not recognised; the reason (personal) sealed under ``about``'s key when given."""
    for trigger, actor, data in CLOSING:
        case.fire(trigger, actor=actor, at=_at(clock, when), data=data)
    reason = "いじめと認められず"
    case.fire("close", actor=PRINCIPAL, at=_at(clock, when), data={"reason": About(about, reason) if about else reason})
    assert case.closed
    return case


def escalate(engine: Engine, case: Case, clock: FixedClock, when: datetime) -> Case:
    case.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=_at(clock, when))
    [link] = case.linked_cases()
    return engine.get_case(link.case_id)


SERIOUS_PATH: list[tuple[str, Actor, dict[str, Any]]] = [
    ("report_occurrence", PRINCIPAL, {}), ("inform_mayor", BOARD, {}), ("assign_school", BOARD, {}),
    ("form_organisation", PRINCIPAL, {"third_party_members": 1}),
    ("explain_in_advance", PRINCIPAL, {"date": "2024-06-01", "place": "校長室", "content": "調査の説明",
                                       "questionnaire_disclosure": True}),
    ("start_investigation", COMMITTEE, {}), ("conduct_survey", COMMITTEE, {"method": "アンケート"}),
    ("report_results", PRINCIPAL, {"victim_opinion": "attached"}), ("take_measures", PRINCIPAL, {"measures": "見守り"}),
    ("close", BOARD, {})]


def close_serious(serious: Case, clock: FixedClock, when: datetime, *, until: str = "close") -> Case:
    for trigger, actor, data in SERIOUS_PATH:
        serious.fire(trigger, actor=actor, at=_at(clock, when), data=data)
        if trigger == until:
            break
    return serious


def refusal(engine: Engine, subject: str, case_ids: list[str]) -> HoldInForce:
    with pytest.raises(HoldInForce) as caught:
        check_forget(engine, subject, case_ids)
    return caught.value


# -- holds ------------------------------------------------------------------------------------------------
def test_an_open_case_holds(any_engine: Engine, clock: FixedClock) -> None:
    case = response(any_engine, clock, jst(2019, 5, 1), ["s-1"])
    exc = refusal(any_engine, "s-1", [case.id])
    assert (exc.code, exc.hold, exc.case_id, exc.held_by) == ("hold_in_force", "open", case.id, case.id)
    assert exc.ja.startswith("s-1 の記録は消去できません") and "cannot be erased" in exc.en
    close_response(case, clock, jst(2019, 5, 2))
    check_forget(any_engine, "s-1", [case.id])  # closed, nothing linked, no hold: returns


def test_a_linked_serious_incident_holds_until_it_is_closed(any_engine: Engine, clock: FixedClock) -> None:
    case = response(any_engine, clock, jst(2024, 5, 1), ["s-1"])
    serious = escalate(any_engine, case, clock, jst(2024, 5, 2))
    close_response(case, clock, jst(2024, 5, 3))
    exc = refusal(any_engine, "s-1", [case.id])
    assert (exc.hold, exc.case_id, exc.held_by) == ("linked_open", case.id, serious.id)
    close_serious(serious, clock, jst(2024, 6, 3), until="conduct_survey")  # under investigation: still held
    assert serious.in_state("school_investigation")
    assert refusal(any_engine, "s-1", [case.id]).held_by == serious.id
    assert refusal(any_engine, "s-1", [serious.id]).hold == "open"  # and the other way round
    serious = any_engine.get_case(serious.id)
    for trigger, actor, data in SERIOUS_PATH[7:]:
        serious.fire(trigger, actor=actor, at=_at(clock, jst(2024, 7, 1)), data=data)
    assert serious.closed
    check_forget(any_engine, "s-1", [case.id, serious.id])
    assert any_engine.verify().ok


def test_a_board_hold_holds_until_released(any_engine: Engine, clock: FixedClock) -> None:
    case = close_response(response(any_engine, clock, jst(2019, 5, 1), ["s-1"]), clock, jst(2019, 5, 2))
    other = close_response(response(any_engine, clock, jst(2019, 5, 3), ["s-2"]), clock, jst(2019, 5, 3))
    record_hold(any_engine, case.id, "hold-2019-7", reason="litigation", actor=BOARD, at=_at(clock, jst(2019, 6, 1)))
    exc = refusal(any_engine, "s-1", [other.id, case.id])
    assert (exc.hold, exc.hold_id, exc.reason, exc.case_id) == ("board_hold", "hold-2019-7", "litigation", case.id)
    assert "hold-2019-7" in exc.ja and "訴訟" in exc.ja
    check_forget(any_engine, "s-2", [other.id])
    with pytest.raises(PermissionDenied):
        record_hold(any_engine, case.id, "h-x", reason="litigation", actor=STAFF)
    with pytest.raises(InvalidData, match="reason"):
        record_hold(any_engine, case.id, "h-x", reason="the parents asked nicely", actor=BOARD)
    with pytest.raises(InvalidData, match="once"):
        record_hold(any_engine, case.id, "hold-2019-7", reason="police", actor=PRINCIPAL)
    release_hold(any_engine, case.id, "hold-2019-7", reason="concluded", actor=PRINCIPAL, at=_at(clock, jst(2019, 7, 1)))
    check_forget(any_engine, "s-1", [case.id])  # released: no longer refuses
    with pytest.raises(InvalidData, match="not in force"):
        release_hold(any_engine, case.id, "hold-2019-7", actor=BOARD)
    with pytest.raises(InvalidData, match="once"):  # a released id is not used again
        record_hold(any_engine, case.id, "hold-2019-7", reason="police", actor=BOARD)
    kinds = [e.type for e in any_engine.get_case(case.id).history()][-2:]
    assert kinds == ["hold", "hold_released"] and any_engine.get_case(case.id).closed
    assert any_engine.verify().ok


def test_a_hold_on_a_linked_case_holds_its_source(engine: Engine, clock: FixedClock) -> None:
    case = response(engine, clock, jst(2024, 5, 1), ["s-1"])
    serious = close_serious(escalate(engine, case, clock, jst(2024, 5, 2)), clock, jst(2024, 6, 1))
    close_response(case, clock, jst(2024, 6, 2))
    check_forget(engine, "s-1", [case.id])
    record_hold(engine, serious.id, "h-1", reason="investigation", actor=BOARD)
    exc = refusal(engine, "s-1", [case.id])
    assert (exc.hold, exc.case_id, exc.held_by) == ("board_hold", case.id, serious.id)


def _forged(engine: Engine, case: Case, clock: FixedClock, actor: Actor, data: dict[str, Any], kind: str = "hold") -> None:
    last = case.history()[-1]
    now = clock.now()
    event, body = seal(case_id=case.id, seq=last.seq + 1, type=kind, trigger=None,  # type: ignore[arg-type]
                       from_states=sorted(case.active_states), to_states=sorted(case.active_states), actor_id=actor.id,
                       actor_roles=sorted(actor.roles), at=now, recorded_at=now, data=data, definition=None,
                       prev_hash=last.hash)
    engine.store.append([(event, body)])


@pytest.mark.parametrize(("actor", "data", "kind", "says"), [
    (STAFF, {"hold": "h-1", "reason": "litigation"}, "hold", "may only be done by roles"),
    (BOARD, {"hold": "h-1", "reason": "because"}, "hold", "reason"),
    (BOARD, {"hold": "h-1", "reason": "litigation", "note": "x"}, "hold", "data"),
    (BOARD, {"hold": "h-9", "reason": "concluded"}, "hold_released", "not in force"),
])
def test_verify_refuses_a_malformed_hold(any_engine: Engine, clock: FixedClock, actor: Actor, data: dict[str, Any],
                                         kind: str, says: str) -> None:
    case = close_response(response(any_engine, clock, jst(2019, 5, 1), ["s-1"]), clock, jst(2019, 5, 2))
    _forged(any_engine, case, clock, actor, data, kind)
    report = any_engine.verify()
    assert not report.ok
    [problem] = report.problems
    assert problem.kind == "illegal" and problem.seq == case.seq + 1 and says in problem.message


# -- retention across a school year ----------------------------------------------------------------------
# closed in school year 2024 (1 April 2024 - 31 March 2025): due 1 April 2030 (five years from 1 April 2025);
# closed on 1 April 2025 (school year 2025): due 1 April 2031
CLOSED = {"s-apr": jst(2024, 4, 1, 9), "s-sep": jst(2024, 9, 13), "s-mar": jst(2025, 3, 31, 23, 50),
          "s-next": jst(2025, 4, 1, 0, 10)}


def school_year_of_cases(engine: Engine, clock: FixedClock) -> dict[str, Case]:
    clock.set(jst(2024, 4, 1, 8))
    cases = {}
    for subject, closed in CLOSED.items():
        subjects = [subject, "s-both"] if subject in ("s-apr", "s-next") else [subject]
        opened = response(engine, clock, closed - timedelta(minutes=30), subjects)
        cases[subject] = close_response(opened, clock, closed, about=subject)
    cases["s-open"] = response(engine, clock, jst(2025, 4, 2), ["s-open"])
    clock.set(jst(2032, 1, 1))
    return cases


def statuses(engine: Engine, as_of: datetime) -> dict[str, str]:
    return {s.subject_id: s.status for s in due(engine, as_of).subjects}


def test_pupils_come_due_exactly_when_their_rules_say(any_engine: Engine, clock: FixedClock) -> None:
    cases = school_year_of_cases(any_engine, clock)
    rules = case_retention(any_engine, cases["s-mar"].id)
    assert rules.closed_on.isoformat() == "2025-03-31" and rules.due_on is not None
    assert rules.due_on.isoformat() == "2030-04-01"
    assert case_retention(any_engine, cases["s-next"].id).due_on.isoformat() == "2031-04-01"  # type: ignore[union-attr]
    before = statuses(any_engine, jst(2030, 3, 31, 23, 59))
    assert before == {"s-apr": "kept", "s-sep": "kept", "s-mar": "kept", "s-next": "kept", "s-both": "kept",
                      "s-open": "held"}
    first = due(any_engine, jst(2030, 4, 1, 0, 0))
    assert {s.subject_id: s.status for s in first.subjects} == {
        "s-apr": "due", "s-sep": "due", "s-mar": "due", "s-next": "kept", "s-both": "kept", "s-open": "held"}
    both = next(s for s in first.subjects if s.subject_id == "s-both")
    assert both.due_on is not None and both.due_on.isoformat() == "2031-04-01"  # its later case decides
    assert next(s for s in first.subjects if s.subject_id == "s-open").holds[0].kind == "open"
    # the day is Japan's: 15:00 UTC on 31 March is midnight of 1 April in Tokyo
    assert statuses(any_engine, datetime(2030, 3, 31, 15, 0, tzinfo=UTC))["s-mar"] == "due"
    assert statuses(any_engine, datetime(2030, 3, 31, 14, 59, tzinfo=UTC))["s-mar"] == "kept"
    later = statuses(any_engine, jst(2031, 4, 1, 0, 0))
    assert later == {"s-apr": "due", "s-sep": "due", "s-mar": "due", "s-next": "due", "s-both": "due", "s-open": "held"}
    record_hold(any_engine, cases["s-sep"].id, "h-1", reason="disclosure_request", actor=BOARD)
    assert statuses(any_engine, jst(2031, 4, 1))["s-sep"] == "held"


def test_serious_incident_rules_are_longer_and_keep_the_survey(engine: Engine, clock: FixedClock) -> None:
    case = response(engine, clock, jst(2024, 5, 1), ["s-1"])
    serious = close_serious(escalate(engine, case, clock, jst(2024, 5, 2)), clock, jst(2024, 6, 1))
    close_response(case, clock, jst(2024, 6, 2))
    found = case_retention(engine, serious.id)
    assert found.due_on is not None and found.due_on.isoformat() == "2035-04-01"  # 10 years from 1 April 2025
    survey = next(r for r in found.rules if r.record_class == "survey")
    assert survey.minimum and survey.start is not None and survey.start.isoformat() == "2025-04-01"
    assert statuses(engine, jst(2030, 4, 1)) == {"s-1": "kept"}  # the response case is due; its serious incident not
    assert statuses(engine, jst(2035, 4, 1)) == {"s-1": "due"}


def test_apply_refuses_a_time_later_than_now(engine: Engine, clock: FixedClock) -> None:
    school_year_of_cases(engine, clock)
    with pytest.raises(InvalidData, match="later than"):
        apply(engine, jst(2033, 1, 1), actor=BOARD)


def test_apply_forgets_exactly_what_was_listed(any_engine: Engine, clock: FixedClock) -> None:
    cases = school_year_of_cases(any_engine, clock)
    listing = due(any_engine, jst(2030, 4, 1))
    assert [s.subject_id for s in listing.due] == ["s-apr", "s-mar", "s-sep"]  # s-both: due later
    assert all(s.sealed == 1 for s in listing.due)
    done = apply(any_engine, jst(2030, 4, 1), actor=BOARD, listing=listing)
    assert [s.subject_id for s in done] == ["s-apr", "s-mar", "s-sep"]
    for subject in ("s-apr", "s-mar", "s-sep"):
        [erased] = [e for e in any_engine.get_case(cases[subject].id).history() if e.type == "erased"]  # type: ignore[comparison-overlap]
        assert erased.data["subject"] == subject and erased.data["reason"] == "retention"
    assert "erased" not in [e.type for e in any_engine.get_case(cases["s-next"].id).history()]
    after = due(any_engine, jst(2030, 4, 1))
    assert not after.due and {s.subject_id for s in after.subjects} == {"s-next", "s-both", "s-open"}
    # s-both's keys were made when it was named (nothing of it is sealed, but its keys are there to destroy)
    assert [s.subject_id for s in due(any_engine, jst(2031, 4, 1)).due] == ["s-both", "s-next"]
    assert any_engine.verify().ok


# -- the command ------------------------------------------------------------------------------------------
def test_the_command_lists_what_is_due(tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        school_year_of_cases(engine, clock)
    assert main(["retention", "--db", str(db), "--as-of", "2030-04-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {s["subject_id"]: s["status"] for s in out["subjects"]}["s-mar"] == "due"
    assert {s["subject_id"]: s["status"] for s in out["subjects"]}["s-next"] == "kept"
    assert main(["retention", "--db", str(db), "--as-of", "2030-03-31"]) == 0
    text = capsys.readouterr().out
    assert "保存期間中" in text and "保全中" in text and "s-open" in text
    assert main(["retention", "--db", str(db), "--apply"]) == 2  # --apply needs who
    assert main(["retention", "--db", str(tmp_path / "none.db")]) == 2


def test_the_command_applies_exactly_what_it_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cases.db"
    clock = FixedClock(jst(2015, 9, 1, 8))
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        old = close_response(response(engine, clock, jst(2015, 9, 1, 9), ["s-old"]), clock, jst(2015, 9, 1, 10), about="s-old")
        close_response(response(engine, clock, jst(2016, 4, 1, 9), ["s-new"]), clock, jst(2016, 4, 1, 10), about="s-new")
    assert main(["retention", "--db", str(db), "--as-of", "2021-04-01", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["due"]
    assert listed == ["s-old"]
    assert main(["retention", "--db", str(db), "--as-of", "2999-01-01", "--apply", "--actor-id", "b-1", "--roles", "board"]) == 2
    assert "later than now" in capsys.readouterr().err
    assert main(["retention", "--db", str(db), "--as-of", "2021-04-01", "--apply", "--actor-id", "b-1", "--roles", "board",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["forgotten"] == listed
    with Engine(db) as engine:
        assert [e.type for e in engine.get_case(old.id).history()][-1] == "erased"
        assert not due(engine, jst(2021, 4, 1)).due and engine.verify().ok
