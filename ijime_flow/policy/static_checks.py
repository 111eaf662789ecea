"""Rules checked on the definition itself, with a counterexample from the explored configurations."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from ..calendars.periods import case_year, periods
from ..definition import Definition
from ..language.conditions import holds
from ..language.durations import END_OF
from ..language.models import DeadlineDef
from ..language.stored import add_duration
from ..stepper import context
from .counterexample import Counterexample
from .explore import CASE_ID, START, Action, Exploration, Explorer, Node
from .recurring import every_not_coarser, rule_spec, uncovered
from .rules import as_list

if TYPE_CHECKING:
    from .rules import DeadlineRule, Rule


def not_longer(within: str, limit: str) -> bool:
    """True when a deadline of ``within`` is never later than one of ``limit`` (``same_day`` counts as
    at most a day: it ends at midnight of the day it starts). Against ``same_day``, a duration of at most
    12 hours counts as not longer too: a school that says "within 4 hours" of a discovery in the school
    day is stricter than "the same day", though one started late in the evening would end after midnight.
    Recurring deadlines (``end_of_month``, ``end_of_term``, ``end_of_year``) compare by their periods only
    (a month before a term before a year: :mod:`.recurring` compares them exactly) and never with a
    duration: a duty due at each period's end is not a time after an event."""
    recurring = every_not_coarser(within, limit)
    if recurring is not None:
        return recurring
    if within in END_OF or limit in END_OF:
        return False
    if limit == "same_day":
        if within in ("same_day", "immediately"):  # immediately (直ちに) asks more than same_day (即日)
            return True
        return add_duration(START, within) <= START + timedelta(hours=12)
    end = add_duration(START, limit)
    if within == "same_day":
        return START + timedelta(days=1) <= end
    return add_duration(START, within) <= end


def _asked(spec: DeadlineRule) -> str:
    """The rule's measure, as said in messages: a ``within`` or ``every: term`` (``months: [9]``)."""
    if spec.every is None:
        return str(spec.within)
    return f"every: {spec.every}" + (f" (months: {spec.months})" if spec.months else "")


def _meets(spec: DeadlineRule, defn: Definition, starting: list[DeadlineDef]) -> bool:
    """Whether the deadlines ``starting`` (met by the rule's step, their ``when`` holding) ask what the rule does."""
    if spec.every is None:
        return any(not_longer(d.within, str(spec.within)) for d in starting)
    return uncovered(starting, defn, spec.every, spec.months) is None


def check_deadline(rule: Rule, defn: Definition, explorer: Explorer,
                   space: Exploration) -> tuple[str, Counterexample | None] | None:
    spec = rule.deadline
    assert spec is not None
    node = defn.nodes.get(spec.state)
    if node is None:
        return (f"状態「{spec.state}」がありません / no state '{spec.state}'", None)
    meeting = as_list(spec.met_by)
    found = [d for d in node.spec.deadlines if set(d.met_by) <= set(meeting)]  # one another step meets too does not count
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
            if not _meets(spec, defn, [d for d in found if d.when is None or holds(d.when, ctx)]):
                entered, recorded = n, before
                break
        if entered is not None:
            break
    if entered is None:
        if any(defn.is_active(spec.state, n.leaves) for n in space.nodes):
            return None
        return (f"状態「{spec.state}」に入れません（規則を確かめられません） / the state '{spec.state}' is never entered", None)
    asked, named = _asked(spec), "・".join(meeting)
    if found:
        said = ", ".join(d.within for d in found)
        why = (f"「{spec.state}」の「{named}」の期限が {said} で、{asked} より長いか粗いか、この場合は始まりません"
               f" / the deadline for '{named}' in '{spec.state}' is {said}: longer or less frequent than {asked},"
               " or it does not start here")
    else:
        why = (f"「{spec.state}」に入っても「{named}」の期限が始まりません / entering '{spec.state}' starts no deadline"
               f" met by '{named}'")
    path = entered.path()
    if recorded:
        path = path[:-1] + recorded + path[-1:]
    at = path[-1].at if path else START
    local = at.astimezone(defn.tz)
    if spec.every is not None:  # the end of the first period of the rule the workflow leaves without a duty
        year = case_year(entered.facts, at, defn)
        period = uncovered(found, defn, spec.every, spec.months, year, at)
        period = period or next((p for p in periods(defn, rule_spec(spec.every, spec.months), year) if p.end > at), None)
        check_at = (period.end if period is not None else at) + timedelta(minutes=1)
    elif spec.within == "same_day":
        check_at = datetime.combine(local.date() + timedelta(days=1), time(0, 1), tzinfo=defn.tz)
    else:
        check_at = add_duration(at, str(spec.within)) + timedelta(minutes=1)
    return why, Counterexample(path, None, "overdue", "期限が守られない", "the deadline is missing or too long",
                               {"trigger": meeting[0], "state": spec.state,
                                "check_at": check_at.astimezone(defn.tz).strftime("%Y-%m-%d %H:%M")})


def check_opens(rule: Rule, defn: Definition) -> tuple[str, Counterexample | None] | None:
    """Every way of taking the rule's step opens a case of its workflow, with the facts it names (each value as the
    rule says; more facts are allowed)."""
    spec = rule.opens
    assert spec is not None
    for _, t in defn.transitions_by_trigger.get(spec.trigger, []):
        opens = t.opens
        if opens is None:
            return (f"「{spec.trigger}」は事案を開きません（{spec.workflow} の事案を開くこと） / '{spec.trigger}' opens no"
                    f" case: it must open a {spec.workflow} case", None)
        if opens.workflow != spec.workflow:
            return (f"「{spec.trigger}」が開くのは {opens.workflow} の事案です（{spec.workflow} であること） / '{spec.trigger}'"
                    f" opens a {opens.workflow} case, not a {spec.workflow} one", None)
        for name, value in spec.facts.items():
            if opens.facts.get(name) != value:
                return (f"「{spec.trigger}」が開く事案に事実「{name}」が {value} と記録されません / the case '{spec.trigger}'"
                        f" opens does not record '{name}' as {value}", None)
    return None
