"""Holds (保全): what keeps a case's records from being forgotten, and the board's recorded holds.

Nothing of a case may be forgotten (a pupil's personal data erased, :mod:`.forget`) while

- ``open``: the case itself is open (not in a top-level final state);
- ``linked_open``: a case linked to it by escalation, either way (:meth:`Case.linked_cases
  <ijime_flow.case.Case.linked_cases>`) — a serious incident (重大事態) — is open, under investigation or
  re-investigation (``linked_missing``: a linked case the store does not hold, kept to be safe);
- ``board_hold``: a hold recorded on the case, or on a case linked to it, is in force.

A recorded hold is a ``hold`` event, ``data`` ``{"hold": ID, "reason": CODE}``, ended by a ``hold_released``
event ``{"hold": ID, "reason": CODE}``: an id (the board's reference, never a name) and a reason code from
:data:`HOLD_REASONS` / :data:`RELEASE_REASONS`, never free text. Neither moves the case (``from_states ==
to_states``, the active leaves) nor has a trigger; either may be recorded on a closed case (a hold matters
most after closing). Who may record one: an actor holding the ``board`` or the ``principal`` role (included
roles count), as far as the workflow declares them; each hold id is used once per case (recorded once,
released once). ``engine.verify`` checks every hold event by these rules (:func:`check_hold`).

A fourth kind, ``minimum``, is no event but a retention rule (:mod:`.minimum`): a ``minimum: true`` rule that
declares its records (``steps`` / ``facts``, e.g. the school year's ``survey``) keeps them until its period ends
(``until``), so no pupil whose personal value is sealed in one of them may be forgotten before — by a request
(``request``) nor by retention (``retention``). Forgetting a pupil named by mistake (``correction``) is not
refused by it (the other holds still refuse it): a record about the wrong pupil is no record to keep. A
``minimum`` rule without ``steps`` / ``facts`` (the response workflow's ``survey``) holds nothing.

:func:`check_forget` is called by forgetting before anything is destroyed: it raises :class:`HoldInForce`
(Japanese first, with ``code`` ``hold_in_force``, naming the hold and the case; for ``minimum`` the record
class and the day the minimum ends) when any hold applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..actor import Actor, check_actor
from ..canonical import check_id
from ..errors import HoldInForce, InvalidData, PermissionDenied, UnknownCase
from ..events import Event
from .minimum import minimum_kept

if TYPE_CHECKING:
    from ..case import Case
    from ..definition import Definition
    from ..engine import Engine
    from ..step_api import StepResult

__all__ = ["HOLD_REASONS", "HOLD_ROLES", "HOLD_TYPES", "RELEASE_REASONS", "Hold", "check_forget", "check_hold", "hold_text",
           "holds_in_force", "holds_on", "record_hold", "release_hold"]

HOLD_ROLES = ("board", "principal")
HOLD_REASONS: dict[str, tuple[str, str]] = {
    "litigation": ("訴訟・訴訟のおそれ", "litigation, or litigation expected"),
    "investigation": ("調査（重大事態の調査・再調査を含む）",
                      "an investigation (a serious-incident investigation or re-investigation)"),
    "disclosure_request": ("開示・訂正・利用停止の請求", "a request for disclosure, correction or suspension of use"),
    "police": ("警察の捜査・照会", "a police inquiry"),
    "audit": ("監査・第三者による検証", "an audit or a third-party review"),
    "board_decision": ("教育委員会の決定", "a decision of the board"),
}
RELEASE_REASONS: dict[str, tuple[str, str]] = {
    "concluded": ("保全の事由が終了した", "what required the hold has ended"),
    "recorded_in_error": ("誤って記録した", "the hold was recorded in error"),
}
HOLD_TYPES = ("hold", "hold_released")


@dataclass(frozen=True)
class Hold:
    """One reason a case's records are kept: ``kind`` (``open``, ``linked_open``, ``linked_missing``,
    ``board_hold``, ``minimum``), ``case_id`` the case kept, ``held_by`` the case the hold lies on (itself or a
    linked one), a board hold's ``hold_id``, ``reason`` and ``since`` (for ``minimum``: ``reason`` the record
    class, ``until`` the day its minimum period ends), and the reason in words, Japanese and English."""

    kind: str
    case_id: str
    held_by: str
    ja: str
    en: str
    hold_id: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "case_id": self.case_id, "held_by": self.held_by, "hold_id": self.hold_id,
                "reason": self.reason, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "ja": self.ja, "en": self.en}


# -- the rules of a hold event (live and in verification alike) ------------------------------------------
def read_hold(kind: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """The hold id and reason code of a ``hold`` / ``hold_released`` event's data; ``InvalidData`` if it is not one."""
    if set(data) != {"hold", "reason"}:
        raise InvalidData(f"保全の記録は hold と reason だけを持ちます / a {kind} event's data is {{'hold': ID, 'reason':"
                          f" CODE}}, not the keys {sorted(data)[:8]}")
    hold_id = check_id(data["hold"], "hold (the board's reference for the hold, never a name)")
    reasons = HOLD_REASONS if kind == "hold" else RELEASE_REASONS
    reason = data["reason"]
    if not isinstance(reason, str) or reason not in reasons:
        raise InvalidData(f"保全の理由は {', '.join(reasons)} のいずれかです（自由記述は書けません） / the reason of a"
                          f" {kind} event is one of the codes {', '.join(reasons)}, not {str(reason)[:40]!r}")
    return hold_id, reason


