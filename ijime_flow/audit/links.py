"""Links between cases: both ends must name each other.

Two kinds, one rule. **Escalation**: the source's ``escalated`` event names the target case (``case``) and the
criterion; the target's ``opened`` / ``criterion_met`` event names the source (``escalated_from``) and the same
criterion. **A step that opens a case** (``opens:`` in the workflow, e.g. a survey's concern opening a response
case): the source's step (an ``action`` or ``transition``) names the target (``opens``); the target's ``opened``
event names the source (``opened_from``) and the step's trigger (``step``). For such a link the ``criterion``
below is :func:`step_link` of the trigger.

A history bundle may leave out, on purpose, cases a linked case opened by a step (the school year's other concerns:
other pupils' cases), naming them in its header (``outside``): the step that opened one of those is not looked for
at the other end. Only that direction: a case in the bundle that says it was opened from another needs that other.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..escalation import OPENED_FROM, OPENS, STEP, link_in

if TYPE_CHECKING:
    from ..store import Store

_STEP_LINK = "step:"
_STEPS = frozenset({"action", "transition"})


def step_link(trigger: str) -> str:
    """The ``criterion`` a link made by the step ``trigger`` is looked for by."""
    return _STEP_LINK + trigger


def records_link(kind: str, data: Any) -> bool:
    """Whether an event of this type and data records a link (what the verifier keeps of other cases)."""
    return link_in(kind, None, data) is not None


def names_link(kind: str, data: Any, source: str, target: str, criterion: str, *, reverse: bool) -> bool:
    """Whether one event (its type and data) records the link ``source`` → ``target`` for ``criterion``: on
    the target's side (``reverse``) its opening or criterion event naming the source, else on the source's
    side its event naming the target."""
    if not isinstance(data, dict):
        return False
    if criterion.startswith(_STEP_LINK):
        if reverse:
            return kind == "opened" and data.get(OPENED_FROM) == source and data.get(STEP) == criterion[len(_STEP_LINK):]
        return kind in _STEPS and data.get(OPENS) == target
    if data.get("criterion") != criterion:
        return False
    if reverse:
        return kind in ("opened", "criterion_met") and data.get("escalated_from") == source
    return kind == "escalated" and data.get("case") == target


def _link_problem(store: Store, source: str, target: str, criterion: str, *, reverse: bool = False) -> str:
    """Both ends of a link must name each other (see the module docstring). ``reverse`` checks from the source
    side (looks in the target's log)."""
    look_in = target if reverse else source
    rows = store.read_case(look_in)
    if not rows and reverse and criterion.startswith(_STEP_LINK) and look_in in getattr(store, "outside", ()):
        return ""  # a bundle's case that opened another pupil's case, left outside on purpose (its header says so)
    if not rows:
        return f"the linked case {look_in} does not exist in the store"
    for row in rows:
        try:  # a damaged row names no link (its own check reports it, with its seq)
            body = json.loads(row.body)
        except (ValueError, RecursionError):
            continue
        if isinstance(body, dict) and names_link(str(body.get("type")), body.get("data"), source, target, criterion,
                                                 reverse=reverse):
            return ""
    step = criterion[len(_STEP_LINK):] if criterion.startswith(_STEP_LINK) else None
    if reverse:
        return (f"case {target} does not record that it was opened from {source} by '{step}'" if step is not None
                else f"case {target} does not record that it was opened from {source} for '{criterion}'")
    return (f"case {source} has no step that opened {target}" if step is not None
            else f"case {source} has no escalation to {target} for '{criterion}'")
