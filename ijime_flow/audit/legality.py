"""One case's check: the chain of every row, and the replay of every step under its pinned definition
by the rules that admit steps live (:func:`_case_steps`)."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from ..actor import SYSTEM
from ..calendars.resolved import CALENDAR_KEY
from ..clock import FUTURE_TOLERANCE
from ..errors import IjimeFlowError, StoredDefinitionError
from ..escalation import OPENED_FROM, OPENS, STEP, Met
from ..privacy.forget import check_erased
from ..privacy.holds import check_hold
from ..stepper import check_fact, due_automatic, fold_event, note_actor, resolve
from .subjects import check_change

if TYPE_CHECKING:
    from ..definition import Definition
    from .run import _Run
from .chain import _LATER, _missing, _plain_row
from .links import step_link
from .problems import VerificationProblem

# the check of one case: sent its rows, a list at a time, as (position, case_id, seq, text), then None;
# returns (problems, rows, again)
_Item = tuple[int, str, int, str]
_Steps = Generator[None, list[_Item] | None, tuple[list["VerificationProblem"], int, bool]]
_HELD = 4096  # rows read before they are handed to their cases, a list per case


# -- one case ---------------------------------------------------------------------------------------------
def _case_steps(run: _Run, case_id: str, *, streaming: bool) -> _Steps:
    """Verify one case from its rows, sent a list at a time (in seq order, as far as it knows), then
    ``None``; returns its problems (sorted by seq), how many rows it had, and whether it must be verified
    again from its own rows sorted by seq (``streaming``: the rows come in the log's order, and one came
    out of seq order).
    The chain of every row is checked; the replay (the rules) goes on until its first problem, as far
    as the chain can be trusted. (One long function: its locals are the fastest state Python has.)"""
    engine = run.engine
    chain: list[VerificationProblem] = []
    problems: list[VerificationProblem] = []
    at: Any  # text (the canonical reading: made a datetime when a rule needs it) or a datetime
    recorded_at: Any
    data: Any
    rows: Any
    item: Any
    text: Any
    m: Any

    def bad(seq: int, kind: str, message: str) -> bool:
        """Note a problem; the replay stops at it (``replaying = bad(...)``) unless said otherwise."""
        problems.append(VerificationProblem(case_id, seq, kind, message))
        return False

    check_link = run.later_link if streaming else run.link_now
    links = run.links.setdefault(case_id, []) if streaming else None  # what other cases' links look for here

    batch = yield
    if not batch:
        return [], 0, False
    rows = iter(batch)
    _, _, seq, text = next(rows)
    # broken: the chain broke (or the seq order did): the other rows are only counted, and, streaming,
    # seen to come in seq order — else (again) the case is verified anew from its own rows, sorted
    broken = again = replaying = False
    rules = prev = None
    if seq != 1:
        broken = again = streaming
        if not streaming:
            chain.append(_missing(case_id, 1, seq))
            broken = True
    else:
        ev, prev = run.row(case_id, seq, text, None, chain)
        broken = ev is None
    # -- the first event: the pin, the opener, the initial states, the opening data ----------------------
    if broken or ev is None:
        pin = None
    else:
        kind, _, _, to_states, actor_id, actor_roles, opened, _, data, pin, data_text = ev
        opened_text = opened.isoformat()  # as the canonical text has it
        if links is not None and (kind in _LINKS or (kind in _STEPS and OPENS in data)):
            links.append((kind, data))
        if kind != "opened" or pin is None:
            bad(1, "definition", "the first event must be 'opened' and pin the workflow definition")
        else:
            try:
                runtime = engine.runtime_for(pin[2])
            except StoredDefinitionError as exc:  # the text is there, and hashes right, but cannot run
                runtime = None
                bad(1, "definition", str(exc))
            else:
                if runtime is None:
                    bad(1, "definition", f"the pinned definition {pin[0]} {pin[1]} ({pin[2][:12]}…) is not"
                                         " in the store, or its text does not match its hash")
            if runtime is not None and CALENDAR_KEY in data:  # judged under the school calendar it pinned
                under = run.under_calendar(runtime, data[CALENDAR_KEY])
                runtime = None if isinstance(under, str) else under
                if isinstance(under, str):
                    bad(1, "calendar", under)
            if runtime is not None:
                rules = run.rules_for(runtime)
    if rules is not None and pin is not None:
        replaying = True
        guards = engine.guards
        (defn, machine, criteria, sorted_list, closure, memo, remember, fact_ok, open_cases, is_open, facts_only,
         criteria_facts, absence_facts) = rules.kit
        if (defn.id, defn.version) != (pin[0], pin[1]):
            bad(1, "definition", f"pin says {pin[0]} {pin[1]} but the text is {defn.id} {defn.version}")
        if "escalated_from" in data:  # opened by the engine when another case met a criterion
            if actor_id != SYSTEM.id:
                bad(1, "illegal", f"an escalated case is opened by the engine, not by {actor_id}")
            link = check_link(case_id, str(data["escalated_from"]), case_id, str(data.get("criterion")), False)
            if link:
                bad(1, "link", link)
        elif OPENED_FROM in data:  # opened by another case's step (`opens`), by that step's actor: both ends checked
            link = check_link(case_id, str(data[OPENED_FROM]), case_id, step_link(str(data.get(STEP))), False)
            if link:
                bad(1, "link", link)
        elif not rules.may_open(actor_roles):
            bad(1, "illegal", f"opened by {actor_id} ({', '.join(actor_roles)}) — not allowed"
                              f" (roles: {', '.join(defn.spec.opened_by)})")
        leaves = rules.initial
        facts: dict[str, Any] = {}
        if to_states != sorted_list(leaves):
            replaying = bad(1, "state", f"recorded initial states {to_states} differ from {sorted(leaves)}")
        else:
            refused, opening_facts = rules.opened(data, data_text)
            if refused is not None:
                replaying = bad(1, "illegal", f"opened with data the workflow does not allow: {refused}")
            else:
                facts = dict(opening_facts)
        named: dict[str, str] = {}  # the subjects named so far (audit.subjects)
        held: dict[str, str | None] = {}  # the board's holds: id -> reason in force, None released (privacy.holds)
        escalated = "escalated_from" in data
        facts_changed = True  # whether facts criteria read may have changed since criteria were last looked at
        actors: Any = {}  # who took the steps distinct_actors conditions count (their steps take no quick lane)
        due: tuple[int, Any] | None = None
        met_ids: set[str] = set()
        pending: list[Met] = []  # criteria met by the last step, whose escalated events must follow
        linked: str | None = None
    # -- every later row: its chain, then (while the replay goes on) its step --------------------------------
    later, data_cache, state_texts, fromisoformat = _LATER.fullmatch, run.data, run.state_texts, datetime.fromisoformat
    count = last = 1  # rows seen; the seq of the last event that could be trusted
    while True:
        for item in rows:  # the rows of this batch
            count += 1
            if broken:
                again = again or (streaming and item[2] != count)
                continue
            _, _, seq, text = item
            if seq != count:
                broken = True
                if streaming:  # rows out of seq order: verify the case again, from its own rows sorted
                    again = True
                else:
                    chain.append(_missing(case_id, count, seq))
                continue
            # the chain checks of this row. The canonical reading passes only a row with no problem; any
            # other row is read the plain way, which finds every problem as the rules state it.
            m = later(text)
            if m is not None:
                (actor_id, roles_text, at, body_case, data_text, from_text, digest, prev_hash, recorded_at, body_seq,
                 to_text, trigger, kind) = m.groups()
                data = data_cache.get(data_text)
                if data is None:
                    data = run.data_for(data_text)
                if data is not None and prev_hash == prev and body_seq == str(seq) and body_case == case_id:
                    start, end = m.span(7)
                    if sha256((text[:start - 9] + text[end + 1:]).encode("utf-8")).hexdigest() != digest:
                        m = None
                else:
                    m = None
            if m is None:
                ev, digest = _plain_row(case_id, seq, text, prev, chain)
                if ev is None:
                    broken = True
                    continue
                kind, trigger, from_states, to_states, actor_id, actor_roles, at, recorded_at, data, _, _ = ev
                roles_text = data_text = None
            prev, last = digest, seq
            if links is not None and (kind in _LINKS or (kind in _STEPS and OPENS in data)):
                links.append((kind, data))
            if not replaying:
                continue
            # -- the step, by the rules ------------------------------------------------------------------------
            # Two quick lanes take the common steps a legal history is made of, when every check before the
            # rule itself passes at a glance; they give what the general way below gives. The times: one text,
            # or the same offset (text order is then time order, to the second) and not the year 9999.
            if data_text is not None and due is None and not pending and kind in _LANES and (
                    at == recorded_at or (len(at) == len(recorded_at) and at <= recorded_at and recorded_at < "9999"
                                          and at.endswith(recorded_at[-6:]))
                    or fromisoformat(at) <= fromisoformat(recorded_at) + FUTURE_TOLERANCE) and (
                    at >= opened_text if len(at) == len(opened_text) and at.endswith(opened_text[-6:])
                    else fromisoformat(at) >= opened):
                if kind != "fact":
                    # a manual step met before: from this configuration, by these roles, with this data, on the
                    # same values of the facts its choice reads
                    entry = memo.get((from_text, trigger, roles_text, data_text))
                    step = None if entry is None else entry[1].get(tuple(map(facts.get, entry[0])) if entry[0] else ())
                    if (step is not None and step[1] == kind and to_text == step[4]
                            and (step[0] is leaves or step[0] == leaves)):
                        before_facts = facts
                        if not step[3]:  # it clears or records facts
                            before_facts = dict(facts)
                            try:
                                fold_event(facts, defn, kind, trigger, sorted_list(leaves), data)
                            except IjimeFlowError as exc:  # (resolve's step_data read these very values: not reached)
                                replaying = bad(seq, "illegal", _refusal(trigger or kind, actor_id, run.roles(roles_text),
                                                                         defn, exc))
                                continue
                            facts_changed = facts_changed or step[6]
                        if facts_changed or not facts_only:
                            pending = criteria.met_by(before_facts, facts, kind, data, fromisoformat(at), step[2], case_id,
                                                      met_ids)
                            facts_changed = False
                        leaves = step[2]
                        due = (due_automatic(defn, leaves, facts, fromisoformat(at), case_id, guards, actors)
                               if kind == "transition" and step[5] else None)
                        continue
                elif (to_text == from_text and (data_text, roles_text) in fact_ok
                      and from_text == (state_texts.get(leaves) or run.state_text(leaves))
                      and (open_cases.get(leaves) or is_open(leaves))):
                    # a fact met before, with these roles (check_fact let it pass), on an open case
                    name = data["fact"]
                    look = facts_changed or not facts_only or name in criteria_facts or name in absence_facts
                    before_facts = dict(facts) if look else facts
                    try:
                        fold_event(facts, defn, kind, trigger, None, data)  # (a fact's fold reads no states)
                    except IjimeFlowError as exc:  # (check_fact let this very value pass: not reached)
                        replaying = bad(seq, "illegal", _refusal(trigger or kind, actor_id, run.roles(roles_text), defn, exc))
                        continue
                    if look:
                        pending = criteria.met_by(before_facts, facts, kind, data, fromisoformat(at), leaves, case_id,
                                                  met_ids)
                        facts_changed = False
                    due = None
                    continue
            # -- the general way: every check in the order the rules give them -----------------------------------
            if kind == "opened":
                replaying = bad(seq, "illegal", "a second 'opened' event inside one case")
                continue
            if at.__class__ is str:
                at, recorded_at = fromisoformat(at), fromisoformat(recorded_at)
            if at > recorded_at + FUTURE_TOLERANCE:
                replaying = bad(seq, "illegal", f"'{trigger or kind}' is dated {at.isoformat()}, after it was recorded"
                                                f" ({recorded_at.isoformat()}): a step cannot be recorded in advance")
                continue
            if at < opened:
                replaying = bad(seq, "illegal", f"'{trigger or kind}' is dated {at.isoformat()}, before the case was"
                                                f" opened ({opened.isoformat()})")
                continue
            if data_text is not None:  # the canonical reading: states compared as the canonical text of the list
                if from_text != (state_texts.get(leaves) or run.state_text(leaves)):
                    from_states = None if from_text is None else run.strings(from_text)
                    replaying = bad(seq, "state", f"recorded from_states {from_states} differ from the replayed"
                                                  f" {sorted(leaves)}")
                    continue
                from_states = sorted_list(leaves)  # what was recorded
                actor_roles = run.roles(roles_text)
            elif from_states != sorted_list(leaves):
                replaying = bad(seq, "state", f"recorded from_states {from_states} differ from the replayed {sorted(leaves)}")
                continue
            if due is not None and (kind != "automatic" or trigger != due[1].trigger):
                replaying = bad(seq, "illegal", f"the automatic step '{due[1].trigger}' was due here, but"
                                                f" '{trigger or kind}' was recorded")
                continue
            if pending and due is None and kind != "escalated":
                replaying = bad(seq, "illegal", f"criterion '{pending[0].criterion.id}' was met by the step before, but no"
                                                " escalation was recorded")
                continue
            after = leaves
            before_facts = dict(facts)  # (also what the step's choice read)
            try:
                if kind == "escalated":
                    if not pending or due is not None or pending[0].criterion.id != data.get("criterion"):
                        replaying = bad(seq, "illegal", f"escalation for '{data.get('criterion')}' was not due here")
                        continue
                    if pending[0].figures != data.get("figures"):
                        replaying = bad(seq, "illegal", f"escalation figures '{data.get('figures')}' differ from the"
                                                        f" replayed '{pending[0].figures}'")
                        continue
                    if linked is not None and data.get("case") != linked:
                        replaying = bad(seq, "link", f"escalates to {data.get('case')}, but this case escalated to {linked}")
                        continue
                    linked = str(data.get("case"))
                    link = check_link(case_id, case_id, linked, str(data.get("criterion")), True)
                    if link:
                        replaying = bad(seq, "link", link)
                        continue
                    met_ids.add(pending.pop(0).criterion.id)
                elif kind == "criterion_met":
                    link = check_link(case_id, str(data.get("escalated_from")), case_id, str(data.get("criterion")), False)
                    if link:
                        replaying = bad(seq, "link", link)
                        continue
                elif kind == "transition" or kind == "action":
                    chosen = resolve(defn, leaves, facts, trigger or "", closure(actor_roles), actor_id, at, data, case_id,
                                     guards, actors)
                    moves = chosen.transition.to is not None
                    if moves != (kind == "transition"):
                        replaying = bad(seq, "illegal", f"'{trigger or kind}' is recorded as a {kind} but the"
                                                        " definition says otherwise")
                        continue
                    if moves:
                        after = machine.move(leaves, chosen.index)
                    if chosen.transition.opens is not None or OPENS in data:  # the case it opened names it back
                        link = (check_link(case_id, case_id, str(data[OPENS]), step_link(trigger or ""), True)
                                if chosen.transition.opens is not None and isinstance(data.get(OPENS), str)
                                else f"'{trigger}' {'names no case it opened' if chosen.transition.opens else 'opens no case'}")
                        if link:
                            replaying = bad(seq, "link", link)
                            continue
                    if data_text is not None and roles_text is not None:
                        remember(leaves, trigger, actor_roles, roles_text, data_text, data, chosen, after, before_facts)
                elif kind == "fact":
                    if defn.is_closed(leaves):
                        replaying = bad(seq, "illegal", "a fact was recorded after the case was closed")
                        continue
                    check_fact(defn, data.get("fact", ""), data.get("value"), closure(actor_roles), actor_id)
                    if data_text is not None and roles_text is not None and len(fact_ok) < 100_000:
                        fact_ok.add((data_text, roles_text))
                elif kind == "automatic":
                    if due is None or due[1].trigger != trigger:
                        replaying = bad(seq, "illegal", f"automatic step '{trigger or kind}' was not due here")
                        continue
                    after = machine.move(leaves, due[0])
                elif kind == "subject":
                    subject, part = check_change(defn, leaves, named, data, trigger, actor_id, actor_roles, escalated=escalated)
                    if part is None:
                        named.pop(subject)
                    else:
                        named[subject] = part
                elif kind == "hold" or kind == "hold_released":
                    hold_id, reason = check_hold(defn, leaves, held, kind, data, None, None, trigger, actor_id, actor_roles)
                    held[hold_id] = reason if kind == "hold" else None
                elif kind == "erased":  # a pupil forgotten: ids and a reason code only (ijime_flow.privacy.forget)
                    check_erased(defn, data, trigger, actor_id, actor_roles)
                fold_event(facts, defn, kind, trigger, from_states, data)
                actors = note_actor(defn, actors, kind, trigger, actor_id, actor_roles)
            except IjimeFlowError as exc:
                replaying = bad(seq, "illegal", _refusal(trigger or kind, actor_id, actor_roles, defn, exc))
                continue
            facts_changed = True
            if data_text is not None:
                if to_text != (state_texts.get(after) or run.state_text(after)):
                    to_states = None if to_text is None else run.strings(to_text)
                    replaying = bad(seq, "state", f"recorded to_states {to_states} differ from the replayed {sorted(after)}")
                    continue
            elif to_states != sorted_list(after):
                replaying = bad(seq, "state", f"recorded to_states {to_states} differ from the replayed {sorted(after)}")
                continue
            if kind == "fact" or kind == "transition" or kind == "action":
                pending = criteria.met_by(before_facts, facts, kind, data, at, after, case_id, met_ids)
                facts_changed = False
            leaves = after
            due = (due_automatic(defn, leaves, facts, at, case_id, guards, actors)
                   if kind == "transition" or kind == "automatic" else None)
        rows = batch = item = text = m = None  # nothing of the rows is kept while the case waits for more
        batch = yield
        if batch is None:
            break
        rows = iter(batch)
    if again:
        return [], count, True
    if replaying:
        if due is not None:
            bad(last, "illegal", f"the automatic step '{due[1].trigger}' was due after the last event but is missing")
        elif pending:
            bad(last, "illegal", f"criterion '{pending[0].criterion.id}' was met by the last event, but no"
                                 " escalation was recorded")
    if chain or problems:
        return sorted(chain + problems, key=lambda p: (p.seq or 0)), count, False
    return [], count, False


_LANES = frozenset({"transition", "action", "fact"})  # the types the quick lanes take
_LINKS = frozenset({"opened", "criterion_met", "escalated"})  # the types that record a link between cases
_STEPS = frozenset({"transition", "action"})  # and a step that opened a case (`opens` in its data)


def _refusal(label: str, actor_id: str, roles: tuple[str, ...], defn: Definition, exc: IjimeFlowError) -> str:
    return f"{label} by {actor_id} ({', '.join(roles) or '-'}) — not allowed under {defn.id} {defn.version}: {exc}"
