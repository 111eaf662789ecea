"""What the mutant generators (:mod:`.mutant_kinds`) share: the original workflow as a tree and as a
:class:`~ijime_flow.Definition`, names for its parts, edits of a copy of the tree, and the order of its states.

Every edit names its place by a document path (``("transitions", 6, "roles")``), the same paths the loader
reports problems with, and makes a changed copy of the tree, never changing the original.

The order of the states is read from the transition graph, one nesting level at a time: at the top level the
states of the workflow, inside a compound state its children (a parallel state's regions have no order). A
state is *earlier* than a step's source when it can reach that source and the shortest way from the level's
initial state to it is shorter; a step that goes *back* leads to a state that is earlier than its source.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..definition import Definition
from ..language.conditions import AllOf, AnyOf, Condition, NotCond
from ..language.lint import state_doc_paths
from ..language.models import DeadlineDef, TransitionDef

Tree = dict[str, Any]
DocPath = tuple[str | int, ...]
Edit = Callable[[Tree], Tree]  # returns the changed copy (see "edits" below)


@dataclass(frozen=True)
class Candidate:
    """One change of the original: ``id_parts`` after the kind make the mutant's id."""

    kind: str
    target: str
    id_parts: tuple[str, ...]
    ja: str
    en: str
    edit: Edit

    @property
    def id(self) -> str:
        return ":".join((self.kind, *self.id_parts))


# -- edits ------------------------------------------------------------------------------------------
# An edit returns a changed tree and leaves the one it is given as it is: what lies on the path it changes
# is copied, everything else is shared with the original (copying the whole tree for every copy would take
# a third of the time). So a tree is never changed in place once made.

def _copied(tree: Tree, path: DocPath) -> tuple[Tree, Any]:
    """A copy of ``tree`` in which every container along ``path`` (the last one too) is a fresh copy:
    (the new root, the container at ``path``)."""
    root = dict(tree)
    node: Any = root
    for part in path:
        child = node[part]
        child = dict(child) if isinstance(child, dict) else list(child)
        node[part] = child
        node = child
    return root, node


def put(path: DocPath, value: Any) -> Edit:
    """Set the value at ``path`` (a mapping key may be new)."""
    def edit(tree: Tree) -> Tree:
        root, parent = _copied(tree, path[:-1])
        parent[path[-1]] = value
        return root
    return edit


def drop(path: DocPath, *, prune: bool = False) -> Edit:
    """Remove the key or list entry at ``path``; with ``prune``, a list left empty loses its key too."""
    def edit(tree: Tree) -> Tree:
        root, parent = _copied(tree, path[:-1])
        del parent[path[-1]]
        if prune and isinstance(parent, list) and not parent and len(path) >= 2:
            grand: Any = root
            for part in path[:-2]:
                grand = grand[part]
            del grand[path[-2]]
        return root
    return edit


def append(path: DocPath, value: Any) -> Edit:
    def edit(tree: Tree) -> Tree:
        root, items = _copied(tree, path)
        items.append(value)
        return root
    return edit


def edits(*steps: Edit) -> Edit:
    def edit(tree: Tree) -> Tree:
        for step in steps:
            tree = step(tree)
        return tree
    return edit


# -- the original, named ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Level:
    start: str | None  # the state entered first at this level (None: a parallel state's regions)
    edges: dict[str, set[str]]
    back: dict[str, set[str]]
    dist: dict[str, int]  # shortest number of steps from ``start``


