"""Signed checkpoints and proofs, through the command, on a real SQLite file: what a chain cannot
catch — a case deleted whole, a rewritten history with every hash recomputed, a cut tail — fails
against a checkpoint kept outside the database."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, timeout=120)


def canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """A store with two demo cases, a key pair, and a checkpoint taken after the first case."""
    root = Path(__file__).resolve().parent.parent
    assert cli("demo", "--db", "d.db", "--workflows", str(root / "workflows"), cwd=tmp_path).returncode == 0
    assert cli("keygen", "--out", "board", cwd=tmp_path).returncode == 0
    # a JSON checkpoint of format 1, as earlier versions wrote: it must still verify (the C2SP ones: test_witness.py)
    assert cli("checkpoint", "--db", "d.db", "--key", "board.key", "--origin", "board.example.jp/s1", "-o", "cp.tlog",
               cwd=tmp_path).returncode == 0
    from ijime_flow.audit.source import open_reading
    from ijime_flow.proofs.check import make_checkpoint
    from ijime_flow.proofs.checkpoint import to_json

    with open_reading(tmp_path / "d.db") as engine:
        signed = make_checkpoint(engine.store, (tmp_path / "board.key").read_bytes(), "d.db", engine.clock.now())
    (tmp_path / "cp.json").write_text(to_json(signed) + "\n", encoding="utf-8")
    assert cli("demo", "--db", "d.db", "--workflows", str(root / "workflows"), cwd=tmp_path).returncode == 0
    return tmp_path


def verify(board: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli("verify", "--db", "d.db", *extra, cwd=board)


def with_checkpoint(board: Path) -> subprocess.CompletedProcess[str]:
    return verify(board, "--checkpoint", "cp.json", "--pubkey", "board.pub")


def cases(board: Path) -> list[str]:
    return json.loads(cli("history", "--db", "d.db", "--json", cwd=board).stdout)


def sql(board: Path) -> sqlite3.Connection:
    db = sqlite3.connect(board / "d.db", isolation_level=None)
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    return db


def test_a_growing_store_extends_its_checkpoint(board: Path) -> None:
    result = with_checkpoint(board)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the store extends the checkpoint" in result.stdout


def test_a_case_deleted_whole_and_hidden_is_caught_only_by_the_checkpoint(board: Path) -> None:
    first = cases(board)[0]
    db = sql(board)
    removed = db.execute("SELECT count(*) FROM events WHERE case_id = ?", (first,)).fetchone()[0]
    db.execute("DELETE FROM events WHERE case_id = ?", (first,))
    db.execute("UPDATE events SET position = position - ?", (removed,))  # hide the gap
    db.execute("UPDATE sqlite_sequence SET seq = seq - ? WHERE name = 'events'", (removed,))
    db.close()
    assert verify(board).returncode == 0  # every chain and every position looks fine
    result = with_checkpoint(board)
    assert result.returncode == 1 and "does NOT extend" in result.stdout


def test_a_history_rewritten_with_recomputed_hashes_is_caught_by_the_checkpoint(board: Path) -> None:
    first = cases(board)[0]
    db = sql(board)
    rows = db.execute("SELECT seq, body FROM events WHERE case_id = ? ORDER BY seq", (first,)).fetchall()
    prev = None
    for seq, text in rows:  # a legal-looking edit of what the teacher saw, every hash recomputed
        body = json.loads(text)
        if seq == 1:
            body["data"]["place"] = "体育館"
        body["prev_hash"] = prev
        body.pop("hash")
        body["hash"] = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
        db.execute("UPDATE events SET body = ?, hash = ? WHERE case_id = ? AND seq = ?",
                   (canonical(body), body["hash"], first, seq))
        prev = body["hash"]
    db.close()
    assert verify(board).returncode == 0  # chain and legality are satisfied by the forgery
    result = with_checkpoint(board)
    assert result.returncode == 1 and "changed, removed or reordered" in result.stdout


def test_a_cut_tail_before_the_checkpoint_is_caught(board: Path) -> None:
    checkpointed = json.loads((board / "cp.json").read_text(encoding="utf-8"))["size"]
    db = sql(board)
    db.execute("DELETE FROM events WHERE position > ?", (checkpointed - 3,))
    db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (checkpointed - 3,))
    db.close()
    result = with_checkpoint(board)
    assert result.returncode == 1 and "events were deleted" in result.stdout


def test_a_checkpoint_signed_by_another_key_or_edited_fails(board: Path) -> None:
    assert cli("keygen", "--out", "other", cwd=board).returncode == 0
    assert cli("verify", "--db", "d.db", "--checkpoint", "cp.json", "--pubkey", "other.pub", cwd=board).returncode == 1
    cp = json.loads((board / "cp.json").read_text(encoding="utf-8"))
    cp["size"] -= 1
    (board / "cp.json").write_text(json.dumps(cp), encoding="utf-8")
    assert with_checkpoint(board).returncode == 1


def test_an_inclusion_proof_an_auditor_checks_offline(board: Path) -> None:
    first = cases(board)[0]
    proved = cli("prove", "--db", "d.db", first, "3", "--checkpoint", "cp.json", "-o", "p.json", cwd=board)
    assert proved.returncode == 0, proved.stderr
    bundle = json.loads((board / "p.json").read_text(encoding="utf-8"))
    assert json.loads(bundle["event"])["case_id"] == first and first in bundle["event"]
    other_cases = [c for c in cases(board) if c != first]
    assert not any(c in json.dumps(bundle) for c in other_cases)  # nothing of any other case travels
    ok = cli("verify-proof", "p.json", "--pubkey", "board.pub", cwd=board)
    assert ok.returncode == 0 and "証明OK" in ok.stdout

    def mutated(change: object) -> int:
        copy = json.loads(json.dumps(bundle))
        change(copy)  # type: ignore[operator]
        (board / "m.json").write_text(json.dumps(copy), encoding="utf-8")
        return cli("verify-proof", "m.json", "--pubkey", "board.pub", cwd=board).returncode

    assert mutated(lambda b: b.update(leaf_index=b["leaf_index"] + 1)) == 1
    def other_actor(b: dict[str, object]) -> None:
        event = json.loads(str(b["event"]))
        event["actor"]["id"] = "t-999"  # the same event, claimed to be someone else's step
        b["event"] = canonical(event)

    assert mutated(other_actor) == 1
    assert mutated(lambda b: b["proof"].__setitem__(0, "00" * 32)) == 1
    assert mutated(lambda b: b["proof"].pop()) == 1
    assert mutated(lambda b: b["checkpoint"].update(size=b["checkpoint"]["size"] + 1)) == 1


def test_proving_an_event_after_the_checkpoint_and_bad_input_are_unusable(board: Path) -> None:
    second = cases(board)[1]
    late = cli("prove", "--db", "d.db", second, "1", "--checkpoint", "cp.json", cwd=board)
    assert late.returncode == 2 and "after the checkpoint" in late.stderr
    (board / "bad.key").write_text("not a key", encoding="utf-8")
    bad = cli("checkpoint", "--db", "d.db", "--key", "bad.key", "--origin", "board.example.jp/s1", cwd=board)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    again = cli("keygen", "--out", "board", cwd=board)
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    assert (board / "board.key").stat().st_mode & 0o077 == 0  # the private key is not readable by others
