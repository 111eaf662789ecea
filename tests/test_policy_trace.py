"""docs/policy-trace.md: every bullet of sections 3(2), 4 and 7 and every entry of 5 and 6(1)③ has a row; every row
points at real ids and scenarios,
and names the rules (rules/*.yaml) that check it — each traced (``source``) to that bullet's section — and
every bundled rule is named by some row."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import ROOT, WORKFLOWS

from ijime_flow import load_file
from ijime_flow.policy.rules import BUNDLED_RULES, Rule, load_rules

TRACE = ROOT / "docs" / "policy-trace.md"
FEATURES = [ROOT / "features" / "response.feature", ROOT / "features" / "serious_incident.feature",
            ROOT / "features" / "school_year.feature"]
POLICY = ROOT.parent / "shared" / "policy" / "000_7405379810ed58d9.txt"
RESPONSE = load_file(WORKFLOWS / "response.yaml")
SERIOUS = load_file(WORKFLOWS / "serious_incident.yaml")
SCHOOL_YEAR = load_file(WORKFLOWS / "school_year.yaml")
RULES = {rule.id: rule for file in sorted(BUNDLED_RULES.glob("*.yaml")) for rule in load_rules(file).rules}
BULLETS_PER_SECTION = {"4(1)": 3, "4(2)": 6, "4(3)": 8, "4(4)": 6, "4(5)": 4, "4(6)": 4}
# section 7 is written as headed items rather than bullets: 7(1) two, 7(2) the report and three
# criteria, 7(3) the decision, ①ア-オ one each, ② one
ITEMS_PER_SECTION_7 = {"7(1)": 2, "7(2)": 4, "7(3)": 1, "7(3)①ア": 1, "7(3)①イ": 1, "7(3)①ウ": 1, "7(3)①エ": 1,
                       "7(3)①オ": 1, "7(3)②": 1}
BULLETS_PER_SECTION_3 = {"3(2)①": 3, "3(2)②": 5, "3(2)③": 4}
# sections 5 and 6(1)③ are tables of dated entries, grouped by duty (docs/policy-trace.md says how): 5 twelve
# rows (校内研修会①〜⑥ one, ...), 6(1)③ five rows and one for the note 「定例会は月に1回行う」
ENTRIES_PER_PLAN = {"5": 12, "6(1)③": 6}


def rows() -> list[list[str]]:
    out = []
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(line) <= set("|- ") and cells[0] not in ("節", "規則"):
            out.append(cells)
    return out


def scenario_names() -> set[str]:
    text = "\n".join(feature.read_text(encoding="utf-8") for feature in FEATURES)
    return {m.group(1).strip() for m in re.finditer(r"^\s*シナリオ(?:アウトライン)?:\s*(.+)$", text, re.M)}


def carriers(cell: str) -> list[tuple[str, str]]:
    return [tuple(item.split(":", 1)) for item in re.findall(r"`([a-z]+:[a-z0-9_.]+)`", cell)]  # type: ignore[misc]


def exists(kind: str, name: str) -> bool:
    return any(_exists(defn, kind, name) for defn in (RESPONSE, SERIOUS, SCHOOL_YEAR))


def _exists(defn: object, kind: str, name: str) -> bool:
    from ijime_flow import Definition

    assert isinstance(defn, Definition)
    if kind == "state":
        return name in defn.nodes
    if kind == "trigger":
        return name in defn.transitions_by_trigger
    if kind == "condition":
        return any(t.when is not None for _, t in defn.transitions_by_trigger.get(name, []))
    if kind == "fact":
        return name in defn.spec.facts
    if kind == "deadline":
        return any(d.id == name for ds in defn.deadline_defs.values() for d in ds)
    if kind == "criterion":
        return defn.spec.escalation is not None and any(c.id == name for c in defn.spec.escalation.criteria)
    return False


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r[0]} {r[1][:12]}")
def test_each_row_points_at_real_ids_and_scenarios(row: list[str]) -> None:
    ids, scenarios = (row[2], row[3]) if len(row) == 5 else (row[1], row[2])
    found = carriers(ids)
    assert found, f"no carrier in {row}"
    for kind, name in found:
        assert exists(kind, name), f"{kind}:{name} is in none of the workflows"
    names = [s.strip() for s in scenarios.split(";") if s.strip()]
    assert names
    missing = [n for n in names if n not in scenario_names()]
    assert not missing, f"no such scenario in features/: {missing}"


def named_rules(row: list[str]) -> list[str]:
    return re.findall(r"`([a-z0-9_]+)`", row[-1])


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r[0]} {r[1][:12]}")
def test_each_row_names_rules_that_exist_and_trace_to_its_section(row: list[str]) -> None:
    named = named_rules(row)
    assert named, f"no rule named for {row[:2]}"
    for rule_id in named:
        assert rule_id in RULES, f"no rule {rule_id} in rules/*.yaml"
        if len(row) == 5:  # a bullet of the policy: the rule says it comes from that section
            assert RULES[rule_id].traces_to(row[0]), f"{rule_id} (source {RULES[rule_id].source}) is named under {row[0]}"


def test_every_bundled_rule_is_named_in_the_trace() -> None:
    named = {rule_id for row in rows() for rule_id in named_rules(row)}
    assert set(RULES) - named == set(), "rules no row of docs/policy-trace.md names"
    assert len(RULES) > 100


@pytest.mark.parametrize(("source", "section", "expected"), [
    ("4(2)", "4(2)", True), ("4(2), 4(6)", "4(6)", True), ("4(2)", "4(3)", False), ("4", "4(5)", True),
    ("7(3)①イ, ウ", "7(3)①ウ", True), ("7(3)①", "7(3)①ア", True), ("7(3)", "7(3)②", True), ("7(1)", "7(10)", False),
    ("7(3)①イ", "7(3)①ウ", False), ("7", "7(2)", True), ("4(1)", "4(10)", False),
])
def test_a_rule_traces_to_its_sections_and_their_parts_only(source: str, section: str, expected: bool) -> None:
    rule = Rule(id="x", ja="あ", source=source, reaches_final=True)
    assert rule.traces_to(section) is expected


def test_every_item_of_sections_3_2_4_5_6_1_and_7_has_a_row() -> None:
    counts: dict[str, int] = {}
    for row in rows():
        if len(row) == 5:
            counts[row[0]] = counts.get(row[0], 0) + 1
    assert counts == {**BULLETS_PER_SECTION_3, **BULLETS_PER_SECTION, **ENTRIES_PER_PLAN, **ITEMS_PER_SECTION_7}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.skipif(not POLICY.is_file(), reason="the policy text (../shared/policy) is not beside this checkout")
def test_quotes_are_the_policy_words_and_cover_every_bullet() -> None:
    text = POLICY.read_text(encoding="utf-8")
    section = text[text.index("4 いじめに対する措置"):text.index("5 いじめの早期発見・早期対応のための年間計画")]
    bullets = [_norm(line.split("・", 1)[1]) for line in section.splitlines() if line.strip().startswith("- ・")]
    assert len(bullets) == sum(BULLETS_PER_SECTION.values())
    quotes = [_norm(row[1]) for row in rows() if len(row) == 5 and row[0].startswith("4")]
    for quote in quotes:
        assert any(quote in bullet for bullet in bullets), f"not in the policy: {quote}"
    for bullet in bullets:
        assert any(quote in bullet for quote in quotes), f"no row quotes: {bullet}"


@pytest.mark.skipif(not POLICY.is_file(), reason="the policy text (../shared/policy) is not beside this checkout")
def test_section_7_quotes_are_the_policy_words() -> None:
    text = POLICY.read_text(encoding="utf-8")
    section = _norm(text[text.index("7 重大事態への対処"):])
    for row in rows():
        if len(row) == 5 and row[0].startswith("7"):
            assert _norm(row[1]) in section, f"not in section 7 of the policy: {row[1]}"


def _bullets_of_3_2(text: str) -> dict[str, list[str]]:
    """The bullets of 3(2), by its items ①②③, as the policy text has them."""
    section = text[text.index("(2) いじめ早期発見のための取組"):text.index("4 いじめに対する措置")]
    out: dict[str, list[str]] = {}
    current = ""
    for line in section.splitlines():
        head = line.strip()[:1]
        if head in "①②③" and head:
            current = f"3(2){head}"
        elif line.strip().startswith("- ・") and current:
            out.setdefault(current, []).append(_norm(line.split("・", 1)[1]))
    return out


@pytest.mark.skipif(not POLICY.is_file(), reason="the policy text (../shared/policy) is not beside this checkout")
def test_section_3_2_quotes_are_the_policy_words_and_cover_every_bullet() -> None:
    bullets = _bullets_of_3_2(POLICY.read_text(encoding="utf-8"))
    assert {k: len(v) for k, v in bullets.items()} == BULLETS_PER_SECTION_3
    for section, found in bullets.items():
        quotes = [_norm(row[1]) for row in rows() if len(row) == 5 and row[0] == section]
        for quote in quotes:
            assert any(quote in bullet for bullet in found), f"not in {section} of the policy: {quote}"
        for bullet in found:
            assert any(quote in bullet for quote in quotes), f"no row of {section} quotes: {bullet}"


@pytest.mark.skipif(not POLICY.is_file(), reason="the policy text (../shared/policy) is not beside this checkout")
@pytest.mark.parametrize(("section", "start", "end"), [
    ("5", "5 いじめの早期発見・早期対応のための年間計画", "6 いじめ防止等の対策のための組織"),
    ("6(1)③", "③ 校内いじめ問題対策委員会活動計画", "(2) 関係機関・相談機関との連携"),
])
def test_plan_entries_quote_the_policy_tables(section: str, start: str, end: str) -> None:
    """Each excerpt of a row of 5 or 6(1)③ (several, of a grouped row, separated by ／) is in that table."""
    text = POLICY.read_text(encoding="utf-8")
    table = _norm(text[text.index(start):text.index(end, text.index(start))])
    quoted = [row for row in rows() if len(row) == 5 and row[0] == section]
    assert len(quoted) == ENTRIES_PER_PLAN[section]
    for row in quoted:
        for part in row[1].split("／"):
            assert _norm(part) and _norm(part) in table, f"not in {section} of the policy: {part}"
