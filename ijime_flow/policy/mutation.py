"""Mutation testing of policy checks: rule-breaking copies of a workflow (:mod:`.mutants`), each checked
against the policy rules in-process; a copy no rule fails *survives*, and names a part of the
workflow no check covers. Optionally the survivors are also run against feature files."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..definition import Definition
from .mutants import KIND_LABELS, Mutant, make_mutants
from .rule_check import check_rules
from .rules import Rule, RuleSet, merged


@dataclass
class MutantResult:
    mutant: Mutant
    killed_by: list[str]  # the rules that fail (or, marked "(警告 / should)", warn) on it


@dataclass
class MutationReport:
    workflow: str
    results: list[MutantResult] = field(default_factory=list)
    invalid: int = 0
    equivalent: int = 0
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        return sum(bool(r.killed_by) for r in self.results)

    @property
    def score(self) -> float:
        return self.killed / len(self.results) if self.results else 1.0

    def by_kind(self) -> dict[str, tuple[int, int]]:
        total: Counter[str] = Counter(r.mutant.kind for r in self.results)
        killed: Counter[str] = Counter(r.mutant.kind for r in self.results if r.killed_by)
        return {kind: (killed[kind], total[kind]) for kind in total}

    def survivors(self) -> list[Mutant]:
        return [r.mutant for r in self.results if not r.killed_by]

    def to_dict(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "mutants": len(self.results), "killed": self.killed,
                "score": round(self.score, 4), "invalid": self.invalid, "equivalent": self.equivalent,
                "seconds": round(self.seconds, 2),
                "by_kind": {k: {"killed": a, "total": b, "ja": KIND_LABELS[k].ja, "en": KIND_LABELS[k].en}
                            for k, (a, b) in self.by_kind().items()},
                "survivors": [{"id": m.id, "kind": m.kind, "target": m.target, "ja": m.ja, "en": m.en}
                              for m in self.survivors()],
                "killed_by": {r.mutant.id: r.killed_by for r in self.results if r.killed_by}}


def mutate(text: str, rules: Iterable[RuleSet], *, file: str = "<workflow>", others: Mapping[str, Definition] | None = None,
           kinds: Iterable[str] | None = None, progress: Callable[[int, int], None] | None = None) -> MutationReport:
    """Make the mutants of the workflow ``text`` and check each against ``rules``."""
    started = time.perf_counter()
    made = make_mutants(text, file=file, others=others, kinds=list(kinds) if kinds is not None else None)
    report = MutationReport(made.mutants[0].definition.id if made.mutants else Path(file).stem,
                            invalid=len(made.invalid), equivalent=len(made.equivalent))
    applying = merged(rules, report.workflow)  # no mutant changes the workflow's id
    for index, mutant in enumerate(made.mutants):
        failed: list[str] = []
        if applying is not None:
            checked = check_rules(mutant.definition, applying, others=others, until_broken=True,
                                  first=partial(_mentions, mutant=mutant))
            # a `should` rule that no longer holds is a warning in `check`, and a detection here
            failed = [r.rule.id if r.status == "fail" else f"{r.rule.id} (警告 / should)"
                      for r in checked.results if r.status in ("fail", "warn")]
        report.results.append(MutantResult(mutant, failed))
        if progress is not None:
            progress(index + 1, len(made.mutants))
    report.seconds = time.perf_counter() - started
    return report


def _mentions(rule: Rule, *, mutant: Mutant) -> bool:
    """Whether ``rule`` names what ``mutant`` changed (a trigger, state, fact or criterion): tried first."""
    target = mutant.target.split("@")[0]
    return target in rule.model_dump_json()


def render_mutation(report: MutationReport) -> list[str]:
    lines = [f"変異テスト / mutation test: {report.workflow} — 変異 {len(report.results)} 件（無効 {report.invalid}、"
             f"同値 {report.equivalent} を除く） / {len(report.results)} valid mutants",
             f"  スコア / score: {report.killed}/{len(report.results)} = {report.score:.0%}（{report.seconds:.1f} 秒）"]
    for kind, (killed, total) in report.by_kind().items():
        label = KIND_LABELS[kind]
        lines.append(f"  {'検出 ' if killed == total else '見逃し'} {label.ja} / {label.en} ({kind}): {killed}/{total}")
    survivors = report.survivors()
    if survivors:
        lines.append("  どの規則にも検出されなかった変異（規則が足りない箇所） / mutants no rule detects:")
        lines.extend(f"    - {m.ja} / {m.en} [{m.id}]" for m in survivors)
    return lines
