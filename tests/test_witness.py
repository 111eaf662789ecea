"""A board witnesses a school's log: C2SP checkpoints, consistency proofs checked offline, cosignatures —
through the command as real processes, on a real SQLite file and on PostgreSQL. Every way a history can be
rewritten, cut or swapped must be refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock
from ijime_flow.proofs.merkle import consistency_proof, leaf_hash
from ijime_flow.proofs.tlog import TlogCheckpoint, parse_checkpoint, sign_tlog_checkpoint
from ijime_flow.proofs.witness import format_consistency_proof

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "board.example.jp/school-0421"
WITNESS = ["--key", "board.key", "--name", "board.example.jp/witness"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, timeout=120)


def ok(*args: str, cwd: Path) -> str:
    done = cli(*args, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def refused(*args: str, cwd: Path, says: str) -> None:
    done = cli(*args, cwd=cwd)
    assert done.returncode == 1, done.stdout + done.stderr
    assert says in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def checkpoint(db: str, out: str, cwd: Path, origin: str = ORIGIN) -> TlogCheckpoint:
    ok("checkpoint", "--db", db, "--key", "school.key", "--origin", origin, "-o", out, cwd=cwd)
    cp = parse_checkpoint((cwd / out).read_bytes())
    assert isinstance(cp, TlogCheckpoint)
    return cp


def demo(cwd: Path) -> None:
    ok("demo", "--db", "d.db", "--workflows", str(WORKFLOWS), cwd=cwd)


@pytest.fixture
def school(tmp_path: Path) -> Path:
    """A store, the school's and the board's keys, cp1 cosigned by the board, then more events and cp2."""
    demo(tmp_path)
    ok("keygen", "--out", "school", "--name", ORIGIN, cwd=tmp_path)
    ok("keygen", "--out", "board", "--witness", "--name", "board.example.jp/witness", cwd=tmp_path)
    checkpoint("d.db", "cp1", tmp_path)
    ok("witness", "cp1", "--log-vkey", "school.vkey", *WITNESS, "-o", "cp1w", cwd=tmp_path)
    demo(tmp_path)
    checkpoint("d.db", "cp2", tmp_path)
    ok("prove-consistency", "cp1", "cp2", "--db", "d.db", "-o", "p12", cwd=tmp_path)
    return tmp_path


def test_the_witness_flow(school: Path) -> None:
    assert (school / "school.vkey").read_text().startswith(ORIGIN + "+")
    assert (school / "board.vkey").read_text().startswith("board.example.jp/witness+")
    assert (school / "p12").read_text().startswith("old 24\n")
    said = ok("witness", "cp2", "--previous", "cp1w", "--proof", "p12", "--log-vkey", "school.vkey", *WITNESS, "-o", "cp2w",
              cwd=school)
    assert "cosigned" in said
    said = ok("verify-consistency", "cp1", "cp2w", "p12", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school)
    assert "extends OLD" in said and "cosigned by: board.example.jp/witness" in said
    said = ok("verify", "--db", "d.db", "--checkpoint", "cp2w", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school)
    assert f"signed by: {ORIGIN}" in said and "cosigned by: board.example.jp/witness" in said
    ok("verify", "--db", "d.db", "--checkpoint", "cp1", "--pubkey", "school.pub", cwd=school)  # the PEM key still works
    case = ok("history", "--db", "d.db", "--json", cwd=school).split('"')[1]
    ok("prove", "--db", "d.db", case, "2", "--checkpoint", "cp2w", "-o", "e.tlog-proof", cwd=school)
    assert (school / "e.tlog-proof").read_text().startswith("c2sp.org/tlog-proof@v1\nextra ")
    said = ok("verify-proof", "e.tlog-proof", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school)
    assert "証明OK" in said


def test_no_origin_is_refused_in_plain_words(school: Path) -> None:
    done = cli("checkpoint", "--db", "d.db", "--key", "school.key", cwd=school)
    assert done.returncode == 2 and "起点名" in done.stderr and "<board domain>/<school id>" in done.stderr


def test_a_missing_or_moved_cosignature_is_a_problem(school: Path) -> None:
    refused("verify", "--db", "d.db", "--checkpoint", "cp2", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school,
            says="no valid cosignature by the required witness")
    # the board's cosignature of cp1 pasted onto cp2: it covers another checkpoint
    line = (school / "cp1w").read_text().splitlines()[-1]
    (school / "cp2x").write_text((school / "cp2").read_text() + line + "\n")
    refused("verify", "--db", "d.db", "--checkpoint", "cp2x", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school,
            says="does not verify")
    refused("verify-consistency", "cp1", "cp2x", "p12", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=school,
            says="does not verify")


def test_the_witness_refuses_a_smaller_size_another_origin_or_another_key(school: Path) -> None:
    ok("witness", "cp2", "--previous", "cp1w", "--proof", "p12", "--log-vkey", "school.vkey", *WITNESS, "-o", "cp2w", cwd=school)
    refused("witness", "cp1", "--previous", "cp2w", "--log-vkey", "school.vkey", *WITNESS, cwd=school, says="size went down")
    checkpoint("d.db", "cp-other", school, origin="board.example.jp/school-0422")
    refused("witness", "cp-other", "--previous", "cp1w", "--proof", "p12", "--log-vkey", "school.pub", *WITNESS, cwd=school,
            says="origin differs")
    ok("keygen", "--out", "intruder", "--name", ORIGIN, cwd=school)
    ok("checkpoint", "--db", "d.db", "--key", "intruder.key", "--origin", ORIGIN, "-o", "cp-intruder", cwd=school)
    refused("witness", "cp-intruder", "--previous", "cp1w", "--proof", "p12", "--log-vkey", "school.vkey", *WITNESS,
            cwd=school, says="no signature by this key")
    refused("verify-consistency", "cp1", "cp-intruder", "p12", "--vkey", "school.vkey", cwd=school, says="NEW:")
    # a previous checkpoint the board never cosigned is not its state
    refused("witness", "cp2", "--previous", "cp1", "--proof", "p12", "--log-vkey", "school.vkey", *WITNESS, cwd=school,
            says="no valid cosignature")


def _sql(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    return db


def test_a_rewritten_history_fails_the_consistency_proof(school: Path) -> None:
    db = _sql(school / "d.db")
    db.execute("UPDATE events SET body = replace(body, 't-014', 't-999') WHERE position = 3")
    db.close()
    bodies = [row[0] for row in sqlite3.connect(school / "d.db").execute("SELECT body FROM events ORDER BY position")]
    rewritten = checkpoint("d.db", "cp2r", school)
    # the store no longer holds cp1's tree: no proof can be made from it
    refused("prove-consistency", "cp1", "cp2r", "--db", "d.db", cwd=school, says="does not hold the tree")
    # a proof made over the rewritten leaves fails offline
    old = parse_checkpoint((school / "cp1").read_bytes())
    forged = consistency_proof([leaf_hash(b.encode()) for b in bodies], old.size)
    (school / "p-forged").write_text(format_consistency_proof(old.size, forged, rewritten))
    refused("verify-consistency", "cp1", "cp2r", "p-forged", "--vkey", "school.vkey", cwd=school, says="fails")
    refused("witness", "cp2r", "--previous", "cp1w", "--proof", "p-forged", "--log-vkey", "school.vkey", *WITNESS,
            cwd=school, says="fails")
    # the honest proof does not lead to the rewritten checkpoint
    refused("verify-consistency", "cp1", "cp2r", "p12", "--vkey", "school.vkey", cwd=school, says="another checkpoint")


def test_a_truncated_history_fails(school: Path) -> None:
    db = _sql(school / "d.db")
    db.execute("DELETE FROM events WHERE position > 20")
    db.close()
    cut = checkpoint("d.db", "cp-cut", school)
    assert cut.size == 20
    (school / "p-cut").write_text(format_consistency_proof(24, [], cut))
    refused("verify-consistency", "cp1", "cp-cut", "p-cut", "--vkey", "school.vkey", cwd=school, says="size went down")
    refused("witness", "cp-cut", "--previous", "cp1w", "--proof", "p-cut", "--log-vkey", "school.vkey", *WITNESS, cwd=school,
            says="size went down")
    refused("verify", "--db", "d.db", "--checkpoint", "cp1", "--vkey", "school.vkey", cwd=school, says="were deleted")


def test_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    clock = FixedClock(jst(2019, 5, 20))
    with Engine(pg_url, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1"), until="stop_act")
    ok("keygen", "--out", "school", "--name", ORIGIN, cwd=tmp_path)
    ok("keygen", "--out", "board", "--witness", "--name", "board.example.jp/witness", cwd=tmp_path)
    first = checkpoint(pg_url, "cp1", tmp_path)
    ok("witness", "cp1", "--log-vkey", "school.vkey", *WITNESS, "-o", "cp1w", cwd=tmp_path)
    with Engine(pg_url, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 8), case_id="case-2"), until="confirm_facts")
    second = checkpoint(pg_url, "cp2", tmp_path)
    assert second.size > first.size
    ok("prove-consistency", "cp1", "cp2", "--db", pg_url, "-o", "p12", cwd=tmp_path)
    ok("witness", "cp2", "--previous", "cp1w", "--proof", "p12", "--log-vkey", "school.vkey", *WITNESS, "-o", "cp2w",
       cwd=tmp_path)
    ok("verify-consistency", "cp1w", "cp2w", "p12", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=tmp_path)
    ok("verify", "--db", pg_url, "--checkpoint", "cp2w", "--vkey", "school.vkey", "--witness", "board.vkey", cwd=tmp_path)
    # a checkpoint signed with the key over a forged tree of the same size does not extend cp1
    forged = sign_tlog_checkpoint((tmp_path / "school.key").read_bytes(), ORIGIN, second.size, leaf_hash(b"forged"))
    (tmp_path / "cp2f").write_text(str(forged))
    refused("verify", "--db", pg_url, "--checkpoint", "cp2f", "--vkey", "school.vkey", cwd=tmp_path, says="does NOT extend")
    refused("prove-consistency", "cp1", "cp2f", "--db", pg_url, cwd=tmp_path, says="does not hold the tree")
