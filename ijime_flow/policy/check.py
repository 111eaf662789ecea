"""``ijime-flow check``: run policy features against any workflow file, scenario by scenario.

The features run in-process (:mod:`.runner`: gherkin-official's parser, the step library's phrases), with
the given workflow standing in for every ``ワークフロー "..." を読み込む`` of the same id. The result is a
per-scenario pass / fail list in Japanese. An undefined step, a feature that cannot be parsed, or a run in
which no scenario ran at all is a failure, never a silent pass. (Under pytest, the plugin runs the same
steps: :mod:`.plugin`.)
"""

from __future__ import annotations

from pathlib import Path

from .runner import CheckReport, ScenarioResult, run_features

BUNDLED_FEATURES = Path(__file__).resolve().parents[2] / "features"

__all__ = ["BUNDLED_FEATURES", "CheckReport", "ScenarioResult", "render", "run_check"]


def run_check(workflow: Path, features: list[Path] | None = None, *, verbose: bool = False) -> CheckReport:
    """Run ``features`` (default: the bundled policy features) against ``workflow``; relative paths in their
    steps are read from the project (the bundled features') folder, or the current one for given features."""
    paths = [p.resolve() for p in (features or [BUNDLED_FEATURES])]
    rootdir = BUNDLED_FEATURES.parent if not features else Path.cwd()
    report = run_features(workflow, paths, rootdir=rootdir)
    if verbose and report.output:
        import sys

        print(report.output, file=sys.stderr)
    return report


def render(report: CheckReport, title: str) -> str:
    lines = [f"ポリシーチェック / policy check: {title}"]
    for result in report.results:
        tags = " ".join(f"@{t}" for t in result.tags if t != "response")
        mark = "合格  " if result.passed else "不合格"
        lines.append(f"  {mark} {tags} {result.name}".rstrip())
        if not result.passed and result.message:
            lines.extend(f"         {line}" for line in result.message.splitlines()[:4])
    for error in report.errors:
        lines.append(f"  不合格 (読み込み不可 / could not be read) {error}")
    if not report.results and not report.errors:
        lines.append("  シナリオが一つも実行されませんでした / no scenario ran")
    lines.append(f"結果: {report.passed} 件合格、{report.failed + len(report.errors)} 件不合格（全"
                 f" {len(report.results)} 件） / {report.passed} passed, {report.failed + len(report.errors)} failed")
    return "\n".join(lines)
