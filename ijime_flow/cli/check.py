"""``ijime-flow check``: the policy rules on every reachable configuration, then the policy features."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from ..definition import Definition
from ..errors import DefinitionError
from ..language.loader import load_path
from .common import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE


def _workflow(path: Path) -> Definition | None:
    """The workflow file, or None after saying what is wrong where."""
    try:
        return load_path(path)[0]
    except DefinitionError as exc:
        print(f"ワークフローが読み込めません / the workflow cannot be loaded: {path}")
        for problem in exc.problems:
            print(str(problem))
        return None


def run_check_command(args: argparse.Namespace) -> int:
    from ..policy.check import BUNDLED_FEATURES, render, run_check
    from ..policy.rule_report import render_rules, rules_json, run_rules, write_counterexamples

    definition = _workflow(args.workflow)
    if definition is None:
        return EXIT_PROBLEMS
    for path in [*args.features, *(args.rules or [])]:
        if not path.exists():
            print(f"ijime-flow: ファイルがありません / no such file or folder: {path}", file=sys.stderr)
            return EXIT_UNUSABLE
    scenarios = not args.no_scenarios
    if scenarios and importlib.util.find_spec("gherkin") is None:
        print("シナリオの実行には gherkin-official が必要です（規則のみ確かめます） / the scenarios need gherkin-official:"
              " python -m pip install 'ijime-flow[bdd]' (checking the rules only)", file=sys.stderr)
        scenarios = False
    if scenarios and not args.features and not BUNDLED_FEATURES.is_dir():
        print(f"ijime-flow: bundled features not found at {BUNDLED_FEATURES}; give FEATURES", file=sys.stderr)
        return EXIT_UNUSABLE
    title = f"{args.workflow} ({definition.id} {definition.version}, sha256 {definition.sha256[:12]}…)"
    reports, problems = ([], []) if args.no_rules else run_rules(args.workflow, definition, args.rules)
    if not args.no_rules and not reports and not problems:
        print(f"ijime-flow: ワークフロー {definition.id} の規則がありません / no rules for workflow '{definition.id}'"
              " (give --rules, or --no-rules)", file=sys.stderr)
        if not scenarios:
            return EXIT_UNUSABLE
    written = write_counterexamples(reports, args.counterexamples, args.workflow) if args.counterexamples else []
    scenario_report = run_check(args.workflow, args.features or None, verbose=args.verbose) if scenarios else None
    rules_ok = not problems and all(r.failed == 0 for r in reports)
    ok = rules_ok and (scenario_report is None or scenario_report.ok)
    if args.json:
        out: dict[str, Any] = {"workflow": str(args.workflow), "id": definition.id, "version": definition.version,
                               "sha256": definition.sha256, "ok": ok, **rules_json(reports, problems),
                               "counterexample_files": [str(p) for p in written]}
        if scenario_report is not None:
            out["scenarios"] = [{"feature": r.feature, "name": r.name, "tags": r.tags, "passed": r.passed,
                                 "message": r.message} for r in scenario_report.results]
            out["scenario_errors"] = scenario_report.errors
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK if ok else EXIT_PROBLEMS
    print(f"ポリシーチェック / policy check: {title}")
    for line in render_rules(reports, problems):
        print(line)
    for path in written:
        print(f"  反例のシナリオ / counterexample scenario: {path}")
    if scenario_report is not None:
        print(render(scenario_report, title))
    print("総合: 合格 / overall: passed" if ok else "総合: 不合格 / overall: failed")
    return EXIT_OK if ok else EXIT_PROBLEMS


def run_mutate_command(args: argparse.Namespace) -> int:
    from ..policy.mutants import MUTANT_KINDS
    from ..policy.mutation import mutate, render_mutation
    from ..policy.rule_report import applicable_rules, companions

    definition = _workflow(args.workflow)
    if definition is None:
        return EXIT_PROBLEMS
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    unknown = sorted(set(kinds or []) - set(MUTANT_KINDS))
    if unknown:
        print(f"ijime-flow: 変異の種類がありません / unknown mutant kinds: {', '.join(unknown)}"
              f" (known: {', '.join(MUTANT_KINDS)})", file=sys.stderr)
        return EXIT_UNUSABLE
    for path in args.rules or []:
        if not path.exists():
            print(f"ijime-flow: ファイルがありません / no such file or folder: {path}", file=sys.stderr)
            return EXIT_UNUSABLE
    sets, problems = applicable_rules(definition, args.rules)
    if problems or not sets:
        for problem in problems:
            print(str(problem))
        print(f"ijime-flow: ワークフロー {definition.id} の規則がありません / no usable rules for '{definition.id}'",
              file=sys.stderr)
        return EXIT_UNUSABLE
    report = mutate(args.workflow.read_text(encoding="utf-8"), [rules for _, rules in sets], file=str(args.workflow),
                    others=companions(args.workflow, definition), kinds=kinds)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(render_mutation(report)))
    return EXIT_OK if not report.survivors() else EXIT_PROBLEMS
