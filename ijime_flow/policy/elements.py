"""The contract elements a policy rule names — triggers, states, facts — and which of them a workflow lacks:
a rule about something a school's workflow does not have is 未確認 (not checked), not 不合格."""

from __future__ import annotations

from typing import Any

from ..definition import Definition
from .explore import condition_facts
from .rules import Rule, as_list


def rule_elements(rule: Rule) -> list[tuple[str, str]]:
    """``(kind, id)`` of what ``rule`` names: kind ``trigger``, ``state``, ``fact`` or ``step`` (an order
    rule's ``after``: a trigger fired or a state entered)."""
    out: list[tuple[str, str]] = []

    def conditions(*items: Any) -> None:
        out.extend(("fact", name) for item in items for name, _ in condition_facts(item))

    if (spec := rule.only_roles) is not None:
        out += [("trigger", t) for t in as_list(spec.trigger)] + ([("fact", spec.fact)] if spec.fact else [])
        out += [("state", spec.source)] if spec.source else []
    if (may := rule.may_act) is not None:
        out += [("trigger", may.trigger)] + ([("state", may.source)] if may.source else [])
    for order in (rule.only_after, rule.not_after):
        if order is not None:
            out += [("trigger", t) for t in as_list(order.trigger)] + [("step", a) for a in as_list(order.after)]
            out += [("trigger", t) for t in order.reset_by]
    if rule.only_after is not None:
        conditions(rule.only_after.unless)
    if (data := rule.needs_data) is not None:
        out += [("trigger", data.trigger)] if data.trigger is not None else [("fact", name) for name in data.data]
        out += [("state", data.source)] if data.source else []
        conditions(data.when)
    if (when := rule.only_when) is not None:
        out.append(("trigger", when.trigger))
        conditions(when.when)
    if (deadline := rule.deadline) is not None:
        out += [("state", deadline.state)] + [("trigger", t) for t in as_list(deadline.met_by)]
    if (escalates := rule.escalates) is not None:
        out.append(("fact", escalates.fact or escalates.absence_fact))
    if (clears := rule.clears) is not None:
        out += [("trigger", clears.trigger), ("fact", clears.fact)]
    if (opens := rule.opens) is not None:
        out.append(("trigger", opens.trigger))
    return list(dict.fromkeys(out))


def has(defn: Definition, kind: str, name: str) -> bool:
    """Whether ``defn`` has the element: a ``trigger``, ``state``, ``fact``, ``deadline`` (by id), or a ``step``
    (a trigger or a state)."""
    if kind == "trigger":
        return name in defn.transitions_by_trigger
    if kind == "state":
        return name in defn.nodes
    if kind == "fact":
        return name in defn.spec.facts
    if kind == "step":
        return name in defn.transitions_by_trigger or name in defn.nodes
    if kind == "deadline":
        return any(d.id == name for ds in defn.deadline_defs.values() for d in ds)
    raise ValueError(f"unknown element kind '{kind}'")


def lacking(defn: Definition, elements: list[tuple[str, str]]) -> list[str]:
    """``"kind:id"`` of each element ``defn`` does not have (a ``step`` is reported as a trigger)."""
    return [f"{'trigger' if kind == 'step' else kind}:{name}" for kind, name in elements if not has(defn, kind, name)]