def check_hold(defn: Definition, leaves: frozenset[str], held: Mapping[str, str | None], kind: str,
               data: Mapping[str, Any], from_states: Iterable[str] | None, to_states: Iterable[str] | None,
               trigger: str | None, actor_id: str, roles: Iterable[str]) -> tuple[str, str]:
    """The hold id and reason a ``hold`` / ``hold_released`` event records after the holds ``held`` before it
    (id -> reason while in force, ``None`` once released), if the rules allow it; else ``InvalidData`` or
    ``PermissionDenied``."""
    hold_id, reason = read_hold(kind, data)
    if trigger is not None:
        raise InvalidData(f"保全の記録に操作はありません / a {kind} event has no trigger, not {trigger!r:.60}")
    if from_states is not None and to_states is not None and sorted(from_states) != sorted(to_states):
        raise InvalidData(f"保全の記録は状態を変えません / a {kind} event moves no state")
    allowed = [r for r in HOLD_ROLES if r in defn.spec.roles]
    if not defn.role_closure(frozenset(roles)) & set(allowed):
        raise PermissionDenied(f"保全の記録 ({kind})", actor_id, sorted(roles), allowed)
    if kind == "hold" and hold_id in held:
        raise InvalidData(f"保全 {hold_id} は既に記録されています（保全の ID は一度だけ使えます） / hold {hold_id} was"
                          " recorded on this case already (each hold id is used once)")
    if kind == "hold_released" and held.get(hold_id) is None:
        raise InvalidData(f"保全 {hold_id} は有効ではありません / hold {hold_id} is not in force on this case: nothing to"
                          " release")
    return hold_id, reason


def holds_in_force(events: Iterable[Event]) -> dict[str, tuple[str, datetime]]:
    """The board's holds in force after ``events`` (one case's log): hold id -> (reason, since)."""
    found: dict[str, tuple[str, datetime]] = {}
    for event in events:
        if event.type == "hold":
            found[str(event.data["hold"])] = (str(event.data["reason"]), event.at)
        elif event.type == "hold_released":
            found.pop(str(event.data["hold"]), None)
    return found


def hold_text(kind: str, data: Mapping[str, Any]) -> str:
    """A ``hold`` / ``hold_released`` event in words, Japanese first: the hold's id and its reason."""
    reasons = HOLD_REASONS if kind == "hold" else RELEASE_REASONS
    reason = str(data.get("reason"))
    ja, en = reasons.get(reason, (reason, reason))
    if kind == "hold":
        return f"保全を記録: {data.get('hold')}（{ja}） / hold {data.get('hold')} recorded ({en})"
    return f"保全を解除: {data.get('hold')}（{ja}） / hold {data.get('hold')} released ({en})"


def _held(events: Iterable[Event]) -> dict[str, str | None]:
    held: dict[str, str | None] = {}
    for event in events:
        if event.type == "hold":
            held[str(event.data["hold"])] = str(event.data["reason"])
        elif event.type == "hold_released":
            held[str(event.data["hold"])] = None
    return held


# -- recording holds --------------------------------------------------------------------------------------
def record_hold(engine: Engine, case_id: str, hold_id: str, *, reason: str, actor: Actor,
                at: datetime | None = None) -> StepResult:
    """Record a hold on a case (board or principal): one ``hold`` event. While it is in force nothing of the
    case, nor of a case linked to it, may be forgotten."""
    return _record(engine, case_id, "hold", hold_id, reason, actor, at)


def release_hold(engine: Engine, case_id: str, hold_id: str, *, reason: str = "concluded", actor: Actor,
                 at: datetime | None = None) -> StepResult:
    """End a hold in force (board or principal): one ``hold_released`` event."""
    return _record(engine, case_id, "hold_released", hold_id, reason, actor, at)


