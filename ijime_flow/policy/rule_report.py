"""The policy rules part of ``ijime-flow check``: which rule files apply, the workflows a workflow
escalates to, the results in Japanese first (and as JSON), and counterexamples written as scenarios."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..bundled import path
from ..definition import Definition
from ..errors import DefinitionError, Problem
from ..language.conditions import GuardFn
from ..language.loader import load_path
from .counterexample import scenario
from .rule_check import RuleReport, check_rules
from .rules import KIND_LABELS, RuleSet, load_rules, merged, rule_files

STATUS_JA = {"pass": "合格  ", "fail": "不合格", "warn": "警告  ", "unchecked": "未確認"}


def applicable_rules(definition: Definition, paths: list[Path] | None) -> tuple[list[tuple[Path, RuleSet]], list[Problem]]:
    """The rule files for ``definition`` (``rules_for`` its id): of ``paths``, or the bundled ones."""
    found: list[tuple[Path, RuleSet]] = []
    problems: list[Problem] = []
    for file in rule_files(paths):
        try:
            rules = load_rules(file)
        except DefinitionError as exc:
            problems += exc.problems
            continue
        if rules.rules_for == definition.id:
            found.append((file, rules))
    return found, problems


def companions(workflow: Path, definition: Definition) -> dict[str, Definition]:
    """The workflows ``definition`` escalates to (or that escalate to it), from its folder — else the
    bundled workflows — so that escalation rules can open the linked case."""
    pool: dict[str, Definition] = {}
    bundled = path("workflows")
    for folder in (workflow.resolve().parent, bundled):
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.yaml")):
            if file.resolve() == workflow.resolve():
                continue
            try:
                for other in load_path(file, run_lint=False):
                    if other.id != definition.id:
                        pool.setdefault(other.id, other)
            except DefinitionError:
                continue
    return pool


def run_rules(workflow: Path, definition: Definition, paths: list[Path] | None,
              others: dict[str, Definition] | None = None,
              guards: Mapping[str, GuardFn] | None = None) -> tuple[list[RuleReport], list[Problem]]:
    """The rules for ``definition`` checked on it; ``others``: the workflows it escalates to (default: from
    its folder, else the bundled ones — ``check`` gives the school's own, and only those)."""
    sets, problems = applicable_rules(definition, paths)
    rules = merged((rule_set for _, rule_set in sets), definition.id)
    if rules is None:
        return [], problems
    report = check_rules(definition, rules, others=companions(workflow, definition) if others is None else others,
                         guards=guards)
    report.file = str(workflow)
    return [report], problems


def render_rules(reports: list[RuleReport], problems: list[Problem]) -> list[str]:
    lines: list[str] = []
    for problem in problems:
        lines.append(f"  不合格 (規則ファイルを読めません / rule file unreadable) {problem}")
    for report in reports:
        name = Path(report.file).name if report.file else report.workflow
        lines.append(f"規則 / rules ({report.workflow} — {report.file or report.workflow}): 到達しうる構成"
                     f" {report.configurations:,} 通りを検査（{report.seconds:.1f} 秒） / {report.configurations:,}"
                     " reachable configurations checked")
        for result in report.results:
            rule = result.rule
            label = KIND_LABELS[rule.kind][0]
            lines.append(f"  {STATUS_JA[result.status]} [{rule.source}] {rule.ja}（{label}、{rule.id}） — {name}")
            if result.status != "pass":
                lines.append(f"         {result.message}")
                if result.counterexample is not None:
                    lines.append("         反例 / counterexample:")
                    lines.extend(f"           {i}. {step}" for i, step in enumerate(result.counterexample.steps_ja(), 1))
        passed = sum(r.status == "pass" for r in report.results)
        lines.append(f"  規則: {passed} 件合格、{report.failed} 件不合格、{report.warnings} 件警告、{report.unchecked} 件未確認"
                     f" / {passed} passed, {report.failed} failed, {report.warnings} warnings, {report.unchecked} not checked")
    return lines


def rules_json(reports: list[RuleReport], problems: list[Problem]) -> dict[str, Any]:
    return {
        "problems": [str(p) for p in problems],
        "workflows": [{
            "workflow": r.workflow, "file": r.file, "configurations": r.configurations, "edges": r.edges,
            "seconds": round(r.seconds, 3),
            "truncated": r.truncated,
            "rules": [{"id": x.rule.id, "kind": x.rule.kind, "level": x.rule.level, "source": x.rule.source,
                       "ja": x.rule.ja, "en": x.rule.en, "status": x.status, "message": x.message, "missing": x.missing,
                       "counterexample": x.counterexample.to_dict() if x.counterexample else None}
                      for x in r.results]} for r in reports],
    }


def write_counterexamples(reports: list[RuleReport], folder: Path, workflow: Path | None = None) -> list[Path]:
    """Each counterexample as ``<rule id>.feature`` in ``folder``, loading the workflow file its report ran
    against (or ``workflow``)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        for result in report.results:
            if result.counterexample is None:
                continue
            path = folder / f"{result.rule.id}.feature"
            loads = str(Path(report.file).resolve()) if report.file else str(workflow)
            path.write_text(scenario(result.counterexample, workflow=loads, rule_id=result.rule.id,
                                     rule_ja=result.rule.ja, source=result.rule.source), encoding="utf-8")
            written.append(path)
    return written
