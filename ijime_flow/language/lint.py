"""Checks on a validated workflow that the schema alone cannot make.

Two groups, each finding reported with its path in the document so the loader can say
``file:line:col``:

- reference checks (always run; a workflow failing them cannot be compiled): unknown states, roles
  and facts; values that do not fit the fact's type; automatic steps from a state that can't be done;
  cycles of roles, repeated enum values and step data that can never be given (:mod:`.integrity`);
- lint rules (run on load unless asked not to): ``unreachable`` states, ``dead-end`` states,
  ``region-without-final``, ``duplicate-trigger`` without distinguishing conditions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..definition import Definition
from .conditions import AllOf, AnyOf, Condition, FactIs, GuardRef, NotCond, Since
from .integrity import duplicate_values, role_cycles, step_data_problems
from .models import FactDef, StateDef, TransitionDef

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    rule: str
    path: Path
    message: str
    at_key: bool = False  # point at the key (the state's name) rather than its value


def state_doc_paths(defn: Definition) -> dict[str, Path]:
    """Dotted state path -> path inside the document (``states.responding.parallel.victim_support``)."""
    out: dict[str, Path] = {}

    def walk(states: dict[str, StateDef], dotted: str, doc: Path) -> None:
        for name, spec in states.items():
            here = f"{dotted}.{name}" if dotted else name
            out[here] = (*doc, name)
            if spec.states:
                walk(spec.states, here, (*doc, name, "states"))
            if spec.parallel:
                walk(spec.parallel, here, (*doc, name, "parallel"))

    walk(defn.spec.states, "", ("states",))
    return out


def check_references(defn: Definition) -> list[Finding]:
    spec, found = defn.spec, []
    roles, facts, nodes = spec.roles, spec.facts, defn.nodes
    docs = state_doc_paths(defn)

    def role_refs(names: list[str], path: Path) -> None:
        for i, name in enumerate(names):
            if name not in roles:
                found.append(Finding("unknown-role", (*path, i), f"unknown role '{name}' (declared: {', '.join(roles)})"))

    if spec.initial not in spec.states:
        found.append(Finding("unknown-state", ("initial",), f"initial state '{spec.initial}' is not a top-level state"))
    role_refs(spec.opened_by, ("opened_by",))
    for j, name in enumerate(spec.records_on_open):
        if name not in facts:
            found.append(Finding("unknown-fact", ("records_on_open", j), f"unknown fact '{name}'"))
    for name, role in roles.items():
        role_refs(role.includes, ("roles", name, "includes"))
    found.extend(Finding("role-cycle", path, message) for path, message in role_cycles(roles))
    found.extend(Finding("duplicate-value", path, message) for path, message in duplicate_values(facts))
    for name, fact in facts.items():
        if fact.roles:
            role_refs(fact.roles, ("facts", name, "roles"))
    for path, node in nodes.items():
        if node.spec.initial is not None and f"{path}.{node.spec.initial}" not in nodes:
            found.append(Finding("unknown-state", (*docs[path], "initial"),
                                 f"initial child '{node.spec.initial}' is not a state inside '{path}'"))
    triggers = {t.trigger for t in spec.transitions}
    seen_deadlines: dict[str, str] = {}
    for path, node in nodes.items():
        for k, deadline in enumerate(node.spec.deadlines):
            where: Path = (*docs[path], "deadlines", k)
            if deadline.id in seen_deadlines:
                found.append(Finding("duplicate-deadline", (*where, "id"),
                                     f"deadline id '{deadline.id}' is also used on state '{seen_deadlines[deadline.id]}'"))
            seen_deadlines.setdefault(deadline.id, path)
            for j, trigger in enumerate(deadline.met_by):
                if trigger not in triggers:
                    found.append(Finding("unknown-trigger", (*where, "met_by", j), f"unknown trigger '{trigger}'"))
            if deadline.when is not None:
                found.extend(_condition_refs(deadline.when, (*where, "when"), facts))
    for i, t in enumerate(spec.transitions):
        here: Path = ("transitions", i)
        for j, name in enumerate(t.clears):
            if name not in facts:
                found.append(Finding("unknown-fact", (*here, "clears", j), f"unknown fact '{name}'"))
        for j, src in enumerate(t.from_):
            if src != "*" and src not in nodes:
                found.append(Finding("unknown-state", (*here, "from", j), _no_state(src, nodes)))
        if t.to is not None and t.to not in nodes:
            found.append(Finding("unknown-state", (*here, "to"), _no_state(t.to, nodes)))
        role_refs(t.roles, (*here, "roles"))
        for j, name in enumerate(t.records):
            if name not in facts:
                found.append(Finding("unknown-fact", (*here, "records", j), f"unknown fact '{name}'"))
        if t.when is not None:
            found.extend(_condition_refs(t.when, (*here, "when"), facts))
        found.extend(Finding(*problem) for problem in step_data_problems(i, t, facts))
        if t.automatic:
            for j, src in enumerate(t.from_):
                if src == "*" or (src in nodes and nodes[src].kind == "atomic"):
                    found.append(Finding("automatic-source", (*here, "from", j),
                                         "an automatic step must leave a compound or parallel state"
                                         " (it is taken when that state is done)"))
    if spec.escalation is not None:
        seen_criteria: set[str] = set()
        for k, criterion in enumerate(spec.escalation.criteria):
            where = ("escalation", "criteria", k)
            if criterion.id in seen_criteria:
                found.append(Finding("duplicate-criterion", (*where, "id"), f"criterion id '{criterion.id}' is used twice"))
            seen_criteria.add(criterion.id)
            if criterion.when is not None:
                found.extend(_condition_refs(criterion.when, (*where, "when"), facts))
            rule = criterion.absence or criterion.absence_run
            if rule is not None:
                counted = facts.get(rule.fact)
                key = "absence" if criterion.absence is not None else "absence_run"
                if counted is None:
                    found.append(Finding("unknown-fact", (*where, key, "fact"), f"unknown fact '{rule.fact}'"))
                elif counted.type != "date" or not counted.many:
                    found.append(Finding("fact-type", (*where, key, "fact"),
                                         f"absence rules count a date fact with many: true; '{rule.fact}' is not"))
    found.extend(_ambiguous_effects(defn))
    return found


def unrunnable(defn: Definition) -> list[Finding]:
    """The reference problems no definition runs with (unknown states and facts: the machine and the facts'
    fold would fail). Every version refused them on load; a definition read back from a store is checked
    for these alone, for what later versions added to :func:`check_references` was accepted before."""
    return [f for f in check_references(defn) if f.rule in ("unknown-state", "unknown-fact")]


def _ambiguous_effects(defn: Definition) -> Iterator[Finding]:
    """Steps sharing a trigger and a source must record and clear the same facts: the log names the
    trigger and the states, and replay must know the effects from those alone."""
    for entries in defn.transitions_by_trigger.values():
        for k, (j, later) in enumerate(entries):
            for i, earlier in entries[:k]:
                shared = _shared_sources(earlier, later)
                if shared and (set(earlier.records), set(earlier.clears)) != (set(later.records), set(later.clears)):
                    yield Finding("ambiguous-effects", ("transitions", j, "trigger"),
                                  f"trigger '{later.trigger}' from '{sorted(shared)[0]}' records or clears other facts"
                                  f" than transitions[{i}]: give one of them another trigger")
                    break


def _no_state(name: str, nodes: dict[str, Any]) -> str:
    near = [p for p in nodes if p.endswith("." + name) or p.split(".")[-1] == name.split(".")[-1]]
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"unknown state '{name}' (nested states are written with their full dotted path){hint}"


def _condition_refs(cond: Condition, path: Path, facts: dict[str, FactDef]) -> Iterator[Finding]:
    if isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from _condition_refs(c, (*path, "all", i), facts)
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from _condition_refs(c, (*path, "any", i), facts)
    elif isinstance(cond, NotCond):
        yield from _condition_refs(cond.not_, (*path, "not"), facts)
    elif isinstance(cond, FactIs):
        fact = facts.get(cond.fact)
        if fact is None:
            yield Finding("unknown-fact", (*path, "fact"), f"unknown fact '{cond.fact}'")
            return
        problem = _operand_problem(cond, fact)
        if problem:
            yield Finding("fact-type", (*path, cond.op), problem)
    elif isinstance(cond, Since):
        fact = facts.get(cond.since)
        if fact is None:
            yield Finding("unknown-fact", (*path, "since"), f"unknown fact '{cond.since}'")
        elif fact.type not in ("date", "datetime") or fact.many:
            yield Finding("fact-type", (*path, "since"), f"'since' needs a single date fact; '{cond.since}' is {fact.type}")
    elif isinstance(cond, GuardRef):
        return


def _operand_problem(cond: FactIs, fact: FactDef) -> str | None:
    if cond.op == "is_set":
        return None
    if fact.many and cond.op != "contains":
        return f"fact '{cond.fact}' holds many values: only 'contains' and 'is_set' apply to it"
    if cond.op == "contains" and not fact.many:
        return f"'contains' is for facts with many: true; '{cond.fact}' holds one value (use equals)"
    if cond.op in ("lt", "lte", "gt", "gte") and fact.type in ("bool", "enum", "string"):
        return f"'{cond.op}' does not apply to a {fact.type} fact ('{cond.fact}')"
    values = cond.operand if cond.op == "in" else [cond.operand]
    for value in values:
        if not _fits(value, fact):
            allowed = f" (one of {', '.join(fact.values or [])})" if fact.type == "enum" else ""
            return f"{value!r} is not a valid {fact.type} for fact '{cond.fact}'{allowed}"
    return None


def _fits(value: Any, fact: FactDef) -> bool:
    kind = fact.type
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "enum":
        return isinstance(value, str) and value in (fact.values or [])
    if isinstance(value, str):
        try:
            (datetime if kind == "datetime" else date).fromisoformat(value)
        except ValueError:
            return False
        return True
    return isinstance(value, datetime) if kind == "datetime" else isinstance(value, date)


# -- lint rules ------------------------------------------------------------------------------

def lint(defn: Definition) -> list[Finding]:
    return [*_unreachable(defn), *_dead_ends(defn), *_regions_without_final(defn), *_duplicate_triggers(defn)]


def _reachable(defn: Definition) -> set[str]:
    nodes, reach = defn.nodes, set[str]()

    def enter_default(path: str) -> None:
        reach.add(path)
        node = nodes[path]
        if node.kind == "parallel":
            for child in node.children:
                enter_default(child)
        elif node.kind == "compound":
            enter_default(f"{path}.{node.spec.initial}")

    def enter(target: str) -> None:
        enter_default(target)
        for ancestor in list(defn.ancestors(target))[1:]:
            reach.add(ancestor)
            if nodes[ancestor].kind == "parallel":
                for region in nodes[ancestor].children:
                    if not target.startswith(region + ".") and region not in reach:
                        enter_default(region)

    enter(defn.spec.initial)
    changed = True
    while changed:
        changed = False
        for t in defn.spec.transitions:
            if t.to is None or t.to in reach:
                continue
            if "*" in t.from_ or any(src in reach for src in t.from_):
                enter(t.to)
                changed = True
    return reach


def _unreachable(defn: Definition) -> Iterator[Finding]:
    reach, docs = _reachable(defn), state_doc_paths(defn)
    for path, node in defn.nodes.items():
        if path not in reach and (node.parent is None or node.parent in reach):
            yield Finding("unreachable", docs[path], f"state '{path}' can never be reached from '{defn.spec.initial}'",
                          at_key=True)


def _dead_ends(defn: Definition) -> Iterator[Finding]:
    docs = state_doc_paths(defn)
    exits: set[str] = set()
    anywhere = False
    for t in defn.spec.transitions:
        if t.to is None or t.automatic:
            continue
        if "*" in t.from_:
            anywhere = True
        exits.update(t.from_)
    if anywhere:
        return
    for path, node in defn.nodes.items():
        if node.kind != "atomic" or node.final:
            continue
        if not any(a in exits for a in defn.ancestors(path)):
            yield Finding("dead-end", docs[path],
                          f"state '{path}' is not final and no step leads out of it", at_key=True)


def _regions_without_final(defn: Definition) -> Iterator[Finding]:
    docs = state_doc_paths(defn)
    for node in defn.nodes.values():
        if node.kind != "parallel":
            continue
        for region in node.children:
            if not any(defn.nodes[c].final for c in defn.nodes[region].children):
                yield Finding("region-without-final", docs[region],
                              f"parallel region '{region}' has no final state, so '{node.path}' can never be done",
                              at_key=True)


def _duplicate_triggers(defn: Definition) -> Iterator[Finding]:
    for entries in defn.transitions_by_trigger.values():
        for k, (j, later) in enumerate(entries):
            for i, earlier in entries[:k]:
                overlap = _shared_sources(earlier, later)
                if overlap and earlier.when == later.when:
                    state = sorted(overlap)[0]
                    yield Finding("duplicate-trigger", ("transitions", j, "trigger"),
                                  f"trigger '{later.trigger}' from '{state}' is also declared at transitions[{i}]"
                                  " with no condition that tells the two apart")
                    break


def _shared_sources(a: TransitionDef, b: TransitionDef) -> set[str]:
    """The source states two transitions share; ``{"*"}`` when either leaves any state."""
    shared = set(a.from_) & set(b.from_)
    if not shared and ("*" in a.from_ or "*" in b.from_):
        return {"*"}
    return shared