class Context:
    """The original workflow: its tree (as the loader reads the YAML) and its definition."""

    def __init__(self, tree: Tree, defn: Definition) -> None:
        self.tree, self.defn, self.spec = tree, defn, defn.spec
        self.docs: dict[str, DocPath] = dict(state_doc_paths(defn))
        self._levels: dict[str | None, _Level] = {}

    @cached_property
    def labels(self) -> list[str]:
        """A name for each transition: its trigger, with ``@first-source`` when the trigger is used twice."""
        counts: dict[str, int] = {}
        for t in self.spec.transitions:
            counts[t.trigger] = counts.get(t.trigger, 0) + 1
        names = [t.trigger if counts[t.trigger] == 1 else f"{t.trigger}@{t.from_[0]}" for t in self.spec.transitions]
        return [name if names.count(name) == 1 else f"{name}#{i}" for i, name in enumerate(names)]

    def steps(self, *, automatic: bool = False) -> Iterator[tuple[int, TransitionDef, str]]:
        """(index, transition, name) of the steps a person takes (with ``automatic``: of the engine's steps)."""
        for i, t in enumerate(self.spec.transitions):
            if t.automatic == automatic:
                yield i, t, self.labels[i]

    def deadlines(self) -> Iterator[tuple[DocPath, DeadlineDef]]:
        """(document path, deadline) of every deadline of every state."""
        for path, node in self.defn.nodes.items():
            for k, deadline in enumerate(node.spec.deadlines):
                yield (*self.docs[path], "deadlines", k), deadline

    def allowed(self, roles: Iterable[str]) -> frozenset[str]:
        """Every declared role whose holder may act when ``roles`` are named (a principal acts for staff)."""
        named = set(roles)
        return frozenset(r for r in self.spec.roles if self.defn.role_closure({r}) & named)

    @cached_property
    def used_roles(self) -> list[str]:
        """The declared roles that act somewhere in the workflow (or are held by one that does), in order:
        a role declared only for the contract (the board in ``response``) is not offered new steps."""
        named = set(self.spec.opened_by)
        for t in self.spec.transitions:
            named.update(t.roles)
        for fact in self.spec.facts.values():
            named.update(fact.roles or ())
        held = self.defn.role_closure(named)
        return [r for r in self.spec.roles if r in held]

    @cached_property
    def bottom_offices(self) -> frozenset[str]:
        """Roles every office above holds and that hold no other (staff): a step one of them may take is
        open to everyone in the school, and giving it to more roles breaks no rule."""
        held = {r for spec in self.spec.roles.values() for r in spec.includes}
        return frozenset(r for r in held if r in self.spec.roles and not self.spec.roles[r].includes)

    def present(self, t: TransitionDef) -> frozenset[str]:
        """The roles at work where ``t`` can be taken: of the steps taken in, into, out of or inside its
        source states (and of every step, for a step from any state), with the roles they hold."""
        named: set[str] = set()
        for u in self.spec.transitions:
            near = [*u.from_, *([u.to] if u.to else [])]
            if "*" in t.from_ or "*" in u.from_ or any(_related(a, b) for a in near for b in t.from_):
                named.update(u.roles)
        return self.defn.role_closure(named)

    def widen(self, allowed: frozenset[str], offered: Iterable[str]) -> list[str]:
        """The roles of ``offered`` not in ``allowed``, a chain of offices given by its lowest (staff, not
        administrator or principal: giving the step to staff gives it to them too)."""
        new = [r for r in offered if r not in allowed]
        return [r for r in new if not any(o != r and o in self.defn.role_closure({r}) for o in new)]

    def role(self, name: str) -> tuple[str, str]:
        spec = self.spec.roles[name]
        return f"{spec.ja}（{name}）", f"{spec.en or name} ({name})"

    # -- the order of the states ----------------------------------------------------------------
    def level(self, parent: str | None) -> _Level:
        found = self._levels.get(parent)
        if found is None:
            found = self._levels[parent] = self._level(parent)
        return found

    def _level(self, parent: str | None) -> _Level:
        start: str | None
        if parent is None:
            names, start = list(self.spec.states), self.spec.initial
        else:
            node = self.defn.nodes[parent]
            names = list(node.children)
            start = f"{parent}.{node.spec.initial}" if node.kind == "compound" else None
        edges: dict[str, set[str]] = {n: set() for n in names}
        back: dict[str, set[str]] = {n: set() for n in names}
        for t in self.spec.transitions:
            to = project(t.to, parent) if t.to is not None else None
            for src in t.from_:
                here = project(src, parent) if src != "*" else None
                if here is not None and to is not None and here != to:
                    edges[here].add(to)
                    back[to].add(here)
        dist: dict[str, int] = {}
        if start is not None:
            dist[start] = 0
            todo = deque([start])
            while todo:
                state = todo.popleft()
                for nxt in sorted(edges[state]):
                    if nxt not in dist:
                        dist[nxt] = dist[state] + 1
                        todo.append(nxt)
        return _Level(start, edges, back, dist)

    def earlier(self, sources: Sequence[str], *, bands: int = 2, with_start: bool = True) -> list[str]:
        """States earlier than ``sources`` (see the module docstring): those at the ``bands`` nearest
        distances back from them, and the level's initial state, in that order."""
        out: list[str] = []
        for parent in dict.fromkeys(self.defn.nodes[s].parent for s in sources if s in self.defn.nodes):
            level = self.level(parent)
            here = [s for s in sources if s in level.dist]
            if not here:
                continue
            limit = min(level.dist[s] for s in here)
            back = _bfs(here, level.back, keep=_closer(level.dist, limit))
            found = sorted((d, level.dist[s], s) for s, d in back.items()
                           if s not in sources and not self.defn.nodes[s].final)
            kept = sorted({d for d, _, _ in found})[:bands]
            out += [s for d, _, s in found if d in kept]
            start = level.start
            if with_start and start is not None and start in back and start not in sources and start not in out:
                out.append(start)
        return list(dict.fromkeys(out))

    def later(self, sources: Sequence[str], to: str, *, limit: int = 4) -> list[str]:
        """For a step that goes back (its ``to`` earlier than its sources): the states after ``to`` and not
        after the sources, nearest first — where the step would go if it went back less far."""
        parent = self.defn.nodes[to].parent
        level = self.level(parent)
        here = [p for p in (project(s, parent) for s in sources if s != "*") if p is not None and p in level.dist]
        if to not in level.dist or not here or level.dist[to] >= min(level.dist[p] for p in here):
            return []
        bound = min(level.dist[p] for p in here)
        ahead = _bfs([to], level.edges, keep=lambda s: level.dist.get(s, bound + 1) <= bound)
        found = sorted((level.dist[s], s) for s in ahead
                       if s != to and level.dist[to] < level.dist[s] and not self.defn.nodes[s].final)
        return [s for _, s in found[:limit]]

    def top_level(self, path: str) -> bool:
        return path in self.spec.states


