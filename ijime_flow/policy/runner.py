"""Running feature files in-process, as ``ijime-flow check`` does: Gherkin read by gherkin-official (the
Cucumber project's parser; its *pickles* are the scenarios as they run — background first, one per row of
an outline's examples) and each step run by the step library's phrase it matches (:mod:`.phrases`). No
pytest, no start-up per run; the workflows a run's scenarios load are read once.

What pytest-bdd would fail fails here too: an undefined step, a feature that cannot be parsed, a step
that raises, a refusal no step examined at the end of a scenario (:meth:`Scene.settle`), and a run in
which no scenario ran at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..definition import Definition
from ..errors import IjimeFlowError, UnknownWorkflow
from ..language.conditions import GuardFn
from .elements import has
from .library import matching
from .parse import NotChecked, normalise
from .scene import PolicyCheckFailed, Scene


@dataclass
class ScenarioResult:
    feature: str
    name: str
    tags: list[str]
    status: str  # "pass" 合格, "fail" 不合格, "unchecked" 未確認 (the workflows lack a contract element it needs)
    message: str = ""
    files: list[str] = field(default_factory=list)  # the workflow files it ran against
    missing: list[str] = field(default_factory=list)  # "kind:id" of what it needed and the workflows lack

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class CheckReport:
    workflow: Path
    results: list[ScenarioResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # feature files that could not be read or parsed
    output: str = ""  # each failing scenario with its step and why

    @property
    def passed(self) -> int:
        return sum(r.status == "pass" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status == "fail" for r in self.results)

    @property
    def unchecked(self) -> int:
        return sum(r.status == "unchecked" for r in self.results)

    @property
    def ok(self) -> bool:
        """No departure: nothing failed and something was checked (未確認 is not a failure)."""
        return self.passed > 0 and not self.failed and not self.errors


def feature_files(paths: list[Path]) -> list[Path]:
    """The ``.feature`` files of ``paths`` (files as given, folders searched recursively, in name order)."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.feature")) if path.is_dir() else [path])
    return out


