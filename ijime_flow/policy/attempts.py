"""Trying a step at an explored configuration, as every role and with every value the rules and
conditions tell apart — worked out once per configuration the outcome depends on, shared by the rules
of :mod:`.rule_check`. One :class:`Trials` per check: what it remembers belongs to that check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .explore import Action, Explorer, Node, condition_facts

Attempt = tuple[Action, list[Action], Node, Any]
_Shape = tuple[str, tuple[tuple[str, Any], ...], tuple[tuple[str, str, Any], ...], Any]
_Plan = tuple[list[Any], list[str], list[str], bool]


class Trials:
    """The accepted ways to fire each trigger at the explored configurations of ``explorer``.

    ``extra``: by trigger, the facts the rules about it read that configurations do not tell apart
    (each of their values is tried); ``reads``: by trigger, every fact its rules' conditions read."""

    def __init__(self, explorer: Explorer, extra: Mapping[str, list[str]], reads: Mapping[str, list[str]]) -> None:
        self.explorer = explorer
        self._extra, self._reads = extra, reads
        self._plans: dict[str, _Plan] = {}
        self._shapes: dict[tuple[Any, ...], list[_Shape]] = {}
        self._active: dict[tuple[str, frozenset[str]], tuple[int, ...]] = {}  # by trigger and active states
        self._keyed: dict[str, tuple[list[Node], int, list[tuple[Node, tuple[Any, ...]]]]] = {}  # :meth:`distinct`

    def plan(self, trigger: str) -> _Plan:
        """For ``trigger``: its transitions a person takes, the facts to try at each configuration, the
        facts its outcome depends on, and whether it moves or changes facts (then the whole configuration)."""
        found = self._plans.get(trigger)
        if found is None:
            explorer = self.explorer
            declared = [t for _, t in explorer.defn.transitions_by_trigger.get(trigger, []) if not t.automatic]
            local = sorted(set(explorer.local_facts(*(t.when for t in declared))) | set(self._extra.get(trigger, [])))
            reads = sorted({n for t in declared for n, _ in condition_facts(t.when)} | set(local)
                           | set(self._reads.get(trigger, [])))
            found = declared, local, reads, any(t.to is not None or t.records or t.clears for t in declared)
            self._plans[trigger] = found
        return found

    def key(self, node: Node, trigger: str) -> tuple[Any, ...] | None:
        """What the attempts at ``trigger`` here depend on (None: no transition of it is active here):
        the transitions active, the facts read (dates as where now stands against each period) and, for
        a step that moves or changes facts, the whole configuration (the order flags aside)."""
        explorer = self.explorer
        declared, _, reads, moving = self.plan(trigger)
        active = self._active.get((trigger, node.leaves))
        if active is None:
            active = tuple(i for i, t in enumerate(declared) if explorer.source_active(t, node.leaves))
            self._active[trigger, node.leaves] = active
        if not active:
            return None
        values = tuple(_hashable(node.facts.get(n)) for n in reads)
        if moving:
            return trigger, active, explorer.key(node.leaves, node.facts, node.at, frozenset(), node.actors), values
        return (trigger, active, explorer.key(frozenset(), {n: node.facts.get(n) for n in reads}, node.at, frozenset(),
                                              node.actors), values)

    def attempts(self, node: Node, trigger: str, key: tuple[Any, ...] | None = None) -> list[Attempt]:
        """Every accepted way to fire ``trigger`` here, as any role of the workflow: (the step, facts
        recorded before it, the node they stood on, what it led to). ``key``: :meth:`key` of the node,
        when the caller has it."""
        key = self.key(node, trigger) if key is None else key
        if key is None:
            return []  # the common case: not here at all (facts recorded first never make a source active)
        explorer = self.explorer
        shapes = self._shapes.get(key)
        if shapes is None:
            declared, local, _, _ = self.plan(trigger)
            shapes = []
            everyone = sorted(explorer.defn.spec.roles)
            for before, current in explorer.variants(node, local):
                recorded = tuple((a.name, a.role, dict(a.data)["value"]) for a in before)
                for t in declared:
                    if not explorer.source_active(t, current.leaves):
                        continue
                    for data in explorer.step_data(t, current.at):
                        for role in everyone:
                            moved = explorer.take(current, trigger, role, data)
                            if moved is not None:
                                shapes.append((role, tuple(sorted(data.items())), recorded, moved))
            self._shapes[key] = shapes
        out: list[Attempt] = []
        for role, given, recorded, moved in shapes:
            before, current = [], node
            for name, who, value in recorded:
                facts = explorer.record(current, name, who, value)
                assert facts is not None  # it was accepted on a configuration the engine does not tell apart
                before.append(Action("fact", name, who, (("value", value),), node.at))
                current = Node(current.leaves, facts, current.at, current.flags, actors=current.actors)
            out.append((Action("fire", trigger, role, given, node.at), before, current, moved))
        return out

    def distinct(self, nodes: list[Node], trigger: str, flag: str | None = None) -> Iterator[tuple[Node, list[Attempt]]]:
        """The nodes where ``trigger`` is active, one per :meth:`key` (and ``flag`` set or not), with
        their attempts: the first, so the nearest. What holds at one holds at the others."""
        kept, scanned, keyed = self._keyed.get(trigger, (nodes, 0, []))
        if kept is not nodes:  # another list of nodes: start over
            scanned, keyed = 0, []
        for node in nodes[scanned:]:  # (a partial exploration grows: the nodes seen before keep their keys)
            key = self.key(node, trigger)
            if key is not None:
                keyed.append((node, key))
        self._keyed[trigger] = nodes, len(nodes), keyed
        seen: set[Any] = set()
        for node, key in keyed:
            told = (key, flag in node.flags) if flag is not None else key
            if told not in seen:
                seen.add(told)
                yield node, self.attempts(node, trigger, key)


def _hashable(value: Any) -> Any:
    return tuple(sorted(value, key=repr)) if isinstance(value, frozenset | set) else value
