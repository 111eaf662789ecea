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
  without any data, so what it records would never be recorded and what it requires never checked;
- the counting conditions (:func:`counting_problems`): ``count`` naming no fact (``unknown-fact``) or a
  fact that holds one value (``fact-type``: use ``is_set``); ``distinct_actors`` naming no step
  (``unknown-trigger``) or a ``role`` no one has (``unknown-role``); and ``count-never`` — a
  ``distinct_actors`` that can never count anyone: of a step only the engine takes (automatic), or in an
  escalation criterion (criteria read the facts alone).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .conditions import AllOf, AnyOf, Condition, CountOf, DistinctActors, NotCond
from .models import FactDef, RoleDef, StateDef, TransitionDef, WorkflowDef

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


def counting_problems(spec: WorkflowDef) -> Iterator[tuple[str, Path, str]]:
    """(rule, path, message) for each counting condition (``count``, ``distinct_actors``) of the workflow,
    in a step's, a deadline's or a criterion's ``when``, that names what is not there or can never count."""
    manual = {t.trigger for t in spec.transitions if not t.automatic}
    automatic = {t.trigger for t in spec.transitions if t.automatic} - manual
    for i, t in enumerate(spec.transitions):
        if t.when is not None:
            yield from _counting(t.when, ("transitions", i, "when"), spec, manual, automatic, criterion=False)
    for path, deadline_when in _deadline_conditions(spec.states, ("states",)):
        yield from _counting(deadline_when, path, spec, manual, automatic, criterion=False)
    for k, criterion in enumerate(spec.escalation.criteria if spec.escalation else []):
        if criterion.when is not None:
            yield from _counting(criterion.when, ("escalation", "criteria", k, "when"), spec, manual, automatic,
                                 criterion=True)


def _deadline_conditions(states: Mapping[str, StateDef], doc: Path) -> Iterator[tuple[Path, Condition]]:
    for name, state in states.items():
        for k, deadline in enumerate(state.deadlines):
            if deadline.when is not None:
                yield (*doc, name, "deadlines", k, "when"), deadline.when
        for key, inner in (("states", state.states), ("parallel", state.parallel)):
            if inner:
                yield from _deadline_conditions(inner, (*doc, name, key))


def _counting(cond: Condition, path: Path, spec: WorkflowDef, manual: set[str], automatic: set[str], *,
              criterion: bool) -> Iterator[tuple[str, Path, str]]:
    if isinstance(cond, AllOf | AnyOf):
        key = "all" if isinstance(cond, AllOf) else "any"
        for i, part in enumerate(cond.all if isinstance(cond, AllOf) else cond.any):
            yield from _counting(part, (*path, key, i), spec, manual, automatic, criterion=criterion)
    elif isinstance(cond, NotCond):
        yield from _counting(cond.not_, (*path, "not"), spec, manual, automatic, criterion=criterion)
    elif isinstance(cond, CountOf):
        fact, name = spec.facts.get(cond.count), cond.count
        if fact is None:
            declared = ", ".join(spec.facts) or "none"
            yield ("unknown-fact", (*path, "count"),
                   f"count の事実「{name}」は宣言されていません / unknown fact '{name}' (declared: {declared})")
        elif not fact.many:
            yield ("fact-type", (*path, "count"),
                   f"count は many: true の事実を数えます。「{name}」は値を一つだけ持ちます（記録の有無は is_set）"
                   f" / 'count' counts the values of a fact with many: true; '{name}' holds one value (use is_set)")
    elif isinstance(cond, DistinctActors):
        trigger = cond.distinct_actors
        if trigger in automatic:
            yield ("count-never", (*path, "distinct_actors"),
                   f"「{trigger}」はシステムが自動で行う操作なので、行った人を数えられません"
                   f" / '{trigger}' is an automatic step: the engine takes it, so no one is ever counted")
        elif trigger not in manual:
            yield ("unknown-trigger", (*path, "distinct_actors"),
                   f"操作「{trigger}」はありません / unknown trigger '{trigger}'")
        if cond.role is not None and cond.role not in spec.roles:
            yield ("unknown-role", (*path, "role"),
                   f"役割「{cond.role}」は宣言されていません / unknown role '{cond.role}' (declared: {', '.join(spec.roles)})")
        if criterion:
            yield ("count-never", (*path, "distinct_actors"),
                   "重大事態の要件は事実だけを見るため、distinct_actors は使えません / escalation criteria read the"
                   " facts alone: 'distinct_actors' would never count anyone there")
