"""Subjects: the pupils a case is about, by pseudonymous id and part, recorded as ``subject`` events; queried
by subject, part and actor from the projection; carried to the case an escalation opens; verified. On
memory, a real SQLite file and real PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, COUNSELOR, PRINCIPAL, STAFF, WORKFLOWS, finish_regions, jst, walk_main_line

from ijime_flow import Actor, Engine, FixedClock, InvalidData, PermissionDenied, StoreError, Subject
from ijime_flow.audit.source import open_reading
from ijime_flow.canonical import canonical_json
from ijime_flow.cli import main
from ijime_flow.events import body_hash
from ijime_flow.store.sqlite import SCHEMA_VERSION

VICTIM = Subject("s-2041", "victim")
PERPETRATOR = Subject("s-3307", "perpetrator")
OUTSIDER = Actor("x-999", {"parent"})  # holds no role of the workflow


@pytest.fixture
def target(store_target: object) -> object:
    return store_target  # each real store in turn (conftest)


@pytest.fixture
def engine(target: object, clock: FixedClock) -> Iterator[Engine]:
    with Engine(target, clock=clock, school="school-1") as eng:  # type: ignore[arg-type]
        eng.load(WORKFLOWS)
        yield eng


def pairs(subjects: tuple[Subject, ...]) -> list[tuple[str, str]]:
    return [(s.id, s.part) for s in subjects]


def test_a_subject_is_a_pseudonymous_id_and_a_part() -> None:
    assert VICTIM.ja == "被害児童生徒" and Subject("s-1", "bystander").ja == "観衆・傍観者"
    with pytest.raises(InvalidData, match="児童生徒の立場は") as info:
        Subject("s-1", "witness")
    assert info.value.code == "invalid_data" and info.value.ja.startswith("児童生徒の立場は") and "part" in info.value.en
    for bad in ("", "x" * 200, 42):
        with pytest.raises(InvalidData):
            Subject(bad, "victim")  # type: ignore[arg-type]


def test_open_with_subjects_add_remove_and_the_row(engine: Engine, target: object) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM, PERPETRATOR])
    assert [e.type for e in case.history()] == ["opened", "subject", "subject"]
    assert case.seq == 3 and pairs(case.subjects) == [("s-2041", "victim"), ("s-3307", "perpetrator")]
    first = case.history()[1]
    assert first.data == {"subject": "s-2041", "part": "victim"} and first.trigger is None
    assert first.from_states == first.to_states == sorted(case.active_states)
    row = engine.store.case_row(case.id)
    assert row is not None and row.seq == 3 and row.subjects == (("s-2041", "victim"), ("s-3307", "perpetrator"))
    assert row.actors == ("t-014",)

    result = case.add_subject("s-0001", "reporter", actor=COUNSELOR, at=jst(2019, 5, 1, 10))
    assert [e.type for e in result.events] == ["subject"] and result.opened_cases == []
    assert result.event.data == {"subject": "s-0001", "part": "reporter"}
    case.add_subject("s-3307", "bystander", actor=STAFF, at=jst(2019, 5, 1, 11))  # another part: renamed
    removed = case.remove_subject("s-2041", actor=STAFF, at=jst(2019, 5, 1, 12))
    assert removed.event.data == {"subject": "s-2041", "part": None}
    expected = [("s-0001", "reporter"), ("s-3307", "bystander")]
    assert pairs(case.subjects) == expected
    assert pairs(engine.get_case(case.id).subjects) == expected  # rebuilt from the log
    row = engine.store.case_row(case.id)
    assert row is not None and list(row.subjects) == expected and row.actors == ("s-003", "t-014")
    assert row.to_dict()["subjects"] == [{"id": "s-0001", "part": "reporter"}, {"id": "s-3307", "part": "bystander"}]
    assert row.to_dict()["actors"] == ["s-003", "t-014"]
    case.fire("stop_act", actor=PRINCIPAL, at=jst(2019, 5, 1, 13))  # a step by someone new: the row knows
    assert engine.store.case_row(case.id).actors == ("p-001", "s-003", "t-014")  # type: ignore[union-attr]
    assert engine.verify().ok
    rebuilt = engine.rebuild_projection()
    assert rebuilt.problems == [] and engine.store.case_row(case.id) == engine.cases()[0]
    assert engine.cases()[0].subjects == tuple(expected)


def test_refusals_record_nothing(engine: Engine) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
    refusals = [
        (lambda: case.add_subject("s-2041", "victim", actor=STAFF), InvalidData, "既に"),  # the part it has
        (lambda: case.remove_subject("s-9999", actor=STAFF), InvalidData, "含まれていません"),
        (lambda: case.add_subject("s-1", "ringleader", actor=STAFF), InvalidData, "立場"),
        (lambda: case.add_subject("", "victim", actor=STAFF), InvalidData, "subject"),
        (lambda: case.add_subject("s-1", "victim", actor=OUTSIDER), PermissionDenied, "対象の児童生徒の記録"),
        (lambda: case.add_subject("s-1", "victim", actor="t-014"), InvalidData, "Actor"),  # type: ignore[arg-type]
    ]
    for call, error, words in refusals:
        with pytest.raises(error, match=words):
            call()
    assert case.seq == 2 and len(case.history()) == 2 and pairs(case.subjects) == [("s-2041", "victim")]
    with pytest.raises(InvalidData, match="二度"):
        engine.open_case("response", actor=STAFF, subjects=[VICTIM, Subject("s-2041", "reporter")])
    with pytest.raises(InvalidData, match="Subject"):
        engine.open_case("response", actor=STAFF, subjects=[("s-1", "victim")])  # type: ignore[list-item]
    with pytest.raises(InvalidData, match="Subject"):
        engine.open_case("response", actor=STAFF, subjects="s-1")  # type: ignore[arg-type]
    assert engine.case_ids() == [case.id]  # a refused open wrote nothing: all or nothing
    # a closed case takes no subject, as it takes no fact
    closed = finish_regions(walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))))
    closed.record_fact("act_stopped_on", date(2019, 5, 10), actor=COMMITTEE, at=jst(2019, 5, 10))
    closed.record_fact("victim_distress", False, actor=COUNSELOR, at=jst(2019, 8, 20))
    closed.fire("resolve", actor=COMMITTEE, at=jst(2019, 9, 1))
    closed.fire("close", actor=PRINCIPAL, at=jst(2019, 9, 2))
    assert closed.closed
    with pytest.raises(InvalidData, match="終結"):
        closed.add_subject("s-1", "victim", actor=PRINCIPAL)


def test_queries_by_subject_part_and_actor(engine: Engine) -> None:
    a = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM, PERPETRATOR])
    b = engine.open_case("response", actor=ADMIN, at=jst(2019, 5, 2, 9), subjects=[Subject("s-2041", "bystander")],
                         school="school-2")
    c = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 3, 9))
    c.add_subject("s-3307", "victim", actor=PRINCIPAL, at=jst(2019, 5, 3, 10))

    def ids(**filters: object) -> list[str]:
        rows = engine.cases(**filters)  # type: ignore[arg-type]
        if "limit" not in filters:
            assert engine.count_cases(**filters) == len(rows)  # type: ignore[arg-type]
        return [row.case_id for row in rows]

    assert ids(subject="s-2041") == [a.id, b.id]
    assert ids(subject="s-2041", part="victim") == [a.id]
    assert ids(subject="s-2041", part="bystander") == [b.id]
    assert ids(subject="s-3307") == [a.id, c.id] and ids(subject="s-3307", part="victim") == [c.id]
    assert ids(part="perpetrator") == [a.id] and ids(part="reporter") == []
    assert ids(actor="t-014") == [a.id, c.id] and ids(actor="p-001") == [c.id] and ids(actor="v-002") == [b.id]
    assert ids(actor="ijime-flow") == []  # the engine is not an actor of the row
    assert ids(subject="s-2041", actor="v-002", school="school-2") == [b.id]
    assert ids(subject="nobody") == [] and ids(subject="s-2041", limit=1) == [a.id]
    a.remove_subject("s-2041", actor=STAFF, at=jst(2019, 5, 4))
    assert ids(subject="s-2041") == [b.id]
    with pytest.raises(InvalidData, match="立場"):
        engine.cases(part="witness")
    with pytest.raises(InvalidData):
        engine.cases(subject="")


def test_escalation_carries_the_subjects_to_the_case_it_opens(engine: Engine) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM, PERPETRATOR])
    case.add_subject("s-0001", "reporter", actor=STAFF, at=jst(2019, 5, 1, 9, 30))
    result = case.record_fact_result("serious_harm", "self_harm_attempt", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    (linked_id,) = result.opened_cases
    serious = engine.get_case(linked_id)
    expected = [("s-0001", "reporter"), ("s-2041", "victim"), ("s-3307", "perpetrator")]
    assert pairs(serious.subjects) == expected
    history = serious.history()
    assert [e.type for e in history] == ["opened", "subject", "subject", "subject"]
    assert {e.actor.id for e in history} == {"ijime-flow"}
    row = engine.store.case_row(linked_id)
    assert row is not None and list(row.subjects) == expected and row.actors == () and row.seq == 4
    assert [r.case_id for r in engine.cases(subject="s-2041", part="victim")] == [case.id, linked_id]
    # after the escalation each case names its own: a pupil named on the source stays on the source
    case.add_subject("s-5555", "bystander", actor=STAFF, at=jst(2019, 5, 2))
    assert "s-5555" not in {s.id for s in engine.get_case(linked_id).subjects}
    serious.add_subject("s-6666", "bystander", actor=PRINCIPAL, at=jst(2019, 5, 3))
    assert engine.verify().ok
    assert engine.rebuild_projection().problems == [] and list(engine.store.case_row(linked_id).subjects) == [  # type: ignore[union-attr]
        *expected[:2], ("s-3307", "perpetrator"), ("s-6666", "bystander")]


def test_a_second_criterion_does_not_copy_the_subjects_again(engine: Engine) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
    case.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 5, 1, 10))
    case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 2, 10))
    (linked,) = {link.case_id for link in case.linked_cases()}  # two escalated events, one linked case
    assert [e.type for e in engine.get_case(linked).history()] == ["opened", "subject", "criterion_met"]
    assert engine.verify().ok


# -- verification -------------------------------------------------------------------------------------------
def _tamper(path: Path, case_id: str, seq: int, change: dict[str, object]) -> None:
    """Rewrite one stored event with ``change`` and recompute its hash and every later link (a forger with the file)."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER events_no_update")
    rows = db.execute("SELECT seq, body FROM events WHERE case_id = ? ORDER BY seq", (case_id,)).fetchall()
    prev = None
    for s, text in rows:
        body = json.loads(text)
        if s == seq:
            body.update(change)
        if s >= seq:
            body["prev_hash"] = prev
            body["hash"] = body_hash(body)
            db.execute("UPDATE events SET body = ?, hash = ? WHERE case_id = ? AND seq = ?",
                       (canonical_json(body), body["hash"], case_id, s))
        prev = body["hash"]
    db.commit()
    db.close()


