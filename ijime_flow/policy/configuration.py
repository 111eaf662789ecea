"""The pieces of an exploration (:mod:`.explore`): a step of a path (:class:`Action`), an order rule's flag
(:class:`Monitor`), a configuration reached (:class:`Node`), all of them (:class:`Exploration`), and the
facts a condition reads (:func:`condition_facts`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..definition import Definition
from ..language.condition_models import AllOf, AnyOf, Condition, CountOf, FactIs, NotCond, Since
from ..language.counting import ActorTally


@dataclass(frozen=True)
class Action:
    """One step of a path: open the case, fire a trigger, record a fact, or let time pass."""

    kind: str  # "open", "fire", "fact", "wait"
    name: str  # the workflow (open), the trigger (fire), the fact (fact); "" for wait
    role: str
    data: tuple[tuple[str, Any], ...]
    at: datetime

    def data_dict(self) -> dict[str, Any]:
        return dict(self.data)


@dataclass(frozen=True)
class Monitor:
    """An order rule's flag: set once one of ``atoms`` happened (a trigger fired or a state entered),
    unset again by any trigger of ``reset_by`` (a recurrence: the order starts over)."""

    flag: str
    atoms: frozenset[str]
    reset_by: frozenset[str] = frozenset()


@dataclass(eq=False)
class Node:
    leaves: frozenset[str]
    facts: dict[str, Any]
    at: datetime
    flags: frozenset[str]
    parent: Node | None = None
    action: Action | None = None
    successors: list[Node] = field(default_factory=list)
    actors: ActorTally = field(default_factory=dict)  # who took the counted steps (each time someone new)

    def path(self) -> list[Action]:
        actions: list[Action] = []
        node: Node | None = self
        while node is not None and node.action is not None:
            actions.append(node.action)
            node = node.parent
        return actions[::-1]


@dataclass
class Exploration:
    definition: Definition
    nodes: list[Node]
    truncated: bool  # more than MAX_CONFIGURATIONS: what was not reached is not checked
    edges: int
    complete: bool = True  # False: part of the way (:meth:`Explorer.search`); only what breaks a rule counts

    def closed(self, node: Node) -> bool:
        return self.definition.is_closed(node.leaves)


def condition_facts(condition: Condition | None) -> Iterator[tuple[str, Condition]]:
    """Every (fact, leaf condition) a condition reads."""
    if condition is None:
        return
    if isinstance(condition, AllOf):
        for part in condition.all:
            yield from condition_facts(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from condition_facts(part)
    elif isinstance(condition, NotCond):
        yield from condition_facts(condition.not_)
    elif isinstance(condition, FactIs):
        yield condition.fact, condition
    elif isinstance(condition, Since):
        yield condition.since, condition
    elif isinstance(condition, CountOf):
        yield condition.count, condition


def frozen(data: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(data.items()))
