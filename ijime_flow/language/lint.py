"""Checks on a validated workflow that the schema alone cannot make.

Two groups, each finding reported with its path in the document so the loader can say
``file:line:col``:

- reference checks (always run; a workflow failing them cannot be compiled): unknown states, roles
  and facts; values that do not fit the fact's type; automatic steps from a state that can't be done;
  cycles of roles, repeated enum values and step data that can never be given (:mod:`.integrity`);
- lint rules (run on load unless asked not to): ``unreachable`` states, ``dead-end`` states,
  ``region-without-final``, ``duplicate-trigger`` without distinguishing conditions, and those of
  :mod:`.lint_rules`: ``unmeetable-deadline``, ``step-from-final``, ``unregistered-guard``.

Every message is Japanese first, then `` / `` and English; a name that is not declared comes with the
declared names it is most likely a misspelling of (:mod:`.suggest`), and a date written another way than
YYYY-MM-DD with the day it means (:mod:`.dates`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime
from typing import Any

from ..definition import Definition
from .conditions import AllOf, AnyOf, Condition, FactIs, GuardRef, NotCond, Since
from .dates import read_loosely
from .findings import Finding, Path, state_doc_paths
from .integrity import counting_problems, duplicate_values, role_cycles, step_data_problems
from .lint_rules import lint_more, reachable
from .models import FactDef, TransitionDef
from .suggest import Hint, both, close_names, hint, shown

__all__ = ["Finding", "Path", "check_references", "lint", "state_doc_paths", "unrunnable"]


def _unknown_fact(name: str, facts: dict[str, FactDef]) -> str:
    return both(f"事実「{name}」は宣言されていません", f"unknown fact '{name}'", hint(name, facts))


def check_references(defn: Definition) -> list[Finding]:
    spec, found = defn.spec, []
    roles, facts, nodes = spec.roles, spec.facts, defn.nodes
    docs = state_doc_paths(defn)

    def role_refs(names: list[str], path: Path) -> None:
        for i, name in enumerate(names):
            if name not in roles:
                listed = ", ".join(roles)
                found.append(Finding("unknown-role", (*path, i), both(
                    f"役割「{name}」は宣言されていません（宣言されている役割: {listed}）",
                    f"unknown role '{name}' (declared: {listed})", hint(name, roles))))

    if spec.initial not in spec.states:
        found.append(Finding("unknown-state", ("initial",), both(
            f"最初の状態「{spec.initial}」は最上位の状態にありません", f"initial state '{spec.initial}' is not a top-level state",
            hint(spec.initial, spec.states))))
    role_refs(spec.opened_by, ("opened_by",))
    for j, name in enumerate(spec.records_on_open):
        if name not in facts:
            found.append(Finding("unknown-fact", ("records_on_open", j), _unknown_fact(name, facts)))
    for name, role in roles.items():
        role_refs(role.includes, ("roles", name, "includes"))
    found.extend(Finding("role-cycle", path, message) for path, message in role_cycles(roles))
    found.extend(Finding("duplicate-value", path, message) for path, message in duplicate_values(facts))
    found.extend(Finding(*problem) for problem in counting_problems(spec))
    if spec.calendar is not None and spec.calendar.terms:  # the terms recurring deadlines run per
        from ..calendars.periods import term_problems

        found.extend(Finding("bad-term", ("calendar", "terms", i), message) for i, message in term_problems(spec.calendar.terms))
    for name, fact in facts.items():
        if fact.roles:
            role_refs(fact.roles, ("facts", name, "roles"))
    for path, node in nodes.items():
        if node.spec.initial is not None and f"{path}.{node.spec.initial}" not in nodes:
            children = [child.rsplit(".", 1)[-1] for child in node.children]
            found.append(Finding("unknown-state", (*docs[path], "initial"), both(
                f"最初の子の状態「{node.spec.initial}」は「{path}」の中にありません",
                f"initial child '{node.spec.initial}' is not a state inside '{path}'", hint(node.spec.initial, children))))
    triggers = {t.trigger for t in spec.transitions}
    seen_deadlines: dict[str, str] = {}
    for path, node in nodes.items():
        for k, deadline in enumerate(node.spec.deadlines):
            where: Path = (*docs[path], "deadlines", k)
            if deadline.id in seen_deadlines:
                other = seen_deadlines[deadline.id]
                found.append(Finding("duplicate-deadline", (*where, "id"), (
                    f"期限 ID「{deadline.id}」は状態「{other}」でも使われています（期限 ID はワークフロー全体で一つずつ） /"
                    f" deadline id '{deadline.id}' is also used on state '{other}'")))
            seen_deadlines.setdefault(deadline.id, path)
            for j, trigger in enumerate(deadline.met_by):
                if trigger not in triggers:
                    found.append(Finding("unknown-trigger", (*where, "met_by", j), both(
                        f"操作「{trigger}」はありません（met_by には transitions の trigger を書きます）",
                        f"unknown trigger '{trigger}' (met_by names the trigger of a step)", hint(trigger, sorted(triggers)))))
            if deadline.when is not None:
                found.extend(_condition_refs(deadline.when, (*where, "when"), facts))
    for i, t in enumerate(spec.transitions):
        here: Path = ("transitions", i)
        for j, name in enumerate(t.clears):
            if name not in facts:
                found.append(Finding("unknown-fact", (*here, "clears", j), _unknown_fact(name, facts)))
        for j, src in enumerate(t.from_):
            if src != "*" and src not in nodes:
                found.append(Finding("unknown-state", (*here, "from", j), _no_state(src, nodes)))
        if t.to is not None and t.to not in nodes:
            found.append(Finding("unknown-state", (*here, "to"), _no_state(t.to, nodes)))
        role_refs(t.roles, (*here, "roles"))
        for j, name in enumerate(t.records):
            if name not in facts:
                found.append(Finding("unknown-fact", (*here, "records", j), _unknown_fact(name, facts)))
        if t.when is not None:
            found.extend(_condition_refs(t.when, (*here, "when"), facts))
        found.extend(Finding(*problem) for problem in step_data_problems(i, t, facts))
        if t.automatic:
            for j, src in enumerate(t.from_):
                if src == "*" or (src in nodes and nodes[src].kind == "atomic"):
                    found.append(Finding("automatic-source", (*here, "from", j),
                                         "自動の操作は入れ子か並行の状態から出るものだけです（その状態が完了したときに"
                                         "行われます） / an automatic step must leave a compound or parallel state"
                                         " (it is taken when that state is done)"))
    if spec.escalation is not None:
        seen_criteria: set[str] = set()
        for k, criterion in enumerate(spec.escalation.criteria):
            where = ("escalation", "criteria", k)
            if criterion.id in seen_criteria:
                found.append(Finding("duplicate-criterion", (*where, "id"), f"基準 ID「{criterion.id}」が二度使われています"
                                                                            f" / criterion id '{criterion.id}' is used twice"))
            seen_criteria.add(criterion.id)
            if criterion.when is not None:
                found.extend(_condition_refs(criterion.when, (*where, "when"), facts))
            rule = criterion.absence or criterion.absence_run
            if rule is not None:
                counted = facts.get(rule.fact)
                key = "absence" if criterion.absence is not None else "absence_run"
                if counted is None:
                    found.append(Finding("unknown-fact", (*where, key, "fact"), _unknown_fact(rule.fact, facts)))
                elif counted.personal:
                    found.append(_personal(rule.fact, (*where, key, "fact")))
                elif counted.type != "date" or not counted.many:
                    found.append(Finding("fact-type", (*where, key, "fact"),
                                         f"欠席の基準が数えるのは type: date、many: true の事実です。「{rule.fact}」は"
                                         f"そうではありません / absence rules count a date fact with many: true;"
                                         f" '{rule.fact}' is not"))
    for k, kept in enumerate(spec.retention or ()):
        found.extend(Finding("unknown-fact", ("retention", k, "facts", j), _unknown_fact(name, facts))
                     for j, name in enumerate(kept.facts or ()) if name not in facts)
        found.extend(Finding("unknown-trigger", ("retention", k, "steps", j), both(
            f"操作「{name}」はありません", f"unknown trigger '{name}'", hint(name, sorted(triggers))))
            for j, name in enumerate(kept.steps or ()) if name not in triggers)
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
                    state = sorted(shared)[0]
                    yield Finding("ambiguous-effects", ("transitions", j, "trigger"),
                                  f"操作「{later.trigger}」は「{state}」から transitions[{i}] と違う事実を記録・消去します。"
                                  f"どちらかの trigger を変えてください / trigger '{later.trigger}' from '{state}' records"
                                  f" or clears other facts than transitions[{i}]: give one of them another trigger")
                    break


def _no_state(name: str, nodes: dict[str, Any]) -> str:
    last = name.split(".")[-1]
    near = [p for p in nodes if p.endswith("." + name) or p.split(".")[-1] == last]  # a nested state by its own name
    near += close_names(name, nodes)
    by_name: dict[str, list[str]] = {}
    for path in nodes:
        by_name.setdefault(path.split(".")[-1], []).append(path)
    near += [p for close in close_names(last, by_name) for p in by_name[close]]
    return both(f"状態「{name}」はありません（入れ子の状態は a.b のように外側からの名前で書きます）",
                f"unknown state '{name}' (nested states are written with their full dotted path)",
                Hint(tuple(dict.fromkeys(near))[:3]))


def _personal(name: str, path: Path) -> Finding:
    """A personal fact is sealed: verification replays conditions without keys, so none may read it."""
    return Finding("personal-condition", path, f"個人情報の事実「{name}」は条件・基準・欠席の規則に使えません（検証は鍵なしで"
                   f"再生します） / personal fact '{name}' cannot be read by a condition, criterion or absence rule"
                   " (verification replays them without keys)")


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
            yield Finding("unknown-fact", (*path, "fact"), _unknown_fact(cond.fact, facts))
            return
        if fact.personal:
            yield _personal(cond.fact, (*path, "fact"))
        problem = _operand_problem(cond, fact)
        if problem:
            yield Finding("fact-type", (*path, cond.op), problem)
    elif isinstance(cond, Since):
        fact = facts.get(cond.since)
        if fact is None:
            yield Finding("unknown-fact", (*path, "since"), _unknown_fact(cond.since, facts))
        elif fact.personal:
            yield _personal(cond.since, (*path, "since"))
        elif fact.type not in ("date", "datetime") or fact.many:
            kind = f"{fact.type}, many" if fact.many else fact.type
            yield Finding("fact-type", (*path, "since"), f"since には値を一つ持つ日付の事実が必要です。「{cond.since}」は"
                                                         f" {kind} です / 'since' needs a single date fact; '{cond.since}'"
                                                         f" is {kind}")
    elif isinstance(cond, GuardRef):
        return


def _operand_problem(cond: FactIs, fact: FactDef) -> str | None:
    if cond.op == "is_set":
        return None
    if fact.many and cond.op != "contains":
        return (f"事実「{cond.fact}」は複数の値を持つため、使えるのは contains と is_set だけです / fact '{cond.fact}'"
                " holds many values: only 'contains' and 'is_set' apply to it")
    if cond.op == "contains" and not fact.many:
        return (f"contains は many: true の事実のためのものです。「{cond.fact}」の値は一つです（equals を使ってください）"
                f" / 'contains' is for facts with many: true; '{cond.fact}' holds one value (use equals)")
    if cond.op in ("lt", "lte", "gt", "gte") and fact.type in ("bool", "enum", "string"):
        return (f"{cond.op} は {fact.type} 型の事実「{cond.fact}」には使えません / '{cond.op}' does not apply to a"
                f" {fact.type} fact ('{cond.fact}')")
    values = cond.operand if cond.op == "in" else [cond.operand]
    for value in values:
        if not _fits(value, fact):
            return _misfit(value, cond.fact, fact)
    return None


_FORMS = {"date": "YYYY-MM-DD（例: 2019-05-30）", "datetime": "YYYY-MM-DDTHH:MM:SS+09:00（例: 2019-05-30T15:00:00+09:00）"}
_KINDS = {"bool": "true か false", "int": "整数", "number": "数", "string": "文字列", "enum": "次のどれか"}


def _misfit(value: Any, name: str, fact: FactDef) -> str:
    """Why ``value`` is no value of the fact, with what is accepted and the value most likely meant."""
    kind = fact.type
    near = Hint()
    if kind == "enum":
        allowed_ja = allowed_en = f"{', '.join(fact.values or [])}"
        allowed_ja, allowed_en = f"次のどれか: {allowed_ja}", f" (one of {allowed_en})"
        near = hint(value, fact.values or [])
    elif kind in _FORMS:
        allowed_ja, allowed_en = _FORMS[kind], f" (write it as {_FORMS[kind].split('（')[0]})"
        meant = read_loosely(value) if kind == "date" and isinstance(value, str) else None
        near = Hint((meant.isoformat(),)) if meant is not None else near
    else:
        allowed_ja, allowed_en = _KINDS[kind], ""
    return both(f"「{shown(value)}」は事実「{name}」（{kind}）の値になりません（{allowed_ja}）",
                f"{value!r} is not a valid {kind} for fact '{name}'{allowed_en}", near)


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

def lint(defn: Definition, *, guards: Collection[str] | None = None) -> list[Finding]:
    """The lint rules' findings. ``guards``: the guards that will be registered; None: not checked."""
    return [*_unreachable(defn), *_dead_ends(defn), *_regions_without_final(defn), *_duplicate_triggers(defn),
            *lint_more(defn, guards)]


