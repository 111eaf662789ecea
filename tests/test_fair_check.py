"""``ijime-flow check`` is fair to another school (issue 13): a school modelled on an overseas Japanese school
(tests/fixtures/schools/overseas: direct sharing, its own name for the committee mapped in contract-map.yaml,
Asia/Jakarta time, an inserted step, a stricter deadline) gets 合格 on every rule it honours, 未確認 where it
lacks a contract element, one 不合格 for its one real departure, and no cascade; a school that only does more
than ours passes; a departure still fails."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ijime_flow.cli import main

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SCHOOL = ROOT / "tests" / "fixtures" / "schools" / "overseas"
LACKING = {"trigger:report_to_administrator", "state:reported_to_administrator",  # and the deadlines on that step:
           "deadline:report_to_administrator_same_day", "deadline:share_with_committee_same_day",
           "workflow:school_year"}  # it keeps its year's plan outside ijime-flow: the year's scenarios are 未確認
YEAR_SCENARIOS = len(re.findall(r"^\s*シナリオ", (ROOT / "features" / "school_year.feature").read_text(encoding="utf-8"), re.M))


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_fixture_is_what_its_script_makes(tmp_path: Path) -> None:
    script = SCHOOL.parent / "make_overseas.py"
    copy = tmp_path / "schools"
    shutil.copytree(SCHOOL.parent, copy)
    shutil.rmtree(copy / "overseas")
    text = script.read_text(encoding="utf-8").replace("ROOT = Path(__file__).resolve().parents[3]", f"ROOT = Path({str(ROOT)!r})")
    (copy / "make_overseas.py").write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, str(copy / "make_overseas.py")], check=True)
    for made in sorted((copy / "overseas").iterdir()):
        assert made.read_text(encoding="utf-8") == (SCHOOL / made.name).read_text(encoding="utf-8"), made.name


def test_the_overseas_school_gets_one_failure_for_its_one_departure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, "--workflow", str(SCHOOL))
    assert code == 1 and not out["ok"]
    departures = [(x["kind"], x["id"]) for x in out["contract_lacks"] if x["departure"]]
    assert departures == [("trigger", "report_to_administrator")]
    [lack] = [x for x in out["contract_lacks"] if x["departure"]]
    assert lack["source"] == "4(1), 4(2)" and lack["strength"] == "must" and lack["with"] == ["reported_to_administrator"]
    rules = [r for w in out["workflows"] for r in w["rules"]]
    assert not [r["id"] for r in rules if r["status"] == "fail"]  # every rule it can be held to, it honours
    unchecked = [r for r in rules if r["status"] == "unchecked"]
    assert unchecked and all(set(r["missing"]) <= LACKING for r in unchecked)
    assert sum(r["status"] == "pass" for r in rules) > 100
    scenarios = out["scenarios"]
    assert not [s["name"] for s in scenarios if s["status"] == "fail"]  # no cascade
    assert all(s["missing"] and set(s["missing"]) <= LACKING for s in scenarios if s["status"] == "unchecked")
    assert sum(s["status"] == "unchecked" and s["missing"] != ["workflow:school_year"] for s in scenarios) <= 6
    assert sum(s["missing"] == ["workflow:school_year"] for s in scenarios) == YEAR_SCENARIOS
    for s in scenarios:  # every scenario ran against the school's own files, never a bundled one
        assert s["missing"] == ["workflow:school_year"] or s["files"]
        assert all(Path(f).resolve().parent == SCHOOL.resolve() for f in s["files"]), s


def test_what_the_school_honours_passes_in_its_own_time_zone_names_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = check(capsys, "--workflow", str(SCHOOL))
    passed = {s["name"] for s in out["scenarios"] if s["status"] == "pass"}
    # the 3-month rule, encoded as ours is, passes (its preparation leaves out the step the school lacks)
    assert any("3か月に満たない解消" in name for name in passed)
    # the inserted step (the homeroom teacher) is taken on the way to the result of the fact-finding
    assert "委員会は速やかに関係生徒から聴き取り、事実を確認する" in passed
    # 「対策委員会」 in the features is the contract's committee, whatever the school calls it
    assert any("事前説明の前に調査を始めることはできない" in name for name in passed)


def test_every_output_line_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--workflow", str(SCHOOL)])
    out = capsys.readouterr().out
    results = [line for line in out.splitlines() if re.match(r"^  (合格|不合格|未確認|警告)", line)]
    assert len(results) > 150
    for line in results:
        assert line.rstrip().endswith((".yaml", "の外 / not a contract element）", "（ワークフローなし / no workflow）")), line


def _conforming_variants() -> dict[str, Callable[[str], str]]:
    """Ways a school does more than ours, or says it differently, without departing."""
    return {
        "jakarta": lambda t: t.replace("timezone: Asia/Tokyo", "timezone: Asia/Jakarta"),
        "stricter_deadline": lambda t: t.replace("met_by: [share_with_committee],\n         within: same_day",
                                                 "met_by: [share_with_committee],\n         within: PT2H"),
        "extra_required_datum": lambda t: t.replace(
            "source: \"4(2)\", from: shared_with_committee, to: fact_finding, roles: [committee]}",
            "source: \"4(2)\", from: shared_with_committee, to: fact_finding, roles: [committee],"
            " requires: [interview_plan]}"),
        "extra_internal_step": lambda t: t.replace("transitions:\n", "transitions:\n  - {trigger: note_to_file, ja: 記録を残す,"
                                                   " source: \"4(2)\", from: \"*\", roles: [staff]}\n", 1),
    }


@pytest.mark.parametrize("variant", list(_conforming_variants()))
def test_a_school_that_does_more_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str) -> None:
    change = _conforming_variants()[variant]
    for source in WORKFLOWS.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        changed = change(text) if source.stem == "response" or variant == "jakarta" else text
        if source.stem == "response":
            assert changed != text, variant
        (tmp_path / source.name).write_text(changed, encoding="utf-8")
    code, out = check(capsys, "--workflow", str(tmp_path))
    failing = [r["id"] for w in out["workflows"] for r in w["rules"] if r["status"] == "fail"]
    failing += [s["name"] for s in out.get("scenarios", []) if s["status"] != "pass"]
    assert code == 0 and out["ok"], failing


def test_a_departure_still_fails_where_it_departs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for source in WORKFLOWS.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    response = tmp_path / "response.yaml"
    response.write_text(response.read_text(encoding="utf-8").replace(
        "from: facts_confirmed, to: board_reported, roles: [principal]",
        "from: facts_confirmed, to: board_reported, roles: [staff]"), encoding="utf-8")
    code, out = check(capsys, "--workflow", str(tmp_path))
    assert code == 1
    assert [r["id"] for w in out["workflows"] for r in w["rules"] if r["status"] == "fail"] == ["board_report_by_principal"]
    failed = [s["name"] for s in out["scenarios"] if s["status"] == "fail"]
    assert failed == ["教職員は教育委員会へ報告できない（報告するのは校長）"]


def test_a_school_without_the_serious_incident_workflow_is_told_so_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, "--workflow", str(WORKFLOWS / "response.yaml"))
    assert code == 1
    assert [(x["kind"], x["id"], x["departure"]) for x in out["contract_lacks"] if x["departure"]] == [
        ("workflow", "serious_incident", True)]
    assert not [s["name"] for s in out["scenarios"] if s["status"] == "fail"]
    assert all(s["missing"] for s in out["scenarios"] if s["status"] == "unchecked")
    assert not any("serious_incident.yaml" in f for s in out["scenarios"] for f in s["files"])  # never the bundled one


def test_the_header_names_each_file_with_its_own_hash(capsys: pytest.CaptureFixture[str]) -> None:
    from ijime_flow.language.loader import load_file

    _, out = check(capsys, "--workflow", str(SCHOOL), "--no-scenarios")
    own = {w["workflow"]: w["sha256"] for w in out["workflows"]}
    assert own["response"] == load_file(SCHOOL / "response.yaml").sha256  # the file's, not the mapped copy's
