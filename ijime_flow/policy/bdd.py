"""The step library under pytest-bdd: every phrase of :mod:`.phrases` declared as a pytest-bdd step, and the
``ijime_scene`` fixture the steps take (one :class:`~.scene.Scene` per scenario). Registered by the pytest
plugin (:mod:`.plugin`) when pytest-bdd is installed; ``ijime-flow check`` does not need it (:mod:`.runner`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import parsers, step

from .library import library
from .scene import Scene


def scene_fixture(request: pytest.FixtureRequest) -> Scene:
    overrides = [Path(p).resolve() for p in request.config.getoption("ijime_workflow") or []]
    return Scene(rootdir=Path(request.config.rootpath), overrides=overrides)


ijime_scene = pytest.fixture(name="ijime_scene")(scene_fixture)

for _phrase in library():  # each becomes a fixture of this module (pytest-bdd finds steps that way)
    step(parsers.re(_phrase.pattern.pattern))(_phrase.func)
