"""``ijime-flow check`` with rules and ``ijime-flow mutate``, as a user runs them (the command in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ijime_flow.cli import main

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


def test_check_rules_only_passes_the_shipped_workflows_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--workflow", str(WORKFLOWS), "--no-scenarios", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and [w["workflow"] for w in out["workflows"]] == ["response", "school_year", "serious_incident"]
    for workflow in out["workflows"]:
        # the school year is one open state, its review and its close: its duties are deadlines, not states
        assert workflow["configurations"] > (2 if workflow["workflow"] == "school_year" else 100)
        assert Path(workflow["file"]).parent == WORKFLOWS
        assert all(rule["status"] == "pass" for rule in workflow["rules"])
    assert not [x for x in out["contract_lacks"] if x["departure"]]


def test_check_writes_counterexamples_that_name_the_bullet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    lenient = tmp_path / "response.yaml"
    lenient.write_text(text.replace("from: facts_confirmed, to: board_reported, roles: [principal]",
                                    "from: facts_confirmed, to: board_reported, roles: [staff]"), encoding="utf-8")
    (tmp_path / "serious_incident.yaml").write_text((WORKFLOWS / "serious_incident.yaml").read_text(encoding="utf-8"),
                                                    encoding="utf-8")
    code = main(["check", "--workflow", str(lenient), "--no-scenarios", "--counterexamples", str(tmp_path / "ce")])
    out = capsys.readouterr().out
    assert code == 1
    line = next(line for line in out.splitlines() if "administrator が「report_to_board」を行えます" in line)
    assert line.index("を行えます") < line.index(" / ") < line.index("may take")  # Japanese first, then English
    written = sorted((tmp_path / "ce").glob("*.feature"))
    assert [p.stem for p in written] == ["board_report_by_principal"]
    feature = written[0].read_text(encoding="utf-8")
    assert "# language: ja" in feature and "方針 4(2)" in feature and '"report_to_board"' in feature


def test_check_refuses_a_missing_rule_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--workflow", str(WORKFLOWS / "response.yaml"), "--rules", "no/such/rules.yaml",
                 "--no-scenarios"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_mutate_reports_the_score_per_kind_and_the_survivors(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mutate", "--workflow", str(WORKFLOWS / "serious_incident.yaml"),
                 "--kinds", "requires_dropped,source_added,role_moved_down", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["mutants"] == sum(k["total"] for k in out["by_kind"].values()) > 20
    assert out["by_kind"]["requires_dropped"]["killed"] == out["by_kind"]["requires_dropped"]["total"]
    assert out["killed"] + len(out["survivors"]) == out["mutants"]
    assert code == (1 if out["survivors"] else 0)
    for survivor in out["survivors"]:
        assert survivor["ja"] and survivor["en"] and survivor["kind"] == "role_moved_down"
    assert all(killers for killers in out["killed_by"].values())


def test_mutate_text_output_and_unknown_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", "--workflow", str(WORKFLOWS / "serious_incident.yaml"), "--kinds", "nonsense"]) == 2
    assert "unknown mutant kinds: nonsense" in capsys.readouterr().err
    main(["mutate", "--workflow", str(WORKFLOWS / "serious_incident.yaml"), "--kinds", "requires_dropped"])
    out = capsys.readouterr().out
    assert out.startswith("変異テスト / mutation test: serious_incident") and "スコア / score: 11/11 = 100%" in out
