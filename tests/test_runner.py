"""Feature files run in-process (ijime_flow.policy.runner, what ``ijime-flow check`` uses) the way pytest-bdd
runs them with the plugin: every step of the bundled features matches exactly one phrase, the two runners
give the same verdict per scenario on rule-breaking copies of the workflows, and what pytest-bdd fails
(undefined step, unreadable feature, a step that raises, an unexamined refusal) fails here too.

Also here: ``mutate``'s partial exploration — a copy whose configurations are too many to explore before
judging it is stopped at the first rule broken part of the way, and the counterexample found so is real
(run as a scenario, it fails on the copy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ijime_flow import Engine
from ijime_flow.policy.check import BUNDLED_FEATURES, run_check
from ijime_flow.policy.counterexample import scenario
from ijime_flow.policy.library import library, matching
from ijime_flow.policy.mutants import make_mutants
from ijime_flow.policy.rule_check import check_rules
from ijime_flow.policy.rules import load_rules
from ijime_flow.policy.runner import _parse, feature_files

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
HEADER = "# language: ja\n機能: 試験\n"
LOAD = f'    前提 ワークフロー "{WORKFLOWS / "response.yaml"}" を読み込む\n'


def _steps() -> list[tuple[str, str]]:
    out = []
    for file in feature_files([BUNDLED_FEATURES, ROOT / "tests" / "fixtures" / "features"]):
        _, pickles = _parse(file)
        out.extend((f"{file.name}: {p['name']}", s["text"]) for p in pickles for s in p["steps"])
    return out


def test_every_step_of_the_features_matches_exactly_one_phrase() -> None:
    steps = _steps()
    assert len(steps) > 300
    for where, text in steps:
        found = matching(text)
        assert len(found) == 1, (where, text, [p.pattern.pattern for p, _ in found])
    assert len({p.pattern.pattern for p in library()}) == len(library())  # no phrase declared twice


def _run(tmp_path: Path, body: str) -> Any:
    feature = tmp_path / "case.feature"
    feature.write_text(HEADER + body, encoding="utf-8")
    return run_check(WORKFLOWS / "response.yaml", [feature])


@pytest.mark.parametrize(("body", "said"), [
    ("  シナリオ: 未定義\n" + LOAD + "    もし 誰も知らない手順を行う\n",
     "未定義のステップ / undefined step: もし 誰も知らない手順を行う"),
    ("  シナリオ: 拒否を確かめない\n" + LOAD + "    かつ 2019年5月13日 に 教職員 が事案を開く\n"
     '    もし 2019年5月13日 13:00 に 教職員 が "report_to_board" を行う\n', "確認されていません"),
    ("  シナリオ: 壊れたワークフロー\n" + '    前提 ワークフロー "{tmp}/broken.yaml" を読み込む\n'
     "    かつ 2019年5月13日 に 教職員 が事案を開く\n", "broken.yaml:"),
    ("  シナリオ: 日付が読めない\n" + LOAD + "    かつ 2019年13月45日 に 教職員 が事案を開く\n", "かつ 2019年13月45日"),
], ids=["undefined", "unexamined-refusal", "invalid-workflow", "bad-date"])
def test_what_pytest_bdd_fails_fails_in_process(tmp_path: Path, body: str, said: str) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\nstates: [\n", encoding="utf-8")
    report = _run(tmp_path, body.replace("{tmp}", str(tmp_path)))
    [result] = report.results
    assert not result.passed and not report.ok
    assert said in result.message, result.message


def test_an_unreadable_feature_is_an_error_with_its_file(tmp_path: Path) -> None:
    report = _run(tmp_path, "  シナリオ: 壊れた表\n" + LOAD
                  + "    もし 次の操作を順に行う:\n      | 日付 | 役割 |\n      | 2019-05-13 |\n")
    assert not report.ok and report.errors and "case.feature" in report.errors[0]
    assert "Gherkin" in report.errors[0]


def test_tables_outlines_and_backgrounds_run_as_written(tmp_path: Path) -> None:
    report = _run(tmp_path, "  背景:\n" + LOAD.replace("前提", "前提") +
                  "    かつ 2019年5月13日 9:00 に 教職員 が事案を開く\n"
                  "  シナリオアウトライン: 役割ごとの報告（<役割>）\n"
                  "    もし 次の操作を順に行う:\n"
                  "      | 日付 | 役割 | 操作 | データ |\n"
                  "      | 2019-05-13 09:05 | 教職員 | stop_act | |\n"
                  '    もし 2019年5月13日 10:00 に <役割> が "report_to_administrator" を行う\n'
                  "    ならば <結果>\n"
                  "    例:\n"
                  "      | 役割 | 結果 |\n"
                  "      | 教職員 | 受け付けられる |\n"
                  "      | 教育委員会 | 拒否される |\n")
    assert [r.name for r in report.results] == ["役割ごとの報告（教職員） [教職員-受け付けられる]",
                                                "役割ごとの報告（教育委員会） [教育委員会-拒否される]"]
    assert all(r.passed for r in report.results), report.output


def _pytest_verdicts(workflow: Path, tmp_path: Path) -> dict[str, bool]:
    """What pytest-bdd with the plugin says per scenario (name -> passed), as another project runs it."""
    module = tmp_path / "test_bundled.py"
    module.write_text(f"from pytest_bdd import scenarios\nscenarios({str(BUNDLED_FEATURES)!r})\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "--rootdir", str(ROOT),
                           "--ijime-workflow", str(workflow), str(module)],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    verdicts: dict[str, bool] = {}
    for line in done.stdout.splitlines():
        for mark, passed in (("PASSED ", True), ("FAILED ", False)):
            if line.startswith(mark):
                verdicts[line[len(mark):].split(" - ")[0]] = passed
    assert verdicts, done.stdout[-3000:]
    return verdicts


@pytest.mark.parametrize("mutant_id", ["role_widened:report_to_board:staff", "period_shortened:resolve:act_stopped_on:P1M",
                                       "role_moved_down:inform_mayor:board:principal"])
def test_in_process_and_pytest_bdd_agree_on_a_rule_breaking_copy(tmp_path: Path, mutant_id: str) -> None:
    shipped = Engine()
    shipped.load(WORKFLOWS)
    wid = "serious_incident" if mutant_id.startswith("role_moved_down") else "response"
    others = {k: v for k, v in shipped.definitions.items() if k != wid}
    made = {m.id: m for m in make_mutants((WORKFLOWS / f"{wid}.yaml").read_text(encoding="utf-8"), others=others).mutants}
    workflow = tmp_path / f"{wid}.yaml"
    workflow.write_text(made[mutant_id].text, encoding="utf-8")
    in_process = run_check(workflow)
    by_pytest = _pytest_verdicts(workflow, tmp_path)
    assert len(by_pytest) == len(in_process.results)
    assert sorted(by_pytest.values()) == sorted(r.passed for r in in_process.results)
    assert 0 < in_process.failed < len(in_process.results)  # the copy breaks something, not everything


def test_mutate_judges_a_copy_with_too_many_configurations_part_of_the_way(tmp_path: Path) -> None:
    shipped = Engine()
    shipped.load(WORKFLOWS)
    others = {"serious_incident": shipped.definitions["serious_incident"]}
    made = {m.id: m for m in make_mutants((WORKFLOWS / "response.yaml").read_text(encoding="utf-8"), others=others).mutants}
    mutant = made["source_added:confirm_facts:any"]  # confirming facts from anywhere: ~190,000 configurations in all
    rules = load_rules(ROOT / "rules" / "response.yaml")
    report = check_rules(mutant.definition, rules, others=others, until_broken=True)
    [broken] = report.results
    assert broken.status == "fail" and report.configurations < 20_000
    assert broken.counterexample is not None
    workflow = tmp_path / "response.yaml"
    workflow.write_text(mutant.text, encoding="utf-8")
    feature = tmp_path / "counterexample.feature"
    feature.write_text(scenario(broken.counterexample, workflow=str(workflow), rule_id=broken.rule.id,
                                rule_ja=broken.rule.ja, source=broken.rule.source), encoding="utf-8")
    ran = run_check(workflow, [feature])
    assert ran.results and not ran.ok, ran.output  # the counterexample is real: the copy breaks the rule
    assert f"方針 {broken.rule.source}" in feature.read_text(encoding="utf-8")


def _absence_mutants() -> list[str]:
    return ["calendar_changed:calendar:weekends", "calendar_changed:calendar:national_holidays",
            "criterion_loosened:absence_run:days.10",
            "criterion_loosened:absence_30_days:days.40"]


@pytest.mark.parametrize("mutant_id", _absence_mutants())
def test_an_absence_counterexample_names_its_days_so_it_fails_on_the_copy_and_passes_on_the_policy(
        tmp_path: Path, mutant_id: str) -> None:
    """The escalation rules count absences on the policy's calendar: the scenario lists the days themselves,
    so a copy that redefines its calendar cannot make its own counterexample pass."""
    shipped = Engine()
    shipped.load(WORKFLOWS)
    others = {"serious_incident": shipped.definitions["serious_incident"]}
    made = {m.id: m for m in make_mutants((WORKFLOWS / "response.yaml").read_text(encoding="utf-8"), others=others).mutants}
    mutant = made[mutant_id]
    report = check_rules(mutant.definition, load_rules(ROOT / "rules" / "response.yaml"), others=others)
    [broken] = [r for r in report.results if r.status == "fail"]
    assert broken.rule.escalates is not None and broken.counterexample is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "response.yaml").write_text(mutant.text, encoding="utf-8")
    outcomes = {}
    for name, workflow in (("copy", copy / "response.yaml"), ("shipped", WORKFLOWS / "response.yaml")):
        feature = tmp_path / f"{name}.feature"
        feature.write_text(scenario(broken.counterexample, workflow=str(workflow), rule_id=broken.rule.id,
                                    rule_ja=broken.rule.ja, source=broken.rule.source), encoding="utf-8")
        assert " の欠席を " in feature.read_text(encoding="utf-8")
        outcomes[name] = run_check(workflow, [feature])
    assert outcomes["copy"].results and not outcomes["copy"].ok
    assert outcomes["shipped"].ok, outcomes["shipped"].output


def _deadline_feature(opened: str, reported: str, workflow: Path) -> str:
    return (HEADER + "  シナリオ: 時差\n"
            f'    前提 ワークフロー "{workflow}" を読み込む\n'
            f"    かつ {opened} に 教職員 が事案を開く\n"
            "    かつ 次の操作を順に行う:\n"
            "      | 日付 | 役割 | 操作 | データ |\n"
            f"      | {opened} | 教職員 | stop_act | |\n"
            f'    もし {reported} に 教職員 が "report_to_administrator" を行う\n'
            "    ならば 受け付けられる\n"
            f'    かつ {reported} 時点で期限 "report_to_administrator_same_day" は 期限内に実施 である\n')


@pytest.mark.parametrize(("opened", "reported", "met"), [
    ("2019-05-13 23:30+07:00", "2019-05-14 10:00", True),   # 01:30 on the 14th in Tokyo: the same day
    ("2019-05-13 23:30", "2019-05-14 10:00", False),        # Tokyo time: the next day
    ("2019-05-13 15:30 UTC", "2019-05-14 10:00", True),     # 00:30 on the 14th in Tokyo
    ("2019-05-13 23:30 Asia/Jakarta", "2019-05-14 10:00", True),
], ids=["offset", "tokyo", "utc-zone", "named-zone"])
def test_a_date_with_its_own_offset_or_zone_is_read_as_written(tmp_path: Path, opened: str, reported: str,
                                                               met: bool) -> None:
    feature = tmp_path / "zone.feature"
    feature.write_text(_deadline_feature(opened, reported, WORKFLOWS / "response.yaml"), encoding="utf-8")
    [result] = run_check(WORKFLOWS / "response.yaml", [feature]).results
    assert result.passed is met, result.message


def test_dates_are_read_in_the_workflow_time_zone(tmp_path: Path) -> None:
    """01:30 and 03:00 on the 14th in Jakarta are one school day there (read as Tokyo time they would straddle
    Jakarta's midnight, and the report would be late)."""
    for source in WORKFLOWS.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8").replace(
            "timezone: Asia/Tokyo", "timezone: Asia/Jakarta"), encoding="utf-8")
    feature = tmp_path / "jakarta.feature"
    feature.write_text(_deadline_feature("2019-05-14 01:30", "2019-05-14 03:00", tmp_path / "response.yaml"),
                       encoding="utf-8")
    [result] = run_check(tmp_path / "response.yaml", [feature]).results
    assert result.passed, result.message


def test_a_workflow_path_in_a_feature_is_read_from_the_feature_file(tmp_path: Path) -> None:
    nested = tmp_path / "features" / "deep"
    nested.mkdir(parents=True)
    (tmp_path / "school").mkdir()
    for source in WORKFLOWS.glob("*.yaml"):
        (tmp_path / "school" / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (nested / "case.feature").write_text(HEADER + "  シナリオ: 相対パス\n"
                                         '    前提 ワークフロー "../../school/response.yaml" を読み込む\n'
                                         "    かつ 2019年5月13日 に 教職員 が事案を開く\n"
                                         '    ならば 状態は "discovered" である\n', encoding="utf-8")
    (tmp_path / "test_it.py").write_text("from pytest_bdd import scenarios\nscenarios('features')\n", encoding="utf-8")
    elsewhere = tmp_path / "features"  # pytest run from another folder than the feature's
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_it.py")],
                          capture_output=True, text=True, check=False, cwd=elsewhere, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout
