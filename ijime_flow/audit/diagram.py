"""A Mermaid ``stateDiagram-v2`` of a workflow, for README files and GitHub (which renders Mermaid).

The text is built from the :class:`~ijime_flow.definition.Definition` alone and depends only on what
its canonical form (and so its SHA-256) holds: the same definition gives the same text, byte for byte,
whether it was loaded from YAML or from the store. So the states of each level are written sorted by
name (the canonical form does not keep the order of the YAML file), the edges in the order of their
first transition (the list of transitions keeps its order).

* A state's Mermaid id is its dotted path with ``.`` written ``__`` (``responding.victim_support`` ->
  ``responding__victim_support``); every state gets a ``state "<ja label>" as <id>`` line.
* A compound state is a ``state <id> { ... }`` block with ``[*] --> <initial child>``; a parallel
  state is a block holding one such block per region, the regions separated by ``--``.
* A final state gets ``<id> --> [*]`` in the block it belongs to (the top level for top-level ones).
* A moving transition is one edge per source, labelled with its trigger id (``(自動)`` added for an
  automatic one); the triggers of one source/destination pair share one edge. An edge is written in
  the innermost compound block (a region is one) holding both of its ends, otherwise at the top
  level, always after the state blocks it refers to.
* Internal actions (no ``to``) and steps from ``"*"`` (any open state) are not edges: they are listed
  in ``%%`` comment lines at the end.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..definition import Definition, StateNode
from ..language.models import TransitionDef

__all__ = ["mermaid", "mermaid_ids"]

INDENT = "    "
AUTOMATIC = "(自動)"

# Words Mermaid's stateDiagram lexer reads as keywords when they stand alone as a state id ("root" is
# the id Mermaid gives the diagram itself). Checked against mermaid 11.
_RESERVED = frozenset({"as", "class", "classdef", "click", "default", "href", "note", "root", "state", "style"})

# Characters that would end a quoted label or be read as HTML or as a Mermaid entity code (#quot;)
_LABEL_ESCAPES = str.maketrans({'"': "”", "<": "＜", ">": "＞", "#": "＃", "\n": " ", "\r": " ", "\t": " "})


def mermaid_ids(defn: Definition) -> dict[str, str]:
    """The Mermaid id of every state path: the path with ``.`` written ``__``.

    An id Mermaid would misread (a keyword such as ``note``, or one ending in ``_start`` / ``_end``,
    the ids Mermaid gives the ``[*]`` of a block) gets ``_S`` appended, and an id already taken (a
    top-level ``a__b`` next to ``a.b``) ``_S2``, ``_S3``...; state names are lower case, so these never
    clash with a plain id."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for path in sorted(defn.nodes):
        base = path.replace(".", "__")
        candidate = base
        if base in _RESERVED or base.endswith(("_start", "_end")):
            candidate = f"{base}_S"
        number = 2
        while candidate in used:
            candidate = f"{base}_S{number}"
            number += 1
        ids[path] = candidate
        used.add(candidate)
    return ids


def mermaid(defn: Definition) -> str:
    """The workflow as Mermaid ``stateDiagram-v2`` text (no code fence), ending with a newline."""
    return _Diagram(defn).render()


def _label(text: str) -> str:
    return " ".join(text.translate(_LABEL_ESCAPES).split()) or "-"


class _Diagram:
    def __init__(self, defn: Definition) -> None:
        self.defn = defn
        self.ids = mermaid_ids(defn)
        # block (a compound state's path, or None for the top level) -> [(src id, dst id), ...] and labels
        self.edges: dict[str | None, list[tuple[str, str]]] = {}
        self.labels: dict[tuple[str, str], list[str]] = {}
        self.internal: list[str] = []
        self.from_any: list[str] = []
        self._collect(defn.spec.transitions)

    # -- transitions ------------------------------------------------------------------------------
    def _collect(self, transitions: Iterable[TransitionDef]) -> None:
        for t in transitions:
            if t.to is None:
                _append_once(self.internal, t.trigger)
                continue
            if "*" in t.from_:
                _append_once(self.from_any, f"{t.trigger} --> {self._id(t.to)}")
                continue
            label = f"{t.trigger} {AUTOMATIC}" if t.automatic else t.trigger
            for src in t.from_:
                pair = (self._id(src), self._id(t.to))
                if pair not in self.labels:
                    self.labels[pair] = []
                    self.edges.setdefault(self._block(src, t.to), []).append(pair)
                _append_once(self.labels[pair], label)

    def _id(self, path: str) -> str:
        return self.ids.get(path) or path.replace(".", "__")

    def _block(self, src: str, dst: str) -> str | None:
        """The innermost compound state (a region is one) holding both ends; None: the top level."""
        if src not in self.defn.nodes or dst not in self.defn.nodes:
            return None
        around_dst = set(self._proper_ancestors(dst))
        for path in self._proper_ancestors(src):
            if path in around_dst and self.defn.nodes[path].kind == "compound":
                return path
        return None

    def _proper_ancestors(self, path: str) -> list[str]:
        return list(self.defn.ancestors(path))[1:]

    # -- text -------------------------------------------------------------------------------------
    def render(self) -> str:
        spec = self.defn.spec
        lines = ["stateDiagram-v2", f"{INDENT}[*] --> {self._id(spec.initial)}"]
        top = sorted(path for path, node in self.defn.nodes.items() if node.parent is None)
        lines += self._body(top, None, 1)
        if self.internal:
            lines.append(f"{INDENT}%% internal actions (no state change): {', '.join(self.internal)}")
        if self.from_any:
            lines.append(f"{INDENT}%% from any open state: {', '.join(self.from_any)}")
        return "\n".join(lines) + "\n"

    def _body(self, children: Iterable[str], block: str | None, depth: int) -> list[str]:
        """The states of one block, then its edges, then ``--> [*]`` of its final states."""
        pad = INDENT * depth
        lines: list[str] = []
        finals: list[str] = []
        for path in children:
            node = self.defn.nodes[path]
            lines += self._state(node, depth)
            if node.final:
                finals.append(self.ids[path])
        for src, dst in self.edges.get(block, []):
            lines.append(f"{pad}{src} --> {dst} : {', '.join(self.labels[(src, dst)])}")
        lines += [f"{pad}{sid} --> [*]" for sid in finals]
        return lines

    def _state(self, node: StateNode, depth: int) -> list[str]:
        pad = INDENT * depth
        sid = self.ids[node.path]
        lines = [f'{pad}state "{_label(node.spec.ja)}" as {sid}']
        if node.kind == "atomic":
            return lines
        lines.append(f"{pad}state {sid} {{")
        if node.kind == "compound":
            assert node.spec.initial is not None  # the language requires it
            lines.append(f"{pad}{INDENT}[*] --> {self._id(f'{node.path}.{node.spec.initial}')}")
            lines += self._body(sorted(node.children), node.path, depth + 1)
        else:
            for index, region in enumerate(sorted(node.children)):
                if index:
                    lines.append(f"{pad}{INDENT}--")
                lines += self._state(self.defn.nodes[region], depth + 1)
            # edges between regions (which a statechart does not allow) or from a region to its
            # parallel state fall back to an enclosing block, so nothing is written here
        lines.append(f"{pad}}}")
        return lines


def _append_once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
