"""Verification: can this log be trusted?

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

**How it is fast** (the report is the same, problem for problem, as the plain reading of the rules
above, which ``tests/verify_reference.py`` keeps and ``tests/test_verify_equivalence.py`` compares on
legal, illegal, escalated and damaged histories):

- The whole store is read once, in position order, in batches of plain rows (:meth:`Store.read_rows`);
  each case is a generator that takes its rows a list at a time, so nothing but a case's replay state
  is held between batches. A case whose rows do not come in seq order (rows deleted, renumbered,
  moved), whose check raised, or whose link to another case was not found (see below) is verified
  again afterwards from its own rows, exactly as a single case is (:func:`verify_case`).
- A stored text is matched against the canonical JSON of an event (``_CANONICAL``; ``_LATER`` for the
  events after a case's first). A text that matches, and whose ``data`` is its own canonical JSON,
  *is* the canonical JSON of what it decodes to: its hash is the SHA-256 of the text with its
  ``"hash"`` member cut out (no re-encoding), and its fields have the types the
  :class:`~ijime_flow.events.Event` model demands (no pydantic object is built). Any other text, and
  any text with a problem, is read the plain way (``json.loads``, canonical re-encoding,
  ``Event.model_validate``), which gives every message the rules give.
- The rules are the live engine's own functions (``resolve``, ``check_fact``, ``opening_data``,
  ``fold_event``, ``due_automatic``, ``Criteria.met_by``). What a step's outcome depends on is known
  (see :class:`_Rules`): a manual step's, on its configuration, trigger, roles and data and on the
  values of the facts its candidates' conditions read; a fact's admission, on its data and roles. The
  outcome is remembered under exactly that key, and two quick lanes take the steps met before. The
  escalation criteria are looked at only where facts they read changed (they read no time).
- A link to another case is taken as found while the log is read, and looked for once every case
  has been; a case whose link is not among the events read is verified again (it may be beyond a
  break, or missing), looking links up in the store as before.
- The cycle collector is paused while the log is read: the check makes no reference cycles, and the
  collector would otherwise walk every live case over and over.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .actor import SYSTEM
from .canonical import canonical_json
from .case import FUTURE_TOLERANCE
from .conditions import FactIs, GuardRef, Since, walk
from .errors import IjimeFlowError, UnknownCase
from .escalation import Met
from .events import Event, body_hash
from .stepper import Chosen, candidates, check_fact, due_automatic, fold_event, opening_data, resolve

if TYPE_CHECKING:
    from .definition import Definition
    from .engine import Engine, Runtime
    from .store import StoredEvent


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


def verify_store(engine: Engine, case_id: str | None = None, *,
                 progress: Callable[[Iterable[str], int], Iterable[str]] | None = None) -> VerificationReport:
    """Verify one case, or the whole store. ``progress``, for the whole store: given the ids of the
    cases as they are reached, and their number, it returns them (e.g. wrapped in a progress bar)."""
    report = VerificationReport()
    if case_id is not None:
        rows = engine.store.read_case(case_id)
        if not rows:
            raise UnknownCase(case_id)
        report.cases, report.events = 1, len(rows)
        report.problems.extend(verify_case(engine, case_id, rows))
        return report
    run = _Run(engine)
    cases: dict[str, _Steps] = {}
    reached = _stream(run, cases)
    collecting = gc.isenabled()
    gc.disable()  # the check makes no reference cycles; the cycle collector would walk its live cases over and over
    try:
        for _ in reached if progress is None else progress(reached, len(engine.store.case_ids())):
            pass
    finally:
        if collecting:
            gc.enable()
    finished = {cid: _finish(steps) for cid, steps in cases.items()}
    unlinked = run.resolve_links()
    for cid, (problems, count, again) in finished.items():  # in the order the cases were opened (``case_ids``)
        if again or cid in unlinked:  # rows out of seq order, a check that raised, a link not found as taken
            rows = engine.store.read_case(cid)
            if not rows:
                raise UnknownCase(cid)
            count, problems = len(rows), verify_case(engine, cid, rows, run)
        report.cases += 1
        report.events += count
        report.problems.extend(problems)
    report.problems.extend(VerificationProblem("", None, "store", msg) for msg in engine.store.integrity_problems())
    return report


def verify_case(engine: Engine, case_id: str, rows: Sequence[StoredEvent], run: _Run | None = None) -> list[VerificationProblem]:
    """The problems of one case, given its rows in seq order."""
    steps = _case_steps(run or _Run(engine), case_id, streaming=False)
    next(steps)
    if rows:
        steps.send([(row.position, row.case_id, row.seq, row.body) for row in rows])
    return _finish(steps)[0]


# the check of one case: sent its rows, a list at a time, as (position, case_id, seq, text), then None;
# returns (problems, rows, again)
_Item = tuple[int, str, int, str]
_Steps = Generator[None, list[_Item] | None, tuple[list["VerificationProblem"], int, bool]]
_HELD = 4096  # rows read before they are handed to their cases, a list per case


def _stream(run: _Run, cases: dict[str, _Steps]) -> Iterator[str]:
    """Read the whole log once, in position order, handing the rows to their cases' checks (each case
    its own rows of every few thousand, in order); yields each case id when its first row is reached."""
    waiting: dict[str, list[_Item]] = {}
    held = 0
    for row in run.engine.store.read_rows():
        rows = waiting.get(row[1])
        if rows is None:
            cid = row[1]
            waiting[cid] = [row]
            if cid not in cases:
                steps = cases[cid] = _case_steps(run, cid, streaming=True)
                next(steps)
                yield cid
        else:
            rows.append(row)
        held += 1
        if held == _HELD:
            _hand_over(run, cases, waiting)
            waiting, held = {}, 0
    _hand_over(run, cases, waiting)


def _hand_over(run: _Run, cases: dict[str, _Steps], waiting: dict[str, list[_Item]]) -> None:
    for cid, rows in waiting.items():
        try:
            cases[cid].send(rows)
        except Exception:  # whatever it was, the case alone raises it again, in its turn
            steps = cases[cid] = _again()
            next(steps)


def _finish(steps: _Steps) -> tuple[list[VerificationProblem], int, bool]:
    try:
        steps.send(None)
    except StopIteration as stop:
        done: tuple[list[VerificationProblem], int, bool] = stop.value
        return done
    raise AssertionError("a case's check did not end")  # pragma: no cover


def _again() -> _Steps:
    """A case whose check raised: its other rows pass by; it is verified again from its own rows."""
    while (yield) is not None:
        pass
    return [], 0, True


def _missing(case_id: str, expected: int, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, expected, "seq", f"seq {expected} is missing (next row has seq {seq}):"
                                                         " an event was deleted or reordered")


# -- reading one stored event -------------------------------------------------------------------------
# The canonical JSON of an event, as ``seal`` writes it: keys sorted, no white space, text without any
# escape, integers as ``int`` writes them, one of the event types, times as ``datetime.isoformat`` writes
# them (to the minute of the offset) on days that exist (year 1 on; 29 February of leap years only), so
# that exactly the times ``datetime.fromisoformat`` and the event model read. ``data`` is any object:
# it is checked apart (its own canonical JSON).
_S = r'"([^"\\\x00-\x1f]*)"'
_L = r'\[((?:"[^"\\\x00-\x1f]*"(?:,"[^"\\\x00-\x1f]*")*)?)\]'
_I = r'(0|-?[1-9][0-9]*)'
_LEAP = r'(?:[0-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)'
_DAY = (r'(?:(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)'
        rf'|{_LEAP}-02-29)')
_T = rf'"({_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{6}})?[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"'
_TYPE = r'"(opened|transition|action|fact|automatic|escalated|criterion_met)"'
_CANONICAL = re.compile(
    rf'\{{"actor":\{{"id":{_S},"roles":{_L}\}},"at":{_T},"case_id":{_S},"data":(\{{.*?\}}),'
    rf'"definition":(?:null|\{{"id":{_S},"sha256":{_S},"version":{_S}\}}),"format":{_I},"from_states":(?:null|{_L})'
    rf'(,"hash":{_S}),"prev_hash":(?:null|{_S}),"recorded_at":{_T},(?:"school":{_S},)?"seq":{_I},'
    rf'"to_states":(?:null|{_L}),"trigger":(?:null|{_S}),"type":{_TYPE}\}}', re.DOTALL)
# An event after a case's first, as ``seal`` writes it (no pin, no school, format 1), for the loop that
# knows the hash it must link to: ``hash`` and ``prev_hash`` are read as any 64 characters (no scan),
# which the loop accepts only when they are the SHA-256 it computes and the hash before — hex digits,
# so that the pattern read the text as JSON reads it. Anything else is read the plain way.
_LATER = re.compile(
    rf'\{{"actor":\{{"id":{_S},"roles":{_L}\}},"at":{_T},"case_id":{_S},"data":(\{{.*?\}}),"definition":null,'
    rf'"format":1,"from_states":(?:null|{_L}),"hash":"(.{{64}})","prev_hash":"(.{{64}})","recorded_at":{_T},"seq":{_I},'
    rf'"to_states":(?:null|{_L}),"trigger":(?:null|{_S}),"type":{_TYPE}\}}', re.DOTALL)

# one event as the replay reads it: (type, trigger, from_states, to_states, actor id, actor roles, at,
# recorded_at, data, pin (id, version, sha256), the canonical text of data — None when it was read the plain way)
_Row = tuple[str, str | None, list[str] | None, list[str] | None, str, tuple[str, ...], datetime, datetime,
            dict[str, Any], tuple[str, str, str] | None, str | None]


class _Run:
    """What one verification shares across cases: the engine, the rules of each pinned definition, and
    the decoded lists of states and roles and ``data`` objects (a few thousand distinct texts stand for
    millions of events; shared, so never changed)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lists: dict[str, list[str]] = {}
        self.tuples: dict[str, tuple[str, ...]] = {}
        self.data: dict[str, dict[str, Any]] = {"{}": {}}
        self.state_texts: dict[frozenset[str], str] = {}
        # the links between cases, looked for once the whole log is read (see resolve_links)
        self.links: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.deferred: list[tuple[str, str, str, str, bool]] = []
        self.rules: dict[str, _Rules] = {}

    def link_now(self, asking: str, source: str, target: str, criterion: str, reverse: bool) -> str:
        return _link_problem(self.engine, source, target, criterion, reverse=reverse)

    def later_link(self, asking: str, source: str, target: str, criterion: str, reverse: bool) -> str:
        """A link looked for while the log is read: taken as found, and looked for once every case has
        been read (:meth:`resolve_links`); when it is not there, the asking case is verified again."""
        self.deferred.append((asking, source, target, criterion, reverse))
        return ""

    def resolve_links(self) -> set[str]:
        """The cases whose links were taken as found and are not found among the events read: they are
        verified again, each on its own, looking links up as :func:`_link_problem` does. A link found
        here is one it finds too: the events read of a case are its first rows in seq order, each one
        JSON that the plain reading took, so its scan reaches the one found without a row it cannot
        read. A link not found here (its row past a break, or not there) is left to it."""
        again = set()
        for asking, source, target, criterion, reverse in self.deferred:
            look_in = target if reverse else source
            rows = self.links.get(look_in)
            if rows is None or not any(
                    (data or {}).get("criterion") == criterion and (
                        (kind in ("opened", "criterion_met") and data.get("escalated_from") == source) if reverse
                        else (kind == "escalated" and data.get("case") == target))
                    for kind, data in rows):
                again.add(asking)
        return again

    def strings(self, text: str) -> list[str]:
        """A JSON list of escape-free text, given as the inside of its brackets, decoded."""
        found = self.lists.get(text)
        if found is None:
            found = self.lists[text] = text[1:-1].split('","') if text else []
        return found

    def state_text(self, leaves: frozenset[str]) -> str:
        """The canonical JSON of the sorted leaves, without its brackets (compared with a row's)."""
        found = self.state_texts.get(leaves)
        if found is None:
            found = self.state_texts[leaves] = canonical_json(sorted(leaves))[1:-1]
        return found

    def roles(self, text: str) -> tuple[str, ...]:
        found = self.tuples.get(text)
        if found is None:
            found = self.tuples[text] = tuple(self.strings(text))
        return found

    def row(self, case_id: str, seq: int, text: str, prev: str | None,
            problems: list[VerificationProblem]) -> tuple[_Row | None, str | None]:
        """The chain checks of one stored event: adds its problems; returns the event and its hash, or
        ``(None, None)`` when the chain breaks here. A canonical text is read by ``_CANONICAL``; any
        other, or one the event model would refuse, by :func:`_plain_row`."""
        m = _CANONICAL.fullmatch(text)
        if m is None:
            return _plain_row(case_id, seq, text, prev, problems)
        (actor_id, roles, at, body_case, data_text, pin_id, pin_sha, pin_version, fmt, from_states, _,
         digest, prev_hash, recorded_at, _, body_seq, to_states, trigger, kind) = m.groups()
        data = self.data.get(data_text)
        if data is None:
            data = self.data_for(data_text)
        try:
            number = int(body_seq)
            if fmt != "1":
                int(fmt)
        except ValueError:  # more digits than int() reads: json.loads refuses it too
            data = None
        if data is None:
            return _plain_row(case_id, seq, text, prev, problems)
        if number != seq or body_case != case_id:
            problems.append(_moved(case_id, seq, body_case, number))
        start, end = m.span(11)
        if sha256((text[:start] + text[end:]).encode("utf-8")).hexdigest() != digest:
            problems.append(_changed(case_id, seq))
        if prev_hash != prev:
            problems.append(_unlinked(case_id, seq))
        if problems:
            return None, None
        if number < 1:
            return _plain_row(case_id, seq, text, prev, problems)  # the model refuses it: with what message
        when = datetime.fromisoformat(at)
        written = when if recorded_at == at else datetime.fromisoformat(recorded_at)
        actor_roles = self.tuples.get(roles)
        if actor_roles is None:
            actor_roles = self.tuples[roles] = tuple(self.strings(roles))
        return (kind, trigger, None if from_states is None else self.strings(from_states),
                None if to_states is None else self.strings(to_states), actor_id, actor_roles, when, written, data,
                None if pin_sha is None else (pin_id, pin_version, pin_sha), data_text), digest

    def data_for(self, text: str) -> dict[str, Any] | None:
        """The ``data`` object of a text, if the text is its canonical JSON (else ``None``)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or canonical_json(data) != text:
                return None
        except (ValueError, RecursionError):  # NaN (refused by the encoder), too many digits, too deep
            return None
        if len(self.data) < 100_000:
            self.data[text] = data
        return data

    def rules_for(self, runtime: Runtime) -> _Rules:
        found = self.rules.get(runtime.definition.sha256)
        if found is None:
            found = self.rules[runtime.definition.sha256] = _Rules(self, runtime)
        return found


def _plain_row(case_id: str, seq: int, text: str, prev: str | None,
               problems: list[VerificationProblem]) -> tuple[_Row | None, str | None]:
    """The chain checks of one stored event, read with ``json.loads``, re-encoded and validated by the
    ``Event`` model: every check and message as the rules above state them."""
    try:
        body = json.loads(text)
    except ValueError:
        problems.append(VerificationProblem(case_id, seq, "format", "the stored event is not valid JSON"))
        return None, None
    if not isinstance(body, dict):
        problems.append(VerificationProblem(case_id, seq, "format", "the stored event is not a JSON object"))
        return None, None
    if body.get("seq") != seq or body.get("case_id") != case_id:
        problems.append(_moved(case_id, seq, body.get("case_id"), body.get("seq")))
    if body_hash(body) != body.get("hash"):
        problems.append(_changed(case_id, seq))
    if body.get("prev_hash") != prev:
        problems.append(_unlinked(case_id, seq))
    if problems:
        return None, None
    try:
        ev = Event.model_validate(body)
    except ValidationError as exc:
        problems.append(VerificationProblem(case_id, seq, "format", f"not a valid event: {exc.errors()[0]['msg']}"))
        return None, None
    pin = None if ev.definition is None else (ev.definition.id, ev.definition.version, ev.definition.sha256)
    return (ev.type, ev.trigger, ev.from_states, ev.to_states, ev.actor.id, tuple(ev.actor.roles), ev.at, ev.recorded_at,
            ev.data, pin, None), body["hash"]


def _moved(case_id: str, seq: int, body_case: Any, body_seq: Any) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "seq", f"the row says case {case_id} seq {seq} but the event inside says"
                                                    f" case {body_case} seq {body_seq}: rows were moved or swapped")


def _changed(case_id: str, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "hash",
                               "the content does not match its hash: it was changed after it was recorded")


def _unlinked(case_id: str, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "chain",
                               "prev_hash is not the hash of the event before it: the chain is broken here")


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
      conditions reads the time (``since``) or a guard, the choice depends on the key and those facts'
      values alone. The move is the machine's; the facts a step clears and records are read off the
      transition ``fold_event`` finds and the data.
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
        self.criteria_facts = frozenset(c.fact for c in conditions if isinstance(c, FactIs))
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
        key = (self.run.state_text(leaves), trigger, roles_text, data_text)
        entry = self.steps.get(key)
        if entry is None:
            names: set[str] = set()
            for _, t in candidates(self.defn, leaves, trigger or "", self.closure(roles), ""):
                if t.when is None:
                    break
                for c in walk(t.when):
                    if isinstance(c, Since | GuardRef):
                        return
                    if isinstance(c, FactIs):
                        names.add(c.fact)
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
        kind, _, _, to_states, actor_id, actor_roles, _, _, data, pin, data_text = ev
        if links is not None and kind in _LINKS:
            links.append((kind, data))
        if kind != "opened" or pin is None:
            bad(1, "definition", "the first event must be 'opened' and pin the workflow definition")
        else:
            runtime = engine.runtime_for(pin[2])
            if runtime is None:
                bad(1, "definition", f"the pinned definition {pin[0]} {pin[1]} ({pin[2][:12]}…) is not"
                                     " in the store, or its text does not match its hash")
            else:
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
        facts_changed = True  # whether facts criteria read may have changed since criteria were last looked at
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
            if links is not None and kind in _LINKS:
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
                    or fromisoformat(at) <= fromisoformat(recorded_at) + FUTURE_TOLERANCE):
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
                        due = (due_automatic(defn, leaves, facts, fromisoformat(at), case_id, guards)
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
                                     guards)
                    moves = chosen.transition.to is not None
                    if moves != (kind == "transition"):
                        replaying = bad(seq, "illegal", f"'{trigger or kind}' is recorded as a {kind} but the"
                                                        " definition says otherwise")
                        continue
                    if moves:
                        after = machine.move(leaves, chosen.index)
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
                fold_event(facts, defn, kind, trigger, from_states, data)
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
            due = (due_automatic(defn, leaves, facts, at, case_id, guards)
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


def _refusal(label: str, actor_id: str, roles: tuple[str, ...], defn: Definition, exc: IjimeFlowError) -> str:
    return f"{label} by {actor_id} ({', '.join(roles) or '-'}) — not allowed under {defn.id} {defn.version}: {exc}"


def _link_problem(engine: Engine, source: str, target: str, criterion: str, *, reverse: bool = False) -> str:
    """Both ends of an escalation must name each other: the source's ``escalated`` event names the
    target case, and the target's ``opened`` / ``criterion_met`` event names the source. ``reverse``
    checks from the source side (looks in the target's log)."""
    look_in = target if reverse else source
    rows = engine.store.read_case(look_in)
    if not rows:
        return f"the linked case {look_in} does not exist in the store"
    for row in rows:
        body = json.loads(row.body)
        data = body.get("data") or {}
        if data.get("criterion") != criterion:
            continue
        if reverse and body.get("type") in ("opened", "criterion_met") and data.get("escalated_from") == source:
            return ""
        if not reverse and body.get("type") == "escalated" and data.get("case") == target:
            return ""
    if reverse:
        return f"case {target} does not record that it was opened from {source} for '{criterion}'"
    return f"case {source} has no escalation to {target} for '{criterion}'"
