"""What the checks after the model find, and where: a :class:`Finding` names its rule and its path in the
document, which the loader turns into ``file:line:col``. Shared by :mod:`.lint` (reference checks and the
first lint rules), :mod:`.lint_rules` (the lint rules on deadlines, final states and guards) and
:mod:`.workflow_set`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..definition import Definition
from .models import StateDef

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    rule: str
    path: Path
    message: str
    at_key: bool = False  # point at the key (the state's name) rather than its value


def state_doc_paths(defn: Definition) -> dict[str, Path]:
    """Dotted state path -> path inside the document (``states.responding.parallel.victim_support``)."""
    out: dict[str, Path] = {}

    def walk(states: dict[str, StateDef], dotted: str, doc: Path) -> None:
        for name, spec in states.items():
            here = f"{dotted}.{name}" if dotted else name
            out[here] = (*doc, name)
            if spec.states:
                walk(spec.states, here, (*doc, name, "states"))
            if spec.parallel:
                walk(spec.parallel, here, (*doc, name, "parallel"))

    walk(defn.spec.states, "", ("states",))
    return out
