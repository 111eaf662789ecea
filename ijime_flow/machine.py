"""The typed adapter around ``transitions``: the only module that imports it.

One :class:`CompiledMachine` is built per definition hash and shared by every case of that
definition. ``transitions`` is used for what it is good at — entering and leaving nested and
parallel states — and nothing else:

- ``auto_transitions`` is off (its ``to_<state>()`` methods skip every guard);
- the nested separator is ``.``, so names may contain ``_`` (``victim_support``);
- each declared transition gets its own internal trigger (``_t<index>``) with no conditions: which
  transition applies, who may take it and whether its conditions hold is decided beforehand by
  :mod:`ijime_flow.stepper`, which can say *why* a step is refused — ``transitions`` can only say no;
- final states are not declared to ``transitions`` at all. 0.9.3 fires ``on_final`` on a parent of
  a parallel state when only the last region is final (upstream #715), and its final check raises
  ``AttributeError: 'scoped_enter'`` once every region of a top-level parallel state is final
  (seen here). Completion is decided by :meth:`Definition.is_done` and ``automatic`` steps instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from transitions.extensions.nesting import HierarchicalMachine, NestedState

from .calendars.resolved import ResolvedCalendar
from .definition import Definition
from .escalation import Criteria
from .language.models import StateDef

# ``transitions`` reports each callback it runs at INFO on its own logger: how the adapter works, not what
# happened to a case (the library's records are :mod:`.logs`). Unless the host set that logger's level
# itself, it is kept to warnings, so a host that turns on INFO logging sees the records that matter.
if logging.getLogger("transitions").level == logging.NOTSET:
    logging.getLogger("transitions").setLevel(logging.WARNING)

NestedState.separator = "."


class _CaseModel:
    """The object ``transitions`` moves. Compared by identity (``add_model`` uses ``==``)."""

    state: Any

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def trigger_name(index: int) -> str:
    return f"_t{index}"


def _state_config(name: str, spec: StateDef) -> dict[str, Any]:
    # ``final`` is deliberately not passed: see the module docstring
    config: dict[str, Any] = {"name": name}
    if spec.states:
        config["children"] = [_state_config(n, s) for n, s in spec.states.items()]
        config["initial"] = spec.initial
    if spec.parallel:
        config["parallel"] = [_state_config(n, s) for n, s in spec.parallel.items()]
    return config


class CompiledMachine:
    """A ``HierarchicalMachine`` for one definition, shared by all cases of it.

    The machine is built with no callbacks, no conditions and no side effects, so the configuration
    after a transition depends only on the configuration before it and the transition taken.
    :meth:`move` therefore asks ``transitions`` once for each (configuration, transition) pair, on
    one scratch model, and remembers the answer. Cases hold no model of their own: the machine's
    memory does not grow with the number of cases, only with the configurations actually reached
    (bounded by the definition: a few hundred for the response workflow).
    """

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        spec = definition.spec
        states = [_state_config(name, s) for name, s in spec.states.items()]
        transitions = [
            {"trigger": trigger_name(i), "source": "*" if "*" in t.from_ else list(t.from_), "dest": t.to}
            for i, t in enumerate(spec.transitions)
            if t.to is not None
        ]
        self._machine = HierarchicalMachine(
            model=None,
            states=states,
            transitions=transitions,
            initial=spec.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            queued=False,
        )
        self._scratch = _CaseModel()
        self._machine.add_model(self._scratch)
        self._moves: dict[tuple[frozenset[str], int], frozenset[str]] = {}
        self._lock = threading.Lock()

    def move(self, leaves: frozenset[str], index: int) -> frozenset[str]:
        """The active leaf states after taking declared transition ``index`` from ``leaves``."""
        key = (leaves, index)
        after = self._moves.get(key)
        if after is None:
            with self._lock:
                self._restore(leaves)
                self._scratch.trigger(trigger_name(index))  # type: ignore[attr-defined]  # added by transitions
                after = active_leaves(self._scratch)
                self._moves[key] = after
        return after

    def _restore(self, leaves: frozenset[str]) -> None:
        wanted = sorted(leaves)
        self._machine.set_state(wanted if len(wanted) > 1 else wanted[0], model=self._scratch)

    @property
    def memo_size(self) -> int:
        return len(self._moves)

    @property
    def raw(self) -> HierarchicalMachine:
        """The underlying machine (for benchmarks and diagnostics only)."""
        return self._machine


def active_leaves(model: Any) -> frozenset[str]:
    """``model.state`` as transitions keeps it (a name, or nested lists for parallel states), flattened."""
    out: list[str] = []

    def flatten(value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                flatten(item)
        else:
            out.append(str(value))

    flatten(model.state)
    return frozenset(out)


@dataclass
class Runtime:
    """A definition with its compiled machine and its escalation criteria — judged under ``calendar``, the
    school calendar a case pinned (``None``: a case from before calendars were pinned, judged by its
    workflow's ``calendar:`` block alone). The machine is shared by every calendar."""

    definition: Definition
    machine: CompiledMachine
    calendar: ResolvedCalendar | None = None

    @cached_property
    def criteria(self) -> Criteria:
        return Criteria(self.definition, None if self.calendar is None else self.calendar.days)

    def under(self, calendar: ResolvedCalendar) -> Runtime:
        """This definition's runtime judged under ``calendar`` (its machine shared)."""
        return Runtime(self.definition, self.machine, calendar)
