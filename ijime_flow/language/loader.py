"""Loading workflow files: YAML -> validated model -> reference checks -> lint -> :class:`Definition`.

Whatever is wrong with a file, the caller gets one :class:`~ijime_flow.errors.DefinitionError` listing
every problem with ``file:line:col``, never a raw YAML, pydantic or KeyError traceback.

A folder must not hold two files declaring the same workflow ``id`` (``duplicate-id``: which one is
meant would be left to the order of loading): every such file is refused, naming all of them.

Escalation targets (``escalation.to``) are checked against the workflows loaded *together*: a folder,
or every path given to :func:`validate_paths` at once (what ``ijime-flow validate a.yaml b.yaml``
means). There a target that is missing, or that cannot be opened with the criterion met, is refused
(``escalation-target``), lint or not: the escalation could never happen. A workflow loaded *alone* (one
file, or a folder holding one workflow) is checked against ``<to>.yaml`` beside it when there is such a
file — the very file :meth:`ijime_flow.Engine.load` brings along — and otherwise not at all: a policy
author redeploying one revised workflow (its target already loaded in the engine, from elsewhere)
expects it to load, and the engine still refuses to open a case while the target is not loaded.
:func:`load_text` has no folder, so it cannot check the target.

``guards``: the names of the Python guards that will be registered (``Engine.register_guard``, or the
command's ``--guards module:attr``, see :func:`.guards.load_guards`). With a collection, the lint rule
``unregistered-guard`` reports every ``guard: NAME`` not in it, at its line. The library's loaders default
to ``None``, not checked: a guard may be registered after loading, and the engine refuses to open a case
while one is missing. :func:`validate_paths` (what ``ijime-flow validate`` runs) defaults to none
registered, so a policy author hears which guards a workflow needs, and how to provide them.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from pydantic import ValidationError

from ..definition import Definition
from ..errors import DefinitionError, Problem
from .lint import Finding, check_references, lint
from .models import WorkflowDef
from .shape_messages import validation_problems
from .suggest import both, hint
from .workflow_set import duplicate_ids, escalation_findings, opens_findings
from .yaml_source import Located, parse

WORKFLOW_SUFFIXES = (".yaml", ".yml")
NOT_WORKFLOWS = ("contract-map", "calendar")  # the files beside a school's workflows that are not workflows
Loaded = tuple[Definition, Located]


Guards = Collection[str] | None


def load_text(text: str, file: str = "<text>", *, run_lint: bool = True, guards: Guards = None) -> Definition:
    """Load one workflow from YAML text. ``file`` is only used in error messages."""
    return _load_text(text, file, run_lint=run_lint, guards=guards)[0]


def _load_text(text: str, file: str, *, run_lint: bool, guards: Guards = None) -> Loaded:
    located = parse(text, file, WorkflowDef)
    if not isinstance(located.data, dict):
        raise DefinitionError([located.problem((), "ワークフローのファイルは id、version、title、roles、states、transitions"
                                                   "などのキーと値の組（マッピング）です / a workflow file must be a mapping"
                                                   " with id, version, title, roles, states and transitions")])
    try:
        spec = WorkflowDef.model_validate(located.data)
    except ValidationError as exc:
        raise DefinitionError(_validation_problems(exc, located)) from None
    except RecursionError:
        raise DefinitionError([located.problem((), "入れ子が深すぎます / the document is nested too deeply")]) from None
    defn, findings = checked_definition(spec, file, run_lint=run_lint, guards=guards)
    if findings:
        raise DefinitionError(_located(findings, located))
    return defn, located


def checked_definition(spec: WorkflowDef, file: str, *, run_lint: bool = True,
                       guards: Guards = None) -> tuple[Definition, list[Finding]]:
    """A validated model as a definition, with what the checks after the model find (references, the
    time zone, lint): the loader's own steps after reading, for a document that is already a tree (a
    mutated copy, say). An empty list: it loads."""
    defn = Definition(spec, file=file)
    findings = check_references(defn) + _timezone(spec)
    if run_lint and not findings:
        findings += lint(defn, guards=guards)
    return defn, findings


def _load_file(path: Path, *, run_lint: bool, guards: Guards = None) -> Loaded:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError([Problem(str(path), 1, 1, "", "ファイルがありません / file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "", f"UTF-8 のテキストではありません（UTF-8 で保存してください） /"
                                                            f" not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "", f"ファイルを読めません（{exc.strerror}） / cannot read the"
                                                            f" file: {exc.strerror}")]) from None
    return _load_text(text, str(path), run_lint=run_lint, guards=guards)


def load_file(path: str | Path, *, run_lint: bool = True, guards: Guards = None) -> Definition:
    """Load one workflow file, alone (its escalation target checked against ``<to>.yaml`` beside it)."""
    path = Path(path)
    loaded = _load_file(path, run_lint=run_lint, guards=guards)
    problems = _escalation_problems([(loaded, path)], known={})
    if problems:
        raise DefinitionError(problems)
    return loaded[0]


def workflow_files(path: str | Path) -> list[Path]:
    """A file as is, or the ``*.yaml`` / ``*.yml`` files of a folder (not recursive), sorted — except a school's
    map of its ids to the contract's (``contract-map.yaml``) and its school calendar (``calendar.yaml``), which
    live beside its workflows."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in WORKFLOW_SUFFIXES and p.is_file()
                      and p.stem not in NOT_WORKFLOWS)
    return [path]


