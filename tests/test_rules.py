"""Policy rules checked on every reachable configuration (ijime_flow.policy.rules, .rule_check):
both shipped workflows pass every bundled rule; for each rule kind, a workflow that breaks it fails
that rule with a counterexample, and the counterexample written as a scenario fails when run against
the breaking workflow (and passes against the shipped one), naming the policy bullet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ijime_flow import Engine
from ijime_flow.errors import DefinitionError
from ijime_flow.language.loader import load_text
from ijime_flow.policy.counterexample import scenario
from ijime_flow.policy.mutants import make_mutants
from ijime_flow.policy.rule_check import check_rules
from ijime_flow.policy.rules import RULE_KINDS, load_rules, load_rules_text

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    engine = Engine()
    engine.load(WORKFLOWS)
    return dict(engine.definitions)


def _others(shipped: dict[str, Any], wid: str) -> dict[str, Any]:
    return {k: v for k, v in shipped.items() if k != wid}


@pytest.mark.parametrize("wid", ["response", "serious_incident"])
def test_the_shipped_workflows_keep_every_bundled_rule(shipped: dict[str, Any], wid: str) -> None:
    report = check_rules(shipped[wid], load_rules(ROOT / "rules" / f"{wid}.yaml"), others=_others(shipped, wid))
    failed = [(r.rule.id, r.message) for r in report.results if r.status != "pass"]
    assert not failed
    assert report.configurations > 100 and not report.truncated


def test_every_rule_kind_is_used_by_the_bundled_rules() -> None:
    used = {r.kind for wid in ("response", "serious_incident", "school_year")
            for r in load_rules(ROOT / "rules" / f"{wid}.yaml").rules}
    assert used == set(RULE_KINDS)


def _dead_end_incident() -> str:
    tree = yaml.safe_load((WORKFLOWS / "serious_incident.yaml").read_text(encoding="utf-8"))
    tree["facts"]["school_view"]["personal"] = False  # a condition may read only a fact that is not personal
    for t in tree["transitions"]:
        if t["trigger"] == "close":
            t["when"] = {"fact": "school_view", "equals": "決して記録されない値"}
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


# kind -> (workflow, mutant id or a text, the rule it breaks, the expectation, the policy bullet)
BREAKING = {
    "only_roles": ("response", "role_widened:report_to_board:staff", "board_report_by_principal", "refused",
                   "4(2), 7(1)"),
    "only_after": ("response", "source_added:report_to_administrator:discovered", "report_after_initial_response",
                   "refused", "4(2)"),
    "not_after": ("response", "source_added:stop_act:any", "initial_response_only_at_discovery", "refused", "4(2)"),
    "needs_data": ("response", "requires_dropped:outside_agency_liaison:agency", "agency_liaison_recorded", "refused",
                   "4(1), 6(2)"),
    "only_when": ("response", "condition_part_dropped:resolve:victim_distress.equals.false",
                  "resolution_needs_three_months_and_no_distress", "refused", "4(3)"),
    "deadline": ("response", "deadline_lengthened:report_to_administrator_same_day:P3D", "administrator_told_same_day",
                 "overdue", "4(1), 4(2)"),
    "escalates": ("response", "criterion_loosened:serious_harm:without_injury", "harm_injury_escalates", "escalated",
                  "7(2)"),
    "clears": ("response", "clears_dropped:report_recurrence:victim_distress", "recurrence_clears_distress", "cleared",
               "4(3)"),
    "reaches_final": ("serious_incident", "dead-end", "every_incident_can_close", "final_reachable", "7"),
}


def test_every_rule_kind_has_a_breaking_workflow_below() -> None:
    # may_act (below) and opens (tests/test_school_year_rules.py: what a step opens is read off the definition, no
    # path leads to it) fail without a counterexample path
    assert set(BREAKING) | {"may_act", "opens"} == set(RULE_KINDS)


def _incident_mutant(shipped: dict[str, Any], mutant_id: str) -> tuple[Any, Any]:
    """A generated copy of serious_incident, and its check against the bundled rules."""
    others = _others(shipped, "serious_incident")
    [mutant] = [m for m in make_mutants((WORKFLOWS / "serious_incident.yaml").read_text(encoding="utf-8"),
                                        others=others).mutants if m.id == mutant_id]
    return mutant, check_rules(mutant.definition, load_rules(ROOT / "rules" / "serious_incident.yaml"), others=others)


def test_a_step_handed_to_another_office_fails_may_act(shipped: dict[str, Any]) -> None:
    # may_act has no counterexample path: what is missing is a step the named office can take anywhere
    _, report = _incident_mutant(shipped, "role_moved_down:report_reinvestigation:mayor:board")
    [result] = [r for r in report.results if r.rule.id == "mayor_reports_reinvestigation"]
    assert result.status == "fail" and "mayor" in result.message and result.message.index("を行える") < \
        result.message.index(" / ")
    assert {r.rule.id for r in report.results if r.status == "fail"} == {"mayor_reports_reinvestigation"}


@pytest.fixture(scope="module")
def broken(shipped: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any, Any]]:
    """kind -> (the breaking workflow's file, beside the other shipped one; its check report; its rule)."""
    out = {}
    mutants = {wid: {m.id: m for m in make_mutants((WORKFLOWS / f"{wid}.yaml").read_text(encoding="utf-8"),
                                                   others=_others(shipped, wid)).mutants}
               for wid in ("response", "serious_incident")}
    for kind, (wid, which, rule_id, _, _) in BREAKING.items():
        text = _dead_end_incident() if which == "dead-end" else mutants[wid][which].text
        folder = tmp_path_factory.mktemp(kind)
        for other in WORKFLOWS.glob("*.yaml"):
            (folder / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
        (folder / f"{wid}.yaml").write_text(text, encoding="utf-8")
        definition = load_text(text, file=str(folder / f"{wid}.yaml"))
        rules = load_rules(ROOT / "rules" / f"{wid}.yaml")
        report = check_rules(definition, rules, others=_others(shipped, wid))
        out[kind] = (folder / f"{wid}.yaml", report, next(r for r in report.results if r.rule.id == rule_id))
    return out


@pytest.mark.parametrize("kind", list(BREAKING))
def test_a_workflow_that_breaks_a_rule_fails_it_with_a_counterexample(broken: dict[str, Any], kind: str) -> None:
    _, _, result = broken[kind]
    _, _, rule_id, expect, source = BREAKING[kind]
    assert result.status == "fail", (rule_id, result.message)
    example = result.counterexample
    assert example is not None and example.expect.startswith(expect)
    assert example.path and example.path[0].kind == "open"  # it starts from a case being opened
    assert result.rule.source == source
    assert result.message and " / " in result.message  # Japanese first, then English


def _scenario_for(kind: str, result: Any, workflow: Path) -> str:
    return scenario(result.counterexample, workflow=str(workflow), rule_id=result.rule.id, rule_ja=result.rule.ja,
                    source=result.rule.source)


def test_counterexamples_as_scenarios_fail_on_the_breaking_workflow_and_pass_on_the_shipped_one(
        broken: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("pytest_bdd")
    from ijime_flow.policy.check import run_check

    passing = tmp_path / "on_shipped"
    passing.mkdir()
    for kind, (workflow, _, result) in broken.items():
        text = _scenario_for(kind, result, workflow)
        assert f"方針 {result.rule.source}" in text  # the bullet it comes from is named
        feature = tmp_path / f"{kind}.feature"
        feature.write_text(text, encoding="utf-8")
        on_mutant = run_check(workflow, [feature])
        assert on_mutant.results and not on_mutant.ok, (kind, on_mutant.output[-2000:])
        if kind != "reaches_final":  # its path may need the breaking workflow's own steps
            wid = BREAKING[kind][0]
            (passing / f"{kind}.feature").write_text(_scenario_for(kind, result, WORKFLOWS / f"{wid}.yaml"),
                                                     encoding="utf-8")
    for wid in ("response", "serious_incident"):
        features = [passing / f"{k}.feature" for k in BREAKING if BREAKING[k][0] == wid and k != "reaches_final"]
        if features:
            on_shipped = run_check(WORKFLOWS / f"{wid}.yaml", features)
            assert on_shipped.ok, on_shipped.output[-3000:]


@pytest.mark.parametrize(("text", "where"), [
    ("rules_for: response\nrules:\n  - {id: x, ja: あ, source: '1'}\n", "rules[0]"),
    ("rules_for: response\nrules:\n  - {id: x, ja: あ, source: '1', only_roles: {trigger: t, fact: f, roles: [a]}}\n",
     "rules[0].only_roles"),
    ("rules_for: response\nrules:\n  - {id: x, ja: あ, source: '1', reaches_final: true, clears: {trigger: a, fact: b}}\n",
     "rules[0]"),
    ("rules_for: response\nrules:\n  - {id: x, ja: あ, source: '1', reaches_final: true}\n"
     "  - {id: x, ja: い, source: '1', reaches_final: true}\n", "rules"),
    ("rules_for: response\nrules:\n  - {id: x, ja: あ, source: '1', level: maybe, reaches_final: true}\n", "level"),
])
def test_a_bad_rule_file_is_refused_with_its_place(text: str, where: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_rules_text(text, "bad.yaml")
    problem = caught.value.problems[0]
    assert problem.file == "bad.yaml" and problem.line >= 2
    assert where.split(".")[0].split("[")[0] in str(caught.value)


def test_an_opening_counterexample_is_a_scenario_too(shipped: dict[str, Any], tmp_path: Path) -> None:
    # its path is empty: the opening itself is the step the rule concerns
    pytest.importorskip("pytest_bdd")
    from ijime_flow.policy.check import run_check

    mutant, report = _incident_mutant(shipped, "role_widened:opened_by:staff")
    [result] = [r for r in report.results if r.rule.id == "opened_by_principal_or_board"]
    assert result.status == "fail" and result.counterexample is not None and not result.counterexample.path
    for other in WORKFLOWS.glob("*.yaml"):
        (tmp_path / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "serious_incident.yaml").write_text(mutant.text, encoding="utf-8")
    for workflow, fails in ((tmp_path / "serious_incident.yaml", True), (WORKFLOWS / "serious_incident.yaml", False)):
        feature = tmp_path / f"opening_{fails}.feature"
        feature.write_text(_scenario_for("only_roles", result, workflow), encoding="utf-8")
        ran = run_check(workflow, [feature])
        assert ran.results and ran.ok is not fails, ran.output[-2000:]