# -- conditions ---------------------------------------------------------------------------------------

Place = tuple[str, DocPath, Condition, int]  # (target, path of the condition, the condition, polarity)


def condition_places(ctx: Context) -> Iterator[Place]:
    """Every condition of the workflow: of a step (polarity 1), of a deadline or a criterion (-1)."""
    for i, t in enumerate(ctx.spec.transitions):
        if t.when is not None:
            yield ctx.labels[i], ("transitions", i, "when"), t.when, 1
    for path, deadline in ctx.deadlines():
        if deadline.when is not None:
            yield deadline.id, (*path, "when"), deadline.when, -1
    for k, criterion in enumerate(ctx.spec.escalation.criteria if ctx.spec.escalation else []):
        if criterion.when is not None:
            yield criterion.id, ("escalation", "criteria", k, "when"), criterion.when, -1


def condition_nodes(cond: Condition, path: DocPath, polarity: int) -> Iterator[tuple[DocPath, Condition, int]]:
    """The condition and every one inside it, with its path and polarity (``not`` turns it round)."""
    yield path, cond, polarity
    if isinstance(cond, AllOf | AnyOf):
        key = "all" if isinstance(cond, AllOf) else "any"
        for j, part in enumerate(cond.all if isinstance(cond, AllOf) else cond.any):
            yield from condition_nodes(part, (*path, key, j), polarity)
    elif isinstance(cond, NotCond):
        yield from condition_nodes(cond.not_, (*path, "not"), -polarity)


def _related(a: str, b: str) -> bool:
    """One state is the other, or inside it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def project(path: str, parent: str | None) -> str | None:
    """The state at the level of ``parent``'s children that ``path`` is (or is inside), if any."""
    if parent is None:
        return path.split(".", 1)[0]
    if not path.startswith(parent + "."):
        return None
    rest = path[len(parent) + 1:]
    return f"{parent}.{rest.split('.', 1)[0]}"


def _closer(dist: dict[str, int], limit: int) -> Callable[[str], bool]:
    """States the initial state reaches in fewer than ``limit`` steps."""
    return lambda state: dist.get(state, limit) < limit


def _bfs(starts: Iterable[str], edges: dict[str, set[str]], keep: Callable[[str], bool]) -> dict[str, int]:
    """Distance from ``starts`` of every state reached through states that ``keep`` accepts."""
    dist = dict.fromkeys(starts, 0)
    todo = deque(dist)
    while todo:
        state = todo.popleft()
        for nxt in sorted(edges.get(state, ())):
            if nxt not in dist and keep(nxt):
                dist[nxt] = dist[state] + 1
                todo.append(nxt)
    return dist


# -- durations ----------------------------------------------------------------------------------------

_PARTS = re.compile(r"P(?:(?P<W>\d+)W|(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<D>\d+)D)?"
                    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?)")
_DAYS = {"Y": 365, "M": 30, "W": 7, "D": 1}
_SMALLER = {"Y": ("M", 12), "M": ("D", 30), "W": ("D", 7)}


def _parts(duration: str) -> dict[str, int]:
    match = _PARTS.fullmatch(duration)
    return {k: int(v) for k, v in match.groupdict().items() if v is not None} if match else {}


def thrice(duration: str) -> str:
    """Three times as long: P1D → P3D, PT2H → PT6H, P1DT2H → P3DT6H."""
    parts = _parts(duration)
    date_part = "".join(f"{parts[u] * 3}{u}" for u in "WYMD" if u in parts)
    time_part = "".join(f"{parts[u] * 3}{u.upper()}" for u in "hms" if u in parts)
    return "P" + date_part + (f"T{time_part}" if time_part else "")


def third(duration: str) -> str | None:
    """A third as long, at least one unit (P3M → P1M, P30D → P10D, P1M → P10D, P1Y → P4M); None when
    nothing shorter is left (P1D) or the duration has hours."""
    parts = _parts(duration)
    if not parts or set(parts) & set("hms"):
        return None
    if len(parts) == 1:
        ((unit, n),) = parts.items()
        while n < 3 and unit in _SMALLER:
            unit, factor = _SMALLER[unit]
            n *= factor
        shorter = f"P{max(1, n // 3)}{unit}"
    else:
        shorter = f"P{max(1, sum(n * _DAYS[u] for u, n in parts.items()) // 3)}D"
    return shorter if shorter != duration else None


def same_activity(defn: Definition, ancestor: str, source: str) -> bool:
    """True when ``ancestor`` is active exactly when ``source`` is: every step down to it is a region of
    a parallel state."""
    path = source
    while "." in path:
        parent = path.rsplit(".", 1)[0]
        if defn.nodes[parent].kind != "parallel":
            return False
        if parent == ancestor:
            return True
        path = parent
    return False
