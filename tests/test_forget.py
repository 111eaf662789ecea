"""Forgetting a pupil (issue 16, item 3): the keys destroyed, an ``erased`` event on each case; the plaintext is
nowhere in the store's files, while ``verify`` and a checkpoint signed before the erasure still pass."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import PRINCIPAL, STAFF, WORKFLOWS, jst
from test_personal import OBSERVED, PERPETRATOR, PLACE, TO_BOARD, VICTIM, opened_case

from ijime_flow import Actor, Engine, FixedClock, InvalidData, PermissionDenied
from ijime_flow.audit.bundle import export_bundle, load_bundle
from ijime_flow.audit.report import case_report
from ijime_flow.errors import HoldInForce
from ijime_flow.privacy.keys import keys_path
from ijime_flow.privacy.sealing import SEALED
from ijime_flow.proofs.check import check_store, make_tlog_checkpoint
from ijime_flow.proofs.checkpoint import generate_keypair

REASON = "確認の結果、いじめとは認められなかった"
BOARD = Actor("b-001", {"board"})


def closed_case(engine: Engine):  # type: ignore[no-untyped-def]
    case = opened_case(engine)
    for trigger, actor, data in TO_BOARD:
        case.fire(trigger, actor=actor, at=jst(2019, 5, 2), data=data)
    case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 3), data={"reason": REASON})
    return case


def test_forget_erases_the_pupil_and_keeps_the_record_provable(store_target: object, clock: FixedClock,
                                                                tmp_path: Path) -> None:
    private, public = generate_keypair()
    with Engine(store_target, clock=clock, school="school-1") as engine:  # type: ignore[arg-type]
        engine.load(WORKFLOWS)
        case = closed_case(engine)
        first = json.loads(engine.store.read_case(case.id)[0].body)["data"]
        victim_key = engine.keys.get(first["place"][SEALED]["kid"])
        assert victim_key is not None
        before = make_tlog_checkpoint(engine.store, private, "board.example.jp/school-1", clock.now())
        with pytest.raises(PermissionDenied):
            engine.forget(VICTIM, actor=STAFF, reason="request")
        with pytest.raises(InvalidData, match="reason"):
            engine.forget(VICTIM, actor=PRINCIPAL, reason="保護者から電話で依頼")  # a code, never free text
        done = engine.forget(VICTIM, actor=BOARD, reason="request")
        assert done.cases == (case.id,) and done.keys == 1
        erased = engine.store.read_case(case.id)[-1]
        assert json.loads(erased.body)["type"] == "erased"
        assert json.loads(erased.body)["data"] == {"subject": VICTIM, "reason": "request",
                                                   "keys": [first["place"][SEALED]["kid"]]}
        history = engine.get_case(case.id).history()
        assert history[0].data["place"] == "消去済み / erased"
        assert history[0].data["observed"] == OBSERVED  # the perpetrator's key is not the victim's
        assert history[-2].data["reason"] == REASON  # the case's own value stays
        report = engine.verify()
        assert report.ok, report.problems
        problems, _ = check_store(engine.store, before, public)
        assert problems == []  # the checkpoint signed before the erasure still holds
        text = case_report(engine, case.id, as_of=clock.now())
        assert "消去済み" in text and PLACE not in text and "個人情報を消去" in text
        bundle = export_bundle(engine, case.id, with_linked=False, exported_at=clock.now())
        assert PLACE not in bundle and OBSERVED not in bundle and REASON not in bundle  # ciphertext only
        assert engine.forget(VICTIM, actor=BOARD, reason="request").cases == ()  # nothing left to forget
    path = tmp_path / "case.bundle"
    path.write_text(bundle, encoding="utf-8")
    reader, _ = load_bundle(path)
    assert reader.verify().ok
    shown = case_report(reader, case.id, as_of=clock.now())
    assert "消去済み" in shown and "封印済み" in shown  # erased where forgotten, sealed where not disclosed
    assert PLACE not in shown and OBSERVED not in shown
    if store_target is not None and not str(store_target).startswith("postgres"):
        _scan_sqlite(Path(str(store_target)), [PLACE.encode(), victim_key])


def _scan_sqlite(db: Path, needles: list[bytes]) -> None:
    """Every byte of the events file, its WAL and the key file (and its WAL), after a checkpoint."""
    keys = Path(keys_path(str(db)))
    for path in (db, keys):
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    files = [p for p in (db, Path(f"{db}-wal"), keys, Path(f"{keys}-wal")) if p.exists()]
    assert db in files and keys in files
    for path in files:
        raw = path.read_bytes()
        for needle in needles:
            assert needle not in raw, f"{path.name} still holds a forgotten byte string"


def test_the_plaintext_never_reaches_the_events_file(tmp_path: Path, clock: FixedClock) -> None:
    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        closed_case(engine)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = db.read_bytes() + (Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else b"")
    for text in (PLACE, OBSERVED, REASON):
        assert text.encode() not in raw


def test_the_scan_would_find_a_key_left_behind(tmp_path: Path, clock: FixedClock) -> None:
    """The scan can fail: before forgetting, the key file does hold the victim's key."""
    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = closed_case(engine)
        kid = json.loads(engine.store.read_case(case.id)[0].body)["data"]["place"][SEALED]["kid"]
        key = engine.keys.get(kid)
        assert key is not None
    with pytest.raises(AssertionError, match="forgotten"):
        _scan_sqlite(db, [key])


