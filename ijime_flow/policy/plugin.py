"""The pytest plugin ``ijime_flow`` (entry point ``pytest11``): the policy-check step library.

Any project that installs ijime-flow with pytest-bdd gets the steps of :mod:`ijime_flow.policy.steps`
and :mod:`ijime_flow.policy.outcomes` (declared to pytest-bdd, with the ``ijime_scene`` fixture, by
:mod:`ijime_flow.policy.bdd`)
in its features, and the option ``--ijime-workflow FILE`` (repeatable), which replaces the workflow
a feature loads by another one of the same id: the way to run the same features against another
school's workflow (``ijime-flow check`` uses it).

Without pytest-bdd the plugin does nothing: no option, no hook. pytest refuses a plugin that implements
hooks nobody declared (``unknown hook 'pytest_bdd_after_scenario'``), so the pytest-bdd hooks live
on :class:`BddHooks`, registered only when pytest-bdd is importable, and each is marked optional (a
run with ``-p no:pytest-bdd`` does not trip over them either).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

HAS_BDD = importlib.util.find_spec("pytest_bdd") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    if not HAS_BDD:
        return
    group = parser.getgroup("ijime_flow", "ijime-flow policy checks")
    group.addoption("--ijime-workflow", action="append", default=[], metavar="FILE",
                    help="run the features against this workflow file instead of the one they name (same id)")


def pytest_configure(config: pytest.Config) -> None:
    if not HAS_BDD:
        return
    from . import bdd

    if not config.pluginmanager.has_plugin(bdd.__name__):
        config.pluginmanager.register(bdd, bdd.__name__)
    if not config.pluginmanager.has_plugin(BddHooks.name):
        config.pluginmanager.register(BddHooks(config), BddHooks.name)


class BddHooks:
    """The plugin's pytest-bdd hooks (see the module notes)."""

    name = "ijime_flow.policy.plugin.bdd"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_bdd_apply_tag(self, tag: str, function: Any) -> Any:
        """Feature tags (``@4-2``, ``@national-policy``) become registered marks: ``pytest -m 4-2`` selects
        the checks of one policy section, and ``--strict-markers`` does not trip over them."""
        self.config.addinivalue_line("markers", f"{tag}: policy section or feature tag from a .feature file")
        return getattr(pytest.mark, tag)(function)

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_before_scenario(self, request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
        """Workflow paths in a feature are read from the feature file's folder (the scene is made here, before
        the first step asks for it: pytest-bdd requests step fixtures as the steps run)."""
        request.getfixturevalue("ijime_scene").base = Path(feature.filename).resolve().parent

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_after_scenario(self, request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
        """A refusal that no step examined fails the scenario: a policy check never passes by accident."""
        if "ijime_scene" in request.fixturenames:
            request.getfixturevalue("ijime_scene").settle()
