"""Escalation to a serious-incident case: both logs linked, atomic, verified both ways."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from conftest import PRINCIPAL, STAFF, WORKFLOWS, jst, open_case

from ijime_flow import DefinitionError, Engine, FixedClock, load_file


def test_a_criterion_opens_a_linked_case_and_the_response_case_continues(sqlite_engine: Engine) -> None:
    case = open_case(sqlite_engine)
    event = case.record_fact("serious_harm", "self_harm_attempt", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    assert event.type == "fact"
    history = case.history()
    escalated = history[-1]
    assert escalated.type == "escalated" and escalated.actor.id == "ijime-flow"
    assert escalated.data["criterion"] == "serious_harm"
    serious_id = escalated.data["case"]
    serious = sqlite_engine.get_case(serious_id)
    assert serious.workflow_id == "serious_incident" and serious.in_state("suspected")
    assert serious.facts["criterion"] == frozenset({"serious_harm"})
    opened = serious.history()[0]
    assert opened.data["escalated_from"] == case.id and opened.definition.id == "serious_incident"  # type: ignore[union-attr]
    assert [(link.case_id, link.relation) for link in case.linked_cases()] == [(serious_id, "escalated_to")]
    assert [(link.case_id, link.relation) for link in serious.linked_cases()] == [(case.id, "escalated_from")]
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 11))  # the response case carries on
    assert sqlite_engine.verify().ok


def test_a_second_criterion_is_recorded_on_the_same_serious_case(engine: Engine) -> None:
    case = open_case(engine)
    case.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 2, 10))
    case.record_fact("serious_harm", "property_loss", actor=PRINCIPAL, at=jst(2019, 5, 3, 10))  # met once only
    links = {link.case_id for link in case.linked_cases()}
    assert len(links) == 1 and len([e for e in case.history() if e.type == "escalated"]) == 2
    serious = engine.get_case(links.pop())
    assert serious.facts["criterion"] == frozenset({"serious_harm", "petition"})
    assert [e.type for e in serious.history()] == ["opened", "criterion_met"]
    assert engine.verify().ok


def test_a_reloaded_case_remembers_what_it_met(sqlite_engine: Engine) -> None:
    case = open_case(sqlite_engine)
    case.record_fact("petition", "pupil", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    again = sqlite_engine.get_case(case.id)
    again.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 5, 2, 10))
    assert len({link.case_id for link in again.linked_cases()}) == 1
    assert sqlite_engine.verify().ok


def test_a_case_cannot_be_opened_when_its_escalation_target_is_missing(clock: FixedClock) -> None:
    engine = Engine(clock=clock, school="school-1")
    engine.add_definition(load_file(WORKFLOWS / "response.yaml"))
    with pytest.raises(DefinitionError, match="serious_incident"):
        open_case(engine)


def test_loading_one_file_brings_its_escalation_target(clock: FixedClock) -> None:
    engine = Engine(clock=clock, school="school-1")
    engine.load(WORKFLOWS / "response.yaml")
    assert set(engine.definitions) == {"response", "serious_incident"}


def test_a_direct_serious_case_is_opened_by_principal_or_board(engine: Engine) -> None:
    from ijime_flow import PermissionDenied

    with pytest.raises(PermissionDenied):
        engine.open_case("serious_incident", actor=STAFF, at=jst(2019, 5, 1), data={"criterion": "petition"})
    from ijime_flow import InvalidData

    with pytest.raises(InvalidData, match="criterion"):
        engine.open_case("serious_incident", actor=PRINCIPAL, at=jst(2019, 5, 1))
    case = engine.open_case("serious_incident", actor=PRINCIPAL, at=jst(2019, 5, 1), data={"criterion": "petition"})
    assert case.linked_cases() == [] and engine.verify().ok


def _serious_rows(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    rows = [r[0] for r in con.execute("SELECT case_id FROM events WHERE type = 'opened' AND body LIKE '%escalated_from%'")]
    con.close()
    return rows


def test_deleting_the_linked_case_is_caught_as_a_broken_link(db_path: Path, clock: FixedClock) -> None:
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = open_case(engine)
        case.record_fact("petition", "pupil", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
        serious_id = case.linked_cases()[0].case_id
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("DROP TRIGGER events_no_delete")
    con.execute("DELETE FROM events WHERE case_id = ?", (serious_id,))
    con.close()
    with Engine(db_path, clock=clock, school="school-1") as engine:
        report = engine.verify(case.id)
        assert [(p.seq, p.kind) for p in report.problems] == [(3, "link")]


CRASH = textwrap.dedent("""
    import os, sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from ijime_flow import Actor, Engine, FixedClock
    from ijime_flow.store.sqlite import SQLiteStore

    db, workflows, case_id = sys.argv[1], sys.argv[2], sys.argv[3]
    real = SQLiteStore._insert

    def crash_at_the_second_case(self, rows):
        own = [row for row in rows if row[0] == case_id]
        if len(own) < len(rows):   # the write reaches the linked case: write this case's rows, then die
            real(self, own)
            os._exit(86)
        real(self, rows)

    SQLiteStore._insert = crash_at_the_second_case
    tokyo = ZoneInfo("Asia/Tokyo")
    engine = Engine(db, clock=FixedClock(datetime(2020, 1, 1, tzinfo=tokyo)), school="school-1")
    engine.load(workflows)
    case = engine.get_case(case_id)
    case.record_fact("serious_harm", "injury", actor=Actor("p-001", {"principal"}),
                     at=datetime(2019, 6, 1, 10, tzinfo=tokyo))
    sys.exit(0)   # not reached
""")


def test_a_crash_between_the_two_cases_writes_leaves_neither(db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = open_case(engine)
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
        before = [e.hash for e in case.history()]
    script = tmp_path / "crash.py"
    script.write_text(CRASH, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(db_path), str(WORKFLOWS), case.id],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 86, run.stderr  # the process died mid-write
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        after = engine.get_case(case.id)
        assert [e.hash for e in after.history()] == before  # neither the fact nor the escalation landed
        assert _serious_rows(db_path) == []  # and no orphan case
        assert engine.verify().ok
        after.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 6, 1, 10))  # a retry works
        assert len(after.linked_cases()) == 1 and engine.verify().ok


def test_history_shows_the_link(db_path: Path, clock: FixedClock) -> None:
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = open_case(engine)
        case.record_fact("absence", date(2019, 5, 7), actor=STAFF, at=jst(2019, 5, 7, 17))
        case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8, 10))
        serious_id = case.linked_cases()[0].case_id
    run = subprocess.run([sys.executable, "-m", "ijime_flow", "history", "--db", str(db_path), case.id],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"事案 {serious_id} へ移行（要件: petition）" in run.stdout
    serious = subprocess.run([sys.executable, "-m", "ijime_flow", "history", "--db", str(db_path), serious_id],
                             capture_output=True, text=True, check=False, timeout=120)
    assert f"事案 {case.id} から重大事態として開始（要件: petition）" in serious.stdout
    listing = json.loads(subprocess.run([sys.executable, "-m", "ijime_flow", "history", "--db", str(db_path), "--json"],
                                        capture_output=True, text=True, check=False, timeout=120).stdout)
    assert set(listing) == {case.id, serious_id}
