"""The report shows what an auditor must see (issue 15): when each step was recorded beside when it
happened, a mark on steps recorded late or dated before an earlier one, and how far a signed checkpoint
proves the case's events — from a store and from a bundle, through the command as a real process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ADMIN, STAFF, WORKFLOWS, jst

from ijime_flow import Engine, FixedClock
from ijime_flow.audit.bundle import export_bundle
from ijime_flow.audit.report import case_report
from ijime_flow.audit.report_proofs import record_marks, store_proofs
from ijime_flow.proofs.check import make_checkpoint, make_tlog_checkpoint
from ijime_flow.proofs.checkpoint import generate_keypair, load_private_key
from ijime_flow.proofs.note import COSIGNATURE, ED25519, Verifier
from ijime_flow.proofs.witness import cosign

ORIGIN = "board.example.jp/school-1"


def _verifier(public_pem: bytes, name: str, sig_type: int = ED25519) -> Verifier:
    from ijime_flow.proofs.checkpoint import load_public_key

    return Verifier(name, sig_type, load_public_key(public_pem).public_bytes_raw())


def _store(path: Path, now: datetime) -> tuple[Engine, str]:
    engine = Engine(path, clock=FixedClock(now), school="school-1")
    engine.load(WORKFLOWS)
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 9, 5))
    return engine, case.id


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, timeout=120)


def test_a_step_recorded_days_after_it_happened_is_marked(tmp_path: Path) -> None:
    engine, case_id = _store(tmp_path / "late.db", jst(2019, 5, 1, 9, 10))  # recorded minutes after: not late
    engine.clock = FixedClock(jst(2019, 5, 4, 12))  # three days on, a step dated back to 1 May is written down
    engine.get_case(case_id).fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 1, 10))
    events = engine.get_case(case_id).history()
    marks = record_marks(events, timedelta(days=1))
    assert list(marks) == [3] and "遅れて記録（3日2時間後）" in marks[3] and "recorded late (3 day(s) 2 h after" in marks[3]
    assert record_marks(events, timedelta(days=4)) == {}  # the threshold is the auditor's
    text = case_report(engine, case_id, as_of=jst(2019, 5, 5))
    assert "| 記録 (recorded, JST) |" in text and "2019-05-04 12:00" in text
    assert text.count("⚠ 遅れて記録") == 1 and "**1 件 (marked in the timeline)**" in text
    assert "⚠ 遅れて記録" not in case_report(engine, case_id, as_of=jst(2019, 5, 5), late=timedelta(days=4))
    engine.close()


def test_a_step_dated_before_an_earlier_one_is_marked(tmp_path: Path) -> None:
    engine, case_id = _store(tmp_path / "order.db", jst(2019, 5, 3, 12))
    case = engine.get_case(case_id)
    case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 2, 10))
    case.fire("share_with_committee", actor=ADMIN, at=jst(2019, 5, 1, 12))  # before seq 3's time
    marks = record_marks(engine.get_case(case_id).history(), timedelta(days=7))
    assert list(marks) == [4] and "seq 3 より前の日時" in marks[4] and "dated before seq 3" in marks[4]
    engine.close()


@pytest.mark.parametrize("kind", ["c2sp", "json"])
def test_the_proof_section_against_a_checkpoint_of_the_store(kind: str, tmp_path: Path) -> None:
    engine, case_id = _store(tmp_path / "proofs.db", jst(2019, 5, 1, 10))
    private, public = generate_keypair()
    school = _verifier(public, ORIGIN)
    board_private, board_public = generate_keypair()
    board = _verifier(board_public, "board.example.jp", COSIGNATURE)
    if kind == "c2sp":  # signed by the school, cosigned by the board as witness
        checkpoint = cosign(make_tlog_checkpoint(engine.store, private, ORIGIN), load_private_key(board_private),
                            "board.example.jp", int(jst(2019, 5, 1, 11).timestamp()))
        keys, witnesses = school, [board]
    else:  # a checkpoint of format 1, read for compatibility
        checkpoint = make_checkpoint(engine.store, private, ORIGIN, jst(2019, 5, 1, 10))
        keys, witnesses = public, []
    engine.get_case(case_id).fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 1, 9, 30))  # after it
    view = store_proofs(engine.store, case_id, checkpoint, keys, witnesses)
    assert (view.events, view.covered, view.proven, view.after, view.ok) == (3, 2, 2, 1, True)
    text = case_report(engine, case_id, as_of=jst(2019, 5, 2), proofs=view)
    assert "証明OK (proven)" in text and "3 件中 2 件" in text and "チェックポイント後 1 件" in text
    assert f"{ORIGIN} — size 2" in text
    if kind == "c2sp":
        assert view.signers[0] == ORIGIN and "board.example.jp（副署 / cosigned 2019-05-01 11:00 JST）" in view.signers
        assert "2019-05-01 11:00 JST（副署の時刻 / cosigned）" in text
        intruder = _verifier(generate_keypair()[1], "board.example.jp", COSIGNATURE)  # the board's name, another key
        unwitnessed = store_proofs(engine.store, case_id, checkpoint, keys, [intruder])
        assert not unwitnessed.ok and unwitnessed.proven == 0 and "board.example.jp" in " ".join(unwitnessed.problems)
    wrong = store_proofs(engine.store, case_id, checkpoint, _verifier(generate_keypair()[1], ORIGIN)
                         if kind == "c2sp" else generate_keypair()[1], witnesses)
    assert not wrong.ok and wrong.proven == 0 and ORIGIN not in wrong.signers and wrong.problems
    assert "署名されたチェックポイントとの照合はしていません" in case_report(engine, case_id, as_of=jst(2019, 5, 2))
    engine.close()
    # a history rewritten under the checkpoint: the store no longer extends it
    with sqlite3.connect(tmp_path / "proofs.db") as db:
        db.execute("DROP TRIGGER events_no_update")
        db.execute("UPDATE events SET body = replace(body, '\"stop_act\"', '\"stop_act \"') WHERE seq = 2")
    db.close()
    engine = Engine(tmp_path / "proofs.db", school="school-1")
    engine.load(WORKFLOWS)
    rewritten = store_proofs(engine.store, case_id, checkpoint, keys, witnesses)
    assert not rewritten.ok and rewritten.proven == 0 and "does not extend" in rewritten.problems[0]
    engine.close()


@pytest.mark.parametrize("source", ["store", "bundle"])
def test_the_report_command_shows_proof_status(source: str, tmp_path: Path) -> None:
    engine, case_id = _store(tmp_path / "cmd.db", jst(2019, 5, 1, 10))
    private, public = generate_keypair()
    checkpoint = make_tlog_checkpoint(engine.store, private, ORIGIN)
    (tmp_path / "school.vkey").write_text(_verifier(public, ORIGIN).vkey + "\n", encoding="utf-8")
    (tmp_path / "cp.json").write_text(str(checkpoint), encoding="utf-8")  # the signed note, as `checkpoint` writes it
    target = [str(tmp_path / "cmd.db"), "--db"]
    if source == "bundle":
        bundle = tmp_path / "case.bundle"
        bundle.write_text(export_bundle(engine, case_id, with_linked=True, checkpoint=checkpoint,
                                        exported_at=jst(2019, 5, 2)), encoding="utf-8")
        target = []
    engine.close()
    where = [target[1], target[0], case_id] if target else [str(tmp_path / "case.bundle")]
    done = _cli("report", *where, "--checkpoint", str(tmp_path / "cp.json"), "--vkey", str(tmp_path / "school.vkey"),
                "--as-of", "2019-05-02T00:00")
    assert done.returncode == 0, done.stderr
    assert "## 証明 (proofs)" in done.stdout and "証明OK (proven)" in done.stdout and "2 件中 2 件" in done.stdout
    assert f"| 署名 (signed by) | {ORIGIN} |" in done.stdout
    refused = _cli("report", *where, "--checkpoint", str(tmp_path / "cp.json"))
    assert refused.returncode == 2 and "--pubkey" in refused.stderr and "Traceback" not in refused.stderr
    bad = _cli("report", *where, "--late", "P0D")
    assert bad.returncode == 2 and "--late" in bad.stderr and "Traceback" not in bad.stderr
