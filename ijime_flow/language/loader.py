"""Loading workflow files: YAML -> validated model -> reference checks -> lint -> :class:`Definition`.

Whatever is wrong with a file, the caller gets one :class:`~ijime_flow.errors.DefinitionError` listing
every problem with ``file:line:col``, never a raw YAML, pydantic or KeyError traceback.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..definition import Definition
from ..errors import DefinitionError, Problem
from .conditions import CONDITION_TAGS
from .lint import Finding, check_references, lint
from .models import WorkflowDef
from .yaml_source import Located, format_path, parse

WORKFLOW_SUFFIXES = (".yaml", ".yml")


def load_text(text: str, file: str = "<text>", *, run_lint: bool = True) -> Definition:
    """Load one workflow from YAML text. ``file`` is only used in error messages."""
    located = parse(text, file)
    if not isinstance(located.data, dict):
        raise DefinitionError([located.problem(
            (), "a workflow file must be a mapping with id, version, title, roles, states and transitions")])
    try:
        spec = WorkflowDef.model_validate(located.data)
    except ValidationError as exc:
        raise DefinitionError(_validation_problems(exc, located)) from None
    except RecursionError:
        raise DefinitionError([located.problem((), "the document is nested too deeply")]) from None
    defn = Definition(spec, file=file)
    findings = check_references(defn) + _timezone(spec)
    if run_lint and not findings:
        findings += lint(defn)
    if findings:
        raise DefinitionError(_located(findings, located))
    return defn


def load_file(path: str | Path, *, run_lint: bool = True) -> Definition:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError([Problem(str(path), 1, 1, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "", f"cannot read the file: {exc.strerror}")]) from None
    return load_text(text, str(path), run_lint=run_lint)


def workflow_files(path: str | Path) -> list[Path]:
    """A file as is, or the ``*.yaml`` / ``*.yml`` files of a folder (not recursive), sorted."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in WORKFLOW_SUFFIXES and p.is_file())
    return [path]


def load_path(path: str | Path, *, run_lint: bool = True) -> list[Definition]:
    """Load a file or every workflow file of a folder. Problems of all files are reported together."""
    files = workflow_files(path)
    if not files:
        raise DefinitionError([Problem(str(path), 1, 1, "", "no workflow files (*.yaml, *.yml) in this folder")])
    loaded: list[Definition] = []
    problems: list[Problem] = []
    for file in files:
        try:
            loaded.append(load_file(file, run_lint=run_lint))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    return loaded


def _timezone(spec: WorkflowDef) -> list[Finding]:
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [Finding("timezone", ("timezone",), f"unknown time zone '{spec.timezone}' (e.g. Asia/Tokyo)")]
    return []


def _located(findings: list[Finding], located: Located) -> list[Problem]:
    problems = [located.problem(f.path, f"{f.message} [{f.rule}]", at_key=f.at_key) for f in findings]
    return sorted(problems, key=lambda p: (p.line, p.col))


def _validation_problems(exc: ValidationError, located: Located) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = [part for part in err["loc"] if part not in CONDITION_TAGS and part != "[key]"]
        kind, msg = err["type"], err["msg"]
        at_key = False
        if kind == "extra_forbidden":
            msg, at_key = f"unknown field '{loc[-1]}'", True
        elif kind == "missing":
            msg = f"missing required field '{loc[-1]}'"
            located_problem = located.problem(loc[:-1], msg, at_key=True)
            problems.append(Problem(located_problem.file, located_problem.line, located_problem.col,
                                    format_path(loc), msg))
            continue
        elif "[key]" in err["loc"]:
            msg, at_key = f"'{loc[-1]}' is not a valid name: {msg.lower()} (lower-case ASCII snake_case)", True
        else:
            msg = msg.removeprefix("Value error, ")
            msg = f"{msg} (got {_short(err.get('input'))})" if kind.endswith("_type") else msg
        problems.append(located.problem(loc, msg, at_key=at_key))
    return sorted(problems, key=lambda p: (p.line, p.col))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
