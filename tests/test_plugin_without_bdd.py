"""The pytest plugin in a host project that has pytest but not pytest-bdd: a real, separate virtual
environment with ijime-flow installed as a user installs it (no ``bdd`` extra), and a host project
with one test of its own. The plugin must load and change nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

NO_NETWORK = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
              "Name or service not known", "Network is unreachable", "No matching distribution found",
              "Could not find a version that satisfies", "ConnectTimeout", "ReadTimeout", "ProxyError")


def _run(args: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The interpreter of a fresh virtual environment holding pytest and ijime-flow, without pytest-bdd."""
    base = tmp_path_factory.mktemp("no_bdd")
    source = base / "source"  # a copy: building in the working tree would leave build/ and egg-info there
    shutil.copytree(ROOT / "ijime_flow", source / "ijime_flow", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    env = base / "venv"
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create a virtual environment here: {exc}")
    interpreter = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    installed = _run([interpreter, "-m", "pip", "install", "--disable-pip-version-check", "-q", "pytest>=8", source],
                     cwd=base)
    if installed.returncode != 0:
        said = installed.stdout + installed.stderr
        if any(sign in said for sign in NO_NETWORK):
            pytest.skip(f"pip cannot reach the package index here: {said.strip().splitlines()[-1]}")
        pytest.fail(f"pip install failed:\n{said}")
    yield interpreter


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A project of someone else's: one passing test, its own marker, strict markers."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: theirs\naddopts = --strict-markers\n",
                                         encoding="utf-8")
    (tmp_path / "test_theirs.py").write_text("import pytest\n\n\n@pytest.mark.slow\ndef test_theirs():\n"
                                             "    assert 1 + 1 == 2\n", encoding="utf-8")
    return tmp_path


def test_the_environment_really_lacks_pytest_bdd_and_has_the_plugin(python: Path, host: Path) -> None:
    probe = _run([python, "-c", "import importlib.util, importlib.metadata as m; "
                  "print(importlib.util.find_spec('pytest_bdd') is None, "
                  "[e.value for e in m.entry_points(group='pytest11') if e.name == 'ijime_flow'])"], cwd=host)
    assert probe.stdout.strip() == "True ['ijime_flow.policy.plugin']", probe.stdout + probe.stderr


def test_a_host_project_without_pytest_bdd_runs_its_tests(python: Path, host: Path) -> None:
    result = _run([python, "-m", "pytest", "-v", "-p", "no:cacheprovider"], cwd=host)
    said = result.stdout + result.stderr
    assert "INTERNALERROR" not in said and "unknown hook" not in said, said
    assert result.returncode == 0, said
    assert "test_theirs.py::test_theirs PASSED" in result.stdout
    plugins = [line for line in result.stdout.splitlines() if line.startswith("plugins:")]
    assert plugins and "ijime-flow" in plugins[0], said  # the plugin was loaded, and did nothing


def test_the_plugin_adds_nothing_to_a_host_project_without_pytest_bdd(python: Path, host: Path) -> None:
    helped = _run([python, "-m", "pytest", "--help"], cwd=host)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "--ijime-workflow" not in helped.stdout  # no option: there are no features for it to act on
    with_plugin = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--markers"], cwd=host)
    without = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:ijime_flow", "--markers"], cwd=host)
    assert with_plugin.returncode == without.returncode == 0, with_plugin.stdout + with_plugin.stderr
    assert with_plugin.stdout == without.stdout  # the same marks: nothing registered behind the host's back


def test_with_pytest_bdd_installed_but_disabled_the_plugin_does_not_break_the_run(host: Path) -> None:
    """Here (the project's own environment, which has pytest-bdd) with pytest-bdd switched off: its hooks
    are then unknown to pytest, and the plugin's must not be an error."""
    pytest.importorskip("pytest_bdd")
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytest-bdd"], cwd=host)
    said = result.stdout + result.stderr
    assert "INTERNALERROR" not in said and result.returncode == 0, said
    assert "1 passed" in result.stdout
