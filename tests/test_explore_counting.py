"""The explorer and the rule checks with counting conditions (``distinct_actors``): a school that resolves only
after two different teachers have watched over the pupil (「複数の教職員で見守る」) is explored with someone new
taking each counted step, so its steps are reachable and its rules hold; a rule asking for it fails on a
workflow that does not, with a counterexample that runs."""

from __future__ import annotations

from pathlib import Path

from ijime_flow import Engine
from ijime_flow.language.loader import load_text
from ijime_flow.policy.check import run_check
from ijime_flow.policy.counterexample import scenario
from ijime_flow.policy.rule_check import check_rules
from ijime_flow.policy.rules import load_rules, load_rules_text

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
OLD = "           en: an interview with the pupil and guardians confirmed the victim no longer suffers}\n"
TWO = OLD + ("        - {distinct_actors: check_in_with_victim, at_least: 2, role: staff,\n"
             "           ja: 複数の教職員で見守っていること, en: two or more staff have watched over the pupil}\n")
RULE = """rules_for: response
rules:
  - id: watched_by_two_or_more
    ja: 解消は複数の教職員で見守った後に判断する
    source: "4(3)"
    only_when:
      trigger: resolve
      when: {distinct_actors: check_in_with_victim, at_least: 2, role: staff}
"""


def _others() -> dict[str, object]:
    engine = Engine()
    engine.load(WORKFLOWS)
    return {"serious_incident": engine.definitions["serious_incident"]}


def test_a_school_that_asks_for_two_watchers_keeps_every_rule() -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    assert OLD in text
    school = load_text(text.replace(OLD, TWO))
    assert school.counted_triggers == frozenset({"check_in_with_victim"})
    rules = load_rules(ROOT / "rules" / "response.yaml")
    report = check_rules(school, rules, others=_others())  # type: ignore[arg-type]
    assert [(r.rule.id, r.message) for r in report.results if r.status != "pass"] == []
    ours = check_rules(load_text(text), rules, others=_others())  # type: ignore[arg-type]
    assert report.configurations > ours.configurations  # who watched tells configurations apart


def test_a_rule_asking_for_two_watchers_fails_where_one_suffices(tmp_path: Path) -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    rule = load_rules_text(RULE)
    assert [r.status for r in check_rules(load_text(text.replace(OLD, TWO)), rule).results] == ["pass"]
    [result] = check_rules(load_text(text), rule).results
    assert result.status == "fail" and result.counterexample is not None
    (tmp_path / "response.yaml").write_text(text, encoding="utf-8")
    feature = tmp_path / "counterexample.feature"
    feature.write_text(scenario(result.counterexample, workflow=str(tmp_path / "response.yaml"),
                                rule_id=result.rule.id, rule_ja=result.rule.ja, source=result.rule.source),
                       encoding="utf-8")
    ran = run_check(tmp_path / "response.yaml", [feature])
    assert ran.results and not ran.ok  # resolved with fewer than two watchers: the scenario shows it


def test_features_can_name_another_person_in_a_role(tmp_path: Path) -> None:
    """``教職員#2`` is a second teacher (``staff-2``): two of them watching lets the school that asks for two
    resolve; the same teacher twice does not."""
    (tmp_path / "response.yaml").write_text((WORKFLOWS / "response.yaml").read_text(encoding="utf-8").replace(OLD, TWO),
                                            encoding="utf-8")
    bundled = (ROOT / "features" / "response.feature").read_text(encoding="utf-8")
    start = bundled.index("  シナリオ: 行為が止んでから3か月に満たない解消")
    table = bundled[bundled.index("    前提 次の操作を順に行う:", start):bundled.index("    もし 2019年8月11日", start)]
    for second, resolves in (("教職員", False), ("教職員#2", True)):
        feature = tmp_path / f"two_{resolves}.feature"
        feature.write_text(
            "# language: ja\n機能: 複数の教職員で見守る\n  シナリオ: 二人目\n"
            f'    前提 ワークフロー "{tmp_path / "response.yaml"}" を読み込む\n'
            "    かつ 2019年5月13日 12:40 に 教職員 が事案を開く\n" + table.replace("前提 次の", "かつ 次の")
            + '    かつ 2019年6月3日 に 教職員 が "check_in_with_victim" を行う\n'
            + f'    かつ 2019年6月10日 に {second} が "check_in_with_victim" を行う\n'
            + '    もし 2019年8月13日 9:00 に 対策委員会 が "resolve" を行う\n'
            + ("    ならば 状態は \"resolved\" である\n" if resolves else "    ならば \"条件を満たさない\" として拒否される\n"),
            encoding="utf-8")
        [result] = run_check(tmp_path / "response.yaml", [feature]).results
        assert result.passed, (second, result.message)
