"""Reading a case's log as far as it folds, for the auditor's commands (``replay``, ``report``).

A damaged log — a body that is not a valid event, an event naming states or facts its workflow does
not have, a case whose pinned definition is missing — must not hide the part of the history that is
sound. :func:`read_events` parses the stored events up to the first one that does not parse,
:func:`pinned_definition` finds the definition the first event pins, :func:`fold_prefix` folds
events up to the first one the definition cannot take. Where the reading stops is a
:class:`FoldProblem`: the seq, what kind of stop, and why, in plain words. When not even the first
event can be used there is nothing to show: :class:`NothingToReplay`.

``verify`` (``ijime-flow verify``) says what else is wrong with the log; this module only says where
the reading had to stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ..deadlines import LogFold
from ..definition import Definition
from ..errors import IjimeFlowError, StoreError, UnknownCase
from ..events import DefinitionPin, Event, parse_event
from ..privacy.sealing import open_events

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["FoldProblem", "NothingToReplay", "fold_prefix", "pinned_definition", "read_events"]

Kind = Literal["unreadable", "misplaced", "unfoldable", "definition"]
KIND_JA: dict[str, str] = {"unreadable": "記録が読めません", "misplaced": "記録の本文が別の位置を名乗っています",
                           "unfoldable": "定義で再生できない記録です", "definition": "固定された定義を使えません"}
KIND_EN: dict[str, str] = {"unreadable": "the event cannot be read", "misplaced": "its body names another case or seq",
                           "unfoldable": "the definition cannot take the event",
                           "definition": "the pinned definition cannot be used"}


@dataclass(frozen=True)
class FoldProblem:
    """Where the reading of a case's log stopped.

    ``seq``: the first event that could not be used (it and every event after it are left out);
    ``kind``: ``unreadable`` (its body is not a valid event), ``misplaced`` (its body names another
    case or seq than the one it is stored at), ``unfoldable`` (the pinned definition
    cannot take it: states or facts it does not have, data that does not fold) or ``definition`` (the
    first event does not pin a definition the store holds intact); ``reason``: the error, in plain
    words; ``last_seq``: the case's last seq in the store; ``shown_seq``: the last event that was
    folded and is shown (0: none)."""

    case_id: str
    seq: int
    kind: Kind
    reason: str
    last_seq: int
    shown_seq: int = 0

    @property
    def message(self) -> str:
        """The note people read, Japanese first: which seq stopped the replay, why, and that what
        follows is not shown."""
        left = f"seq {self.seq}〜{self.last_seq}" if self.last_seq > self.seq else f"seq {self.seq}"
        left_en = f"seq {self.seq} to {self.last_seq}" if self.last_seq > self.seq else f"seq {self.seq}"
        shown_ja = (f"示すのは seq {self.shown_seq} までの状態です" if self.shown_seq
                    else "示せる状態はありません")
        shown_en = (f"what is shown is the state as of seq {self.shown_seq}" if self.shown_seq
                    else "there is no state to show")
        return (f"seq {self.seq} で再生を止めました（{KIND_JA[self.kind]}）。{left} は含まれていません。{shown_ja}"
                f" / replay stopped at seq {self.seq} ({KIND_EN[self.kind]}): {left_en} not shown; {shown_en}")

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "reason": self.reason, "last_seq": self.last_seq,
                "shown_seq": self.shown_seq or None, "message": self.message}


class NothingToReplay(StoreError):
    """Not even a case's first event can be used (it is damaged, does not fold, or pins a definition
    the store lacks): there is no state to show. ``problem`` says where and why; ``pin`` is the
    definition the first event pins, when it can be read."""

    def __init__(self, problem: FoldProblem, pin: DefinitionPin | None = None) -> None:
        self.problem = problem
        self.pin = pin
        super().__init__(f"事案 {problem.case_id}: {problem.message}\n  理由 / reason: {problem.reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.problem.case_id, "definition": self.pin.model_dump() if self.pin else None,
                "seq": None, "last_seq": self.problem.last_seq, "problem": self.problem.to_dict()}

    def render(self) -> str:
        pin = f"{self.pin.id} {self.pin.version} (sha256 {self.pin.sha256[:12]}…)" if self.pin else "—"
        return "\n".join([f"事案 {self.problem.case_id} / case {self.problem.case_id}",
                          f"定義 / definition: {pin}",
                          f"注意 / note: {self.problem.message}",
                          f"  理由 / reason: {self.problem.reason}"])


def read_events(engine: Engine, case_id: str) -> tuple[list[Event], FoldProblem | None, int]:
    """The case's events up to the first whose body does not parse or names another place than the one
    it is stored at (case, seq), that stop (``None``: every event was read), and the case's last seq
    in the store. ``UnknownCase`` when the store has no such case."""
    rows = engine.store.read_case(case_id)
    if not rows:
        raise UnknownCase(case_id)
    last_seq = rows[-1].seq
    events: list[Event] = []
    for row in rows:
        try:
            event = parse_event(row.body, row.case_id, row.seq)
        except StoreError as exc:
            return events, FoldProblem(case_id, row.seq, "unreadable", str(exc), last_seq), last_seq
        if (event.case_id, event.seq) != (row.case_id, row.seq):
            return events, FoldProblem(case_id, row.seq, "misplaced", (
                f"seq {row.seq} に保存された記録の本文は事案 {event.case_id} の seq {event.seq} を名乗っています / the event"
                f" stored at seq {row.seq} says it is seq {event.seq} of case {event.case_id}: run `ijime-flow verify`"
            )[:600], last_seq), last_seq
        events.append(event)
    return open_events(getattr(engine, "keys", None), events), None, last_seq


def pinned_definition(engine: Engine, case_id: str, events: Sequence[Event], stop: FoldProblem | None,
                      last_seq: int) -> Definition:
    """The definition the first event pins, from the store's text (never the workflow file as it is
    today). :class:`NothingToReplay` when there is no first event to read (``stop`` says why), when it
    is not an ``opened`` event pinning a definition, when the store lacks that definition intact, or
    when this version cannot read or run the text it keeps."""
    if not events:
        assert stop is not None
        raise NothingToReplay(stop)
    first = events[0]
    pin = first.definition
    if first.type != "opened" or pin is None:
        raise NothingToReplay(FoldProblem(
            case_id, first.seq, "definition", f"事案 {case_id} の最初の記録が定義を指定していません / the first event"
            f" of case {case_id} must be 'opened' and pin its definition: run `ijime-flow verify`", last_seq))
    try:
        runtime = engine.runtime_for(pin.sha256)
    except StoreError as exc:  # the text is there but this version cannot read or run it
        raise NothingToReplay(FoldProblem(case_id, first.seq, "definition", str(exc), last_seq), pin) from None
    if runtime is None:
        raise NothingToReplay(FoldProblem(
            case_id, first.seq, "definition", f"事案が固定した定義 {pin.id} {pin.version}（sha256 {pin.sha256[:12]}…）が"
            f"記録にないか、その本文が壊れています / the definition the case pinned, {pin.id} {pin.version} (sha256"
            f" {pin.sha256[:12]}…), is not in the store or bundle, or its text does not match its hash: run"
            " `ijime-flow verify`", last_seq), pin)
    return runtime.definition


def fold_prefix(defn: Definition, events: Sequence[Event]) -> tuple[LogFold, int, tuple[int, str] | None]:
    """Fold ``events`` up to the first one ``defn`` cannot take: (the fold of the events before it,
    how many were folded, ``(seq, reason)`` of the one that stopped it or ``None``). The fold returned
    holds exactly the events folded (an event that fails half-way leaves nothing of itself)."""
    fold = LogFold(defn)
    for index, event in enumerate(events):
        try:
            fold.add(event)
        except IjimeFlowError as exc:  # StoreError (states, a damaged body) or InvalidData (a fact's value)
            clean = LogFold(defn)
            for before in events[:index]:
                clean.add(before)
            return clean, index, (event.seq, str(exc))
    return fold, len(events), None


def fold_checked(case_id: str, defn: Definition, events: Sequence[Event], problem: FoldProblem | None,
                 last_seq: int) -> tuple[LogFold, list[Event], FoldProblem | None]:
    """:func:`fold_prefix` as replay and report use it: the fold, the events it holds, and the problem
    that ended it (a damaged event read earlier, or the first event the definition cannot take), with
    the last seq shown; :class:`NothingToReplay` when not even the first event folds."""
    fold, count, refused = fold_prefix(defn, events)
    if refused is not None:
        problem = FoldProblem(case_id, refused[0], "unfoldable", refused[1], last_seq)
    if count == 0:
        assert problem is not None
        raise NothingToReplay(problem, events[0].definition)
    folded = list(events[:count])
    if problem is not None:
        problem = replace(problem, shown_seq=folded[-1].seq)
    return fold, folded, problem
