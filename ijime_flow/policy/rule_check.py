"""Checking policy rules over every reachable configuration of a workflow (:mod:`.explore`).

Each rule gives 合格 (pass), 不合格 (fail, with a counterexample) or, for a ``should`` rule that does not
hold, 警告 (a warning, never a failure). A rule about a step that can never be taken anywhere fails
too: a rule that could not be checked is not a rule that holds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..definition import Definition
from ..errors import IjimeFlowError
from ..language.conditions import GuardFn, holds
from ..stepper import coerce_fact, context, opening_data
from .attempts import Trials
from .counterexample import Counterexample
from .elements import lacking, rule_elements
from .escalation_check import check_escalates
from .explore import CASE_ID, START, Action, Exploration, Explorer, Monitor, Node, condition_facts
from .rules import Rule, RuleSet, as_list
from .static_checks import check_deadline, check_opens


@dataclass
class RuleResult:
    rule: Rule
    status: str  # "pass", "fail", "warn", "unchecked" (未確認: the workflow lacks what the rule names)
    message: str = ""
    counterexample: Counterexample | None = None
    missing: list[str] = field(default_factory=list)  # "kind:id" of what it names and the workflow lacks


@dataclass
class RuleReport:
    workflow: str
    results: list[RuleResult] = field(default_factory=list)
    configurations: int = 0
    edges: int = 0
    seconds: float = 0.0
    truncated: bool = False
    file: str = ""  # the workflow file checked, when it came from one

    @property
    def failed(self) -> int:
        return sum(r.status == "fail" for r in self.results)

    @property
    def warnings(self) -> int:
        return sum(r.status == "warn" for r in self.results)

    @property
    def unchecked(self) -> int:
        return sum(r.status == "unchecked" for r in self.results)


def check_rules(defn: Definition, rules: RuleSet, *, others: Mapping[str, Definition] | None = None,
                first: Callable[[Rule], bool] | None = None, until_broken: bool = False,
                guards: Mapping[str, GuardFn] | None = None) -> RuleReport:
    """Check every rule of ``rules`` on ``defn`` (``others``: the workflows it escalates to).
    ``until_broken`` (mutation testing): stop at the first rule that does not hold, trying the rules
    ``first`` picks before the others."""
    started = time.perf_counter()
    monitors = [Monitor(r.id, frozenset(as_list(o.after)), frozenset(o.reset_by))
                for r in rules.rules for o in (r.only_after, r.not_after) if o is not None]
    conditions = [c for r in rules.rules for c in (r.only_when.when if r.only_when else None,
                                                   r.only_after.unless if r.only_after else None,
                                                   r.needs_data.when if r.needs_data else None) if c is not None]
    explorer = Explorer(defn, conditions=conditions, monitors=monitors, guards=guards)
    search = explorer.search(every=PARTIAL_EVERY if until_broken else None)
    space = next(search)
    extra: dict[str, list[str]] = {}  # by trigger: facts its rules read that configurations do not tell apart
    reads: dict[str, list[str]] = {}  # by trigger: every fact its rules read

    def read_by(trigger: str, condition: Any, names: list[str] | None = None) -> None:
        named = names if names is not None else [name for name, _ in condition_facts(condition)]
        known = explorer.defn.spec.facts
        extra.setdefault(trigger, []).extend(n for n in named if n in known and n not in explorer.relevant)
        reads.setdefault(trigger, []).extend(named)

    for r in rules.rules:
        if r.only_when is not None:
            read_by(r.only_when.trigger, r.only_when.when)
        if r.needs_data is not None and r.needs_data.when is not None and r.needs_data.trigger is not None:
            read_by(r.needs_data.trigger, r.needs_data.when)
        if r.clears is not None:
            read_by(r.clears.trigger, None, [r.clears.fact])
        if r.only_after is not None and r.only_after.unless is not None:
            for trigger in as_list(r.only_after.trigger):
                read_by(trigger, r.only_after.unless)
    trials = Trials(explorer, extra, reads)
    ordered = sorted(rules.rules, key=lambda r: not first(r)) if first is not None else rules.rules
    fixed: dict[str, Problem | None] = {}  # the escalations: checked on a real engine, once

    def checked(rule: Rule) -> Problem | None:
        if rule.escalates is None:
            return _check(rule, trials, space, others or {})
        if rule.id not in fixed:
            fixed[rule.id] = _check(rule, trials, space, others or {})
        return fixed[rule.id]

    while not space.complete:  # until_broken: what breaks a rule part of the way breaks it (the rest waits)
        for rule in ordered:
            problem = checked(rule) if _partly(rule) else None
            if problem is not None and problem[1] is not None:
                report = RuleReport(defn.id, configurations=len(space.nodes), edges=space.edges)
                report.results.append(RuleResult(rule, "warn" if rule.level == "should" else "fail", *problem))
                report.seconds = time.perf_counter() - started
                return report
        space = next(search)
    report = RuleReport(defn.id, configurations=len(space.nodes), edges=space.edges, truncated=space.truncated)
    for rule in ordered:
        missing = lacking(defn, rule_elements(rule))
        target = defn.spec.escalation.to if defn.spec.escalation is not None else None
        if rule.escalates is not None and target is not None and target not in (others or {}):
            missing.append(f"workflow:{target}")  # nothing to escalate to among the workflows checked
        if missing:  # the school's workflow has no such step, state or fact: 未確認, listed once by ``check``
            report.results.append(RuleResult(rule, "unchecked", "このワークフローにないため確かめられません（未確認） / not"
                                             f" checked: the workflow has no {', '.join(missing)}", None, missing))
            continue
        problem = checked(rule)
        if problem is None:
            report.results.append(RuleResult(rule, "pass"))
        else:
            message, example = problem
            report.results.append(RuleResult(rule, "warn" if rule.level == "should" else "fail", message, example))
            if until_broken:
                break
    if space.truncated:
        for result in report.results:
            if result.status == "pass":
                result.status, result.message = "fail", (
                    f"状態が多すぎて全部を確かめられませんでした（{len(space.nodes):,} 通りで打ち切り） / the workflow has"
                    " too many configurations to check them all")
    report.seconds = time.perf_counter() - started
    return report


Problem = tuple[str, Counterexample | None]
PARTIAL_EVERY = 256
"""``until_broken``: the rules are tried part of the way, at 256, 1,024, 4,096, … configurations."""


def _partly(rule: Rule) -> bool:
    """Whether ``rule`` can be broken by part of the configurations: every kind but "some state lets R
    act" and "every configuration can still close", which need them all (a problem without a
    counterexample — a step never taken, a state never entered — waits for the whole too)."""
    return rule.may_act is None and rule.kind != "reaches_final"


def _check(rule: Rule, trials: Trials, space: Exploration, others: Mapping[str, Definition]) -> Problem | None:
    explorer = trials.explorer
    if rule.only_roles is not None:
        return _only_roles(rule, trials, space)
    if rule.may_act is not None:
        return _may_act(rule, trials, space)
    if rule.only_after is not None or rule.not_after is not None:
        return _order(rule, trials, space)
    if rule.needs_data is not None:
        return _opening_data(rule, explorer) if rule.needs_data.opening else _needs_data(rule, trials, space)
    if rule.only_when is not None:
        return _only_when(rule, trials, space)
    if rule.deadline is not None:
        return check_deadline(rule, explorer.defn, explorer, space)
    if rule.escalates is not None:
        return check_escalates(rule, explorer.defn, explorer, others)
    if rule.clears is not None:
        return _clears(rule, trials, space)
    if rule.opens is not None:
        return check_opens(rule, explorer.defn)
    return _reaches_final(space)


def _example(node: Node, before: list[Action], last: Action, expect: str, ja: str, en: str,
             **detail: Any) -> Counterexample:
    return Counterexample(node.path() + before, last, expect, ja, en, dict(detail))


def _never(trigger: str) -> Problem:
    return (f"「{trigger}」を行える状態がどこにもありません（規則を確かめられません） / '{trigger}' can never be taken,"
            " so the rule could not be checked", None)


# -- the kinds ---------------------------------------------------------------------------------------------
def _only_roles(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    spec = rule.only_roles
    assert spec is not None
    explorer = trials.explorer
    defn = explorer.defn
    allowed = set(spec.roles)
    forbidden = [r for r in sorted(defn.spec.roles) if not defn.role_closure([r]) & allowed]
    triggers = as_list(spec.trigger) or sorted({t.trigger for t in defn.spec.transitions if spec.fact in t.records})
    only = ", ".join(spec.roles) or "（自動 / automatic）"
    node = next((n for n in space.nodes if not defn.is_closed(n.leaves)), None)
    if spec.fact is not None and node is not None:  # who may record a fact does not depend on where it stands
        for role in forbidden:
            for value in explorer.values(defn.spec.facts[spec.fact], spec.fact, node.at):
                if explorer.record(node, spec.fact, role, value) is not None:
                    last = Action("fact", spec.fact, role, (("value", value),), node.at)
                    return (f"{role} が事実「{spec.fact}」を記録できます（{only} に限る） / {role} may record"
                            f" '{spec.fact}' (only {only} may)", _example(node, [], last, "refused_permission",
                                                                         "権限のない役割が記録できた",
                                                                         "a role without the right recorded it"))
    if spec.opening:
        for role in forbidden:
            if defn.role_closure([role]) & set(defn.spec.opened_by):
                opening = next(explorer.openings(), None)
                last = Action("open", defn.id, role, opening[0].data if opening else (), START)
                return (f"{role} が事案を開けます（{only} に限る） / {role} may open a case (only {only} may)",
                        Counterexample([], last, "refused", "権限のない役割が事案を開けた", "a role without the right opened it"))
        return None
    for trigger in triggers:
        taken = False
        for node, tried in trials.distinct(space.nodes, trigger):
            if spec.source is not None and not defn.is_active(spec.source, node.leaves):
                continue
            taken = taken or bool(tried)
            for last, before, _, _ in tried:
                if last.role in forbidden:
                    return (f"{last.role} が「{trigger}」を行えます（{only} に限る） / {last.role} may take '{trigger}'"
                            f" (only {only} may)", _example(node, before, last, "refused", "権限のない役割が行えた",
                                                           "a role without the right took the step"))
        if spec.roles and not taken:
            return _never(trigger)
    return None


def _may_act(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    spec = rule.may_act
    assert spec is not None
    defn = trials.explorer.defn
    missing = set(spec.roles)
    for node, tried in trials.distinct(space.nodes, spec.trigger):
        if spec.source is not None and not defn.is_active(spec.source, node.leaves):
            continue
        missing -= {last.role for last, _, _, _ in tried}
        if not missing:
            return None
    where = f"（{spec.source} から）" if spec.source else ""
    return (f"{', '.join(sorted(missing))} が「{spec.trigger}」{where}を行える状態がありません / {', '.join(sorted(missing))}"
            f" can never take '{spec.trigger}'", None)


def _order(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    """``only_after``: refused while the rule's flag is unset; ``not_after``: refused once it is set."""
    spec = rule.only_after or rule.not_after
    assert spec is not None
    wanted = rule.only_after is not None
    unless = rule.only_after.unless if rule.only_after else None
    after = "・".join(as_list(spec.after))
    for trigger in as_list(spec.trigger):
        taken = False
        for node, tried in trials.distinct(space.nodes, trigger, rule.id):
            taken = taken or bool(tried)
            if (rule.id in node.flags) == wanted:
                continue
            for last, before, current, _ in tried:
                if unless is not None and _holds(trials.explorer, unless, current, last):
                    continue
                if wanted:
                    return (f"「{after}」より前に「{trigger}」を行えます / '{trigger}' can be taken before '{after}'",
                            _example(node, before, last, "refused", "順序を飛ばして行えた", "taken out of order"))
                return (f"「{after}」の後に「{trigger}」を行えます / '{trigger}' can be taken after '{after}'",
                        _example(node, before, last, "refused", "手順が後戻りした", "the procedure went back"))
        if not taken and wanted:
            return _never(trigger)
    return None


