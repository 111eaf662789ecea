"""``ijime-flow check``: the policy rules on every reachable configuration, then the policy features."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from ..definition import Definition
from ..errors import DefinitionError
from ..language.loader import load_path, validate_paths
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


def _school(paths: list[Path], map_file: Path | None = None,
            guards: Collection[str] = ()) -> tuple[dict[str, tuple[Path, Definition]], dict[str, str]] | None:
    """Every workflow of the files and folders given, loaded together, by id, read through the school's
    contract map (``map_file``, else a ``contract-map.yaml`` beside each file), and by id the sha256 of each file's own
    definition (the mapped one hashes otherwise); None after saying what is wrong."""
    from ..policy.contract_map import apply_map, load_map, map_beside

    definitions, problems = validate_paths(paths, guards=guards)
    school: dict[str, tuple[Path, Definition]] = {}
    shas: dict[str, str] = {}
    for definition in definitions if not problems else []:
        found = map_file or map_beside(Path(definition.file))
        try:
            maps = load_map(found) if found is not None else {}
            mapped = apply_map(definition, maps[definition.id], str(found)) if definition.id in maps else definition
        except DefinitionError as exc:
            problems += exc.problems
            continue
        school[mapped.id] = (Path(definition.file), mapped)
        shas[mapped.id] = definition.sha256
    if problems:
        print("ワークフローが読み込めません / the workflows cannot be loaded: " + ", ".join(str(p) for p in paths))
        for problem in problems:
            print(str(problem))
        return None
    return school, shas


def run_check_command(args: argparse.Namespace) -> int:
    from ..policy.check import BUNDLED_FEATURES, reference_workflows, render, run_check
    from ..policy.rule_report import render_rules, rules_json, run_rules, write_counterexamples

    for path in [*args.workflow, *args.features, *(args.rules or [])]:
        if not path.exists():
            print(f"ijime-flow: ファイルがありません / no such file or folder: {path}", file=sys.stderr)
            return EXIT_UNUSABLE
    from .common import guards_of

    guards = guards_of(args)
    loaded = _school(args.workflow, args.contract_map, sorted(guards))
    if loaded is None:
        return EXIT_PROBLEMS
    school, shas = loaded
    scenarios = not args.no_scenarios
    if scenarios and importlib.util.find_spec("gherkin") is None:
        print("シナリオの実行には gherkin-official が必要です（規則のみ確かめます） / the scenarios need gherkin-official:"
              " python -m pip install 'ijime-flow[bdd]' (checking the rules only)", file=sys.stderr)
        scenarios = False
    if scenarios and not args.features and not BUNDLED_FEATURES.is_dir():
        print(f"ijime-flow: bundled features not found at {BUNDLED_FEATURES}; give FEATURES", file=sys.stderr)
        return EXIT_UNUSABLE
    titles = [f"{file} ({d.id} {d.version}, sha256 {shas[d.id][:12]}…)" for file, d in school.values()]
    reports, problems = [], []
    if not args.no_rules:
        for file, definition in school.values():
            others = {k: d for k, (_, d) in school.items() if k != definition.id}
            found, trouble = run_rules(file, definition, args.rules, others=others, guards=guards)
            reports += found
            problems += [p for p in trouble if p not in problems]
        if not reports and not problems:
            print("ijime-flow: これらのワークフローの規則がありません / no rules for workflows "
                  f"{', '.join(school)} (give --rules, or --no-rules)", file=sys.stderr)
            if not scenarios:
                return EXIT_UNUSABLE
    written = write_counterexamples(reports, args.counterexamples) if args.counterexamples else []
    first = next(iter(school.values()))[0]
    scenario_report = (run_check(first, args.features or None, verbose=args.verbose, school=school,
                                 reference=reference_workflows(), guards=guards) if scenarios else None)
    missing = list(dict.fromkeys([m for r in reports for x in r.results for m in x.missing]
                                 + [m for x in (scenario_report.results if scenario_report else []) for m in x.missing]))
    from ..policy.contract_verdict import lacks

    lacking = lacks(school)
    rules_ok = not problems and all(r.failed == 0 for r in reports) and not any(x.departure for x in lacking)
    ok = rules_ok and (scenario_report is None or scenario_report.ok)
    if args.json:
        out: dict[str, Any] = {"files": [str(f) for f, _ in school.values()], "ok": ok,
                               "missing": missing, "contract_lacks": [x.to_dict() for x in lacking],
                               **rules_json(reports, problems),
                               "counterexample_files": [str(p) for p in written]}
        for entry, report in zip(out["workflows"], reports, strict=True):
            checked = school[report.workflow][1]
            entry.update({"id": checked.id, "version": checked.version, "sha256": shas[checked.id]})
        if scenario_report is not None:
            out["scenarios"] = [{"feature": r.feature, "name": r.name, "tags": r.tags, "status": r.status,
                                 "passed": r.passed, "message": r.message, "files": r.files, "missing": r.missing}
                                for r in scenario_report.results]
            out["scenario_errors"] = scenario_report.errors
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK if ok else EXIT_PROBLEMS
    print("ポリシーチェック / policy check: " + "; ".join(titles))
    if lacking or missing:
        print("契約にあってこの学校のワークフローにない要素（それを使う規則・シナリオは未確認） / contract elements the"
              " workflows lack (the rules and scenarios that need them are not checked):")
        for lack in lacking:
            print(lack.line())
        kind = {"action": "trigger", "region": "state"}  # as the rules and scenarios name them
        named = ({f"{kind.get(x.element.kind, x.element.kind)}:{x.element.id}" for x in lacking}
                 | {f"workflow:{x.workflow}" for x in lacking} | {f"state:{state}" for x in lacking for state in x.with_it})
        for element in missing:
            if element not in named:
                print(f"  未確認 {element}（契約の外 / not a contract element）")
    for line in render_rules(reports, problems):
        print(line)
    for path in written:
        print(f"  反例のシナリオ / counterexample scenario: {path}")
    if scenario_report is not None:
        print(render(scenario_report, ", ".join(str(f) for f, _ in school.values())))
    print("総合: 合格 / overall: passed" if ok else "総合: 不合格 / overall: failed")
    return EXIT_OK if ok else EXIT_PROBLEMS


def _contract_text(workflow: Path, definition: Definition) -> str:
    """The workflow's text — in the contract's ids when a ``contract-map.yaml`` beside it maps the school's."""
    from ..policy.contract_map import apply_map, load_map, map_beside

    found = map_beside(workflow)
    maps = load_map(found) if found is not None else {}
    if definition.id not in maps:
        return workflow.read_text(encoding="utf-8")
    mapped = apply_map(definition, maps[definition.id], str(found))
    return yaml.safe_dump(mapped.spec.model_dump(mode="json", by_alias=True, exclude_none=True), allow_unicode=True,
                          sort_keys=False)


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
    report = mutate(_contract_text(args.workflow, definition), [rules for _, rules in sets], file=str(args.workflow),
                    others=companions(args.workflow, definition), kinds=kinds)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(render_mutation(report)))
    return EXIT_OK if not report.survivors() else EXIT_PROBLEMS
