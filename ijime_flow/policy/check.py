"""``ijime-flow check``: run policy features against any workflow file, scenario by scenario.

The features run in-process (:mod:`.runner`: gherkin-official's parser, the step library's phrases), with
the given workflow standing in for every ``ワークフロー "..." を読み込む`` of the same id. The result is a
per-scenario pass / fail list in Japanese. An undefined step, a feature that cannot be parsed, or a run in
which no scenario ran at all is a failure, never a silent pass. (Under pytest, the plugin runs the same
steps: :mod:`.plugin`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import bundled
from ..definition import Definition
from ..language.conditions import GuardFn
from .runner import CheckReport, ScenarioResult, run_features

BUNDLED_FEATURES = bundled.path("features")
BUNDLED_WORKFLOWS = bundled.path("workflows")


def reference_workflows() -> dict[str, Definition]:
    """The bundled workflows, by id: what a school's extra steps and data are told apart by (never run)."""
    from ..language.loader import validate_paths

    if not BUNDLED_WORKFLOWS.is_dir():
        return {}
    definitions, _ = validate_paths([BUNDLED_WORKFLOWS])
    return {d.id: d for d in definitions}

__all__ = ["BUNDLED_FEATURES", "BUNDLED_WORKFLOWS", "CheckReport", "ScenarioResult", "reference_workflows", "render", "run_check"]


def run_check(workflow: Path, features: list[Path] | None = None, *, verbose: bool = False,
              school: Mapping[str, tuple[Path, Definition]] | None = None,
              reference: Mapping[str, Definition] | None = None,
              guards: Mapping[str, GuardFn] | None = None) -> CheckReport:
    """Run ``features`` (default: the bundled policy features) against ``workflow``; relative workflow paths
    in their steps are read from each feature file's folder. ``school``: by id, every workflow (file,
    definition) of the school being checked — then a scenario uses those and nothing else."""
    paths = [p.resolve() for p in (features or [BUNDLED_FEATURES])]
    rootdir = BUNDLED_FEATURES.parent if not features else Path.cwd()
    report = run_features(workflow, paths, rootdir=rootdir, school=school, reference=reference, guards=guards)
    if verbose and report.output:
        import sys

        print(report.output, file=sys.stderr)
    return report


MARKS = {"pass": "合格  ", "fail": "不合格", "unchecked": "未確認"}


def render(report: CheckReport, title: str) -> str:
    """Per scenario: 合格 / 不合格 / 未確認, its tags and name, and the workflow files it ran against."""
    lines = [f"シナリオ / scenarios: {title}"]
    for result in report.results:
        tags = " ".join(f"@{t}" for t in result.tags if t not in ("response", "serious_incident", "school_year"))
        files = "、".join(Path(f).name for f in result.files) or "（ワークフローなし / no workflow）"
        lines.append(f"  {MARKS[result.status]} {tags} {result.name} — {files}".replace("   ", "  "))
        if result.status != "pass" and result.message:
            lines.extend(f"         {line}" for line in result.message.splitlines()[:4])
    for error in report.errors:
        lines.append(f"  不合格 (読み込み不可 / could not be read) {error}")
    if not report.results and not report.errors:
        lines.append("  シナリオが一つも実行されませんでした / no scenario ran")
    failed = report.failed + len(report.errors)
    lines.append(f"結果: {report.passed} 件合格、{failed} 件不合格、{report.unchecked} 件未確認（全 {len(report.results)} 件）"
                 f" / {report.passed} passed, {failed} failed, {report.unchecked} not checked")
    return "\n".join(lines)
