"""Reference checks and lint rules: one fixture per rule, each problem located at its exact line:col.

Each fixture marks the offending line with ``# <- RULE @TOKEN``: the expected line is the marked line
and the expected column is where TOKEN starts on it. Nothing is hard-coded here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ijime_flow import DefinitionError, load_file, load_text

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(__file__).resolve().parent / "fixtures" / "lint"
RESPONSE = ROOT / "workflows" / "response.yaml"

REFERENCE_RULES = ["unknown-state", "unknown-role", "unknown-fact", "fact-type", "automatic-source"]
LINT_RULES = ["unreachable", "dead-end", "region-without-final", "duplicate-trigger", "unmeetable-deadline",
              "step-from-final"]
MARKER = re.compile(r"#\s*<-\s*(?P<rule>[a-z-]+)(?:\s+@(?P<token>\S+))?")


def expected_location(path: Path, rule: str) -> tuple[int, int | None]:
    """(line, col) of the construct marked ``# <- rule @token`` in the fixture (col None without a token)."""
    hits = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARKER.search(line)
        if match and match["rule"] == rule:
            token = match["token"]
            col = line.index(token) + 1 if token else None
            assert col is None or col <= match.start(), f"token {token!r} must appear before the marker"
            hits.append((number, col))
    assert len(hits) == 1, f"{path.name} needs exactly one '# <- {rule}' marker, found {len(hits)}"
    return hits[0]


def test_every_rule_has_a_fixture() -> None:
    assert sorted(p.stem for p in LINT.glob("*.yaml")) == sorted(REFERENCE_RULES + LINT_RULES)


@pytest.mark.parametrize("rule", REFERENCE_RULES + LINT_RULES)
def test_rule_is_reported_at_the_marked_line(rule: str) -> None:
    path = LINT / f"{rule}.yaml"
    line, col = expected_location(path, rule)
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    problems = info.value.problems
    tagged = [p for p in problems if p.message.endswith(f"[{rule}]")]
    assert tagged, f"no [{rule}] problem in: {[str(p) for p in problems]}"
    # the fixture is otherwise valid: the rule under test is the only thing wrong with it
    assert len(tagged) == len(problems) == 1, [str(p) for p in problems]
    problem = tagged[0]
    assert problem.file == str(path)
    assert problem.line == line, str(problem)
    if col is not None:
        assert problem.col == col, str(problem)
    assert problem.path, "a lint problem names its place in the document"
    assert f"{path}:{line}:" in str(info.value)


@pytest.mark.parametrize("rule", REFERENCE_RULES + LINT_RULES)
def test_fixing_the_marked_construct_makes_the_fixture_load(rule: str) -> None:
    """The marked construct really is the cause: the fixtures differ from a valid workflow only there."""
    fixes = {
        "unknown-state": ("to: nowhere", "to: done"),
        "unknown-role": ("[staff, janitor]", "[staff]"),
        "unknown-fact": ("fact: no_such_fact", "fact: flag"),
        "fact-type": ('equals: "yes"', "equals: true"),
        "automatic-source": ("automatic: true", "roles: [staff]"),
        "unreachable": ("from: start, to: done", "from: start, to: orphan"),
        "dead-end": ('stuck: {ja: 行き止まり, source: "1"}', 'stuck: {ja: 行き止まり, source: "1", final: true}'),
        "region-without-final": ("b_more: {ja: B 続き, source: \"1\"}", "b_more: {ja: B 続き, source: \"1\", final: true}"),
        "duplicate-trigger": ("  - trigger: advance  #", "  - trigger: skip  #"),
        "unmeetable-deadline": ('ja: 報告した, source: "1", from: start', 'ja: 報告した, source: "1", from: middle'),
        "step-from-final": ("from: done, to: start", "from: start, to: start"),
    }
    text = (LINT / f"{rule}.yaml").read_text(encoding="utf-8")
    old, new = fixes[rule]
    assert text.count(old) == 1
    fixed = text.replace(old, new)
    if rule == "region-without-final":  # b_more is final now, so nothing may leave it
        fixed = re.sub(r".*trigger: back_b.*\n", "", fixed)
    defn = load_text(fixed, f"{rule}-fixed.yaml")
    assert defn.id == rule.replace("-", "_")


@pytest.mark.parametrize("rule", LINT_RULES)
def test_run_lint_false_skips_lint_rules(rule: str) -> None:
    defn = load_file(LINT / f"{rule}.yaml", run_lint=False)
    assert defn.id == rule.replace("-", "_")


@pytest.mark.parametrize("rule", REFERENCE_RULES)
def test_run_lint_false_still_checks_references(rule: str) -> None:
    path = LINT / f"{rule}.yaml"
    line, _ = expected_location(path, rule)
    with pytest.raises(DefinitionError) as info:
        load_file(path, run_lint=False)
    assert any(p.message.endswith(f"[{rule}]") and p.line == line for p in info.value.problems)


def test_response_workflow_loads_without_problems() -> None:
    defn = load_file(RESPONSE)
    assert defn.id == "response"
    assert "responding.victim_support.done" in defn.nodes
    assert len(defn.sha256) == 64


def test_lint_runs_only_when_references_are_sound() -> None:
    """An unknown state makes the lint rules meaningless: only the reference problem is reported."""
    text = (LINT / "unreachable.yaml").read_text(encoding="utf-8").replace("to: done, roles", "to: nowhere, roles", 1)
    with pytest.raises(DefinitionError) as info:
        load_text(text)
    rules = {re.search(r"\[([a-z-]+)\]$", p.message)[1] for p in info.value.problems}  # type: ignore[index]
    assert rules == {"unknown-state"}


def test_several_problems_are_reported_together_in_line_order() -> None:
    text = (LINT / "unknown-role.yaml").read_text(encoding="utf-8")
    text = text.replace("opened_by: [staff]", "opened_by: [nobody]").replace("to: done", "to: nowhere")
    with pytest.raises(DefinitionError) as info:
        load_text(text, "many.yaml")
    problems = info.value.problems
    assert [p.message.rsplit("[", 1)[1] for p in problems] == ["unknown-role]", "unknown-state]", "unknown-role]"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    lines = text.splitlines()
    assert "nobody" in lines[problems[0].line - 1]
    assert "nowhere" in lines[problems[1].line - 1]
    assert "janitor" in lines[problems[2].line - 1]
    assert str(info.value).splitlines() == [str(p) for p in problems]


def test_unknown_state_suggests_the_dotted_path() -> None:
    text = (LINT / "region-without-final.yaml").read_text(encoding="utf-8")
    text = text.replace("to: working.first.a_done", "to: a_done")
    with pytest.raises(DefinitionError) as info:
        load_text(text)
    assert "did you mean: working.first.a_done" in info.value.message
    assert "もしかして: working.first.a_done" in info.value.message


def test_duplicate_trigger_with_distinguishing_conditions_is_allowed() -> None:
    text = (LINT / "duplicate-trigger.yaml").read_text(encoding="utf-8")
    text = text.replace("opened_by:", "facts:\n  flag: {type: bool, ja: フラグ}\nopened_by:")
    text = text.replace("from: start, to: middle, roles: [staff]}",
                        "from: start, to: middle, roles: [staff], when: {fact: flag, equals: true}}")
    assert text.count("when: {fact: flag, equals: true}") == 1
    assert load_text(text).id == "duplicate_trigger"
    # the same condition on both does not tell them apart
    text = text.replace("    from: [start]\n", "    from: [start]\n    when: {fact: flag, equals: true}\n")
    with pytest.raises(DefinitionError) as info:
        load_text(text)
    assert info.value.message.endswith("[duplicate-trigger]")
