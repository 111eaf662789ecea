"""Rules checked on the definition itself, with a counterexample from the explored configurations."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from ..definition import Definition
from ..language.conditions import holds
from ..language.stored import add_duration
from ..stepper import context
from .counterexample import Counterexample
from .explore import CASE_ID, START, Action, Exploration, Explorer, Node

if TYPE_CHECKING:
    from .rules import Rule


def not_longer(within: str, limit: str) -> bool:
    """True when a deadline of ``within`` is never later than one of ``limit`` (``same_day`` counts as
    at most a day: it ends at midnight of the day it starts). Against ``same_day``, a duration of at most
    12 hours counts as not longer too: a school that says "within 4 hours" of a discovery in the school
    day is stricter than "the same day", though one started late in the evening would end after midnight."""
    if limit == "same_day":
        if within in ("same_day", "immediately"):  # immediately (直ちに) asks more than same_day (即日)
            return True
        return add_duration(START, within) <= START + timedelta(hours=12)
    end = add_duration(START, limit)
    if within == "same_day":
        return START + timedelta(days=1) <= end
    return add_duration(START, within) <= end


def check_deadline(rule: Rule, defn: Definition, explorer: Explorer,
                   space: Exploration) -> tuple[str, Counterexample | None] | None:
    spec = rule.deadline
    assert spec is not None
    node = defn.nodes.get(spec.state)
    if node is None:
        return (f"状態「{spec.state}」がありません / no state '{spec.state}'", None)
    found = [d for d in node.spec.deadlines if spec.met_by in d.met_by]
    entered = None  # the first configuration entering the state where no deadline that short starts
    entries = [n for n in space.nodes if defn.is_active(spec.state, n.leaves)
               and (n.parent is None or not defn.is_active(spec.state, n.parent.leaves))]
    if any(n.parent is None for n in entries):  # the initial state: every way of opening the case
        entries = [Node(leaves, facts, START, frozenset(), None, action) for action, leaves, facts in explorer.openings()
                   if defn.is_active(spec.state, leaves)] + [n for n in entries if n.parent is not None]
    tried = explorer.local_facts(*(d.when for d in found))
    recorded: list[Action] = []  # facts recorded before the step that entered it, when they decide
    for n in entries:  # (nothing is recorded before a case is opened)
        for before, current in explorer.variants(n, tried if n.parent is not None else []):
            ctx = context(defn, current.facts, current.at, current.leaves, CASE_ID, None)
            if not any(not_longer(d.within, spec.within) and (d.when is None or holds(d.when, ctx)) for d in found):
                entered, recorded = n, before
                break
        if entered is not None:
            break
    if entered is None:
        if any(defn.is_active(spec.state, n.leaves) for n in space.nodes):
            return None
        return (f"状態「{spec.state}」に入れません（規則を確かめられません） / the state '{spec.state}' is never entered", None)
    if found:
        why = (f"「{spec.state}」の「{spec.met_by}」の期限が {', '.join(d.within for d in found)} で、{spec.within} より長いか"
               f"この場合は始まりません / the deadline for '{spec.met_by}' in '{spec.state}' is"
               f" {', '.join(d.within for d in found)}: longer than {spec.within}, or it does not start here")
    else:
        why = (f"「{spec.state}」に入っても「{spec.met_by}」の期限が始まりません / entering '{spec.state}' starts no deadline"
               f" met by '{spec.met_by}'")
    path = entered.path()
    if recorded:
        path = path[:-1] + recorded + path[-1:]
    at = path[-1].at if path else START
    local = at.astimezone(defn.tz)
    if spec.within == "same_day":
        check_at = datetime.combine(local.date() + timedelta(days=1), time(0, 1), tzinfo=defn.tz)
    else:
        check_at = add_duration(at, spec.within) + timedelta(minutes=1)
    return why, Counterexample(path, None, "overdue", "期限が守られない", "the deadline is missing or too long",
                               {"trigger": spec.met_by, "state": spec.state,
                                "check_at": check_at.astimezone(defn.tz).strftime("%Y-%m-%d %H:%M")})
