"""``ijime-flow check`` and the step library, run as real processes, as policy authors run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, WORKFLOWS

FEATURES = ROOT / "tests" / "fixtures" / "features"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, timeout=300)


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "other_school.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_shipped_workflow_passes_every_bundled_scenario() -> None:
    result = run("check", "--workflow", str(WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "不合格 " not in result.stdout.replace("0 件不合格", "")
    assert "件合格、0 件不合格" in result.stdout


def test_a_school_whose_teachers_may_report_to_the_board_fails_that_scenario(tmp_path: Path) -> None:
    lenient = variant(tmp_path, "from: facts_confirmed, to: board_reported, roles: [principal]",
                      "from: facts_confirmed, to: board_reported, roles: [staff]")
    result = run("check", "--workflow", str(lenient))
    assert result.returncode == 1
    failing = [line for line in result.stdout.splitlines() if line.strip().startswith("不合格")]
    scenarios = [line for line in failing if "@" in line]  # scenario lines carry their tags
    assert len(scenarios) == 1, result.stdout
    assert "教職員は教育委員会へ報告できない" in scenarios[0] and "@4-2" in scenarios[0]
    assert "拒否されるはずが受け付けられました" in result.stdout
    assert "1 件不合格" in result.stdout
    # and the rule says so on every path, with the shortest steps that show it
    [rule] = [line for line in failing if "board_report_by_principal" in line]
    assert "[4(2), 7(1)]" in rule and "反例 / counterexample:" in result.stdout


def test_a_school_that_resolves_without_the_waiting_period_fails(tmp_path: Path) -> None:
    hasty = variant(tmp_path, "at_least: P3M,", "at_least: P1D,")
    result = run("check", "--workflow", str(hasty))
    assert result.returncode == 1
    assert "3か月に満たない解消（2か月29日、前日）は認められず" in "\n".join(
        line for line in result.stdout.splitlines() if line.strip().startswith("不合格"))


def test_english_steps_and_full_width_dates(tmp_path: Path) -> None:
    result = run("check", "--workflow", str(WORKFLOWS), str(FEATURES / "english.feature"), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 件合格、0 件不合格" in result.stdout


def test_an_undefined_step_fails_loudly(tmp_path: Path) -> None:
    feature = tmp_path / "undefined.feature"
    feature.write_text("# language: ja\n機能: 未定義\n  シナリオ: 知らない手順\n"
                       '    前提 ワークフロー "workflows/response.yaml" を読み込む\n'
                       "    もし 誰も知らない手順を行う\n", encoding="utf-8")
    result = run("check", "--workflow", str(WORKFLOWS / "response.yaml"), str(feature))
    assert result.returncode == 1
    assert "未定義のステップ" in result.stdout and "誰も知らない手順を行う" in result.stdout


def test_a_feature_folder_without_scenarios_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("check", "--workflow", str(WORKFLOWS / "response.yaml"), str(tmp_path / "empty"))
    assert result.returncode == 1


def test_an_invalid_workflow_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = variant(tmp_path, "to: board_reported, roles: [principal]", "to: board_reportd, roles: [principal]")
    result = run("check", "--workflow", str(broken))
    assert result.returncode == 1
    assert f"{broken}:" in result.stdout and "board_reportd" in result.stdout


def _project(tmp_path: Path, feature: str) -> Path:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "case.feature").write_text(feature, encoding="utf-8")
    (tmp_path / "test_features.py").write_text("from pytest_bdd import scenarios\nscenarios('features')\n",
                                               encoding="utf-8")
    return tmp_path


def pytest_in(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
                          capture_output=True, text=True, check=False, cwd=project, timeout=300)


@pytest.mark.parametrize(("feature", "said"), [
    ("# language: ja\n機能: x\n  シナリオ: ファイルがない\n    前提 ワークフロー \"workflows/nowhere.yaml\" を読み込む\n",
     "ワークフローのファイルがありません"),
    ("# language: ja\n機能: x\n  シナリオ: 拒否を確かめない\n"
     f"    前提 ワークフロー \"{WORKFLOWS / 'response.yaml'}\" を読み込む\n"
     "    かつ 2019年5月13日 に 教職員 が事案を開く\n"
     "    もし 2019年5月13日 13:00 に 教職員 が \"report_to_board\" を行う\n"
     "    ならば 状態は \"discovered\" である\n", "確認されていません"),
], ids=["missing-workflow", "unexamined-refusal"])
def test_another_project_using_the_plugin_fails_loudly(tmp_path: Path, feature: str, said: str) -> None:
    result = pytest_in(_project(tmp_path, feature))
    assert result.returncode == 1, result.stdout
    assert said in result.stdout


def test_another_project_using_the_plugin_passes(tmp_path: Path) -> None:
    feature = ("# language: ja\n機能: x\n  シナリオ: 自分の学校のワークフローで確かめる\n"
               f"    前提 ワークフロー \"{WORKFLOWS / 'response.yaml'}\" を読み込む\n"
               "    かつ ２０１９年５月１３日 １２：４０ に 教職員 が事案を開く\n"
               "    もし 2019年5月13日 12時41分 に 教職員 が \"stop_act\" を行う\n"
               "    ならば 状態は \"initial_response\" である\n")
    result = pytest_in(_project(tmp_path, feature))
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout
