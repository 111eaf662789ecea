"""A validated workflow, indexed for the runtime, with its canonical form and SHA-256.

The canonical form is the canonical JSON (see :mod:`ijime_flow.canonical`) of the validated model
with every field that has a value written out (defaults included, ``null`` left out). Comments and
layout of the YAML file do not change it; any change of meaning does. A case pins
``(id, version, sha256)`` and the store keeps the canonical text by hash, so a case always replays
under the exact definition it was opened with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from .canonical import canonical_json, sha256_hex
from .errors import Problem
from .events import DefinitionPin
from .language.conditions import DistinctActors, walk
from .language.models import DeadlineDef, StateDef, TransitionDef, WorkflowDef
from .language.stored import StoredRead

StateKind = Literal["atomic", "compound", "parallel"]


@dataclass(frozen=True)
class StateNode:
    """One state of the tree, addressed by its dotted path."""

    path: str
    spec: StateDef
    parent: str | None
    kind: StateKind
    children: tuple[str, ...]
    region: bool = False  # a region of a parallel state

    @property
    def final(self) -> bool:
        return self.spec.final


@dataclass
class Definition:
    """A workflow ready to run. Build with :func:`ijime_flow.language.loader.load_file` or :meth:`from_canonical`."""

    spec: WorkflowDef
    file: str = "<memory>"
    lenient: tuple[Problem, ...] = ()  # what the strict rules refuse in a definition read back from a store
    nodes: dict[str, StateNode] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = {}
        self._index(self.spec.states, None, region=False)

    def _index(self, states: dict[str, StateDef], parent: str | None, *, region: bool) -> None:
        for name, spec in states.items():
            path = f"{parent}.{name}" if parent else name
            inner = spec.parallel if spec.parallel is not None else spec.states
            kind: StateKind = "parallel" if spec.parallel is not None else "compound" if spec.states else "atomic"
            children = tuple(f"{path}.{child}" for child in (inner or {}))
            self.nodes[path] = StateNode(path, spec, parent, kind, children, region)
            if inner:
                self._index(inner, path, region=spec.parallel is not None)

    # -- identity ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @cached_property
    def canonical(self) -> str:
        return canonical_json(self.spec.model_dump(mode="json", by_alias=True, exclude_none=True))

    @cached_property
    def sha256(self) -> str:
        return sha256_hex(self.canonical)

    @property
    def pin(self) -> DefinitionPin:
        """What a case's first event pins: the id, the version and the SHA-256 of the canonical form."""
        return DefinitionPin(id=self.id, version=self.version, sha256=self.sha256)

    @classmethod
    def from_canonical(cls, text: str, file: str = "<store>") -> Definition:
        """The definition a store (or a bundle) keeps as ``text``, read as earlier versions read it: the
        durations they accepted are read leniently, lint is not run (:mod:`ijime_flow.language.stored`), and
        its canonical text is ``text`` itself, so it hashes as its cases pinned it. What the strict rules
        refuse is listed in :attr:`lenient` (:meth:`Engine.add_definition <ijime_flow.Engine.add_definition>`
        refuses such a definition for new cases). :class:`~ijime_flow.errors.StoredDefinitionError`, naming
        the definition and the field, when it cannot be read or run at all."""
        read = StoredRead.of(text, file)
        try:
            spec = WorkflowDef.model_validate_json(text, context=read.context)
        except ValidationError as exc:
            raise read.refused(exc) from None
        read.check_timezone(spec.timezone)
        definition = cls(spec, file=file, lenient=tuple(read.lenient))
        definition.__dict__["canonical"] = text  # the cached_property, as stored
        return definition

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.spec.timezone)

    # -- the state tree ---------------------------------------------------------------------
    def ancestors(self, path: str) -> Iterator[str]:
        """The path itself, then its parent, up to the top."""
        current: str | None = path
        while current is not None:
            yield current
            current = self.nodes[current].parent

    def entry_leaves(self, path: str) -> list[str]:
        """The leaf states that become active when ``path`` is entered by default."""
        node = self.nodes[path]
        if node.kind == "atomic":
            return [path]
        if node.kind == "parallel":
            return [leaf for child in node.children for leaf in self.entry_leaves(child)]
        assert node.spec.initial is not None
        return self.entry_leaves(f"{path}.{node.spec.initial}")

    @cached_property
    def initial_leaves(self) -> tuple[str, ...]:
        return tuple(self.entry_leaves(self.spec.initial))

    def is_active(self, path: str, leaves: Iterable[str]) -> bool:
        """True when ``path`` is one of the active leaves or an ancestor of one."""
        prefix = path + "."
        return any(leaf == path or leaf.startswith(prefix) for leaf in leaves)

    def is_done(self, path: str, leaves: frozenset[str]) -> bool:
        """A compound state is done when its active child is final; a parallel one when every region is."""
        node = self.nodes[path]
        if node.kind == "atomic":
            return node.final and path in leaves
        if node.kind == "parallel":
            return all(self.is_done(child, leaves) for child in node.children)
        return any(self.nodes[c].final and c in leaves for c in node.children)

    def is_closed(self, leaves: frozenset[str]) -> bool:
        """True when the case is in a top-level final state: nothing more can happen. Remembered per
        configuration."""
        found = self._closed.get(leaves) if isinstance(leaves, frozenset) else None
        if found is None:
            found = any(self.nodes[leaf].final and self.nodes[leaf].parent is None for leaf in leaves)
            if isinstance(leaves, frozenset):
                self._closed[leaves] = found
        return found

    @cached_property
    def _closed(self) -> dict[frozenset[str], bool]:
        return {}

    # -- roles, transitions, labels -----------------------------------------------------------
    def role_closure(self, roles: Iterable[str]) -> frozenset[str]:
        """The roles held, with every role they include (principal -> administrator -> staff).
        Remembered for an actor's (frozen) set of roles."""
        if not isinstance(roles, frozenset):
            return self._closure(roles)
        found = self._closures.get(roles)
        if found is None:
            found = self._closure(roles)
            if len(self._closures) < 1024:  # actors' role sets are few; the bound keeps a flood out
                self._closures[roles] = found
        return found

    @cached_property
    def _closures(self) -> dict[frozenset[str], frozenset[str]]:
        return {}

    def _closure(self, roles: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        todo = list(roles)
        while todo:
            role = todo.pop()
            if role in out:
                continue
            out.add(role)
            spec = self.spec.roles.get(role)
            if spec is not None:
                todo.extend(spec.includes)
        return frozenset(out)

    @cached_property
    def transitions_by_trigger(self) -> dict[str, list[tuple[int, TransitionDef]]]:
        out: dict[str, list[tuple[int, TransitionDef]]] = {}
        for index, t in enumerate(self.spec.transitions):
            out.setdefault(t.trigger, []).append((index, t))
        return out

    @cached_property
    def automatic(self) -> list[tuple[int, TransitionDef]]:
        return [(i, t) for i, t in enumerate(self.spec.transitions) if t.automatic]

    def automatic_ready(self, leaves: frozenset[str]) -> list[tuple[int, TransitionDef]]:
        """Automatic steps whose ``from`` state is active and done in this configuration (their
        conditions are not evaluated here). Remembered per configuration: it depends on nothing else."""
        ready = self._ready.get(leaves)
        if ready is None:
            ready = [(i, t) for i, t in self.automatic
                     if any(self.is_active(src, leaves) and self.is_done(src, leaves) for src in t.from_)]
            self._ready[leaves] = ready
        return ready

    @cached_property
    def _ready(self) -> dict[frozenset[str], list[tuple[int, TransitionDef]]]:
        return {}

    def source_active(self, t: TransitionDef, leaves: frozenset[str]) -> bool:
        if "*" in t.from_:
            return not self.is_closed(leaves)
        return any(self.is_active(src, leaves) for src in t.from_)

    def transition_for(self, trigger: str, from_states: Iterable[str]) -> TransitionDef | None:
        """The first declared transition of ``trigger`` that leaves one of ``from_states``. Which
        facts it records and clears is the same for every candidate (the ``ambiguous-effects`` check).
        Remembered per (trigger, configuration)."""
        leaves = from_states if isinstance(from_states, frozenset) else frozenset(from_states)
        key = (trigger, leaves)
        if key in self._transition_for:
            return self._transition_for[key]
        found = next((t for _, t in self.transitions_by_trigger.get(trigger, []) if self.source_active(t, leaves)), None)
        if len(self._transition_for) < 65536:
            self._transition_for[key] = found
        return found

    @cached_property
    def _transition_for(self) -> dict[tuple[str, frozenset[str]], TransitionDef | None]:
        return {}

    @cached_property
    def candidates_memo(self) -> dict[tuple[frozenset[str], str, frozenset[str]], tuple[tuple[int, TransitionDef], ...]]:
        """What :func:`ijime_flow.stepper.candidates` remembers (it depends only on its key)."""
        return {}

    @cached_property
    def deadline_defs(self) -> dict[str, list[DeadlineDef]]:
        """State path -> the deadlines that start when it is entered."""
        return {path: list(node.spec.deadlines) for path, node in self.nodes.items() if node.spec.deadlines}

    def sorted_states(self, leaves: frozenset[str]) -> tuple[str, ...]:
        """The leaves, sorted (remembered per configuration, like everything below)."""
        found = self._sorted.get(leaves)
        if found is None:
            found = self._sorted[leaves] = tuple(sorted(leaves))
        return found

    def active_paths(self, leaves: frozenset[str]) -> tuple[str, ...]:
        """Every active state: the leaves and every state they are inside, sorted."""
        found = self._active.get(leaves)
        if found is None:
            found = self._active[leaves] = tuple(sorted({a for leaf in leaves for a in self.ancestors(leaf)}))
        return found

    @cached_property
    def _sorted(self) -> dict[frozenset[str], tuple[str, ...]]:
        return {}

    @cached_property
    def _active(self) -> dict[frozenset[str], tuple[str, ...]]:
        return {}

    def entered_deadline_states(self, before: frozenset[str], after: frozenset[str]) -> tuple[str, ...]:
        """The states with deadlines that a move from ``before`` to ``after`` enters (active after,
        not before), sorted. Remembered per pair: it depends on nothing else."""
        key = (before, after)
        entered = self._entered.get(key)
        if entered is None:
            was = {a for leaf in before for a in self.ancestors(leaf)}
            now = {a for leaf in after for a in self.ancestors(leaf)}
            entered = tuple(sorted(path for path in now - was if path in self.deadline_defs))
            self._entered[key] = entered
        return entered

    @cached_property
    def _entered(self) -> dict[tuple[frozenset[str], frozenset[str]], tuple[str, ...]]:
        return {}

    def state_label(self, path: str) -> str:
        node = self.nodes.get(path)
        return node.spec.ja if node else path

    def trigger_label(self, trigger: str, from_states: Iterable[str] = ()) -> str:
        """The Japanese label of the transition of ``trigger`` that leaves one of ``from_states``
        (several transitions may share a trigger, e.g. ``close``)."""
        chosen = self.transition_for(trigger, from_states)
        if chosen is not None:
            return chosen.ja
        found = self.transitions_by_trigger.get(trigger)
        return found[0][1].ja if found else trigger

    @cached_property
    def fact_labels(self) -> dict[str, str]:
        return {name: fact.ja for name, fact in self.spec.facts.items()}

    @cached_property
    def step_labels(self) -> dict[str, str]:
        """Trigger -> the Japanese label of its first transition (for refusals that name a step)."""
        return {trigger: found[0][1].ja for trigger, found in self.transitions_by_trigger.items()}

    @cached_property
    def role_labels(self) -> dict[str, str]:
        return {name: role.ja for name, role in self.spec.roles.items()}

    @cached_property
    def counted_triggers(self) -> frozenset[str]:
        """The triggers some ``distinct_actors`` condition counts (in a step's, a deadline's or a
        criterion's ``when``): only their actors are tallied, so a definition without one pays nothing."""
        escalation = self.spec.escalation
        conditions = [t.when for t in self.spec.transitions] + [
            d.when for node in self.nodes.values() for d in node.spec.deadlines] + [
            c.when for c in (escalation.criteria if escalation else [])]
        return frozenset(c.distinct_actors for when in conditions if when is not None for c in walk(when)
                         if isinstance(c, DistinctActors))
