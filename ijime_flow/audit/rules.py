"""The rules of one pinned definition as the replay uses them, and what it may remember of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import IjimeFlowError
from ..language.conditions import CountOf, DistinctActors, FactIs, GuardRef, Since, walk
from ..stepper import Chosen, candidates, fold_event, opening_data

if TYPE_CHECKING:
    from ..machine import Runtime
    from .run import _Run


# -- the rules of one definition -------------------------------------------------------------------------
# what a manual step does: (from, its type: transition if it moves, to, leaves the facts as they are, to as
# text, an automatic step is ready after it, it changes a fact a criterion reads)
_Step = tuple[frozenset[str], str, frozenset[str], bool, str, bool, bool]


class _Rules:
    """One pinned definition's runtime, and what the replay may remember of it: what depends only on
    the definition and what is remembered with it as its key (each is the value the rule's own function
    gives for that key; the tests compare every report with the plain verifier's).

    - ``steps``: for a manual step (``transition`` or ``action``), keyed by ``(configuration, trigger,
      actor roles, canonical data)``: the facts the conditions it may evaluate name, and for each set
      of their values, what the step does — whether it moves, where to, whether it changes facts and
      any a criterion reads. :func:`~ijime_flow.stepper.resolve` looks at the candidates (which depend
      on the configuration, the trigger and the roles) in order, up to the first without a condition at
      the latest, passing each the step's data (``step_data`` depends on the transition and the data)
      and evaluating its condition on the facts with the data's over them: when none of those
      conditions reads the time (``since``), a guard or who took a step (``distinct_actors``), the choice
      depends on the key and those facts' values alone. A step ``distinct_actors`` counts is not remembered
      either: the replay keeps the tally of who took it, on the general way. The move is the machine's;
      the facts a step clears and records are read off the transition ``fold_event`` finds and the data.
    - ``facts``: for a fact, keyed by ``(canonical data, actor roles)``: :func:`check_fact` let it pass.
    - ``opening``: for the first event, keyed by its canonical data: why :func:`opening_data` refused it
      (``None``: it did not) and the facts ``fold_event`` makes of it.
    - ``facts_only``: no escalation criterion's condition reads the time (``since``), and guards are
      never given to criteria, so a criterion depends only on the facts its condition names
      (``criteria_facts``) — or, for an absence rule, on a fact event of its own fact
      (``absence_facts``). After an event that changed none of them, with every criterion met before
      recorded as escalated (or the replay would have stopped), :meth:`Criteria.met_by` returns nothing.
    """

    def __init__(self, run: _Run, runtime: Runtime) -> None:
        self.run = run
        self.runtime = runtime
        self.defn = defn = runtime.definition
        self.sorted: dict[frozenset[str], list[str]] = {}  # compared only, never changed nor shown
        self.closures: dict[tuple[str, ...], frozenset[str]] = {}
        self.open: dict[frozenset[str], bool] = {}
        self.steps: dict[tuple[str, str | None, str, str], tuple[tuple[str, ...], dict[tuple[Any, ...], _Step]]] = {}
        self.facts: set[tuple[str, str]] = set()
        self.opening: dict[str, tuple[str | None, dict[str, Any]]] = {}
        self.openers: dict[tuple[str, ...], bool] = {}
        self.initial = frozenset(defn.initial_leaves)
        escalation = defn.spec.escalation
        criteria = escalation.criteria if escalation else []
        conditions = [c for criterion in criteria if criterion.when is not None for c in walk(criterion.when)]
        self.facts_only = not any(isinstance(c, Since) for c in conditions)
        self.criteria_facts = frozenset([c.fact for c in conditions if isinstance(c, FactIs)]
                                        + [c.count for c in conditions if isinstance(c, CountOf)])
        self.absence_facts = frozenset(rule.fact for criterion in criteria
                                       for rule in (criterion.absence, criterion.absence_run) if rule is not None)

    @property
    def kit(self) -> tuple[Any, ...]:
        """What the replay of a case keeps at hand (see ``_case_steps``)."""
        found = self.__dict__.get("_kit")
        if found is None:
            found = self.__dict__["_kit"] = (
                self.defn, self.runtime.machine, self.runtime.criteria, self.sorted_list, self.closure, self.steps,
                self.remember, self.facts, self.open, self.is_open, self.facts_only, self.criteria_facts,
                self.absence_facts)
        return found

    def sorted_list(self, leaves: frozenset[str]) -> list[str]:
        found = self.sorted.get(leaves)
        if found is None:
            found = self.sorted[leaves] = sorted(leaves)
        return found

    def is_open(self, leaves: frozenset[str]) -> bool:
        found = self.open.get(leaves)
        if found is None:
            found = self.open[leaves] = not self.defn.is_closed(leaves)
        return found

    def closure(self, roles: tuple[str, ...]) -> frozenset[str]:
        found = self.closures.get(roles)
        if found is None:
            found = self.closures[roles] = self.defn.role_closure(frozenset(roles))
        return found

    def may_open(self, roles: tuple[str, ...]) -> bool:
        found = self.openers.get(roles)
        if found is None:
            found = self.openers[roles] = bool(self.closure(roles) & set(self.defn.spec.opened_by))
        return found

    def opened(self, data: dict[str, Any], data_text: str | None) -> tuple[str | None, dict[str, Any]]:
        """Why ``opening_data`` refused the data (``None``: it did not), and the facts the opening makes."""
        found = self.opening.get(data_text) if data_text is not None else None
        if found is None:
            facts: dict[str, Any] = {}
            try:
                opening_data(self.defn, data)
            except IjimeFlowError as exc:
                found = (str(exc), facts)
            else:
                fold_event(facts, self.defn, "opened", None, None, data)
                found = (None, facts)
            if data_text is not None and len(self.opening) < 10_000:
                self.opening[data_text] = found
        return found

    def remember(self, leaves: frozenset[str], trigger: str | None, roles: tuple[str, ...], roles_text: str,
                 data_text: str, data: dict[str, Any], chosen: Chosen, after: frozenset[str],
                 facts: dict[str, Any]) -> None:
        """Keep what a manual step did, under its key and the values of the facts its choice read, when
        nothing else went into the choice (see the class notes). ``facts``: as they were before it."""
        if trigger in self.defn.counted_triggers or chosen.transition.opens is not None:  # (a link: checked each time)
            return
        key = (self.run.state_text(leaves), trigger, roles_text, data_text)
        entry = self.steps.get(key)
        if entry is None:
            names: set[str] = set()
            for _, t in candidates(self.defn, leaves, trigger or "", self.closure(roles), ""):
                if t.when is None:
                    break
                for c in walk(t.when):
                    if isinstance(c, Since | GuardRef | DistinctActors):
                        return
                    if isinstance(c, FactIs):
                        names.add(c.fact)
                    elif isinstance(c, CountOf):
                        names.add(c.count)
            if len(self.steps) >= 100_000:
                return
            entry = self.steps[key] = (tuple(sorted(names)), {})
        names_read, outcomes = entry
        folded = self.defn.transition_for(trigger or "", leaves)  # what fold_event looks at
        declared = self.defn.spec.facts
        touched = {name for name in data if name in declared} | set(folded.clears if folded else ())
        if len(outcomes) < 1000:
            kind = "action" if chosen.transition.to is None else "transition"
            outcomes[tuple(map(facts.get, names_read))] = (
                leaves, kind, after, not touched, self.run.state_text(after), bool(self.defn.automatic_ready(after)),
                bool(touched & self.criteria_facts))
