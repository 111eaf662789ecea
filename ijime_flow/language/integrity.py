"""Reference checks that keep a part of a workflow from being silently meaningless or impossible.

Run with the other reference checks (:func:`ijime_flow.language.lint.check_references`), always:

- ``role-cycle`` — roles that include each other (``staff`` includes ``principal`` while ``principal``
  includes ``staff``, or a role including itself): every holder of one would hold them all, so a
  teacher would act as a principal. Reported once per cycle, at the ``includes`` entry of the first
  role of the cycle, naming it: ``staff -> principal -> staff``;
- ``duplicate-value`` — an enum fact listing one value twice;
- ``requires-fact`` — a step whose ``requires`` names a fact it does not also ``records``. A step's
  data may carry a fact only if the step records it (anything else is recorded with ``record_fact``),
  so such a step was offered to people and could never be taken;
- ``automatic-data`` — an automatic step with ``records`` or ``requires``: the engine takes it
  without any data, so what it records would never be recorded and what it requires never checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .models import FactDef, RoleDef, TransitionDef

Path = tuple[Any, ...]


def role_cycles(roles: Mapping[str, RoleDef]) -> Iterator[tuple[Path, str]]:
    """(path of the ``includes`` entry, message) for each cycle of ``includes``, one per strongly
    connected group of roles, in the order the roles are declared."""
    order = {name: i for i, name in enumerate(roles)}
    edges = {name: [r for r in role.includes if r in roles] for name, role in roles.items()}
    for group in _strongly_connected(list(roles), edges):
        start = min(group, key=order.__getitem__)
        if len(group) == 1 and start not in edges[start]:
            continue
        cycle = _cycle_from(start, edges, group)
        entry = roles[start].includes.index(cycle[1])
        shown = " -> ".join(cycle)
        yield (("roles", start, "includes", entry),
               f"役割の includes が循環しています（{shown}）。循環する役割の人は全員がそのすべての役割を持つことになります"
               f" / roles include each other in a cycle ({shown}): whoever holds one would hold them all")


def _strongly_connected(nodes: Sequence[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a long chain of roles must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def _cycle_from(start: str, edges: Mapping[str, list[str]], group: list[str]) -> list[str]:
    """The shortest path ``start -> ... -> start`` inside ``group`` (breadth first)."""
    inside = set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in edges[node]:
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if nxt in inside and nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError("a strongly connected group has a cycle")  # pragma: no cover


def duplicate_values(facts: Mapping[str, FactDef]) -> Iterator[tuple[Path, str]]:
    """(path of the repeated value, message) for each value an enum fact lists again."""
    for name, fact in facts.items():
        first: dict[str, int] = {}
        for k, value in enumerate(fact.values or []):
            if value in first:
                yield (("facts", name, "values", k),
                       f"事実「{name}」の値「{value}」が重複しています（values[{first[value]}] と同じ）"
                       f" / value '{value}' of fact '{name}' is listed twice (also values[{first[value]}])")
            first.setdefault(value, k)


def step_data_problems(i: int, t: TransitionDef,
                       facts: Mapping[str, FactDef]) -> Iterator[tuple[str, Path, str, bool]]:
    """(rule, path, message, at the key) for what a step requires or records that its data can never carry."""
    here: Path = ("transitions", i)
    if t.automatic:
        for key in ("records", "requires"):
            if getattr(t, key):
                yield ("automatic-data", (*here, key),
                       f"自動の操作「{t.trigger}」はデータなしで行われるため {key} は書けません"
                       f" / automatic step '{t.trigger}' is taken by the engine without data: it cannot have '{key}'",
                       True)
        return
    for j, name in enumerate(t.requires):
        if name in facts and name not in t.records:
            yield ("requires-fact", (*here, "requires", j),
                   f"「{name}」は事実です。操作「{t.trigger}」で記録するなら requires ではなく records に書いてください"
                   f"（requires のままではこの操作は行えません） / '{name}' is a fact: a step's data may carry it only if"
                   f" the step records it; list it in 'records' of '{t.trigger}' (as it is, the step can never be taken)",
                   False)
