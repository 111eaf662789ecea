"""The build copies the source checkout's workflows, features, rules and schema into the package
(``ijime_flow/_bundled/``), so a wheel carries them; see ``ijime_flow/bundled.py``. Everything else is in
pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"workflows": "*.yaml", "features": "*.feature", "rules": "*.yaml", "schema": "*.json"}


class BuildWithBundled(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "ijime_flow" / "_bundled"
        for folder, pattern in BUNDLED.items():
            (target / folder).mkdir(parents=True, exist_ok=True)
            for source in sorted((ROOT / folder).glob(pattern)):
                shutil.copy2(source, target / folder / source.name)


setup(cmdclass={"build_py": BuildWithBundled})
