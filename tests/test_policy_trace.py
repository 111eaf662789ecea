"""docs/policy-trace.md: every bullet of section 4 has a row; every row points at real ids and scenarios."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import ROOT, WORKFLOWS

from ijime_flow import load_file

TRACE = ROOT / "docs" / "policy-trace.md"
FEATURE = ROOT / "features" / "response.feature"
POLICY = ROOT.parent / "shared" / "policy" / "000_7405379810ed58d9.txt"
RESPONSE = load_file(WORKFLOWS / "response.yaml")
BULLETS_PER_SECTION = {"4(1)": 3, "4(2)": 6, "4(3)": 8, "4(4)": 6, "4(5)": 4, "4(6)": 4}


def rows() -> list[list[str]]:
    out = []
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(line) <= set("|- ") and cells[0] not in ("節", "規則"):
            out.append(cells)
    return out


def scenario_names() -> set[str]:
    text = FEATURE.read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^\s*シナリオ(?:アウトライン)?:\s*(.+)$", text, re.M)}


def carriers(cell: str) -> list[tuple[str, str]]:
    return [tuple(item.split(":", 1)) for item in re.findall(r"`([a-z]+:[a-z0-9_.]+)`", cell)]  # type: ignore[misc]


def exists(kind: str, name: str) -> bool:
    if kind == "state":
        return name in RESPONSE.nodes
    if kind == "trigger":
        return name in RESPONSE.transitions_by_trigger
    if kind == "condition":
        return any(t.when is not None for _, t in RESPONSE.transitions_by_trigger.get(name, []))
    if kind == "fact":
        return name in RESPONSE.spec.facts
    if kind == "deadline":
        return any(d.id == name for ds in RESPONSE.deadline_defs.values() for d in ds)
    return False


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r[0]} {r[1][:12]}")
def test_each_row_points_at_real_ids_and_scenarios(row: list[str]) -> None:
    ids, scenarios = (row[2], row[3]) if len(row) == 4 else (row[1], row[2])
    found = carriers(ids)
    assert found, f"no carrier in {row}"
    for kind, name in found:
        assert exists(kind, name), f"{kind}:{name} is not in workflows/response.yaml"
    names = [s.strip() for s in scenarios.split(";") if s.strip()]
    assert names
    missing = [n for n in names if n not in scenario_names()]
    assert not missing, f"no such scenario in features/response.feature: {missing}"


def test_every_bullet_of_section_4_has_a_row() -> None:
    counts: dict[str, int] = {}
    for row in rows():
        if len(row) == 4:
            counts[row[0]] = counts.get(row[0], 0) + 1
    assert counts == BULLETS_PER_SECTION


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.skipif(not POLICY.is_file(), reason="the policy text (../shared/policy) is not beside this checkout")
def test_quotes_are_the_policy_words_and_cover_every_bullet() -> None:
    text = POLICY.read_text(encoding="utf-8")
    section = text[text.index("4 いじめに対する措置"):text.index("5 いじめの早期発見・早期対応のための年間計画")]
    bullets = [_norm(line.split("・", 1)[1]) for line in section.splitlines() if line.strip().startswith("- ・")]
    assert len(bullets) == sum(BULLETS_PER_SECTION.values())
    quotes = [_norm(row[1]) for row in rows() if len(row) == 4]
    for quote in quotes:
        assert any(quote in bullet for bullet in bullets), f"not in the policy: {quote}"
    for bullet in bullets:
        assert any(quote in bullet for quote in quotes), f"no row quotes: {bullet}"