def test_forget_refuses_while_the_case_is_open_if_holds_say_so(clock: FixedClock) -> None:
    engine = Engine(clock=clock, school="school-1")
    engine.load(WORKFLOWS)
    case = opened_case(engine)
    with pytest.raises(HoldInForce):
        engine.forget(PERPETRATOR, actor=BOARD, reason="retention")
    assert engine.get_case(case.id).history()[0].data["observed"] == OBSERVED  # nothing destroyed
    assert engine.get_case(case.id).seq == case.seq


def test_the_forget_command(tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
    from ijime_flow.cli import main

    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case_id = closed_case(engine).id
    assert main(["forget", "--db", str(db), VICTIM, "--actor-id", "b-001", "--roles", "board", "--reason", "retention",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"subject": VICTIM, "reason": "retention", "cases": [case_id], "keys": 1}
    assert main(["verify", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["forget", "--db", str(db), PERPETRATOR, "--actor-id", "t-014", "--roles", "staff", "--reason",
                 "request"]) == 2
    assert "個人情報の消去 (forget)" in capsys.readouterr().err  # refused: staff may not forget


def test_on_postgresql_the_plaintext_is_in_no_file_of_the_server(pg_url: str, clock: FixedClock) -> None:
    """After a forget on PostgreSQL and a CHECKPOINT, the relation files of the schema's tables (and their
    TOAST) and the server's WAL segments hold none of the sealed plaintext: it never left the process."""
    import psycopg

    with Engine(pg_url, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = closed_case(engine)
        engine.forget(VICTIM, actor=BOARD, reason="request")
        assert engine.verify().ok and "erased" in [e.type for e in engine.get_case(case.id).history()]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CHECKPOINT")
        data = Path(str(admin.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        files = [str(p) for (p,) in admin.execute(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 't', 'i') UNION"
            " SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.reltoastrelid <> 0").fetchall() if p]
    if not data.is_dir() or not any((data / f).exists() for f in files):
        pytest.skip(f"the server's data directory {data} is not readable here")
    scanned = [data / f for f in files if (data / f).exists()] + sorted((data / "pg_wal").glob("0*"))
    assert len(scanned) > len(files) // 2
    assert any(case.id.encode() in p.read_bytes() for p in scanned)  # the scan reads where the events are
    for path in scanned:
        raw = path.read_bytes()
        for text in (PLACE, OBSERVED, REASON):
            assert text.encode() not in raw, f"{text} found in {path}"
