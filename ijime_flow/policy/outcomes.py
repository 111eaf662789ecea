"""The step library's checks (then): what must hold after the steps of :mod:`.steps`. Each failure is a
:class:`~.scene.PolicyCheckFailed` whose message is Japanese first."""

from __future__ import annotations

from typing import Any, get_args

from ..events import EventType
from .parse import (
    REFUSAL_JA,
    NotChecked,
    deadline_status,
    normalise,
    refusal_kind,
)
from .phrases import phrase
from .scene import DATE, PolicyCheckFailed, Scene, _q

# -- then: what must hold -------------------------------------------------------------------------------------

@phrase(r"受け付けられる")
@phrase(r"it is accepted")
def accepted(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    if ijime_scene.last_event is None:
        raise PolicyCheckFailed("受け付けられた操作がありません / no step was accepted")


@phrase(rf"{_q('kind')} として拒否される")
@phrase(rf"it is refused as {_q('kind')}")
def refused(ijime_scene: Scene, kind: str) -> None:
    expected = refusal_kind(kind)
    refusal = ijime_scene.refusal
    if refusal is None:
        raise PolicyCheckFailed(f"拒否されるはずが受け付けられました（期待: {REFUSAL_JA.get(expected, kind)}）"
                                f" / expected a refusal ({expected.__name__}) but the step was accepted")
    if not isinstance(refusal, expected):
        raise PolicyCheckFailed(f"拒否の種類が違います（期待: {REFUSAL_JA.get(expected, kind)}、実際:"
                                f" {REFUSAL_JA.get(type(refusal), type(refusal).__name__)}） / expected"
                                f" {expected.__name__}, got {type(refusal).__name__}: {refusal}")
    ijime_scene.refusal = None
    ijime_scene.examined = str(refusal)


@phrase(rf"拒否の理由に {_q('text')} が含まれる")
@phrase(rf"the refusal mentions {_q('text')}")
def refusal_mentions(ijime_scene: Scene, text: str) -> None:
    said = ijime_scene.examined or (str(ijime_scene.refusal) if ijime_scene.refusal else "")
    if not said:
        raise PolicyCheckFailed("確認する拒否がありません / there is no refusal to examine")
    if normalise(text) not in normalise(said):
        raise PolicyCheckFailed(f"拒否の理由に「{text}」がありません / the refusal does not mention '{text}': {said}")


@phrase(rf"状態は {_q('state')} である")
@phrase(rf"the case is in {_q('state')}")
def in_state(ijime_scene: Scene, state: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    if not case.in_state(state):
        raise PolicyCheckFailed(f"状態が違います（期待: {state}、実際: {', '.join(sorted(case.active_states))}）"
                                f" / expected the case in '{state}', it is in {sorted(case.active_states)}")


@phrase(rf"状態は {_q('state')} ではない")
@phrase(rf"the case is not in {_q('state')}")
def not_in_state(ijime_scene: Scene, state: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    if case.in_state(state):
        raise PolicyCheckFailed(f"状態 {state} にあってはなりません / the case must not be in '{state}'"
                                f" ({sorted(case.active_states)})")


@phrase(rf"{DATE} に (?P<role>\S+) が行える操作に {_q('trigger')} が(?P<yes>含まれる|含まれない)")
@phrase(rf"on {DATE} (?P<role>\S+) (?P<yes>may|may not) fire {_q('trigger')}")
def may_fire(ijime_scene: Scene, date: str, role: str, trigger: str, yes: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    available = case.available_triggers(actor, at=at)
    wanted = yes in ("含まれる", "may")
    if (trigger in available) != wanted:
        raise PolicyCheckFailed(f"{role} が行える操作: {', '.join(available) or 'なし'}（「{trigger}」が"
                                f"{'含まれるはず' if wanted else '含まれないはず'}） / {role} may fire {available}")


@phrase(rf"{DATE} 時点で期限 {_q('deadline')} は (?P<status>\S+) である")
@phrase(rf"on {DATE} the deadline {_q('deadline')} is (?P<status>\S+)")
def deadline_is(ijime_scene: Scene, date: str, deadline: str, status: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    wanted = deadline_status(status)
    moment = ijime_scene.moment(date)
    found = [d for d in case.deadlines(at=moment) if d.id == deadline]
    _latest_is(ijime_scene, _as_of(found, moment), wanted, f"期限「{deadline}」", f"deadline '{deadline}'")


@phrase(rf"{DATE} 時点で期限 {_q('deadline')} の (?P<period>\S+) 分は (?P<status>\S+) である")
@phrase(rf"on {DATE} the deadline {_q('deadline')} for (?P<period>\S+) is (?P<status>\S+)")
def period_deadline_is(ijime_scene: Scene, date: str, deadline: str, period: str, status: str) -> None:
    """A recurring deadline's period, named as its label (``2019-06``, ``2019:term_1``, ``2019``), the term's id,
    or as staff read it (``6月``, ``1学期``, ``2019年度``)."""
    ijime_scene.settle()
    wanted = deadline_status(status)
    found = [d for d in ijime_scene.require_case().deadlines(at=ijime_scene.moment(date))
             if d.id == deadline and d.period is not None and _names_period(d.period, d.period_ja or "", period)]
    _latest_is(ijime_scene, found, wanted, f"期限「{deadline}」（{period}）", f"deadline '{deadline}' ({period})")


def _names_period(label: str, ja: str, text: str) -> bool:
    said = normalise(text).replace(" ", "")
    return said in {label, label.rsplit(":", 1)[-1], ja.replace(" ", ""), ja.rsplit(" ", 1)[-1], ja.split(" ", 1)[0]}


def _as_of(found: list[Any], moment: Any) -> list[Any]:
    """The deadlines ``found`` a check at ``moment`` is about, the one it judges last: of a recurring deadline
    (one per period), the periods that have ended by then, the latest last — before the first ends, the first;
    a deadline that does not recur, as it started."""
    recurring = [d for d in found if d.period is not None]
    if not recurring:
        return found
    ended = sorted((d for d in recurring if d.due <= moment), key=lambda d: d.due)
    return ended or sorted(recurring, key=lambda d: d.due)[:1]


def _latest_is(ijime_scene: Scene, found: list[Any], wanted: str, ja: str, en: str) -> None:
    """The latest of the deadlines ``found`` stands as ``wanted``; else the check fails, naming it — unless
    (``check``) the school's deadline is stricter than the policy's and so judges late what the policy does
    not: doing more is not a departure, and the scenario cannot tell, so it is 未確認."""
    if not found:
        raise PolicyCheckFailed(f"{ja}は始まっていません / {en} has not started")
    latest = found[-1]
    if latest.status != wanted and wanted in ("met", "open"):
        stricter = _stricter(ijime_scene, latest.id)
        if stricter is not None:
            raise NotChecked(f"{ja}は {latest.status_ja}: 学校の期限 {stricter[0]} は方針の {stricter[1]} より厳しいため、"
                             f"このシナリオでは確かめられません（未確認） / the school's deadline ({stricter[0]}) is stricter"
                             f" than the policy's ({stricter[1]})", [f"deadline:{latest.id}"])
    if latest.status != wanted:
        where = f"、{latest.period_ja}" if latest.period_ja else ""
        raise PolicyCheckFailed(f"{ja}は {latest.status_ja}（期限 {latest.due.isoformat()}{where}） / {en} is {latest.status},"
                                f" expected {wanted}")


def _stricter(ijime_scene: Scene, deadline_id: str) -> tuple[str, str] | None:
    """(the school's, the policy's) ``within`` when the school's deadline ``deadline_id`` is stricter than the
    reference workflow's deadline met by the same steps; else None."""
    from .recurring import stricter_recurring
    from .static_checks import not_longer

    defn = ijime_scene.definition
    if ijime_scene.reference is None or defn is None or defn.id not in ijime_scene.reference:
        return None
    ours = [d for ds in defn.deadline_defs.values() for d in ds if d.id == deadline_id]
    theirs = [d for ds in ijime_scene.reference[defn.id].deadline_defs.values() for d in ds]
    for mine in ours:
        for policy in theirs:
            if not set(mine.met_by) & set(policy.met_by):
                continue
            if mine.every is not None and policy.every is not None:
                if (mine.every, mine.months) != (policy.every, policy.months) and stricter_recurring(mine, defn, policy):
                    return _said(mine), _said(policy)
            elif mine.within != policy.within and not_longer(mine.within, policy.within):
                return mine.within, policy.within
    return None


def _said(deadline: Any) -> str:
    return f"every: {deadline.every}" + (f" (months: {deadline.months})" if deadline.months else "")


def _entry(ijime_scene: Scene, entry: str) -> str:
    """A history entry as a step names it: an event type (``fact``, ``escalated`` …) or a trigger of the workflow."""
    if entry not in get_args(EventType):
        ijime_scene.require("trigger", entry)
    return entry


@phrase(rf"履歴の最後は {_q('entry')} である")
@phrase(rf"the last event is {_q('entry')}")
def last_event_is(ijime_scene: Scene, entry: str) -> None:
    trigger = _entry(ijime_scene, entry)
    ijime_scene.settle()
    last = ijime_scene.require_case().history()[-1]
    if (last.trigger or last.type) != trigger:
        raise PolicyCheckFailed(f"履歴の最後は「{last.trigger or last.type}」です / the last event is"
                                f" '{last.trigger or last.type}', expected '{trigger}'")


@phrase(rf"履歴に {_q('entry')} が (?P<count>\S+) 件ある")
@phrase(rf"the history has (?P<count>\S+) {_q('entry')} events?")
def history_count(ijime_scene: Scene, entry: str, count: str) -> None:
    trigger = _entry(ijime_scene, entry)
    ijime_scene.settle()
    found = sum(1 for e in ijime_scene.require_case().history() if (e.trigger or e.type) == trigger)
    if found != int(normalise(count)):
        raise PolicyCheckFailed(f"履歴の「{trigger}」は {found} 件です / the history has {found} '{trigger}' events")


@phrase(r"記録は検証に合格する")
@phrase(r"the log verifies")
def log_verifies(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    report = ijime_scene.require_engine().verify(ijime_scene.require_case().id)
    if not report.ok:
        raise PolicyCheckFailed("記録の検証に失敗しました / verification failed: "
                                + "; ".join(str(p) for p in report.problems))


# -- then: what the rules' counterexamples check (see ijime_flow.policy.counterexample) ------------------------

@phrase(r"^拒否される$")
@phrase(r"^it is refused$")
def refused_any(ijime_scene: Scene) -> None:
    refusal = ijime_scene.refusal
    if refusal is None:
        raise PolicyCheckFailed("拒否されるはずが受け付けられました / expected a refusal but the step was accepted")
    ijime_scene.refusal = None
    ijime_scene.examined = str(refusal)


@phrase(rf"{DATE} 時点で {_q('trigger')} を行う期限は (?P<status>\S+) である")
@phrase(rf"on {DATE} the deadline to take {_q('trigger')} is (?P<status>\S+)")
def deadline_of_step_is(ijime_scene: Scene, date: str, trigger: str, status: str) -> None:
    """Whatever the deadline is called: the latest one started that ``trigger`` meets (of recurring ones, the
    latest period ended by then: :func:`_as_of`)."""
    ijime_scene.settle()
    wanted = deadline_status(status)
    moment = ijime_scene.moment(date)
    found = [d for d in ijime_scene.require_case().deadlines(at=moment) if trigger in d.met_by]
    _latest_is(ijime_scene, _as_of(found, moment), wanted, f"「{trigger}」を行う期限", f"the deadline to take '{trigger}'")


@phrase(rf"事実 {_q('fact')} は記録されていない")
@phrase(rf"the fact {_q('fact')} is not recorded")
def fact_not_recorded(ijime_scene: Scene, fact: str) -> None:
    ijime_scene.settle()
    facts = ijime_scene.require_case().facts
    if fact in facts:
        raise PolicyCheckFailed(f"事実「{fact}」が記録されたままです（{facts[fact]!r}） / '{fact}' is still recorded")


@phrase(r"終結まで進める")
@phrase(r"the case can still be closed")
def can_still_close(ijime_scene: Scene) -> None:
    """Some sequence of steps leads from where the case stands to a final state (every one tried)."""
    from .explore import Explorer

    ijime_scene.settle()
    case = ijime_scene.require_case()
    assert ijime_scene.definition is not None
    space = Explorer(ijime_scene.definition).run(start=(case.active_states, dict(case.facts), ijime_scene.clock.now()))
    if not any(space.closed(node) for node in space.nodes):
        raise PolicyCheckFailed(f"ここから終結に至る手順がありません（{', '.join(sorted(case.active_states))}） / no steps"
                                " lead from here to a final state")