def load_path(path: str | Path, *, run_lint: bool = True, known: Mapping[str, Definition] | None = None,
              guards: Guards = None) -> list[Definition]:
    """Load a file or every workflow file of a folder. Problems of all files are reported together.
    ``known``: workflows loaded before (an engine's), which escalation targets may also name."""
    definitions, problems = validate_paths([path], run_lint=run_lint, known=known, guards=guards)
    if problems:
        raise DefinitionError(problems)
    return definitions


def validate_paths(paths: Iterable[str | Path], *, run_lint: bool = True, known: Mapping[str, Definition] | None = None,
                   guards: Guards = ()) -> tuple[list[Definition], list[Problem]]:
    """Load files and folders *together*: (the definitions without problems, every problem found).
    Escalation targets are checked across all of them; ``guards`` are the guards that will be registered
    (none by default: every guard a workflow uses is reported; see the module docstring)."""
    loaded: list[tuple[Loaded, Path]] = []
    problems: list[Problem] = []
    failed: set[str] = set()  # stems of files that did not load: a target there is not reported again
    duplicates: list[Problem] = []
    for path in paths:
        files = workflow_files(path)
        if not files:
            problems.append(Problem(str(path), 1, 1, "", "このフォルダーにワークフローのファイル（*.yaml、*.yml）がありません"
                                                         " / no workflow files (*.yaml, *.yml) in this folder"))
        start = len(loaded)
        for file in files:
            try:
                loaded.append((_load_file(file, run_lint=run_lint, guards=guards), file))
            except DefinitionError as exc:
                problems.extend(exc.problems)
                failed.add(file.stem)
        if Path(path).is_dir():  # one folder: each workflow id in one file only
            duplicates += duplicate_ids([(defn, located.problem(("id",), "", at_key=True))
                                         for (defn, located), _ in loaded[start:]])
    together = duplicates + _escalation_problems(loaded, known=dict(known or {}), failed=failed)
    wrong = {p.file for p in together}
    return [defn for (defn, _), _ in loaded if defn.file not in wrong], problems + together


def _escalation_problems(loaded: list[tuple[Loaded, Path]], known: dict[str, Definition],
                         failed: set[str] | None = None) -> list[Problem]:
    pool = {**known, **{defn.id: defn for (defn, _), _ in loaded}}
    if len(loaded) == 1 and not failed:  # alone: only the file the engine would bring along can be checked
        (defn, located), file = loaded[0]
        to = defn.spec.escalation.to if defn.spec.escalation is not None else None
        if to is None:
            return []
        if to not in pool:
            beside = file.parent / f"{to}.yaml"
            if not beside.is_file() or beside.resolve() == file.resolve():
                return []  # nothing to check it against here
            try:
                target = _load_file(beside, run_lint=False)[0]
            except DefinitionError as exc:
                n = len(exc.problems)
                return [located.problem(("escalation", "to"),
                                        f"エスカレーション先のファイル {beside} に問題があり確認できません"
                                        f"（{n} 件。そのファイルを検証してください） / the escalation target file"
                                        f" {beside} has {n} problem(s):"
                                        " validate it [escalation-target]")]
            pool[target.id] = target  # another id in it: reported below as a missing target
    problems: list[Problem] = []
    for (defn, located), _ in loaded:
        escalation = defn.spec.escalation
        if escalation is not None and escalation.to not in pool and escalation.to in (failed or ()):
            continue  # its file did not load: its own problems say why
        problems += _located([*escalation_findings(defn, pool), *opens_findings(defn, pool)], located)
    return problems


def _timezone(spec: WorkflowDef) -> list[Finding]:
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = spec.timezone
        return [Finding("timezone", ("timezone",), both(f"タイムゾーン「{zone}」はありません（例: Asia/Tokyo）",
                                                        f"unknown time zone '{zone}' (e.g. Asia/Tokyo)",
                                                        hint(zone, sorted(zoneinfo.available_timezones()))))]
    return []


def _located(findings: list[Finding], located: Located) -> list[Problem]:
    problems = [located.problem(f.path, f"{f.message} [{f.rule}]", at_key=f.at_key) for f in findings]
    return sorted(problems, key=lambda p: (p.line, p.col))


def _validation_problems(exc: ValidationError, located: Located) -> list[Problem]:
    """pydantic's errors in plain words (:mod:`.shape_messages`); the rule files of :mod:`ijime_flow.policy`
    use it too, for their own models."""
    return validation_problems(exc, located, WorkflowDef if exc.title == WorkflowDef.__name__ else None)
