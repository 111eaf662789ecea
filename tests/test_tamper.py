"""Tampering with a real SQLite file by hand must be caught, at the right seq.

Each test builds a real case in a real file, closes the engine, edits the file with plain sqlite3
(as someone with the file would: dropping the append-only triggers first), reopens and verifies.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, WORKFLOWS, finish_regions, open_case, walk_main_line

from ijime_flow import Engine, FixedClock


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def rehash(body: dict[str, Any]) -> dict[str, Any]:
    """What the README documents: SHA-256 of the canonical JSON without the hash field."""
    body = dict(body)
    body.pop("hash", None)
    body["hash"] = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
    return body


@pytest.fixture
def case_file(db_path: Path, clock: FixedClock) -> tuple[Path, str]:
    with Engine(db_path, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = finish_regions(walk_main_line(open_case(engine)))
        open_case(engine, day=2)  # a second case, opened later: its rows come after
        assert engine.verify().ok
        return db_path, case.id


@pytest.fixture
def raw(case_file: tuple[Path, str]) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(case_file[0], isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    yield db
    db.close()


def body_of(db: sqlite3.Connection, case_id: str, seq: int) -> dict[str, Any]:
    row = db.execute("SELECT body FROM events WHERE case_id=? AND seq=?", (case_id, seq)).fetchone()
    return dict(json.loads(row[0]))


def write(db: sqlite3.Connection, case_id: str, seq: int, body: dict[str, Any]) -> None:
    db.execute("UPDATE events SET body=?, hash=? WHERE case_id=? AND seq=?",
               (canonical(body), body.get("hash", ""), case_id, seq))


def rechain_from(db: sqlite3.Connection, case_id: str, seq: int) -> None:
    """Recompute every hash from ``seq`` on, so the chain links again (a careful forger)."""
    prev = body_of(db, case_id, seq - 1)["hash"] if seq > 1 else None
    for (s,) in db.execute("SELECT seq FROM events WHERE case_id=? AND seq>=? ORDER BY seq", (case_id, seq)).fetchall():
        body = body_of(db, case_id, s)
        body["prev_hash"] = prev
        body = rehash(body)
        write(db, case_id, s, body)
        prev = body["hash"]


def verify(db_path: Path, clock: FixedClock) -> Any:
    # no workflows loaded: the store's pinned definitions are used
    with Engine(db_path, clock=clock, school="school-1") as engine:
        return engine.verify()


def problems_at(report: Any, case_id: str) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in report.problems if p.case_id == case_id]


Edit = Callable[[sqlite3.Connection, str], None]


def edit_data_keep_hash(db: sqlite3.Connection, cid: str) -> None:
    body = body_of(db, cid, 6)
    body["data"]["bullying_recognised"] = False
    write(db, cid, 6, body)


def edit_data_and_its_hash(db: sqlite3.Connection, cid: str) -> None:
    body = body_of(db, cid, 6)
    body["data"]["bullying_recognised"] = False
    write(db, cid, 6, rehash(body))


def edit_time_and_rechain(db: sqlite3.Connection, cid: str) -> None:
    body = body_of(db, cid, 7)
    body["actor"] = {"id": STAFF.id, "roles": ["staff"]}  # the board report "by a teacher"
    write(db, cid, 7, body)
    rechain_from(db, cid, 7)


def delete_middle_row(db: sqlite3.Connection, cid: str) -> None:
    db.execute("DELETE FROM events WHERE case_id=? AND seq=4", (cid,))


def swap_two_rows(db: sqlite3.Connection, cid: str) -> None:
    a, b = body_of(db, cid, 3), body_of(db, cid, 4)
    write(db, cid, 3, b)
    write(db, cid, 4, a)


def renumber_after_delete(db: sqlite3.Connection, cid: str) -> None:
    """Delete seq 3, renumber the rest and recompute every hash: only the replay can catch it."""
    db.execute("DELETE FROM events WHERE case_id=? AND seq=3", (cid,))
    last = db.execute("SELECT max(seq) FROM events WHERE case_id=?", (cid,)).fetchone()[0]
    for s in range(4, last + 1):
        body = body_of(db, cid, s)
        body["seq"] = s - 1
        db.execute("UPDATE events SET seq=?, body=? WHERE case_id=? AND seq=?", (s - 1, canonical(body), cid, s))
    rechain_from(db, cid, 3)


def change_recorded_state(db: sqlite3.Connection, cid: str) -> None:
    body = body_of(db, cid, 5)
    body["to_states"] = ["board_reported"]
    write(db, cid, 5, body)
    rechain_from(db, cid, 5)


def forward_date_and_rechain(db: sqlite3.Connection, cid: str) -> None:
    """A step dated after it was recorded (as a forger dating a resolution three months on would)."""
    body = body_of(db, cid, 9)
    body["at"] = "2031-01-01T10:00:00+09:00"
    write(db, cid, 9, body)
    rechain_from(db, cid, 9)


@pytest.mark.parametrize(("edit", "seq", "kind"), [
    (forward_date_and_rechain, 9, "illegal"),
    (edit_data_keep_hash, 6, "hash"),
    (edit_data_and_its_hash, 7, "chain"),
    (edit_time_and_rechain, 7, "illegal"),
    (delete_middle_row, 4, "seq"),
    (swap_two_rows, 3, "seq"),
    (renumber_after_delete, 3, "state"),
    (change_recorded_state, 5, "state"),
], ids=lambda v: v.__name__ if callable(v) else str(v))
def test_tampering_is_caught_at_the_first_bad_seq(case_file: tuple[Path, str], raw: sqlite3.Connection,
                                                  clock: FixedClock, edit: Edit, seq: int, kind: str) -> None:
    db_path, cid = case_file
    edit(raw, cid)
    report = verify(db_path, clock)
    assert not report.ok
    assert report.first_bad_seq(cid) == seq, report.problems
    assert (seq, kind) in problems_at(report, cid)


def test_an_illegal_step_is_named_with_its_actor_and_allowed_roles(case_file: tuple[Path, str],
                                                                   raw: sqlite3.Connection, clock: FixedClock) -> None:
    db_path, cid = case_file
    edit_time_and_rechain(raw, cid)
    problem = next(p for p in verify(db_path, clock).problems if p.case_id == cid)
    assert "report_to_board" in problem.message and STAFF.id in problem.message and "principal" in problem.message


def test_deleting_the_last_rows_is_caught_by_the_store(case_file: tuple[Path, str], raw: sqlite3.Connection,
                                                       clock: FixedClock) -> None:
    db_path, _ = case_file
    last = raw.execute("SELECT max(position) FROM events").fetchone()[0]
    raw.execute("DELETE FROM events WHERE position=?", (last,))
    report = verify(db_path, clock)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["store"]


def test_editing_the_pinned_definition_is_caught(case_file: tuple[Path, str], raw: sqlite3.Connection,
                                                 clock: FixedClock) -> None:
    db_path, cid = case_file
    text = raw.execute("SELECT body FROM definitions WHERE workflow_id = 'response'").fetchone()[0]
    loosened = text.replace('"roles":["principal"],"source":"4(2)","to":"board_reported"',
                            '"roles":["staff"],"source":"4(2)","to":"board_reported"')
    assert loosened != text
    raw.execute("UPDATE definitions SET body=? WHERE workflow_id = 'response'", (loosened,))
    report = verify(db_path, clock)
    assert (1, "definition") in problems_at(report, cid)


def test_the_log_is_append_only_for_ordinary_sql(case_file: tuple[Path, str]) -> None:
    db = sqlite3.connect(case_file[0], isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET body='{}' WHERE seq=1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


def test_the_documented_hash_needs_only_hashlib_and_json(case_file: tuple[Path, str]) -> None:
    db = sqlite3.connect(case_file[0])
    prev = {}
    for case_id, body_text, hash_column in db.execute("SELECT case_id, body, hash FROM events ORDER BY position"):
        body = json.loads(body_text)
        assert body_text == canonical(body)  # stored byte for byte in canonical form
        assert rehash(body)["hash"] == body["hash"] == hash_column
        assert body["prev_hash"] == prev.get(case_id)
        prev[case_id] = body["hash"]
    db.close()


def test_cli_verify_exits_1_and_names_the_seq(case_file: tuple[Path, str], raw: sqlite3.Connection) -> None:
    db_path, cid = case_file
    edit_data_keep_hash(raw, cid)
    run = subprocess.run([sys.executable, "-m", "ijime_flow.cli", "verify", "--db", str(db_path), "--json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is False
    assert {"case_id": cid, "seq": 6, "kind": "hash"} == {k: report["problems"][0][k] for k in ("case_id", "seq", "kind")}


def test_verifying_one_case_of_a_clean_store(case_file: tuple[Path, str], clock: FixedClock) -> None:
    db_path, cid = case_file
    with Engine(db_path, clock=clock, school="school-1") as engine:
        report = engine.verify(cid)
        assert report.ok and report.cases == 1 and report.events == len(engine.get_case(cid).history())
        case = engine.get_case(cid)  # reopening continues where it stood, from the stored definition
        case.fire("report_recurrence", actor=STAFF)
        assert engine.verify().ok
