"""Every configuration a workflow can reach, explored breadth first with the engine's own rules.

A *configuration* is what can change whether a step is allowed: the active states, the values of
the facts some condition reads (of the workflow or of a policy rule), where "now" stands against each
waiting period counted from a date fact (before or after ``act_stopped_on + P3M``, for every such
period in the workflow *and* in the rules, so a shortened period is told apart from the policy's),
and the flags of the order rules (has ``report_to_administrator`` happened yet?). Facts no condition
reads do not change what is allowed, so they are not told apart.

From each configuration every step is tried the way :meth:`Case.fire` takes it — :func:`stepper.resolve`
(state, role, data, condition), the shared machine's move, the facts it records and clears, then the
automatic steps — for every role the step names and every value its recorded facts can take (each
boolean and enum value, today's date, the numbers conditions compare with); every fact a condition
reads is also recorded on its own (with each value), and time is moved on to the next period's end.
Breadth first, so the path kept to each configuration is a shortest one: a counterexample is the
shortest sequence of steps that breaks a rule.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from ..case import MAX_AUTOMATIC
from ..clock import TOKYO
from ..definition import Definition
from ..errors import IjimeFlowError
from ..language.condition_models import Condition, DistinctActors, FactIs, Since
from ..language.conditions import GuardFn, walk
from ..language.counting import ActorTally
from ..language.models import FactDef, FieldDef, TransitionDef
from ..language.stored import add_duration
from ..machine import CompiledMachine
from ..stepper import apply_facts, check_fact, due_automatic, note_actor, opening_data, resolve
from .configuration import Action, Exploration, Monitor, Node, condition_facts, frozen

__all__ = ["CASE_ID", "MAX_CONFIGURATIONS", "START", "Action", "Exploration", "Explorer", "Monitor", "Node",
           "condition_facts"]

START = datetime(2019, 5, 13, 10, 0, tzinfo=TOKYO)
"""When every explored case is opened: a Monday, a school day, 10:00 in Tokyo."""
MAX_CONFIGURATIONS = 200_000
CASE_ID = "explore-1"


class Explorer:
    """The reachable configurations of one definition, with the edges between them."""

    def __init__(self, definition: Definition, *, conditions: Iterable[Condition] = (), monitors: Iterable[Monitor] = (),
                 guards: Mapping[str, GuardFn] | None = None, limit: int = MAX_CONFIGURATIONS) -> None:
        self.defn = definition
        self.machine = CompiledMachine(definition)
        self.guards = dict(guards or {})
        self.monitors = tuple(monitors)
        rule_conditions = list(conditions)
        self.limit = limit
        known = definition.spec.facts
        # what a move reads tells configurations apart; what only an internal action or a rule reads
        # is tried at each configuration by the rules themselves (see :meth:`local_facts`)
        moving = [t for t in definition.spec.transitions if t.to is not None or t.automatic]
        read: list[tuple[str, Condition]] = [pair for t in moving for pair in condition_facts(t.when)]
        self.relevant = sorted({name for name, _ in read if name in known})
        atoms = {a for m in self.monitors for a in m.atoms} | {r for m in self.monitors for r in m.reset_by}
        self.counted: dict[str, int] = {}  # trigger -> the most people a distinct_actors condition tells apart
        for condition in [t.when for t in definition.spec.transitions if t.when is not None] + rule_conditions:
            for leaf in walk(condition):
                if isinstance(leaf, DistinctActors):
                    counted = leaf.distinct_actors
                    self.counted[counted] = max(self.counted.get(counted, 0), leaf.number + 1)
        self._from = {id(t): frozenset(t.from_) for t in definition.spec.transitions}
        self.edges_of = [t for t in definition.spec.transitions if not t.automatic and (
            t.to is not None or t.trigger in atoms or t.trigger in self.counted
            or set(t.records + t.clears) & set(self.relevant))]
        every = read + [pair for t in definition.spec.transitions for pair in condition_facts(t.when)]
        for condition in rule_conditions:
            every += condition_facts(condition)
        self.periods: dict[str, list[str]] = {}
        self.numbers: dict[str, set[Any]] = {}
        for name, leaf in every:
            if isinstance(leaf, Since):
                self.periods.setdefault(name, [])
                if leaf.at_least not in self.periods[name]:
                    self.periods[name].append(leaf.at_least)
            elif isinstance(leaf, FactIs):
                for value in (leaf.equals, leaf.not_equals, leaf.lt, leaf.lte, leaf.gt, leaf.gte, *(leaf.in_ or [])):
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        self.numbers.setdefault(name, set()).update({value - 1, value, value + 1})

    def local_facts(self, *conditions: Condition | None) -> list[str]:
        """The facts ``conditions`` read that configurations do not tell apart: a rule tries each of
        their values (and unset) where it checks a step."""
        known = self.defn.spec.facts
        return sorted({name for c in conditions for name, _ in condition_facts(c)
                       if name in known and name not in self.relevant})

    # -- what tells configurations apart ---------------------------------------------------------------
    def key(self, leaves: frozenset[str], facts: Mapping[str, Any], at: datetime, flags: frozenset[str],
            actors: ActorTally | None = None) -> Hashable:
        told: list[Any] = []
        today = at.astimezone(self.defn.tz).date()
        for name in self.relevant:
            value = facts.get(name)
            if name in self.periods and isinstance(value, date):
                told.append(tuple(today >= _after(value, p) for p in self.periods[name]))
            else:
                told.append(value)
        if self.counted:  # how many people took each counted step, as far as a condition tells apart
            told += [min(len((actors or {}).get(t, {})), cap) for t, cap in self.counted.items()]
        return leaves, tuple(told), flags

    def values(self, fact: FactDef, name: str, at: datetime) -> list[Any]:
        """The values of a fact worth trying: each one a condition could tell apart."""
        if fact.type == "bool":
            return [True, False]
        if fact.type == "enum":
            return list(fact.values or [])
        if fact.type == "date":
            return [at.astimezone(self.defn.tz).date()]
        if fact.type == "datetime":
            return [at]
        if fact.type in ("int", "number"):
            return sorted(self.numbers.get(name, {1}))
        return ["確認済み"]

    # -- steps -----------------------------------------------------------------------------------------
    def openings(self) -> Iterator[tuple[Action, frozenset[str], dict[str, Any]]]:
        spec = self.defn.spec
        names = list(spec.records_on_open)
        role = spec.opened_by[0]
        for combo in itertools.product(*(self.values(spec.facts[n], n, START) for n in names)):
            data = dict(zip(names, combo, strict=True))
            try:
                recorded = opening_data(self.defn, data)
            except IjimeFlowError:
                continue
            facts: dict[str, Any] = {}
            apply_facts(facts, self.defn, recorded)
            leaves = frozenset(self.defn.initial_leaves)  # as Engine.open_case: no automatic step at opening
            yield Action("open", self.defn.id, role, frozen(data), START), leaves, facts

    def fires(self, node: Node) -> Iterator[tuple[Action, frozenset[str], dict[str, Any], TransitionDef, ActorTally]]:
        """Every step some role can take here, with what it leads to."""
        for t in self.edges_of:
            if not self.source_active(t, node.leaves):
                continue
            for role in t.roles:
                for data in self.step_data(t, node.at):
                    moved = self.take(node, t.trigger, role, data)
                    if moved is not None:
                        yield Action("fire", t.trigger, role, frozen(data), node.at), *moved

    def step_data(self, t: TransitionDef, at: datetime) -> Iterator[dict[str, Any]]:
        spec = self.defn.spec
        names = list(t.records)
        for combo in itertools.product(*(self.values(spec.facts[n], n, at) for n in names)):
            data = dict(zip(names, combo, strict=True))
            data.update({name: _filled((t.fields or {}).get(name), at) for name in t.requires})
            yield data

    def take(self, node: Node, trigger: str, role: str, data: Mapping[str, Any],
             at: datetime | None = None) -> tuple[frozenset[str], dict[str, Any], TransitionDef, ActorTally] | None:
        """What firing ``trigger`` as ``role`` with ``data`` leads to (active states, facts, the step, who took
        the counted steps), or None when it is refused. A step some ``distinct_actors`` condition counts is
        taken by someone new each time (up to the most any condition tells apart): the explorer asks what
        can happen, and a school has more than one teacher."""
        defn, when = self.defn, node.at if at is None else at
        actor = "explorer"
        if trigger in self.counted:
            actor = f"person-{min(len(node.actors.get(trigger, {})), self.counted[trigger]) + 1}"
        roles = defn.role_closure([role])
        try:
            chosen = resolve(defn, node.leaves, node.facts, trigger, roles, actor, when, data, CASE_ID, self.guards,
                             node.actors)
        except IjimeFlowError:
            return None
        t = chosen.transition
        after = self.machine.move(node.leaves, chosen.index) if t.to is not None else node.leaves
        facts = dict(node.facts)
        for name in t.clears:
            facts.pop(name, None)
        apply_facts(facts, defn, chosen.recorded)
        actors = note_actor(defn, node.actors, "transition" if t.to is not None else "action", trigger, actor, roles)
        moved = self._automatic(after, facts, when, actors)
        return None if moved is None else (moved, facts, t, actors)

    def record(self, node: Node, name: str, role: str, value: Any) -> dict[str, Any] | None:
        """The facts after recording ``name`` = ``value`` as ``role``, or None when it is refused."""
        if self.defn.is_closed(node.leaves):
            return None
        try:
            typed = check_fact(self.defn, name, value, self.defn.role_closure([role]), "explorer")
        except IjimeFlowError:
            return None
        facts = dict(node.facts)
        apply_facts(facts, self.defn, {name: typed})
        return facts

    def recorder(self, name: str) -> str:
        fact = self.defn.spec.facts[name]
        return fact.roles[0] if fact.roles else sorted(self.defn.spec.roles)[0]

    def _automatic(self, leaves: frozenset[str], facts: dict[str, Any], at: datetime,
                   actors: ActorTally | None = None) -> frozenset[str] | None:
        """The automatic steps that follow, as :meth:`Case.fire` takes them; None where the engine refuses
        the step (more than ``MAX_AUTOMATIC`` in a row)."""
        for _ in range(MAX_AUTOMATIC):
            due = due_automatic(self.defn, leaves, facts, at, CASE_ID, self.guards, actors)
            if due is None:
                return leaves
            leaves = self.machine.move(leaves, due[0])
        return None

    def next_time(self, node: Node) -> datetime | None:
        """The next day a waiting period counted from a recorded date ends, or None."""
        today = node.at.astimezone(self.defn.tz).date()
        ends = [end for name, periods in self.periods.items() if isinstance(node.facts.get(name), date)
                for end in (_after(node.facts[name], p) for p in periods) if end > today]
        if not ends:
            return None
        return datetime.combine(min(ends), time(10, 0), tzinfo=self.defn.tz)

    def variants(self, node: Node, names: list[str]) -> Iterator[tuple[list[Action], Node]]:
        """``node`` with each combination of values (and unset) of ``names`` recorded first — facts
        configurations do not tell apart: the actions that recorded them, and the node as it then stands."""
        unset = object()
        domains = [[unset, *self.values(self.defn.spec.facts[n], n, node.at)] for n in names]
        for combo in itertools.product(*domains):
            actions, current = [], node
            for name, value in zip(names, combo, strict=True):
                if value is unset:
                    continue
                role = self.recorder(name)
                facts = self.record(current, name, role, value)
                if facts is None:
                    break
                actions.append(Action("fact", name, role, (("value", value),), node.at))
                current = Node(current.leaves, facts, current.at, current.flags, actors=current.actors)
            else:
                yield actions, current

    def source_active(self, t: TransitionDef, leaves: frozenset[str]) -> bool:
        """:meth:`Definition.source_active`, on the remembered set of active states."""
        if "*" in t.from_:
            return not self.defn.is_closed(leaves)
        return not self._from[id(t)].isdisjoint(self.defn.active_paths(leaves))

    def flags_after(self, flags: frozenset[str], trigger: str, after: frozenset[str]) -> frozenset[str]:
        active = self.defn.active_paths(after)
        out = set(flags)
        for m in self.monitors:
            if trigger in m.reset_by:
                out.discard(m.flag)
            if trigger in m.atoms or not m.atoms.isdisjoint(active):
                out.add(m.flag)
        return frozenset(out)

    def initial_flags(self, leaves: frozenset[str]) -> frozenset[str]:
        active = self.defn.active_paths(leaves)
        return frozenset(m.flag for m in self.monitors if not m.atoms.isdisjoint(active))

    # -- the search ------------------------------------------------------------------------------------
    def run(self, start: tuple[frozenset[str], dict[str, Any], datetime] | None = None) -> Exploration:
        """Every configuration reachable from a case opened at :data:`START` — or from ``start``
        (active states, facts, now) — breadth first."""
        return deque(self.search(start), maxlen=1)[0]

    def search(self, start: tuple[frozenset[str], dict[str, Any], datetime] | None = None, *,
               every: int | None = None) -> Iterator[Exploration]:
        """:meth:`run` step by step: with ``every``, a partial exploration (``complete`` False) each time the
        configurations found pass ``every``, 4 × ``every``, 16 × ``every``, …; the whole one last. A partial
        one holds every configuration nearer than the farthest found, each with a shortest path, but the
        steps out of the last ones are not all known yet."""
        seen: dict[Any, Node] = {}
        queue: deque[Node] = deque()
        nodes: list[Node] = []
        edges = 0
        mark = every

        def reach(node: Node, parent: Node | None) -> None:
            key = self.key(node.leaves, node.facts, node.at, node.flags, node.actors)
            found = seen.get(key)
            if found is None:
                seen[key] = node
                nodes.append(node)
                queue.append(node)
                found = node
            if parent is not None:
                parent.successors.append(found)

        if start is not None:
            reach(Node(frozenset(start[0]), dict(start[1]), start[2], self.initial_flags(frozenset(start[0]))), None)
        for action, leaves, facts in self.openings() if start is None else ():
            reach(Node(leaves, facts, START, self.initial_flags(leaves), None, action), None)
        while queue:
            if len(nodes) > self.limit:
                yield Exploration(self.defn, nodes, True, edges)
                return
            if mark is not None and len(nodes) >= mark:
                yield Exploration(self.defn, nodes, False, edges, complete=False)
                mark *= 4
            node = queue.popleft()
            for action, leaves, facts, _, actors in self.fires(node):
                edges += 1
                flags = self.flags_after(node.flags, action.name, leaves)
                reach(Node(leaves, facts, node.at, flags, node, action, actors=actors), node)
            for name in self.relevant:
                role = self.recorder(name)
                for value in self.values(self.defn.spec.facts[name], name, node.at):
                    recorded = self.record(node, name, role, value)
                    if recorded is not None:
                        edges += 1
                        action = Action("fact", name, role, (("value", value),), node.at)
                        reach(Node(node.leaves, recorded, node.at, node.flags, node, action, actors=node.actors), node)
            later = self.next_time(node)
            if later is not None:
                edges += 1
                reach(Node(node.leaves, node.facts, later, node.flags, node, Action("wait", "", "", (), later),
                           actors=node.actors), node)
        yield Exploration(self.defn, nodes, False, edges)


def _filled(field: FieldDef | None, at: datetime) -> Any:
    """A value for a required data field, of its type (a number: 1; a date: today, as ISO text; free text: 確認済み)."""
    kind = field.type if field is not None else "text"
    filled: dict[str, Any] = {"int": 1, "number": 1.0, "bool": True, "date": at.date().isoformat(), "datetime": at.isoformat()}
    return filled.get(kind, "確認済み")


@lru_cache(maxsize=65536)
def _after(day: date, period: str) -> date:
    """``day`` plus a period, as the ``since`` condition counts it (calendar months and years)."""
    return add_duration(day, period)