def _unreachable(defn: Definition) -> Iterator[Finding]:
    reach, docs, initial = reachable(defn), state_doc_paths(defn), defn.spec.initial
    for path, node in defn.nodes.items():
        if path not in reach and (node.parent is None or node.parent in reach):
            yield Finding("unreachable", docs[path], f"状態「{path}」には最初の状態「{initial}」からたどり着けません"
                                                     f" / state '{path}' can never be reached from '{initial}'", at_key=True)


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
            yield Finding("dead-end", docs[path], f"状態「{path}」は最終状態（final: true）ではなく、出ていく操作もありません"
                                                  f" / state '{path}' is not final and no step leads out of it", at_key=True)


def _regions_without_final(defn: Definition) -> Iterator[Finding]:
    docs = state_doc_paths(defn)
    for node in defn.nodes.values():
        if node.kind != "parallel":
            continue
        for region in node.children:
            if not any(defn.nodes[c].final for c in defn.nodes[region].children):
                yield Finding("region-without-final", docs[region],
                              f"並行する領域「{region}」に最終状態がないため、「{node.path}」はいつまでも完了しません /"
                              f" parallel region '{region}' has no final state, so '{node.path}' can never be done",
                              at_key=True)


def _duplicate_triggers(defn: Definition) -> Iterator[Finding]:
    for entries in defn.transitions_by_trigger.values():
        for k, (j, later) in enumerate(entries):
            for i, earlier in entries[:k]:
                overlap = _shared_sources(earlier, later)
                if overlap and earlier.when == later.when:
                    state = sorted(overlap)[0]
                    yield Finding("duplicate-trigger", ("transitions", j, "trigger"),
                                  f"操作「{later.trigger}」は「{state}」から transitions[{i}] にもあり、どちらなのかを"
                                  f"見分ける条件（when）がありません / trigger '{later.trigger}' from '{state}' is also"
                                  f" declared at transitions[{i}] with no condition that tells the two apart")
                    break


def _shared_sources(a: TransitionDef, b: TransitionDef) -> set[str]:
    """The source states two transitions share; ``{"*"}`` when either leaves any state."""
    shared = set(a.from_) & set(b.from_)
    if not shared and ("*" in a.from_ or "*" in b.from_):
        return {"*"}
    return shared
