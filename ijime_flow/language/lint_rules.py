"""Lint rules on deadlines, final states and Python guards (run with the others by :func:`.lint.lint`):

- ``unmeetable-deadline`` — a deadline's ``met_by`` step that can never be taken once the deadline has
  started. A step can be taken while one of its ``from`` states is active (an active state, or an
  ancestor of one; ``*``: any open state), and a deadline runs until it is met even after the case has
  left its state, so the step counts when it leaves the deadline's state, a state inside it or around it,
  a state of another region of a parallel state around it, or any state reachable from those — except a
  top-level final state, where the case is closed (``step-from-final`` says so);
- ``step-from-final`` — a step out of a final state: at the top level the case is closed there, so the
  step can never be taken; inside a compound or parallel state it would undo the state being done;
- ``unregistered-guard`` — a condition naming a Python guard (``guard: NAME``) that is not among the
  guards that will be registered. Run only when the loader is told which guards those are (``guards=``;
  ``ijime-flow validate`` says none): the guard is code of the embedding application, registered with
  ``Engine.register_guard`` or given to the command with ``--guards module:attr``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from pydantic import BaseModel

from ..definition import Definition
from .conditions import Condition, GuardRef
from .findings import Finding, Path, state_doc_paths
from .suggest import hint

UNMEETABLE = "unmeetable-deadline"
FROM_FINAL = "step-from-final"
GUARD = "unregistered-guard"


def reachable(defn: Definition, starts: Iterable[str] | None = None) -> set[str]:
    """The states that can be active once the case has entered ``starts`` (default: the initial state),
    each with its ancestors, and everything the steps from those lead to."""
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

    for start in [defn.spec.initial] if starts is None else starts:
        enter(start)
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


def _around(defn: Definition, state: str) -> list[str]:
    """``state`` and every state of the other regions of each parallel state around it: what may be
    active while it is (the other regions may be anywhere in their own states)."""
    found = [state]
    for ancestor in list(defn.ancestors(state))[1:]:
        node = defn.nodes[ancestor]
        if node.kind == "parallel":
            for region in node.children:
                if not state.startswith(region + "."):
                    found += [p for p in defn.nodes if p == region or p.startswith(region + ".")]
    return found


def unmeetable_deadlines(defn: Definition) -> Iterator[Finding]:
    docs = state_doc_paths(defn)
    for path, node in defn.nodes.items():
        if not node.spec.deadlines:
            continue
        closed = {p for p, n in defn.nodes.items() if n.parent is None and n.final}  # nothing is taken there
        after = reachable(defn, _around(defn, path)) - closed
        for k, deadline in enumerate(node.spec.deadlines):
            for j, trigger in enumerate(deadline.met_by):
                steps = [t for _, t in defn.transitions_by_trigger.get(trigger, [])]
                if not steps or any("*" in t.from_ or any(src in after for src in t.from_) for t in steps):
                    continue  # an unknown trigger is a reference problem, reported before lint runs
                leaves = ", ".join(sorted({src for t in steps for src in t.from_}))
                yield Finding(UNMEETABLE, (*docs[path], "deadlines", k, "met_by", j),
                              f"期限「{deadline.id}」は状態「{path}」で始まりますが、操作「{trigger}」はそこからも、その後に"
                              f"たどり着く状態からも行えません（「{trigger}」の from: {leaves}）。この期限はこの操作では"
                              f"満たされません / deadline '{deadline.id}' starts in state '{path}', but step '{trigger}'"
                              f" can be taken neither there nor in any state reached after it (it leaves {leaves}):"
                              " it can never meet the deadline")


def steps_from_final(defn: Definition) -> Iterator[Finding]:
    for i, t in enumerate(defn.spec.transitions):
        for j, src in enumerate(t.from_):
            node = defn.nodes.get(src)
            if node is None or not node.final:
                continue
            if node.parent is None:
                why_ja = "事案はそこで終結しているため、この操作は行えません"
                why_en = "the case is closed there, so the step can never be taken"
            else:
                why_ja, why_en = (f"最終状態は「{node.parent}」の完了を意味するため、そこから出ると完了が取り消されます",
                                  f"being in it means '{node.parent}' is done, and leaving it would undo that")
            yield Finding(FROM_FINAL, ("transitions", i, "from", j),
                          f"操作「{t.trigger}」が最終状態「{src}」（final: true）から出ています。{why_ja} / step"
                          f" '{t.trigger}' leaves the final state '{src}' (final: true): {why_en}")


def _guards_in(cond: BaseModel, path: Path) -> Iterator[tuple[GuardRef, Path]]:
    """Every guard of a condition, with its path, whatever kinds of condition hold it."""
    if isinstance(cond, GuardRef):
        yield cond, path
        return
    for name, info in type(cond).model_fields.items():
        value = getattr(cond, name)
        key = info.alias or name
        if isinstance(value, BaseModel):
            yield from _guards_in(value, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _guards_in(item, (*path, key, i))


def conditions_of(defn: Definition) -> Iterator[tuple[Condition, Path]]:
    """Every ``when`` of the workflow (steps, deadlines, escalation criteria), with its path."""
    for i, t in enumerate(defn.spec.transitions):
        if t.when is not None:
            yield t.when, ("transitions", i, "when")
    docs = state_doc_paths(defn)
    for path, node in defn.nodes.items():
        for k, deadline in enumerate(node.spec.deadlines):
            if deadline.when is not None:
                yield deadline.when, (*docs[path], "deadlines", k, "when")
    if defn.spec.escalation is not None:
        for k, criterion in enumerate(defn.spec.escalation.criteria):
            if criterion.when is not None:
                yield criterion.when, ("escalation", "criteria", k, "when")


def unregistered_guards(defn: Definition, guards: Collection[str]) -> Iterator[Finding]:
    for when, path in conditions_of(defn):
        for ref, where in _guards_in(when, path):
            name = ref.guard
            if name in guards:
                continue
            near = hint(name, sorted(guards))
            yield Finding(GUARD, (*where, "guard"),
                          f"条件が Python のガード「{name}」を使っていますが、登録されていません{near.ja}。アプリケーションで"
                          f" Engine.register_guard(\"{name}\", 関数) として登録するか、ijime-flow check --guards"
                          f" module:attr で渡してください / the condition uses the Python guard '{name}', which is not"
                          f" registered{near.en}: register it with Engine.register_guard(\"{name}\", function) or give"
                          " it to the command with ijime-flow check --guards module:attr")


def lint_more(defn: Definition, guards: Collection[str] | None = None) -> list[Finding]:
    """The findings of the rules of this module (``unregistered-guard`` only when ``guards`` is given)."""
    found = [*unmeetable_deadlines(defn), *steps_from_final(defn)]
    if guards is not None:
        found += unregistered_guards(defn, guards)
    return found
