"""The command, run as a real process, as users run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, WORKFLOWS


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, timeout=120)


def test_validate_good_workflows() -> None:
    run = cli("validate", str(WORKFLOWS))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok: " in run.stdout and "response" in run.stdout


def test_validate_reports_file_line_col_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    text = text.replace("to: board_reported, roles: [principal]", "to: board_reportd, roles: [principle]")
    bad.write_text(text, encoding="utf-8")
    run = cli("validate", str(bad))
    assert run.returncode == 1
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 2
    line_no = next(i for i, line in enumerate(text.splitlines(), start=1) if "board_reportd" in line)
    for line in lines:
        assert re.match(rf"^{re.escape(str(bad))}:{line_no}:\d+: ", line), line
    assert "board_reportd" in lines[0] + lines[1] and "principle" in lines[0] + lines[1]
    assert "Traceback" not in run.stderr


def test_validate_a_missing_file_and_broken_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nstates: [a, b\n", encoding="utf-8")
    run = cli("validate", str(tmp_path / "missing.yaml"), str(broken))
    assert run.returncode == 1
    assert "missing.yaml:1:1: ファイルがありません / file not found" in run.stdout
    assert re.search(r"broken\.yaml:\d+:\d+: YAML", run.stdout)
    assert "Traceback" not in run.stderr


def test_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    run = cli("schema")
    assert run.returncode == 0
    assert json.loads(run.stdout) == json.loads((ROOT / "schema" / "workflow.schema.json").read_text(encoding="utf-8"))
    assert cli("schema", "-o", str(tmp_path / "s.json")).returncode == 0
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == run.stdout


def test_demo_then_history_then_verify(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    run = cli("demo", "--db", str(db), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "検証OK" in run.stdout and "終結" in run.stdout
    assert "refused, nothing recorded" in run.stdout and "2019-08-13" in run.stdout
    case_id = re.search(r"case: ([0-9a-f]{32})", run.stdout).group(1)  # type: ignore[union-attr]

    listing = cli("history", "--db", str(db))
    assert listing.returncode == 0 and case_id in listing.stdout
    timeline = cli("history", "--db", str(db), case_id)
    assert timeline.returncode == 0
    assert "管理職へ速やかに報告 (report_to_administrator)" in timeline.stdout
    assert "2019-05-13 12:41 JST" in timeline.stdout  # Japan time
    events = json.loads(cli("history", "--db", str(db), case_id, "--json").stdout)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["definition"]["id"] == "response"

    verified = cli("verify", "--db", str(db), "--json")
    assert verified.returncode == 0
    assert json.loads(verified.stdout)["ok"] is True


def test_demo_from_another_folder_finds_the_workflows(tmp_path: Path) -> None:
    run = cli("demo", "--db", str(tmp_path / "d.db"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("args", [
    ("verify", "--db", "{tmp}/none.db"),
    ("history", "--db", "{tmp}/none.db"),
])
def test_a_store_that_does_not_exist_is_unusable_input(tmp_path: Path, args: tuple[str, ...]) -> None:
    run = cli(*(a.format(tmp=tmp_path) for a in args))
    assert run.returncode == 2
    assert "no such store" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "none.db").exists()  # reading never creates a store


def test_an_unknown_case_is_unusable_input(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert cli("demo", "--db", str(db), cwd=ROOT).returncode == 0
    for command in ("history", "verify"):
        run = cli(command, "--db", str(db), "no-such-case")
        assert run.returncode == 2 and "no-such-case" in run.stderr and "Traceback" not in run.stderr


def test_no_command_prints_help() -> None:
    run = cli()
    assert run.returncode == 2 and "validate" in run.stdout
