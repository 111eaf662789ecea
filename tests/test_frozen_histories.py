"""Frozen histories: bundles made on 2026-11-24 with the CLI (see fixtures/histories/make_histories.py).
Every later version of ijime-flow must load, verify and replay them to the results recorded in
``expected.json`` beside them — a change of event format must come with an upcaster, never with a
different reading of an old log."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ijime_flow.audit.bundle import load_bundle
from ijime_flow.audit.replay import state_at

HERE = Path(__file__).resolve().parent / "fixtures" / "histories"
EXPECTED: dict[str, Any] = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))


def reading(name: str) -> dict[str, Any]:
    """What this version makes of one frozen bundle."""
    engine, main = load_bundle(HERE / name)
    with engine:
        out: dict[str, Any] = {"case_id": main, "verify": engine.verify().to_dict(), "replay": {}}
        if out["verify"]["ok"]:
            for case_id in engine.case_ids():
                out["replay"][case_id] = {"end": state_at(engine, case_id).to_dict()}
            for moment in EXPECTED[name].get("moments", []):
                out["replay"][main][moment] = state_at(engine, main, at=datetime.fromisoformat(moment)).to_dict()
        return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_frozen_history_reads_as_it_did(name: str) -> None:
    got = json.loads(json.dumps(reading(name), ensure_ascii=False))
    want = EXPECTED[name]
    assert got["case_id"] == want["case_id"]
    assert got["verify"] == want["verify"]
    assert got["replay"] == want["replay"]


def test_the_frozen_set_is_complete() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in HERE.glob("*.jsonl")) == [
        "demo.jsonl", "escalated.jsonl", "forged.jsonl"]
    assert EXPECTED["forged.jsonl"]["verify"]["ok"] is False and EXPECTED["demo.jsonl"]["verify"]["ok"] is True


def verify_command(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (it configures logging for its own streams)."""
    return subprocess.run([sys.executable, "-m", "ijime_flow.cli", "verify", *args], capture_output=True, text=True,
                          check=False)


def test_verify_a_bundle_offline_with_the_command(tmp_path: Path) -> None:
    clean = verify_command(str(HERE / "demo.jsonl"), "--json")
    shown = json.loads(clean.stdout)
    assert clean.returncode == 0 and shown["ok"] is True and shown["events"] == 24 and shown["deadlines"][shown["case_id"]]
    forged = verify_command(str(HERE / "forged.jsonl"))
    assert forged.returncode == 1
    assert "検証NG" in forged.stdout and "seq 5: [illegal] report_to_board by t-014 (staff)" in forged.stdout
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"kind": "event"}\n', encoding="utf-8")
    unusable = verify_command(str(junk))
    assert unusable.returncode == 2 and "junk.jsonl:1" in unusable.stderr


def test_replay_and_report_read_a_bundle(tmp_path: Path) -> None:
    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ijime_flow.cli", *args], capture_output=True, text=True, check=False)

    replayed = command("replay", str(HERE / "demo.jsonl"), "--seq", "5", "--json")
    assert replayed.returncode == 0, replayed.stderr
    point = json.loads(replayed.stdout)
    main = EXPECTED["demo.jsonl"]["case_id"]
    assert point["seq"] == 5 and point["case_id"] == main and point["active_states"] == ["fact_finding"]
    report = tmp_path / "case.md"
    made = command("report", str(HERE / "escalated.jsonl"), "-o", str(report))
    assert made.returncode == 0, made.stderr
    text = report.read_text(encoding="utf-8")
    assert "## 検証" in text and "```mermaid" in text and "classDef current" in text
    (linked,) = [c for c in EXPECTED["escalated.jsonl"]["replay"] if c != EXPECTED["escalated.jsonl"]["case_id"]]
    assert linked in text  # the serious-incident case the petition opened
