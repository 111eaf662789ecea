"""REFERENCE COPY of the verifier (now ijime_flow/audit/verify.py and its parts) as it was before it was
made fast (imports adjusted to run from tests; a rule added since is added here too, marked "added with
the rule"): tests/test_verify_equivalence.py checks the fast verifier reports exactly what this
straightforward one does.

Verification: can this log be trusted?

For each case, in order:

1. **chain** — rows are seq 1, 2, 3 ... with no gap; each event's own ``seq`` and ``case_id`` are
   its row's; its ``hash`` is the SHA-256 of its canonical JSON; its ``prev_hash`` is the hash of
   the event before it. The first break is pinpointed by seq.
2. **definition** — the first event pins ``(id, version, sha256)``; the store holds a text with
   that hash, and it parses as a workflow.
3. **legality** — every step is replayed under the pinned definition by the same rules that admit
   steps live (:mod:`ijime_flow.stepper`): source state, role, data, conditions at the step's own
   time. Automatic steps must be the ones that were due.
4. **states** — the recorded ``from_states`` / ``to_states`` equal the replayed ones.

So a history whose hashes were all recomputed after an illegal step was slipped in still fails at
that step. Replay reads no wall clock: only the times in the events.
Truncation of a case's last events leaves a valid chain; the SQLite store reports missing
positions, and signed checkpoints (a later release) close the gap fully.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ijime_flow.actor import SYSTEM
from ijime_flow.audit.subjects import check_change
from ijime_flow.calendars.resolved import CALENDAR_KEY, pinned_calendar
from ijime_flow.case import FUTURE_TOLERANCE
from ijime_flow.errors import IjimeFlowError, UnknownCase
from ijime_flow.escalation import Met
from ijime_flow.events import EVENT_FORMAT, UPCASTERS, Event, body_hash
from ijime_flow.privacy.holds import check_hold
from ijime_flow.stepper import check_fact, due_automatic, fold_event, note_actor, opening_data, resolve

if TYPE_CHECKING:
    from ijime_flow.engine import Engine
    from ijime_flow.store import StoredEvent


@dataclass(frozen=True)
class VerificationProblem:
    case_id: str
    seq: int | None
    kind: str  # format | seq | hash | chain | definition | illegal | state | link | store
    message: str

    def __str__(self) -> str:
        where = f"{self.case_id} seq {self.seq}" if self.seq is not None else (self.case_id or "store")
        return f"{where}: [{self.kind}] {self.message}"


@dataclass
class VerificationReport:
    cases: int = 0
    events: int = 0
    problems: list[VerificationProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_bad_seq(self, case_id: str) -> int | None:
        seqs = [p.seq for p in self.problems if p.case_id == case_id and p.seq is not None]
        return min(seqs) if seqs else None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "problems": [asdict(p) for p in self.problems]}


def verify_store(engine: Engine, case_id: str | None = None) -> VerificationReport:
    report = VerificationReport()
    ids = [case_id] if case_id is not None else engine.store.case_ids()
    for cid in ids:
        rows = engine.store.read_case(cid)
        if not rows:
            raise UnknownCase(cid)
        report.cases += 1
        report.events += len(rows)
        report.problems.extend(verify_case(engine, cid, rows))
    if case_id is None:
        report.problems.extend(VerificationProblem("", None, "store", msg)
                               for msg in engine.store.integrity_problems())
    return report


def verify_case(engine: Engine, case_id: str, rows: Sequence[StoredEvent]) -> list[VerificationProblem]:
    events, problems = check_chain(case_id, rows)
    if events:
        problems.extend(check_replay(engine, case_id, events))
    return sorted(problems, key=lambda p: (p.seq or 0))


def check_chain(case_id: str, rows: Sequence[StoredEvent]) -> tuple[list[Event], list[VerificationProblem]]:
    """Chain checks; returns the events that can be trusted (those before the first break)."""
    problems: list[VerificationProblem] = []
    events: list[Event] = []
    prev: str | None = None

    def bad(seq: int, kind: str, message: str) -> None:
        problems.append(VerificationProblem(case_id, seq, kind, message))

    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            bad(expected, "seq", f"seq {expected} is missing (next row has seq {row.seq}):"
                                 " an event was deleted or reordered")
            break
        try:
            body = json.loads(row.body)
        except ValueError:
            bad(row.seq, "format", "the stored event is not valid JSON")
            break
        if not isinstance(body, dict):
            bad(row.seq, "format", "the stored event is not a JSON object")
            break
        if body.get("seq") != row.seq or body.get("case_id") != row.case_id:
            bad(row.seq, "seq", f"the row says case {row.case_id} seq {row.seq} but the event inside says"
                                f" case {body.get('case_id')} seq {body.get('seq')}: rows were moved or swapped")
        if body_hash(body) != body.get("hash"):
            bad(row.seq, "hash", "the content does not match its hash: it was changed after it was recorded")
        if body.get("prev_hash") != prev:
            bad(row.seq, "chain", "prev_hash is not the hash of the event before it: the chain is broken here")
        if problems:
            break
        fmt = body.get("format")  # (added with the rule: an event format this version reads; found by reference/)
        if type(fmt) is not int or not (fmt == EVENT_FORMAT or fmt in UPCASTERS):
            bad(row.seq, "format", f"event format {str(fmt)[:20]} is not one this ijime-flow reads (format {EVENT_FORMAT})")
            break
        try:
            events.append(Event.model_validate(body))
        except ValidationError as exc:
            bad(row.seq, "format", f"not a valid event: {exc.errors()[0]['msg']}")
            break
        prev = body["hash"]
    return events, problems


def check_replay(engine: Engine, case_id: str, events: Sequence[Event]) -> list[VerificationProblem]:
    problems: list[VerificationProblem] = []

    def bad(seq: int, kind: str, message: str) -> list[VerificationProblem]:
        problems.append(VerificationProblem(case_id, seq, kind, message))
        return problems

    first = events[0]
    pin = first.definition
    if first.type != "opened" or pin is None:
        return bad(1, "definition", "the first event must be 'opened' and pin the workflow definition")
    runtime = engine.runtime_for(pin.sha256)
    if runtime is None:
        return bad(1, "definition", f"the pinned definition {pin.id} {pin.version} ({pin.sha256[:12]}…) is not"
                                    " in the store, or its text does not match its hash")
    if CALENDAR_KEY in first.data:  # added with the rule: judged under the school calendar it pinned
        calendar = pinned_calendar(engine.store.get_definition, first.data[CALENDAR_KEY])
        if isinstance(calendar, str):
            return bad(1, "calendar", calendar)
        runtime = runtime.under(calendar)
    defn, machine = runtime.definition, runtime.machine
    if (defn.id, defn.version) != (pin.id, pin.version):
        bad(1, "definition", f"pin says {pin.id} {pin.version} but the text is {defn.id} {defn.version}")
    roles = defn.role_closure(first.actor.roles)
    if "escalated_from" in first.data:  # opened by the engine when another case met a criterion
        if first.actor.id != SYSTEM.id:
            bad(1, "illegal", f"an escalated case is opened by the engine, not by {first.actor.id}")
        link = _link_problem(engine, str(first.data["escalated_from"]), case_id, str(first.data.get("criterion")))
        if link:
            bad(1, "link", link)
    elif not roles & set(defn.spec.opened_by):
        bad(1, "illegal", f"opened by {first.actor.id} ({', '.join(first.actor.roles)}) — not allowed"
                          f" (roles: {', '.join(defn.spec.opened_by)})")
    leaves = frozenset(defn.initial_leaves)
    if first.to_states != sorted(leaves):
        return bad(1, "state", f"recorded initial states {first.to_states} differ from {sorted(leaves)}")

    facts: dict[str, Any] = {}
    try:
        opening_data(defn, first.data)
    except IjimeFlowError as exc:
        return bad(1, "illegal", f"opened with data the workflow does not allow: {exc}")
    fold_event(facts, defn, first.type, first.trigger, first.from_states, first.data)
    actors: Any = {}  # who took the steps distinct_actors conditions count
    due: tuple[int, Any] | None = None
    met_ids: set[str] = set()
    pending: list[Met] = []  # criteria met by the last step, whose escalated events must follow
    linked: str | None = None
    named: dict[str, str] = {}  # the subjects named so far
    held: dict[str, str | None] = {}  # the board's holds: id -> reason in force, None once released
    for ev in events[1:]:
        label = ev.trigger or ev.type
        who = f"{ev.actor.id} ({', '.join(ev.actor.roles) or '-'})"
        if ev.type == "opened":
            return bad(ev.seq, "illegal", "a second 'opened' event inside one case")
        if ev.at > ev.recorded_at + FUTURE_TOLERANCE:
            return bad(ev.seq, "illegal", f"'{label}' is dated {ev.at.isoformat()}, after it was recorded"
                                          f" ({ev.recorded_at.isoformat()}): a step cannot be recorded in advance")
        if ev.at < first.at:  # (added with the rule: no step before the case was opened)
            return bad(ev.seq, "illegal", f"'{label}' is dated {ev.at.isoformat()}, before the case was"
                                          f" opened ({first.at.isoformat()})")
        if ev.from_states != sorted(leaves):
            return bad(ev.seq, "state", f"recorded from_states {ev.from_states} differ from the replayed"
                                        f" {sorted(leaves)}")
        if due is not None and (ev.type != "automatic" or ev.trigger != due[1].trigger):
            return bad(ev.seq, "illegal", f"the automatic step '{due[1].trigger}' was due here, but"
                                          f" '{label}' was recorded")
        if pending and due is None and ev.type != "escalated":
            return bad(ev.seq, "illegal", f"criterion '{pending[0].criterion.id}' was met by the step before, but no"
                                          " escalation was recorded")
        after = leaves
        before_facts = dict(facts)
        try:
            if ev.type == "escalated":
                if not pending or due is not None or pending[0].criterion.id != ev.data.get("criterion"):
                    return bad(ev.seq, "illegal", f"escalation for '{ev.data.get('criterion')}' was not due here")
                if pending[0].figures != ev.data.get("figures"):
                    return bad(ev.seq, "illegal", f"escalation figures '{ev.data.get('figures')}' differ from the"
                                                  f" replayed '{pending[0].figures}'")
                if linked is not None and ev.data.get("case") != linked:
                    return bad(ev.seq, "link", f"escalates to {ev.data.get('case')}, but this case escalated to {linked}")
                linked = str(ev.data.get("case"))
                link = _link_problem(engine, case_id, linked, str(ev.data.get("criterion")), reverse=True)
                if link:
                    return bad(ev.seq, "link", link)
                met_ids.add(pending.pop(0).criterion.id)
            elif ev.type == "criterion_met":
                link = _link_problem(engine, str(ev.data.get("escalated_from")), case_id, str(ev.data.get("criterion")))
                if link:
                    return bad(ev.seq, "link", link)
            elif ev.type in ("transition", "action"):
                chosen = resolve(defn, leaves, facts, ev.trigger or "", defn.role_closure(ev.actor.roles),
                                 ev.actor.id, ev.at, ev.data, case_id, engine.guards, actors)
                moves = chosen.transition.to is not None
                if moves != (ev.type == "transition"):
                    return bad(ev.seq, "illegal", f"'{label}' is recorded as a {ev.type} but the"
                                                  " definition says otherwise")
                if moves:
                    after = machine.move(leaves, chosen.index)
            elif ev.type == "fact":
                if defn.is_closed(leaves):
                    return bad(ev.seq, "illegal", "a fact was recorded after the case was closed")
                check_fact(defn, ev.data.get("fact", ""), ev.data.get("value"),
                           defn.role_closure(ev.actor.roles), ev.actor.id)
            elif ev.type == "automatic":
                if due is None or due[1].trigger != ev.trigger:
                    return bad(ev.seq, "illegal", f"automatic step '{label}' was not due here")
                after = machine.move(leaves, due[0])
            elif ev.type == "subject":  # (added with the rule: the pupils a case is about)
                subject, part = check_change(defn, leaves, named, ev.data, ev.trigger, ev.actor.id, ev.actor.roles,
                                             escalated="escalated_from" in first.data)
                if part is None:
                    del named[subject]
                else:
                    named[subject] = part
            elif ev.type in ("hold", "hold_released"):  # (added with the rule: holds recorded by the board)
                hold_id, reason = check_hold(defn, leaves, held, ev.type, ev.data, None, None, ev.trigger, ev.actor.id,
                                             ev.actor.roles)
                held[hold_id] = reason if ev.type == "hold" else None
            fold_event(facts, defn, ev.type, ev.trigger, ev.from_states, ev.data)
            actors = note_actor(defn, actors, ev.type, ev.trigger, ev.actor.id, ev.actor.roles)
        except IjimeFlowError as exc:
            return bad(ev.seq, "illegal", f"{label} by {who} — not allowed under {defn.id} {defn.version}:"
                                          f" {exc}")
        if ev.to_states != sorted(after):
            return bad(ev.seq, "state", f"recorded to_states {ev.to_states} differ from the replayed"
                                        f" {sorted(after)}")
        if ev.type in ("transition", "action", "fact"):
            pending = runtime.criteria.met_by(before_facts, facts, ev.type, ev.data, ev.at, after, case_id, met_ids)
        leaves = after
        due = (due_automatic(defn, leaves, facts, ev.at, case_id, engine.guards, actors)
               if ev.type in ("transition", "automatic") else None)
    if due is not None:
        bad(events[-1].seq, "illegal", f"the automatic step '{due[1].trigger}' was due after the last event"
                                       " but is missing")
    elif pending:
        bad(events[-1].seq, "illegal", f"criterion '{pending[0].criterion.id}' was met by the last event, but no"
                                       " escalation was recorded")
    return problems


def _link_problem(engine: Engine, source: str, target: str, criterion: str, *, reverse: bool = False) -> str:
    """Both ends of an escalation must name each other: the source's ``escalated`` event names the
    target case, and the target's ``opened`` / ``criterion_met`` event names the source. ``reverse``
    checks from the source side (looks in the target's log)."""
    look_in = target if reverse else source
    rows = engine.store.read_case(look_in)
    if not rows:
        return f"the linked case {look_in} does not exist in the store"
    for row in rows:
        try:  # (added with the rule) a damaged row names no link (its own check reports it, with its seq)
            body = json.loads(row.body)
        except (ValueError, RecursionError):
            continue
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            continue
        if data.get("criterion") != criterion:
            continue
        if reverse and body.get("type") in ("opened", "criterion_met") and data.get("escalated_from") == source:
            return ""
        if not reverse and body.get("type") == "escalated" and data.get("case") == target:
            return ""
    if reverse:
        return f"case {target} does not record that it was opened from {source} for '{criterion}'"
    return f"case {source} has no escalation to {target} for '{criterion}'"
