"""Damage to any event of two linked cases (a case that escalated and the serious-incident case it
opened) is a reported problem with its case and seq: verification, export and import never crash,
and the other cases of the store are still checked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PRINCIPAL, STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock
from ijime_flow.audit.bundle import NotVerified, export_bundle, import_bundle
from ijime_flow.cli import main
from ijime_flow.events import body_hash


def _truncate(body: str) -> str:
    return body[: len(body) // 2]


def _data_string(body: str) -> str:  # a well-formed event whose data is a string, hash recomputed
    event = json.loads(body)
    event["data"] = "not an object"
    event["hash"] = body_hash(event)
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _data_list(body: str) -> str:
    event = json.loads(body)
    event["data"] = [event["data"]]
    event["hash"] = body_hash(event)
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _not_object(body: str) -> str:
    return json.dumps([json.loads(body)])


DAMAGE: dict[str, Callable[[str], str]] = {"truncate": _truncate, "data-string": _data_string, "data-list": _data_list,
                                           "array": _not_object, "empty": lambda body: ""}


def _build(db: Path) -> tuple[str, str, str, int, int]:
    clock = FixedClock(jst(2020, 1, 1))
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        bystander = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 8))
        case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9)), until="confirm_facts")
        case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
        (link,) = case.linked_cases()
        return (case.id, link.case_id, bystander.id, len(engine.store.read_case(case.id)),
                len(engine.store.read_case(link.case_id)))


def _damage(db: Path, case_id: str, seq: int, how: str) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("DROP TRIGGER IF EXISTS events_no_update")
    (body,) = con.execute("SELECT body FROM events WHERE case_id = ? AND seq = ?", (case_id, seq)).fetchone()
    con.execute("UPDATE events SET body = ? WHERE case_id = ? AND seq = ?", (DAMAGE[how](body), case_id, seq))
    con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str, str, int, int]]:
    db = tmp_path_factory.mktemp("linked") / "clean.db"
    return db, _build(db)


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damage_to_any_event_of_linked_cases_is_reported(built: tuple[Path, tuple[str, str, str, int, int]],
                                                         tmp_path: Path, how: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    clean, (case, serious, bystander, n_case, n_serious) = built
    ids = {"case": case, "serious": serious}
    for which, seq in [("case", s) for s in range(1, n_case + 1)] + [("serious", s) for s in range(1, n_serious + 1)]:
        db = tmp_path / f"{which}-{seq}.db"
        db.write_bytes(clean.read_bytes())
        _damage(db, ids[which], seq, how)
        with Engine(db) as engine:
            report = engine.verify()  # never raises
            assert not report.ok
            assert any(p.case_id == ids[which] and p.seq == seq for p in report.problems), report.problems
            assert report.cases == 3 and not any(p.case_id == bystander for p in report.problems)
            assert engine.verify(bystander).ok
            text = export_bundle(engine, case, with_linked=True, exported_at=jst(2020, 1, 2))
        bundle = tmp_path / f"{which}-{seq}.jsonl"
        bundle.write_text(text, encoding="utf-8")
        with pytest.raises(NotVerified):
            import_bundle(bundle, Engine(tmp_path / f"target-{which}-{seq}.db"))
        capsys.readouterr()
        assert main(["verify", "--db", str(db)]) == 1
        assert main(["verify", str(bundle)]) == 1
        said = capsys.readouterr().out
        assert f"{ids[which]} seq {seq}" in said