def _holds(explorer: Explorer, condition: Any, current: Node, last: Action) -> bool:
    """``condition`` on the facts as they stand after the step's own recorded data, at its time."""
    defn = explorer.defn
    recorded = {k: coerce_fact(defn.spec.facts[k], k, v) for k, v in last.data if k in defn.spec.facts}
    facts = {**current.facts, **recorded}
    return holds(condition, context(defn, facts, last.at, current.leaves, CASE_ID, explorer.guards, current.actors))


def _opening_data(rule: Rule, explorer: Explorer) -> Problem | None:
    """Opening a case without one of the facts the rule names is refused (each way the case can be opened)."""
    spec = rule.needs_data
    assert spec is not None
    defn = explorer.defn
    opened = False
    for action, _, _ in explorer.openings():
        opened = True
        for name in spec.data:
            data = {k: v for k, v in action.data if k != name}
            try:
                opening_data(defn, data)
            except IjimeFlowError:
                continue
            short = Action("open", defn.id, action.role, tuple(sorted(data.items())), action.at)
            return (f"事案を {name} なしで開けます / a case can be opened without '{name}'",
                    Counterexample([], short, "refused", f"{name} の記録がないまま事案を開けた", f"opened without '{name}'"))
    return None if opened else ("事案を開く方法がありません（規則を確かめられません） / no case can be opened", None)


