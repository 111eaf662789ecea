"""Mutants of a workflow: rule-breaking copies, each changing ONE thing, for checking the policy checks.

A policy author's checks (the features run by ``ijime-flow check``) should fail on a workflow that breaks
the policy. :func:`make_mutants` makes such workflows from a good one — a principal's step allowed to any
staff member, a step that can be skipped, a deadline removed, a criterion of a serious incident loosened,
… (:data:`MUTANT_KINDS`, each named in Japanese and English in :data:`KIND_LABELS`) — so that a later tool
can run the checks on each and report the mutants that *survive*: rules no check holds.

Each copy is made from the tree the project's loader reads from the text (YAML 1.2 booleans and numbers),
changed in one place (the original is never changed: what lies on the changed path is copied), and checked
as :func:`~ijime_flow.language.loader.load_text` checks a file, lint on: the model, then the loader's
:func:`~ijime_flow.language.loader.checked_definition` (references, time zone, lint). A copy with a
problem is loaded from its YAML text with ``load_text`` itself, so the problem is the loader's own;
that the text reads back as the tree is checked once per workflow (reading YAML back for every copy
would take most of the time). The text is ``safe_dump`` with ``allow_unicode=True, sort_keys=False``
(text that YAML 1.2 reads as a number is quoted), written when first asked for.

Escalation targets are checked against ``others``, the workflows loaded alongside, both ways (as
:func:`~ijime_flow.language.loader.validate_paths` does for files loaded together): a copy of ``response``
must still escalate to ``serious_incident``, and a copy of ``serious_incident`` must still accept
``response``'s escalation. A copy that does not load is *invalid*; one whose canonical form is the
original's or an earlier mutant's, reading every list of roles as the roles it allows (``[administrator,
staff]`` is ``[staff]``: a principal and an administrator are staff too), is *equivalent*. Neither is a
mutant: both are listed by id, so a report can count them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from pydantic import ValidationError

from ..canonical import canonical_json, sha256_hex
from ..definition import Definition
from ..errors import DefinitionError, Problem
from ..language.lint import Finding
from ..language.loader import checked_definition, load_text
from ..language.models import WorkflowDef
from ..language.workflow_set import escalation_findings
from ..language.yaml_source import format_path, parse
from .mutant_context import Candidate, Context, Tree
from .mutant_kinds import GENERATORS, KIND_LABELS, MUTANT_KINDS, KindLabel

__all__ = ["KIND_LABELS", "MUTANT_KINDS", "KindLabel", "Mutant", "MutantSet", "dump", "make_mutants"]


@dataclass(frozen=True)
class Mutant:
    """A valid workflow that differs from the original in one place."""

    id: str  # stable and unique within its set, ASCII: "role_widened:report_to_board:staff"
    kind: str  # one of MUTANT_KINDS
    target: str  # what it touches: a trigger (trigger@source when two steps share it), state path, fact, deadline or criterion id
    ja: str  # what was changed, for school staff
    en: str
    definition: Definition  # the mutated workflow, valid (loaded as the project's loader loads ``text``, lint on)
    tree: Tree = field(repr=False, compare=False)  # the mutated workflow as data: read it, never change it (its
    # unchanged parts are shared with the original and the other mutants)

    @cached_property
    def text(self) -> str:
        """The mutated workflow as YAML text (written when first asked for: writing YAML is slow)."""
        return dump(self.tree)


@dataclass
class MutantSet:
    mutants: list[Mutant] = field(default_factory=list)  # valid, distinct, none equal to the original
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (mutant id, first problem) of copies that did not load
    equivalent: list[str] = field(default_factory=list)  # ids of copies that change nothing a case can see

    def counts(self) -> dict[str, int]:
        """Valid mutants per kind, every kind of :data:`MUTANT_KINDS` listed."""
        out = dict.fromkeys(MUTANT_KINDS, 0)
        for mutant in self.mutants:
            out[mutant.kind] += 1
        return out


class _Dumper(yaml.CSafeDumper):
    """``safe_dump``, and text that YAML 1.2 (the loader) reads as a number is quoted (``"1e3"``, ``"09"``)."""


_Dumper.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"),
                              list("-+0123456789"))
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def dump(tree: Tree) -> str:
    """A workflow tree as YAML text, as written for every mutant."""
    return str(yaml.dump(tree, Dumper=_Dumper, allow_unicode=True, sort_keys=False))


def make_mutants(text: str, *, file: str = "<workflow>", others: Mapping[str, Definition] | None = None,
                 kinds: Collection[str] | None = None) -> MutantSet:
    """The mutants of the workflow ``text`` (see the module docstring), in the order of :data:`MUTANT_KINDS`.

    ``file`` names the workflow in messages; ``others`` are the workflows loaded alongside, by id (the
    escalation target of ``response``; ``response`` for ``serious_incident``); ``kinds`` chooses some
    kinds (all when None). :class:`~ijime_flow.errors.DefinitionError` when ``text`` itself does not load
    (with ``others``); ``ValueError`` for an unknown kind."""
    selected = _kinds(kinds)
    original = load_text(text, file)
    located = parse(text, file)
    problems = _escalation(original, others)
    if problems:
        raise DefinitionError([located.problem(f.path, f"{f.message} [{f.rule}]") for f in problems])
    tree: Tree = located.data
    if load_text(dump(tree), file).sha256 != original.sha256:  # pragma: no cover - a YAML reading the dumper misses
        raise ValueError(f"{file}: the workflow does not survive being written back as YAML; no mutants made")
    result = MutantSet()
    seen = {_behaviour(original)}
    ids: set[str] = set()
    for candidate in _candidates(Context(tree, original), selected):
        mutant_id = _unique(candidate.id, ids)
        changed = candidate.edit(tree)
        loaded = _load(changed, f"{file}#{mutant_id}", others)
        if isinstance(loaded, str):
            result.invalid.append((mutant_id, loaded))
            continue
        key = _behaviour(loaded)
        if key in seen:
            result.equivalent.append(mutant_id)
            continue
        seen.add(key)
        result.mutants.append(Mutant(mutant_id, candidate.kind, candidate.target, candidate.ja, candidate.en, loaded, changed))
    return result


def _load(tree: Tree, file: str, others: Mapping[str, Definition] | None) -> Definition | str:
    """The definition of a mutated tree, or its first problem. The tree is checked as :func:`load_text` checks
    what it reads from a file (the model, the reference checks, lint); when that finds a problem, the text is
    loaded with :func:`load_text` itself, so the problem is said as the loader says it. (Reading the YAML
    back for every copy would take most of the time; that it reads back the same is checked once, above.)"""
    try:
        defn, findings = checked_definition(WorkflowDef.model_validate(tree), file)
        loads = not findings
    except ValidationError:
        loads = False
    if not loads:
        try:
            defn = load_text(dump(tree), file)
        except DefinitionError as exc:
            return _first(exc.problems[0])
    findings = _escalation(defn, others)
    if findings:
        where = f" (at {format_path(findings[0].path)})" if findings[0].path else ""
        return f"{findings[0].message} [{findings[0].rule}]{where}"
    return defn


def _behaviour(defn: Definition) -> str:
    """The canonical form with every list of roles written as the roles it allows (who may act, not how
    it is written): two copies with the same form are equivalent."""
    data = json.loads(defn.canonical)
    closure = {r: defn.role_closure({r}) for r in defn.spec.roles}

    def allowed(roles: list[str]) -> list[str]:
        return sorted(r for r, held in closure.items() if held & set(roles))

    for t in data["transitions"]:
        t["roles"] = allowed(t["roles"])
    for fact in data["facts"].values():
        if "roles" in fact:
            fact["roles"] = allowed(fact["roles"])
    data["opened_by"] = allowed(data["opened_by"])
    return sha256_hex(canonical_json(data))


def _kinds(kinds: Collection[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return MUTANT_KINDS
    unknown = sorted(set(kinds) - set(MUTANT_KINDS))
    if unknown:
        raise ValueError(f"unknown mutant kind(s) {', '.join(unknown)} (known: {', '.join(MUTANT_KINDS)})")
    return tuple(k for k in MUTANT_KINDS if k in kinds)


def _candidates(ctx: Context, kinds: tuple[str, ...]) -> Iterator[Candidate]:
    for kind in kinds:
        yield from GENERATORS[kind](ctx)


def _unique(mutant_id: str, ids: set[str]) -> str:
    found, n = mutant_id, 1
    while found in ids:
        n += 1
        found = f"{mutant_id}~{n}"
    ids.add(found)
    return found


def _escalation(defn: Definition, others: Mapping[str, Definition] | None) -> list[Finding]:
    """What keeps an escalation between ``defn`` and ``others`` from opening its case, either way."""
    if others is None:
        return []
    pool: dict[str, Any] = {**others, defn.id: defn}
    found = list(escalation_findings(defn, pool))
    for other in others.values():
        escalation = other.spec.escalation
        if other.id != defn.id and escalation is not None and escalation.to == defn.id:
            found += [Finding(f.rule, (), f"{other.id}: {f.message}") for f in escalation_findings(other, pool)]
    return found


def _first(problem: Problem) -> str:
    return f"{problem.message} (at {problem.path})" if problem.path else problem.message
