"""What ships with the package: the shipped workflows, the policy features, the policy rules and the JSON
Schema of the language (the contract is ``policy/contract.yaml``). In a source checkout they are the folders
at its root (``workflows/``, ``features/``, ``rules/``, ``schema/``), the files a school edits and a test
keeps current; a wheel carries copies of them inside the package (``ijime_flow/_bundled/``, made by the
build: ``setup.py``), read with :mod:`importlib.resources`. ``path(kind)`` is the folder either way.

    engine.load_bundled()              # both shipped workflows
    engine.load("bundled:response")    # one of them
    ijime-flow init DIR                # copies to edit: DIR/workflows, DIR/rules, DIR/features
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

Kind = Literal["workflows", "features", "rules", "schema"]
KINDS: tuple[Kind, ...] = ("workflows", "features", "rules", "schema")
PREFIX = "bundled:"
_CHECKOUT = Path(__file__).resolve().parent.parent


def path(kind: Kind) -> Path:
    """The folder of ``kind``: the package's copy (an installed wheel), else the source checkout's."""
    packaged = Path(str(resources.files("ijime_flow") / "_bundled" / kind))
    if packaged.is_dir():
        return packaged
    return _CHECKOUT / kind


def workflow(name: str) -> Path:
    """``bundled:response`` (or ``response``): the shipped workflow file of that id."""
    from .language.loader import workflow_files  # not the calendar nor the contract map beside them

    stem = name[len(PREFIX):] if name.startswith(PREFIX) else name
    found = path("workflows") / f"{stem}.yaml"
    if not found.is_file() or found not in workflow_files(found.parent):
        known = ", ".join(sorted(p.stem for p in workflow_files(path("workflows"))))
        raise FileNotFoundError(f"同梱のワークフロー「{stem}」はありません（{known}） / no bundled workflow '{stem}' ({known})")
    return found
