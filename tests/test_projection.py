"""The current-state projection: kept in the append's transaction, equal to a rebuild from the log,
queried by the store. The conformance suite (tests/conformance.py) runs the store-level checks on
every backend; these drive whole engines."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import STAFF, WORKFLOWS, jst
from walker import random_walk, some_subjects

from ijime_flow import Engine, FixedClock, InvalidData
from ijime_flow.projection import CaseRow, ProjectionProblem, project_log

SCHOOLS = ["school-a", "school-b", "school-c"]


def busy_store(target: object, seed: int, cases: int = 60) -> tuple[Engine, list[str]]:
    """Cases of three schools walked at random (both workflows; escalations happen on their own)."""
    rng, people = random.Random(seed), random.Random(seed + 1000)  # people: subjects, apart from the walk's choices
    engine = Engine(target, clock=FixedClock(jst(2030, 1, 1)))  # type: ignore[arg-type]
    engine.load(WORKFLOWS)
    opened = []
    for n in range(cases):
        start = jst(2019, 4, 8) + timedelta(days=rng.randint(0, 300))
        workflow = "response" if n % 5 else "serious_incident"
        data = {"criterion": "petition"} if workflow == "serious_incident" else {}
        case = engine.open_case(workflow, actor=STAFF if workflow == "response" else _opener(engine), at=start,
                                data=data, school=rng.choice(SCHOOLS), subjects=some_subjects(people))
        random_walk(engine, case, rng, rng.randint(0, 40), start, people)
        opened.append(case.id)
    return engine, opened


def _opener(engine: Engine):  # type: ignore[no-untyped-def]
    from walker import everyone

    return everyone(engine.definition("serious_incident"))


def all_rows(engine: Engine) -> dict[str, CaseRow]:
    return {row.case_id: row for row in engine.cases()}


@pytest.fixture
def target(store_target: object) -> object:
    return store_target  # each real store in turn (conftest)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rebuilt_projection_equals_the_incremental_one(target: object, seed: int) -> None:
    engine, opened = busy_store(target, seed)
    incremental = all_rows(engine)
    assert set(incremental) == set(engine.case_ids()) and set(opened) <= set(incremental)
    assert any(row.workflow == "serious_incident" and row.case_id not in opened for row in incremental.values()), \
        "the walk should have escalated at least one case"
    assert any(row.open_deadlines for row in incremental.values()) and any(r.closed for r in incremental.values())
    # each row is what the case itself says, reloaded from its log
    for case_id, row in incremental.items():
        case = engine.get_case(case_id)
        assert row.states == tuple(sorted(case.active_states)) and row.seq == case.seq and row.closed == case.closed
        unmet = [(d.id, d.state, d.due) for d in case.deadlines() if d.met_at is None]
        assert [(d.id, d.state, d.due) for d in row.open_deadlines] == unmet
        assert row.subjects == tuple((s.id, s.part) for s in case.subjects)
        assert row.actors == tuple(sorted({e.actor.id for e in case.history()} - {"ijime-flow"}))
    rows = incremental.values()  # the walk named, renamed and withdrew subjects, by several actors, escalated some
    assert any(len(r.subjects) > 1 for r in rows) and any(len(r.actors) > 2 for r in rows)
    assert any(r.subjects and r.workflow == "serious_incident" and r.case_id not in opened for r in rows)
    report = engine.rebuild_projection()
    assert report.rows == len(incremental) and report.problems == []
    assert all_rows(engine) == incremental
    problems: list[ProjectionProblem] = []
    by_hash = {d.sha256: d for d in engine.definitions.values()}
    assert {r.case_id: r for r in project_log(engine.store.read_from(0), by_hash.get, problems)} == incremental


def test_queries_agree_with_the_cases_themselves(target: object) -> None:
    engine, _ = busy_store(target, seed=7)
    rows = list(all_rows(engine).values())
    for school in SCHOOLS:
        assert {r.case_id for r in engine.cases(school=school)} == {r.case_id for r in rows if r.school == school}
    assert engine.count_cases_by("school") == {s: sum(r.school == s for r in rows) for s in SCHOOLS
                                               if any(r.school == s for r in rows)}
    assert engine.count_cases_by("workflow", school="school-a") == {
        w: n for w in ("response", "serious_incident")
        if (n := sum(r.workflow == w and r.school == "school-a" for r in rows))}
    # a state matches its leaves and the states they are inside
    in_responding = {r.case_id for r in rows if any(s.startswith("responding") for s in r.states)}
    assert {r.case_id for r in engine.cases(state="responding")} == in_responding
    assert engine.count_cases_by("state")["responding"] == len(in_responding)
    assert engine.count_cases(closed=True) == sum(r.closed for r in rows)
    # "a deadline passed and not met", as each case's own deadlines tell it
    for as_of in (jst(2019, 6, 1), jst(2019, 9, 1), jst(2020, 3, 1)):
        expected = {r.case_id for r in rows
                    if any(d.status == "overdue" for d in engine.get_case(r.case_id).deadlines(as_of))}
        assert {r.case_id for r in engine.cases(overdue=True, as_of=as_of)} == expected
        assert engine.count_cases(overdue=True, as_of=as_of) == len(expected)
    with pytest.raises(InvalidData, match="fact_findin"):
        engine.cases(state="fact_findin")
    with pytest.raises(InvalidData, match="school, workflow, state"):
        engine.count_cases_by("colour")  # type: ignore[arg-type]
    with pytest.raises(InvalidData, match=r"naive|timezone"):
        engine.cases(overdue=True, as_of=datetime(2020, 1, 1))
    page = engine.cases(limit=5, offset=5)
    assert page == sorted(rows, key=lambda r: (r.opened_at, r.case_id))[5:10]


def test_every_case_belongs_to_a_school(clock: FixedClock) -> None:
    engine = Engine(clock=clock)
    engine.load(WORKFLOWS)
    with pytest.raises(InvalidData, match="school"):
        engine.open_case("response", actor=STAFF)
    with pytest.raises(InvalidData, match="school"):
        engine.open_case("response", actor=STAFF, school="  ")
    case = engine.open_case("response", actor=STAFF, school="school-9")
    assert case.school == "school-9" and engine.get_case(case.id).school == "school-9"
    assert case.history()[0].school == "school-9" and set(case.history()[0].data) == {"_calendar"}  # the engine's pin only
    assert engine.case_ids() == [case.id]  # the refused openings recorded nothing


def test_the_escalated_case_keeps_the_school(clock: FixedClock) -> None:
    from conftest import PRINCIPAL, walk_main_line

    engine = Engine(clock=clock)
    engine.load(WORKFLOWS)
    case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), school="school-b"),
                          until="confirm_facts")
    case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
    (linked,) = case.linked_cases()
    row = engine.store.case_row(linked.case_id)
    assert row is not None and row.school == "school-b" and row.workflow == "serious_incident"
    assert engine.count_cases_by("workflow", school="school-b") == {"response": 1, "serious_incident": 1}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_schema_1_store_gets_its_projection_from_the_log(backend: str, request: pytest.FixtureRequest,
                                                           tmp_path: Path, clock: FixedClock) -> None:
    """A store written before the projection existed (schema 1): opening it upgrades the schema and
    fills ``cases`` from the log, once."""
    target = str(tmp_path / "old.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine, _ = busy_store(target, seed=11, cases=10)
    expected = all_rows(engine)
    engine.close()
    downgrade = "DROP TABLE cases; UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    if backend == "sqlite":
        with sqlite3.connect(target) as db:
            db.executescript(downgrade)
    else:
        import psycopg

        with psycopg.connect(target, autocommit=True) as pg:
            pg.execute(downgrade)
    with Engine(target, clock=clock) as again:
        assert not again.store.projection_stale()
        assert all_rows(again) == expected
        version = "3" if backend == "sqlite" else "4"  # PostgreSQL 4: events.school, access per school
        assert again.store._rows("SELECT value FROM meta WHERE key = 'schema_version'") == [(version,)]  # type: ignore[attr-defined]


def test_a_damaged_case_is_left_out_of_the_rebuild_and_named(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    engine, opened = busy_store(path, seed=5, cases=6)
    before = all_rows(engine)
    db = sqlite3.connect(path)
    db.executescript("DROP TRIGGER events_no_update;")
    db.execute("UPDATE events SET body = substr(body, 1, 40) WHERE case_id = ? AND seq = 1", (opened[2],))
    db.commit()
    db.close()
    report = engine.rebuild_projection()
    assert [p.case_id for p in report.problems] == [opened[2]] and "not a valid event" in report.problems[0].message
    assert all_rows(engine) == {k: v for k, v in before.items() if k != opened[2]}


def test_the_fast_row_is_the_dataclass_row(clock: FixedClock) -> None:
    """make_row fills the frozen dataclass's __dict__ directly: it must hold every field, nothing else."""
    from dataclasses import fields

    from ijime_flow.projection import make_row

    engine = Engine(clock=clock, school="school-1")
    engine.load(WORKFLOWS)
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    row = make_row(engine.definition("response"), case.id, case.school, case.active_states, case.opened_at,
                   case.opened_at, 1, case._started, (), ("t-014",))
    names = [f.name for f in fields(CaseRow)]
    assert list(vars(row)) == names
    assert row == CaseRow(**{name: getattr(row, name) for name in names}) == engine.store.case_row(case.id)
    assert hash(row) == hash(CaseRow(**{name: getattr(row, name) for name in names}))