def run_features(workflow: Path, features: list[Path], *, rootdir: Path,
                 school: Mapping[str, tuple[Path, Definition]] | None = None,
                 reference: Mapping[str, Definition] | None = None,
                 guards: Mapping[str, GuardFn] | None = None) -> CheckReport:
    """Run every scenario of ``features`` with ``workflow`` standing in for the workflow file of its id
    that a scenario loads (``ワークフロー "..." を読み込む``); relative paths in steps are read from the
    feature file's folder. ``school`` (``check``): by id, the only workflows (file, definition) a scenario
    may load — a scenario that needs one the school lacks is 未確認; ``reference``: the workflows "extra" steps
    and data are measured against (:mod:`.bridge`)."""
    report = CheckReport(workflow.resolve())
    loaded: dict[tuple[Any, ...], Any] = {}  # the workflows read, shared by every scenario of the run
    failures: list[str] = []
    for file in feature_files(features):
        try:
            document, pickles = _parse(file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            report.errors.append(f"{file}: {_first_line(exc)}")
            continue
        feature = document.get("feature") or {}
        keywords, rows = _ast(feature)
        for pickle in pickles:
            scene = Scene(rootdir=rootdir, overrides=[report.workflow], loaded=loaded, school=school,
                          base=file.resolve().parent, reference=reference, guards=dict(guards or {}))
            status, message, missing = _play(scene, pickle, keywords)
            if status == "fail" and scene.skipped:  # what it left out may be why: not a departure it showed
                status, missing = "unchecked", list(scene.skipped)
                left = ", ".join(scene.skipped)
                message = (f"準備の手順 {left} がこの学校にないため省いた後、次の手順が成り立ちません（未確認）"
                           f" / left out {left} (the school lacks it), then: {message}")
            needed = _needs(pickle, school)
            if needed:  # the scenario is about something the school does not have
                status, missing, message = "unchecked", needed, (f"このシナリオが確かめる {', '.join(needed)} がこの学校のワーク"
                                                                 f"フローにありません（未確認） / the school's workflows lack"
                                                                 f" what this scenario checks: {', '.join(needed)}")
            name = pickle["name"]
            row = next((rows[i] for i in pickle["astNodeIds"][1:] if i in rows), None)
            if row is not None:  # an outline's example: show its values
                name = f"{name} [{'-'.join(row)}]"
            tags = [t["name"].lstrip("@") for t in pickle.get("tags", [])]
            report.results.append(ScenarioResult(feature.get("name", ""), name, tags, status, message,
                                                 list(dict.fromkeys(scene.files)), missing))
            if status == "fail":
                failures.append(f"{file}: {name}\n  {message}")
    report.output = "\n".join(failures)
    return report


def _play(scene: Scene, pickle: Mapping[str, Any], keywords: Mapping[str, str]) -> tuple[str, str, list[str]]:
    """Run one scenario's steps: (status, why — the step first —, the contract elements it lacked)."""
    for item in pickle["steps"]:
        text = item["text"]
        said = f"{keywords.get(item['astNodeIds'][0], '').strip()} {text}".strip()
        found = matching(text)
        if not found:
            return "fail", f"未定義のステップ / undefined step: {said}", []
        phrase, arguments = found[0]
        kwargs: dict[str, Any] = {"ijime_scene": scene, **arguments}
        table = (item.get("argument") or {}).get("dataTable")
        if table is not None:
            kwargs["datatable"] = [[cell["value"] for cell in row["cells"]] for row in table["rows"]]
        try:
            for kind in ("trigger", "state", "fact", "deadline"):  # what the step names must be in the workflow
                if kind in arguments:
                    scene.require(kind, normalise(arguments[kind]))
            phrase.func(**kwargs)
        except NotChecked as exc:
            return "unchecked", f"{said}\n{exc}", exc.missing
        except UnknownWorkflow as exc:
            return "unchecked", f"{said}\n{exc}", [f"workflow:{exc.workflow_id}"] if exc.workflow_id else []
        except (PolicyCheckFailed, IjimeFlowError) as exc:
            return "fail", f"{said}\n{exc}", []
        except Exception as exc:  # a step the library did not foresee: the scenario fails, the run goes on
            return "fail", f"{said}\n{type(exc).__name__}: {exc}", []
    try:
        scene.settle()
    except PolicyCheckFailed as exc:
        return "fail", str(exc), []
    return "pass", "", []


def _needs(pickle: Mapping[str, Any], school: Mapping[str, tuple[Path, Definition]] | None) -> list[str]:
    """``check``: the elements a scenario's ``@needs-ID`` tags name that none of the school's workflows has (a
    trigger or a state): what the scenario is about, even when no step of it names it."""
    if school is None:
        return []
    out = []
    for tag in pickle.get("tags", []):
        name = tag["name"].lstrip("@")
        if name.startswith("needs-"):
            wanted = name[len("needs-"):]
            if not any(has(d, "step", wanted) for _, d in school.values()):
                out.append(f"trigger:{wanted}")
    return out


def _parse(file: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from gherkin.parser import Parser
    from gherkin.pickles.compiler import Compiler

    text = file.read_text(encoding="utf-8")
    try:
        document: dict[str, Any] = cast("dict[str, Any]", Parser().parse(text))
    except Exception as exc:  # gherkin's CompositeParserException and friends: say where, in plain words
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise ValueError("Gherkin として読めません / not valid Gherkin: " + " ".join(lines[:3])) from None
    document["uri"] = str(file)
    return document, cast("list[dict[str, Any]]", Compiler().compile(cast(Any, document)))


def _ast(feature: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """By AST id: each step's keyword (前提, もし, ならば, かつ …) and each example row's values."""
    keywords: dict[str, str] = {}
    rows: dict[str, list[str]] = {}
    for node in _nodes(feature):
        for step in node.get("steps", []):
            keywords[step["id"]] = step.get("keyword", "")
        for examples in node.get("examples", []):
            for row in examples.get("tableBody", []):
                rows[row["id"]] = [cell["value"] for cell in row["cells"]]
    return keywords, rows


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for child in node.get("children", []):
        for kind in ("background", "scenario", "rule"):
            if kind in child:
                yield child[kind]
                if kind == "rule":
                    yield from _nodes(child[kind])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

