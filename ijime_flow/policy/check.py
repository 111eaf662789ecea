"""``ijime-flow check``: run policy features against any workflow file, scenario by scenario.

The features run under pytest with pytest-bdd and the step library (:mod:`ijime_flow.policy.steps`);
``--ijime-workflow`` makes every ``ワークフロー "..." を読み込む`` step load the given file instead.
The result is a per-scenario pass / fail list in Japanese. An undefined step, a feature that cannot
be parsed, or a run in which no scenario ran at all is a failure, never a silent pass.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLED_FEATURES = Path(__file__).resolve().parents[2] / "features"


@dataclass
class ScenarioResult:
    feature: str
    name: str
    tags: list[str]
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    workflow: Path
    results: list[ScenarioResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # collection errors: unreadable features, bad modules
    output: str = ""  # what pytest printed

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return bool(self.results) and not self.failed and not self.errors


class _Collector:
    """A pytest plugin object gathering one result per scenario."""

    def __init__(self) -> None:
        self.meta: dict[str, tuple[str, str, list[str]]] = {}
        self.errors: dict[str, str] = {}
        self.outcomes: dict[str, tuple[bool, str]] = {}
        self.collect_errors: list[str] = []

    def pytest_bdd_before_scenario(self, request: Any, feature: Any, scenario: Any) -> None:
        self.meta[request.node.nodeid] = (feature.name, scenario.name, sorted(scenario.tags))

    def pytest_bdd_step_error(self, request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                              step_func_args: Any, exception: BaseException) -> None:
        self.errors.setdefault(request.node.nodeid, f"{step.keyword} {step.name}\n{exception}")

    def pytest_bdd_step_func_lookup_error(self, request: Any, feature: Any, scenario: Any, step: Any,
                                          exception: BaseException) -> None:
        self.errors.setdefault(request.node.nodeid,
                               f"未定義のステップ / undefined step: {step.keyword} {step.name}")

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or report.failed:
            if report.nodeid in self.outcomes and self.outcomes[report.nodeid][0] is False:
                return
            message = "" if report.passed else _last_line(report.longreprtext)
            self.outcomes[report.nodeid] = (report.passed, message)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(_last_line(report.longreprtext) or f"collection failed: {report.nodeid}")

    def results(self) -> list[ScenarioResult]:
        out = []
        for nodeid, (passed, message) in self.outcomes.items():
            feature, name, tags = self.meta.get(nodeid, ("", nodeid, []))
            if nodeid.endswith("]") and "[" in nodeid:  # an outline's example: show its values
                name = f"{name} [{nodeid[nodeid.rindex('[') + 1:-1]}]"
            out.append(ScenarioResult(feature, name, tags, passed, self.errors.get(nodeid, message) if not passed else ""))
        return out


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return "\n".join(errors[-3:]) if errors else (lines[-1] if lines else "")


def run_check(workflow: Path, features: list[Path] | None = None, *, verbose: bool = False) -> CheckReport:
    """Run ``features`` (default: the bundled policy features) against ``workflow``."""
    import pytest

    feature_paths = [p.resolve() for p in (features or [BUNDLED_FEATURES])]
    rootdir = BUNDLED_FEATURES.parent if not features else Path.cwd()
    report = CheckReport(workflow.resolve())
    collector = _Collector()
    with tempfile.TemporaryDirectory(prefix="ijime-check-") as tmp:
        module = Path(tmp) / "test_ijime_policy_check.py"
        module.write_text(textwrap.dedent(f"""\
            from pytest_bdd import scenarios
            scenarios(*{[str(p) for p in feature_paths]!r})
        """), encoding="utf-8")
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n",
                       encoding="utf-8")
        args = [str(module), "-c", str(ini), "--rootdir", str(rootdir), "-p", "no:cacheprovider", "--import-mode=importlib",
                "--ijime-workflow", str(report.workflow), "-q", "--no-header", "-rN"]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            pytest.main(args, plugins=[collector])
        report.output = buffer.getvalue()
    report.results = collector.results()
    report.errors = collector.collect_errors
    if verbose:
        print(report.output)
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