@pytest.mark.parametrize(("change", "kind", "words"), [
    ({"data": {"subject": "s-2041", "part": "ringleader"}}, "illegal", "part"),
    ({"data": {"subject": "", "part": "victim"}}, "illegal", "subject"),
    ({"data": {"subject": "s-2041", "part": "victim", "name": "山田"}}, "illegal", "subject"),
    ({"data": {"subject": "s-2041", "part": None}}, "illegal", "not a subject"),  # withdrawn, never named
    ({"to_states": ["closed"]}, "state", "to_states"),
    ({"trigger": "stop_act"}, "illegal", "no trigger"),
    ({"actor": {"id": "x-999", "roles": ["parent"]}}, "illegal", "subject"),
    ({"actor": {"id": "ijime-flow", "roles": ["system"]}}, "illegal", "escalation"),
])
def test_a_tampered_subject_event_fails_verification(tmp_path: Path, clock: FixedClock, change: dict[str, object],
                                                     kind: str, words: str) -> None:
    path = tmp_path / "cases.db"
    with Engine(path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
        assert engine.verify().ok
    _tamper(path, case.id, 2, change)
    with Engine(path, clock=clock) as engine:
        engine.load(WORKFLOWS)
        report = engine.verify()
        assert not report.ok
        problem = report.problems[0]
        assert (problem.seq, problem.kind) == (2, kind) and words in problem.message, problem


# -- the store's schema ----------------------------------------------------------------------------------------
def test_a_schema_2_file_is_upgraded_and_its_subjects_rebuilt_from_the_log(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "old.db"
    with Engine(path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
        case.add_subject("s-3307", "perpetrator", actor=COUNSELOR, at=jst(2019, 5, 1, 10))
    assert SCHEMA_VERSION == 3
    # the file as schema 2 left it: the cases table without the two columns, and its version
    with sqlite3.connect(path) as db:
        db.executescript("ALTER TABLE cases DROP COLUMN subjects; ALTER TABLE cases DROP COLUMN actors;"
                         " UPDATE meta SET value = '2' WHERE key = 'schema_version';")
    with pytest.raises(StoreError, match="store schema 2 is not this version's"):  # read-only: told to open it once
        open_reading(str(path))
    assert main(["cases", "--db", str(path)]) == 2
    with Engine(path, clock=clock) as engine:  # writable: upgraded, rows rebuilt from the log
        engine.load(WORKFLOWS)
        assert not engine.store.projection_stale()
        (row,) = engine.cases(subject="s-3307", part="perpetrator")
        assert row.subjects == (("s-2041", "victim"), ("s-3307", "perpetrator")) and row.actors == ("s-003", "t-014")
        assert engine.store._rows("SELECT value FROM meta WHERE key = 'schema_version'") == [("3",)]  # type: ignore[attr-defined]
        assert engine.verify().ok
    with open_reading(str(path)) as reader:  # now the reading commands open it
        assert [r.case_id for r in reader.cases(actor="s-003")] == [case.id]


def test_a_schema_2_postgres_store_is_upgraded(pg_url: str, clock: FixedClock) -> None:
    import psycopg

    with Engine(pg_url, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("DROP INDEX cases_subjects; DROP INDEX cases_actors;"
                   " ALTER TABLE cases DROP COLUMN subjects, DROP COLUMN actors;"
                   " UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="store schema 2 is not this version's"):
        open_reading(pg_url)
    with Engine(pg_url, clock=clock) as engine:
        engine.load(WORKFLOWS)
        assert [r.case_id for r in engine.cases(subject="s-2041", part="victim", actor="t-014")] == [case.id]
    with psycopg.connect(pg_url, autocommit=True) as db:
        indexes = {r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")}
    assert {"cases_subjects", "cases_actors"} <= indexes


# -- the command -------------------------------------------------------------------------------------------------
def test_the_cases_command_filters_by_subject_and_history_shows_them(tmp_path: Path, clock: FixedClock,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.db"
    with Engine(path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        a = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), subjects=[VICTIM])
        b = engine.open_case("response", actor=ADMIN, at=jst(2019, 5, 2, 9), subjects=[PERPETRATOR])
        b.remove_subject("s-3307", actor=COUNSELOR, at=jst(2019, 5, 2, 10))
    capsys.readouterr()
    assert main(["cases", "--db", str(path), "--subject", "s-2041", "--part", "victim", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["case_id"] == a.id and row["subjects"] == [{"id": "s-2041", "part": "victim"}] and row["actors"] == ["t-014"]
    assert main(["cases", "--db", str(path), "--actor", "s-003"]) == 0
    out = capsys.readouterr().out
    assert b.id in out and a.id not in out
    assert main(["cases", "--db", str(path), "--part", "witness"]) == 2
    capsys.readouterr()
    assert main(["history", "--db", str(path), b.id]) == 0
    out = capsys.readouterr().out
    assert "対象の児童生徒: s-3307（加害児童生徒）" in out and "対象の児童生徒から取り消し: s-3307" in out
    assert main(["report", "--db", str(path), a.id]) == 0
    assert "対象の児童生徒: s-2041（被害児童生徒）" in capsys.readouterr().out


def test_logs_carry_the_subject_id_and_part_only(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    with caplog.at_level("INFO", logger="ijime_flow"):
        case.add_subject("s-2041", "victim", actor=STAFF, at=jst(2019, 5, 1, 10))
    (record,) = [r for r in caplog.records if r.getMessage().startswith("case.subject")]
    assert record.ijime == {"event": "case.subject", "case_id": case.id, "subject_id": "s-2041", "part": "victim",  # type: ignore[attr-defined]
                            "seq": 2}