def _needs_data(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    spec = rule.needs_data
    assert spec is not None and spec.trigger is not None
    explorer = trials.explorer
    taken = False
    for node, tried in trials.distinct(space.nodes, spec.trigger):
        if spec.source is not None and not explorer.defn.is_active(spec.source, node.leaves):
            continue
        for last, before, current, _ in tried:
            if spec.when is not None and not _holds(explorer, spec.when, current, last):
                continue
            taken = True
            for name in spec.data:
                data = {k: v for k, v in last.data if k != name}
                if explorer.take(current, spec.trigger, last.role, data) is not None:
                    short = Action("fire", spec.trigger, last.role, tuple(sorted(data.items())), last.at)
                    return (f"「{spec.trigger}」を {name} なしで行えます / '{spec.trigger}' is accepted without '{name}'",
                            _example(node, before, short, "refused", f"{name} の記録がないまま行えた",
                                     f"accepted without '{name}'"))
    return None if taken else _never(spec.trigger)


def _only_when(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    spec = rule.only_when
    assert spec is not None
    taken = False
    for node, tried in trials.distinct(space.nodes, spec.trigger):
        for last, before, current, _ in tried:
            taken = True
            if not _holds(trials.explorer, spec.when, current, last):
                return (f"条件を満たさないのに「{spec.trigger}」を行えます / '{spec.trigger}' is accepted although"
                        " the rule's condition does not hold",
                        _example(node, before, last, "refused", "条件を満たさないまま行えた", "accepted without the condition"))
    return None if taken else _never(spec.trigger)


def _clears(rule: Rule, trials: Trials, space: Exploration) -> Problem | None:
    spec = rule.clears
    assert spec is not None
    taken = False
    for node, tried in trials.distinct(space.nodes, spec.trigger):
        for last, before, current, moved in tried:
            if spec.fact not in current.facts:
                continue
            taken = True
            if spec.fact in moved[1] and spec.fact not in dict(last.data):
                return (f"「{spec.trigger}」の後も事実「{spec.fact}」が残ります / '{spec.fact}' is still recorded after"
                        f" '{spec.trigger}'", _example(node, before, last, "cleared", "記録が残った", "the fact remained",
                                                       fact=spec.fact))
    return None if taken else _never(spec.trigger)


def _reaches_final(space: Exploration) -> Problem | None:
    """Backwards from the closed configurations along the explored steps: what is not reached cannot end."""
    before: dict[int, list[Node]] = {}
    for node in space.nodes:
        for successor in node.successors:
            before.setdefault(id(successor), []).append(node)
    reaching = {id(n) for n in space.nodes if space.closed(n)}
    queue = deque(n for n in space.nodes if id(n) in reaching)
    while queue:
        for node in before.get(id(queue.popleft()), []):
            if id(node) not in reaching:
                reaching.add(id(node))
                queue.append(node)
    for node in space.nodes:  # breadth first: the first is the nearest
        if id(node) not in reaching:
            return ("ここからは終結に至る手順がありません / no steps lead from here to a final state",
                    Counterexample(node.path(), None, "final_reachable", "終結できない状態に入った",
                                   "the case reached a state it cannot be closed from"))
    return None
