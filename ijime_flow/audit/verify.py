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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..errors import UnknownCase

if TYPE_CHECKING:
    from ..store import StoredEvent
from .legality import _HELD, _case_steps, _Item, _Steps
from .problems import VerificationProblem, VerificationReport
from .run import Ledger, _Run

__all__ = ["Ledger", "VerificationProblem", "VerificationReport", "verify_case", "verify_store"]


def verify_store(engine: Ledger, case_id: str | None = None, *,
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
    return _settle(engine, run, ((cid, *_finish(steps)) for cid, steps in cases.items()))


def _settle(engine: Ledger, run: _Run, finished: Iterable[tuple[str, list[VerificationProblem], int, bool]],
            store_problems: list[str] | None = None) -> VerificationReport:
    """The report, from every case's check in the order the cases were reached (``finished``: id,
    problems, rows, whether it must be verified again) and the links ``run`` took as found; then the
    store's own problems (``store_problems``, when already read). Also how :mod:`.parallel` merges the
    checks of its processes."""
    report = VerificationReport()
    done = list(finished)
    unlinked = run.resolve_links()
    for cid, problems, count, again in done:  # in the order the cases were reached in the log
        if again or cid in unlinked:  # rows out of seq order, a check that raised, a link not found as taken
            rows = engine.store.read_case(cid)
            if not rows:
                raise UnknownCase(cid)
            count, problems = len(rows), verify_case(engine, cid, rows, run)
        report.cases += 1
        report.events += count
        report.problems.extend(problems)
    report.problems.extend(VerificationProblem("", None, "store", msg)
                           for msg in (engine.store.integrity_problems() if store_problems is None else store_problems))
    return report


def verify_case(engine: Ledger, case_id: str, rows: Sequence[StoredEvent], run: _Run | None = None) -> list[VerificationProblem]:
    """The problems of one case, given its rows in seq order."""
    steps = _case_steps(run or _Run(engine), case_id, streaming=False)
    next(steps)
    if rows:
        steps.send([(row.position, row.case_id, row.seq, row.body) for row in rows])
    return _finish(steps)[0]


def _stream(run: _Run, cases: dict[str, _Steps], log: Iterable[_Item] | None = None,
            firsts: list[int] | None = None) -> Iterator[str]:
    """Read the whole log once, in position order (or the rows ``log`` gives: one process's share of the
    cases), handing the rows to their cases' checks (each case its own rows of every few thousand, in
    order); yields each case id when its first row is reached (``firsts``: gets that row's position)."""
    waiting: dict[str, list[_Item]] = {}
    held = 0
    for row in run.engine.store.read_rows() if log is None else log:
        rows = waiting.get(row[1])
        if rows is None:
            cid = row[1]
            waiting[cid] = [row]
            if cid not in cases:
                steps = cases[cid] = _case_steps(run, cid, streaming=True)
                next(steps)
                if firsts is not None:
                    firsts.append(row[0])
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
