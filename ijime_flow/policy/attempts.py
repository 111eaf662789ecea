"""Trying a step at an explored configuration, as every role and with every value the rules and
conditions tell apart — worked out once per configuration the outcome depends on, shared by the rules
of :mod:`.rule_check`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .explore import Action, Explorer, Node, condition_facts


def _variants(explorer: Explorer, node: Node, names: list[str]) -> Iterator[tuple[list[Action], Node]]:
    return explorer.variants(node, names)


Attempt = tuple[Action, list[Action], Node, Any]
_Shape = tuple[str, tuple[tuple[str, Any], ...], tuple[tuple[str, str, Any], ...], Any]
CACHE: dict[tuple[Any, ...], list[_Shape]] = {}
EXTRA: dict[str, list[str]] = {}  # by trigger: the facts the rules about it read, tried at each configuration
READS: dict[str, list[str]] = {}  # by trigger: every fact its rules' conditions read
PLANS: dict[tuple[int, str], tuple[list[Any], list[str], list[str], bool]] = {}


def _plan(explorer: Explorer, trigger: str) -> tuple[list[Any], list[str], list[str], bool]:
    """For ``trigger``: its transitions a person takes, the facts to try at each configuration, the
    facts its outcome depends on, and whether it moves or changes facts (then the whole configuration)."""
    found = PLANS.get((id(explorer), trigger))
    if found is None:
        declared = [t for _, t in explorer.defn.transitions_by_trigger.get(trigger, []) if not t.automatic]
        local = sorted(set(explorer.local_facts(*(t.when for t in declared))) | set(EXTRA.get(trigger, [])))
        reads = sorted({n for t in declared for n, _ in condition_facts(t.when)} | set(local) | set(READS.get(trigger, [])))
        found = declared, local, reads, any(t.to is not None or t.records or t.clears for t in declared)
        PLANS[(id(explorer), trigger)] = found
    return found


def attempt_key(explorer: Explorer, node: Node, trigger: str) -> tuple[Any, ...] | None:
    """What the attempts at ``trigger`` here depend on (None: no transition of it is active here):
    the transitions active, the facts read (dates as where now stands against each period) and, for
    a step that moves or changes facts, the whole configuration (the order flags aside)."""
    declared, _, reads, moving = _plan(explorer, trigger)
    active = tuple(i for i, t in enumerate(declared) if explorer.source_active(t, node.leaves))
    if not active:
        return None
    values = tuple(_hashable(node.facts.get(n)) for n in reads)
    if moving:
        return trigger, active, explorer.key(node.leaves, node.facts, node.at, frozenset()), values
    return trigger, active, explorer.key(frozenset(), {n: node.facts.get(n) for n in reads}, node.at, frozenset()), values


def attempts(explorer: Explorer, node: Node, trigger: str, roles: list[str] | None = None) -> list[Attempt]:
    """Every accepted way to fire ``trigger`` here, as any role of the workflow: (the step, facts
    recorded before it, the node they stood on, what it led to); ``roles``: only those. Worked out once
    per :func:`attempt_key` and shared by the rules."""
    key = attempt_key(explorer, node, trigger)
    if key is None:
        return []  # the common case: not here at all (facts recorded first never make a source active)
    declared, local, _, _ = _plan(explorer, trigger)
    defn = explorer.defn
    shapes = CACHE.get(key)
    if shapes is None:
        shapes = []
        everyone = sorted(defn.spec.roles)
        for before, current in _variants(explorer, node, local):
            recorded = tuple((a.name, a.role, dict(a.data)["value"]) for a in before)
            for t in declared:
                if not defn.source_active(t, current.leaves):
                    continue
                for data in explorer.step_data(t, current.at):
                    for role in everyone:
                        moved = explorer.take(current, trigger, role, data)
                        if moved is not None:
                            shapes.append((role, tuple(sorted(data.items())), recorded, moved))
        CACHE[key] = shapes
    out: list[Attempt] = []
    for role, given, recorded, moved in shapes:
        if roles is not None and role not in roles:
            continue
        before, current = [], node
        for name, who, value in recorded:
            facts = explorer.record(current, name, who, value)
            assert facts is not None  # it was accepted on a configuration the engine does not tell apart
            before.append(Action("fact", name, who, (("value", value),), node.at))
            current = Node(current.leaves, facts, current.at, current.flags)
        out.append((Action("fire", trigger, role, given, node.at), before, current, moved))
    return out


def distinct(explorer: Explorer, nodes: list[Node], trigger: str, flag: str | None = None) -> Iterator[Node]:
    """The nodes where ``trigger`` is active, one per :func:`attempt_key` (and ``flag`` set or not):
    the first, so the nearest. What holds at one holds at the others."""
    seen: set[Any] = set()
    for node in nodes:
        key = attempt_key(explorer, node, trigger)
        if key is None:
            continue
        key = (key, flag in node.flags) if flag is not None else key
        if key not in seen:
            seen.add(key)
            yield node


def _hashable(value: Any) -> Any:
    return tuple(sorted(value, key=repr)) if isinstance(value, frozenset | set) else value