def _record(engine: Engine, case_id: str, kind: Literal["hold", "hold_released"], hold_id: str, reason: str, actor: Actor,
            at: datetime | None) -> StepResult:
    from .. import logs

    with engine.lock:
        case = engine.get_case(case_id)
        # the case's own internals: the same path every step takes (the step's time, one atomic append)
        at, now = case._when(at)
        data = {"hold": hold_id, "reason": reason}
        leaves = case._leaves
        check_hold(case._runtime.definition, leaves, _held(case.history()), kind, data, None, None, None, check_actor(actor).id,
                   actor.roles)
        result = case._commit([(kind, None, leaves, leaves, actor, data)], at, now, case._facts,
                              kind, data, met_at=[])
        logs.info(f"case.{kind}", case_id=case.id, hold=hold_id, reason=reason, seq=result.event.seq)
        return result


# -- what keeps a case ------------------------------------------------------------------------------------
def minimum_holds(engine: Engine, case_id: str, *, subject: str | None = None,
                  as_of: datetime | None = None) -> list[Hold]:
    """The ``minimum`` holds of one case (:func:`~.minimum.minimum_kept`, as holds)."""
    return [Hold("minimum", case_id, case_id, *kept.words(), reason=kept.record_class, until=kept.ends_on)
            for kept in minimum_kept(engine, case_id, subject=subject, as_of=as_of)]


def holds_on(engine: Engine, case_id: str, *, subject: str | None = None, as_of: datetime | None = None,
             minimum: bool = True) -> list[Hold]:
    """Every hold that keeps the records of one case now: itself open, a linked case open (or missing), a
    board hold in force on it or on a linked case, a record class kept at least so long (``minimum``: as of
    ``as_of``, default now, holding a value sealed for ``subject``, default any pupil named; ``minimum=False``:
    left out, for a caller that asks per pupil). Empty: nothing keeps it."""
    case = engine.get_case(case_id)
    out = _own(case, case_id)
    if minimum:
        out += minimum_holds(engine, case_id, subject=subject, as_of=as_of)
    for link in case.linked_cases():
        try:
            other = engine.get_case(link.case_id)
        except UnknownCase:
            out.append(Hold("linked_missing", case_id, link.case_id,
                            f"関連する事案 {link.case_id} が記録にありません（念のため保全します）",
                            f"the linked case {link.case_id} is not in the store (kept to be safe)"))
            continue
        if not other.closed:
            defn = other._runtime.definition
            states = "、".join(defn.state_label(s) for s in sorted(other.active_states))
            out.append(Hold("linked_open", case_id, other.id,
                            f"関連する事案 {other.id}（{defn.spec.title.ja}）が終結していません（{states}）",
                            f"the linked case {other.id} ({other.workflow_id}) is open: {sorted(other.active_states)}"))
        out += [h for h in _own(other, case_id) if h.kind == "board_hold"]
    return out


def _own(case: Case, kept: str) -> list[Hold]:
    out = []
    if case.id == kept and not case.closed:
        labels = "、".join(case._runtime.definition.state_label(s) for s in sorted(case.active_states))
        out.append(Hold("open", kept, case.id, f"事案 {case.id} が終結していません（{labels}）",
                        f"case {case.id} is open: {sorted(case.active_states)}"))
    for hold_id, (reason, since) in sorted(holds_in_force(case.history()).items()):
        ja, en = HOLD_REASONS.get(reason, (reason, reason))
        where_ja = "" if case.id == kept else f"（関連する事案 {case.id}）"
        where_en = "" if case.id == kept else f" (on the linked case {case.id})"
        out.append(Hold("board_hold", kept, case.id, f"保全 {hold_id}（{ja}）が有効です{where_ja}",
                        f"hold {hold_id} ({en}) is in force{where_en}", hold_id, reason, since))
    return out


def check_forget(engine: Engine, subject_id: str, case_ids: Iterable[str], *, reason: str | None = None) -> None:
    """Return when nothing of ``case_ids`` is held; else raise :class:`HoldInForce` naming the first hold
    found (the case, the kind, and for a board hold its id and reason; for ``minimum`` the record class and the
    day it ends). Called before anything is destroyed. ``reason``: the forgetting's reason code — ``correction``
    (a pupil named by mistake) is not refused by a ``minimum`` hold; not given, every hold refuses."""
    for case_id in case_ids:
        for hold in holds_on(engine, case_id, subject=subject_id):
            if hold.kind == "minimum" and reason == "correction":
                continue
            raise HoldInForce(subject_id, hold.case_id, hold.kind, hold.held_by, hold.ja, hold.en, hold.hold_id,
                              hold.reason)
