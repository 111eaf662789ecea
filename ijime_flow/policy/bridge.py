"""A school that does more is not departing from the policy: when ``check`` plays a scenario on a school's
workflow, a step the scenario takes is preceded by the school's own extra steps it needs (a step inserted
between two of the policy's), and given the extra data the school requires. "Extra" is measured against
the reference — the bundled workflow of the same id: a trigger it does not have, a required field its step
does not require. A step of the policy itself is never taken for the scenario, so nothing the scenario
did not say is done; where no extra steps lead to the step, it is taken as written (and refused as the
school's workflow refuses it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..actor import Actor
from ..case import Case
from ..definition import Definition
from .explore import Explorer, Node

MAX_BRIDGE = 4  # extra steps in a row, at most
PLACEHOLDER = "確認済み（シナリオの外で記録） / recorded outside the scenario"


def extra_data(defn: Definition, reference: Definition | None, trigger: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Placeholders for the fields the school's ``trigger`` requires and the reference's does not, when the
    scenario gave none (what the policy requires is never filled in: a scenario may leave it out on purpose)."""
    if reference is None:
        return {}
    ours = {f for _, t in reference.transitions_by_trigger.get(trigger, []) for f in t.requires}
    theirs = {f for _, t in defn.transitions_by_trigger.get(trigger, []) for f in t.requires}
    return {name: PLACEHOLDER for name in sorted(theirs - ours) if name not in given}


def bridge(case: Case, defn: Definition, reference: Definition | None, trigger: str, at: datetime) -> list[str]:
    """Take the school's extra steps (shortest first) that lead to where ``trigger`` can be taken, when it
    cannot be taken here; the triggers taken (none when it can, or when no extra steps lead there)."""
    if reference is None or trigger not in defn.transitions_by_trigger:
        return []
    here = frozenset(case.active_states)
    if _reachable(defn, trigger, here):
        return []
    extra = [t for t in defn.spec.transitions
             if not t.automatic and t.to is not None and t.trigger not in reference.transitions_by_trigger]
    if not extra:
        return []
    explorer = Explorer(defn)
    start = Node(here, dict(case.facts), at, frozenset())
    queue: deque[tuple[Node, list[tuple[str, str, dict[str, Any]]]]] = deque([(start, [])])
    seen = {here}
    while queue:
        node, path = queue.popleft()
        if len(path) >= MAX_BRIDGE:
            continue
        for t in extra:
            if not explorer.source_active(t, node.leaves):
                continue
            for role in t.roles:
                data = {name: PLACEHOLDER for name in t.requires}
                moved = explorer.take(node, t.trigger, role, data)
                if moved is None or moved[0] in seen:
                    continue
                steps = [*path, (t.trigger, role, data)]
                if _reachable(defn, trigger, moved[0]):
                    for name, who, payload in steps:
                        case.fire(name, actor=Actor(f"{who}-1", {who}), at=at, data=payload)
                    return [name for name, _, _ in steps]
                seen.add(moved[0])
                queue.append((Node(moved[0], moved[1], at, frozenset(), actors=moved[3]), steps))
    return []


def _reachable(defn: Definition, trigger: str, leaves: frozenset[str]) -> bool:
    return any(defn.source_active(t, leaves) for _, t in defn.transitions_by_trigger.get(trigger, []))
