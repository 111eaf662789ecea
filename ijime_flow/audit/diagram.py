"""A Mermaid ``stateDiagram-v2`` of a workflow, for README files and GitHub (which renders Mermaid), written
for the people who follow the procedure: school staff and board officers read it in Japanese.

The text is built from the :class:`~ijime_flow.definition.Definition` alone and depends only on what
its canonical form (and so its SHA-256) holds: the same definition gives the same text, byte for byte,
whether it was loaded from YAML or from the store. The canonical form does not keep the order of the
states in the YAML file, only the order of the transitions, so the order of the states comes from them.

* States are written in main-line order, so the diagram reads top to bottom: in each block the initial
  state first, then the states its steps lead to, breadth first, each state's steps taken in the order
  they are declared (a step from ``"*"``, any open state, after the others); the states no step reaches
  in the order of the first step naming them, then by name; the final states of the block last.
  Parallel regions come in the order of the first step naming them.
* A state's Mermaid id is its dotted path with ``.`` written ``__`` (``responding.victim_support`` ->
  ``responding__victim_support``); every state gets a ``state "<ja label>" as <id>`` line.
* A compound state is a ``state <id> { ... }`` block with ``[*] --> <initial child>``; a parallel
  state is a block holding one such block per region, the regions separated by ``--``.
* A final state gets ``<id> --> [*]`` in the block it belongs to (the top level for top-level ones).
* A moving transition is one edge per source, labelled in Japanese (:mod:`.diagram_words`): the step's
  ``ja`` label with its roles (``【校長】``, ``【自動】`` for an automatic step), then on lines of their
  own ``⏱ 期限：即日`` when it meets a deadline and ``〔条件〕...`` for what must hold. The steps of one
  source/destination pair share one edge, each a ``・`` item. A ``%% trigger: <ids>`` comment line
  just before the edge keeps the trigger ids (``(automatic)`` after an automatic one). An edge is
  written in the innermost compound block (a region is one) holding both of its ends, otherwise at the
  top level, always after the state blocks it refers to.
* Internal actions (no ``to``) are listed, worded like the edges, in a note on each state they may be
  taken in (``この状態で行う操作（状態は変わらない）``); steps from ``"*"`` in a note on the initial
  state (``どの状態からでも行える操作（終結まで）``), a moving one with ``→「<destination>」``. A
  ``%%`` comment line before the note keeps their trigger ids.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import TypeVar

from ..definition import Definition, StateNode
from ..language.models import TransitionDef
from .diagram_words import BREAK, Wording, label

__all__ = ["mermaid", "mermaid_ids"]

_T = TypeVar("_T")

INDENT = "    "
ITEM = "・"
CONTINUED = "\u3000"  # an ideographic space: a note's continuation line (HTML keeps it)
INTERNAL_HEADING = "この状態で行う操作（状態は変わらない）"
FROM_ANY_HEADING = "どの状態からでも行える操作（終結まで）"

# Words Mermaid's stateDiagram lexer reads as keywords when they stand alone as a state id ("root" is
# the id Mermaid gives the diagram itself). Checked against mermaid 11.
_RESERVED = frozenset({"as", "class", "classdef", "click", "default", "href", "note", "root", "state", "style"})


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


class _Diagram:
    def __init__(self, defn: Definition) -> None:
        self.defn = defn
        self.ids = mermaid_ids(defn)
        self.words = Wording(defn)
        self.moving = [t for t in defn.spec.transitions if t.to is not None]
        # block (a compound state's path, or None for the top level) -> [(src id, dst id), ...], and the
        # steps of each pair
        self.edges: dict[str | None, list[tuple[str, str]]] = {}
        self.steps: dict[tuple[str, str], list[TransitionDef]] = {}
        self.internal: dict[str, list[TransitionDef]] = {}  # state path -> its internal actions
        self.unplaced: list[str] = []  # internal actions from a state the definition does not have
        self.from_any: list[TransitionDef] = []
        self._collect(defn.spec.transitions)

    # -- transitions ------------------------------------------------------------------------------
    def _collect(self, transitions: Iterable[TransitionDef]) -> None:
        for t in transitions:
            if "*" in t.from_:
                self.from_any.append(t)
                continue
            if t.to is None:
                for src in t.from_:
                    if src in self.defn.nodes:
                        _append_once(self.internal.setdefault(src, []), t)
                    else:
                        _append_once(self.unplaced, f"{t.trigger} ({src})")
                continue
            for src in t.from_:
                pair = (self._id(src), self._id(t.to))
                if pair not in self.steps:
                    self.steps[pair] = []
                    self.edges.setdefault(self._block(src, t.to), []).append(pair)
                _append_once(self.steps[pair], t)

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

    # -- main-line order --------------------------------------------------------------------------
    def _order(self, children: Sequence[str], initial: str | None) -> list[str]:
        """The states of one block in main-line order (see the module docstring)."""
        inside = set(children)
        order: list[str] = []
        queue: deque[str] = deque()

        def reach(path: str | None) -> None:
            if path is None or path not in self.defn.nodes:
                return
            child = next((p for p in self.defn.ancestors(path) if p in inside), None)
            if child is not None and child not in order:
                order.append(child)
                queue.append(child)

        def leaves(here: str, src: str) -> bool:
            return src in self.defn.nodes and any(p == here for p in self.defn.ancestors(src))

        reach(initial)
        while queue:
            while queue:
                here = queue.popleft()
                for t in self.moving:
                    if "*" not in t.from_ and any(leaves(here, src) for src in t.from_):
                        reach(t.to)
            for t in self.moving:
                if "*" in t.from_:
                    reach(t.to)
        for t in self.defn.spec.transitions:  # what no step reaches: by the first step naming it
            for path in (*t.from_, t.to):
                reach(path)
        order += [c for c in sorted(children) if c not in order]
        return [p for p in order if not self.defn.nodes[p].final] + [p for p in order if self.defn.nodes[p].final]

    # -- text -------------------------------------------------------------------------------------
    def render(self) -> str:
        spec = self.defn.spec
        lines = ["stateDiagram-v2", f"{INDENT}[*] --> {self._id(spec.initial)}"]
        top = [path for path, node in self.defn.nodes.items() if node.parent is None]
        lines += self._body(self._order(top, spec.initial), None, 1)
        if self.unplaced:
            lines.append(f"{INDENT}%% internal actions from unknown states: {', '.join(self.unplaced)}")
        return "\n".join(lines) + "\n"

    def _body(self, children: Iterable[str], block: str | None, depth: int) -> list[str]:
        """The states of one block (each with its note), then its edges, then ``--> [*]`` of its final states."""
        pad = INDENT * depth
        lines: list[str] = []
        finals: list[str] = []
        for path in children:
            node = self.defn.nodes[path]
            lines += self._state(node, depth)
            lines += self._note(path, depth)
            if node.final:
                finals.append(self.ids[path])
        for src, dst in self.edges.get(block, []):
            steps = self.steps[(src, dst)]
            triggers = dict.fromkeys(f"{t.trigger} (automatic)" if t.automatic else t.trigger for t in steps)
            lines.append(f"{pad}%% trigger: {', '.join(triggers)}")
            lines.append(f"{pad}{src} --> {dst} : {self._edge_label(steps)}")
        lines += [f"{pad}{sid} --> [*]" for sid in finals]
        return lines

    def _edge_label(self, steps: list[TransitionDef]) -> str:
        items = list(dict.fromkeys(BREAK.join(self.words.step(t)) for t in steps))
        return BREAK.join(f"{ITEM}{item}" for item in items) if len(items) > 1 else items[0]

    def _note(self, path: str, depth: int) -> list[str]:
        """The note listing what may be done in ``path`` without leaving it (and, on the initial state,
        what may be done in any open state); no lines when there is nothing."""
        pad = INDENT * depth
        sections: list[tuple[str, list[TransitionDef]]] = []
        if self.internal.get(path):
            sections.append((INTERNAL_HEADING, self.internal[path]))
        if path == self.defn.spec.initial and self.from_any:
            sections.append((FROM_ANY_HEADING, self.from_any))
        if not sections:
            return []
        lines = [f"{pad}%% {'internal actions' if heading == INTERNAL_HEADING else 'from any open state'}: "
                 + ", ".join(dict.fromkeys(self._trigger(t) for t in steps)) for heading, steps in sections]
        lines.append(f"{pad}note right of {self.ids[path]}")
        for heading, steps in sections:
            lines.append(f"{pad}{INDENT}{heading}")
            for item in dict.fromkeys(tuple(self._item(t)) for t in steps):
                lines.append(f"{pad}{INDENT}{ITEM}{item[0]}")
                lines += [f"{pad}{INDENT}{CONTINUED}{more}" for more in item[1:]]
        lines.append(f"{pad}end note")
        return lines

    def _item(self, t: TransitionDef) -> list[str]:
        lines = self.words.step(t)
        if t.to is not None:
            lines[0] += f" →「{label(self.defn.state_label(t.to))}」"
        return lines

    def _trigger(self, t: TransitionDef) -> str:
        return t.trigger if t.to is None else f"{t.trigger} --> {self._id(t.to)}"

    def _state(self, node: StateNode, depth: int) -> list[str]:
        pad = INDENT * depth
        sid = self.ids[node.path]
        lines = [f'{pad}state "{label(node.spec.ja)}" as {sid}']
        if node.kind == "atomic":
            return lines
        lines.append(f"{pad}state {sid} {{")
        if node.kind == "compound":
            assert node.spec.initial is not None  # the language requires it
            initial = f"{node.path}.{node.spec.initial}"
            lines.append(f"{pad}{INDENT}[*] --> {self._id(initial)}")
            lines += self._body(self._order(node.children, initial), node.path, depth + 1)
        else:
            for index, region in enumerate(self._order(node.children, None)):
                if index:
                    lines.append(f"{pad}{INDENT}--")
                lines += self._state(self.defn.nodes[region], depth + 1)
                lines += self._note(region, depth + 1)
            # edges between regions (which a statechart does not allow) or from a region to its
            # parallel state fall back to an enclosing block, so nothing is written here
        lines.append(f"{pad}}}")
        return lines


def _append_once(items: list[_T], item: _T) -> None:
    if item not in items:
        items.append(item)
