"""Commands on workflows and cases: validate, check, diagram, schema, demo, history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..engine import Engine
from ..errors import DefinitionError, StoredDefinitionError
from ..events import parse_event
from ..language.loader import load_path
from ..privacy.sealing import open_events
from ..store import redact_url
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_UNUSABLE,
    Unusable,
    emit,
    guards_of,
    open_existing,
    verdict,
)

GUARDS_HELP = ("ワークフローの guard: が使う Python の関数（module:attr、複数可） / the Python guards the workflow's"
               " `guard:` conditions use (module:attr: a mapping name -> callable, or one callable; repeatable)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The workflow commands, added to the ``ijime-flow`` parser."""
    p = sub.add_parser("validate", help="check workflow files (exit 1 with one file:line:col line per problem)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="workflow file(s) or folder(s) of *.yaml files")
    p.add_argument("--no-lint", action="store_true", help="check shape and references only, skip lint rules")
    p.add_argument("--guards", action="append", metavar="MODULE:ATTR", help=GUARDS_HELP)
    p.set_defaults(run=_validate)


    p = sub.add_parser("check", help="check a workflow against the policy: its rules on every reachable configuration,"
                                     " and the policy features (exit 1 when a rule or a scenario fails)")
    p.add_argument("--workflow", type=Path, required=True, action="append", metavar="FILE_OR_FOLDER",
                   help="学校のワークフロー（ファイルまたはフォルダ、複数可） / the school's workflow files or folder"
                        " (repeatable): every workflow of the school, checked together, and nothing else")
    p.add_argument("features", nargs="*", type=Path, metavar="FEATURES",
                   help="feature files or folders (default: the bundled policy features)")
    p.add_argument("--rules", type=Path, action="append", metavar="PATH",
                   help="規則ファイルまたはフォルダ / rule files or folders (default: the bundled rules for the workflow's id)")
    p.add_argument("--contract-map", type=Path, metavar="FILE",
                   help="学校の id と契約の id の対応表 / the school's ids for the contract's (default: contract-map.yaml"
                        " beside each workflow file)")
    p.add_argument("--guards", action="append", metavar="MODULE:ATTR", help=GUARDS_HELP)
    p.add_argument("--no-rules", action="store_true", help="run the scenarios only")
    p.add_argument("--no-scenarios", action="store_true", help="check the rules only (not the scenarios)")
    p.add_argument("--counterexamples", type=Path, metavar="DIR",
                   help="反例をシナリオとして書き出すフォルダ / write each counterexample as a feature file into DIR")
    p.add_argument("--json", action="store_true", help="the results as one JSON object")
    p.set_defaults(run=_check, quiet_engine=True)


    p = sub.add_parser("mutate", help="make rule-breaking copies of a workflow and check each against the policy rules:"
                                      " the score, and every copy no rule detects (exit 1 when any survives)")
    p.add_argument("--workflow", type=Path, required=True, metavar="FILE", help="the workflow file to mutate")
    p.add_argument("--rules", type=Path, action="append", metavar="PATH",
                   help="規則ファイルまたはフォルダ / rule files or folders (default: the bundled rules for the workflow's id)")
    p.add_argument("--kinds", help="comma-separated mutant kinds (default: all)")
    p.add_argument("--json", action="store_true", help="the results as one JSON object")
    p.set_defaults(run=_mutate, quiet_engine=True)


    p = sub.add_parser("diagram", help="print a workflow as a Mermaid stateDiagram-v2")
    p.add_argument("path", type=Path, metavar="FILE", help="workflow file")
    p.set_defaults(run=_diagram)


    p = sub.add_parser("schema", help="print the JSON Schema of the workflow language")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p.set_defaults(run=_schema)


    p = sub.add_parser("demo", help="run a realistic case through the response workflow into an SQLite file")
    p.add_argument("--db", type=Path, default=Path("ijime-flow-demo.db"), help="SQLite file (default: %(default)s)")
    p.add_argument("--workflows", type=Path, help="workflows folder (default: ./workflows or the source checkout's)")
    p.set_defaults(run=_demo)


    p = sub.add_parser("history", help="a case's timeline (without CASE: the list of cases)")
    p.add_argument("--db", required=True, help="SQLite file or postgresql:// URL")
    p.add_argument("case", nargs="?", metavar="CASE", help="case id")
    p.add_argument("--json", action="store_true", help="the events as stored (canonical JSON)")
    p.set_defaults(run=_history)



def _validate(args: argparse.Namespace) -> int:
    """Every file given is checked together (an escalation may name a workflow of another file)."""
    from ..calendars.file import CALENDAR_FILE, load_calendar
    from ..language.loader import validate_paths

    calendars = [Path(p) / CALENDAR_FILE if Path(p).is_dir() else Path(p) for p in args.paths]
    calendars = [c for c in calendars if c.name == CALENDAR_FILE and c.is_file()]
    paths = [p for p in args.paths if Path(p).name != CALENDAR_FILE]  # a calendar named alone is not a workflow
    definitions, problems = validate_paths(paths, run_lint=not args.no_lint, guards=sorted(guards_of(args))) if paths \
        else ([], [])
    for defn in definitions:
        print(f"ok: {defn.file} ({defn.id} {defn.version}, sha256 {defn.sha256[:16]}…)")
    for calendar in calendars:  # the school calendar beside the workflows (学校の暦)
        try:
            load_calendar(calendar)
            print(f"ok: {calendar} (学校の暦 / school calendar)")
        except DefinitionError as exc:
            problems = [*problems, *exc.problems]
    for problem in problems:
        print(str(problem))
    return EXIT_PROBLEMS if problems else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from .check import run_check_command

    return run_check_command(args)


def _mutate(args: argparse.Namespace) -> int:
    from .check import run_mutate_command

    return run_mutate_command(args)


def _diagram(args: argparse.Namespace) -> int:
    from ..audit.diagram import mermaid

    try:
        definition = load_path(args.path)[0]
    except DefinitionError as exc:
        for problem in exc.problems:
            print(str(problem))
        return EXIT_PROBLEMS
    sys.stdout.write(mermaid(definition) + "\n")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from ..language.schema import workflow_schema_text

    emit(workflow_schema_text(), args.output)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ..audit.timeline import render_timeline
    from .demo import find_workflows, run_demo

    try:
        workflows = find_workflows(args.workflows)
    except FileNotFoundError as exc:
        print(f"ijime-flow: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    with Engine(args.db) as engine:
        engine.load(workflows)
        case = run_demo(engine, say=print)
        print()
        print(render_timeline(engine.definition("response"), case.history()))
        print()
        report = engine.verify(case.id)
        print(verdict(report.ok, report.cases, report.events, len(report.problems)))
        for problem in report.problems:
            print(f"  {problem}")
        print(f"\nSQLite: {args.db}  case: {case.id}")
        print(f"  ijime-flow history --db {args.db} {case.id}\n  ijime-flow verify --db {args.db}\n"
              f"  ijime-flow report --db {args.db} {case.id} -o case.md\n"
              f"  ijime-flow export --db {args.db} {case.id} -o case.jsonl   # then: ijime-flow verify case.jsonl\n"
              f"  ijime-flow cases --db {args.db}")
        return EXIT_OK if report.ok else EXIT_PROBLEMS


def _history(args: argparse.Namespace) -> int:
    from ..audit.timeline import render_timeline, states_label

    with open_existing(args.db) as engine:
        if args.case is None:
            if args.json:
                print(json.dumps(engine.case_ids(), ensure_ascii=False))
                return EXIT_OK
            listed = engine.cases()  # the projection: no case is loaded
            for row in listed:
                try:
                    runtime = engine.runtime_for(row.definition_sha256)
                except StoredDefinitionError:  # its text cannot be read: the states as the projection has them
                    runtime = None
                defn = runtime.definition if runtime else None
                print(f"{row.case_id}  {row.school or '-'}  {row.workflow}  seq {row.seq}  {states_label(defn, row.states)}")
            if not listed:
                print("(no cases)")
            return EXIT_OK
        rows = engine.store.read_case(args.case)
        if not rows:
            raise Unusable(f"事案 {args.case} は記録にありません / no case '{args.case}' in {redact_url(args.db)}")
        if args.json:
            print(json.dumps([json.loads(row.body) for row in rows], ensure_ascii=False, indent=2))
            return EXIT_OK
        events = open_events(engine.keys, [parse_event(row.body, row.case_id, row.seq) for row in rows])  # where keys exist
        pin = events[0].definition
        runtime = engine.runtime_for(pin.sha256) if pin else None
        print(render_timeline(runtime.definition if runtime else None, events))
        return EXIT_OK
