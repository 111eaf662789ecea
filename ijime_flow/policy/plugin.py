"""The pytest plugin ``ijime_flow`` (entry point ``pytest11``): the policy-check step library.

Any project that installs ijime-flow with pytest-bdd gets the steps of :mod:`ijime_flow.policy.steps`
and :mod:`ijime_flow.policy.outcomes` (with the ``ijime_scene`` fixture of :mod:`ijime_flow.policy.scene`)
in its features, and the option ``--ijime-workflow FILE`` (repeatable), which replaces the workflow
a feature loads by another one of the same id: the way to run the same features against another
school's workflow (``ijime-flow check`` uses it). Without pytest-bdd the plugin does nothing.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

HAS_BDD = importlib.util.find_spec("pytest_bdd") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ijime_flow", "ijime-flow policy checks")
    group.addoption("--ijime-workflow", action="append", default=[], metavar="FILE",
                    help="run the features against this workflow file instead of the one they name (same id)")


_config: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config
    if HAS_BDD:
        from . import outcomes, scene, steps

        for module in (scene, steps, outcomes):
            if not config.pluginmanager.has_plugin(module.__name__):
                config.pluginmanager.register(module, module.__name__)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Feature tags (``@4-2``, ``@national-policy``) become registered marks: ``pytest -m 4-2`` selects
    the checks of one policy section, and ``--strict-markers`` does not trip over them."""
    if _config is not None:
        _config.addinivalue_line("markers", f"{tag}: policy section or feature tag from a .feature file")
    return getattr(pytest.mark, tag)(function)


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """A refusal that no step examined fails the scenario: a policy check never passes by accident."""
    if "ijime_scene" in request.fixturenames:
        request.getfixturevalue("ijime_scene").settle()
