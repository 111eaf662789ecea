"""The step library: write policy checks against any workflow file without writing Python.

Japanese first, English alongside. Every step that acts takes a date (``2019-05-01``,
``2019年5月1日 10:30``, full-width digits too) and a role (its id or its Japanese label in the
workflow); the actor is a pseudonymous ``<role>-1``. The story's clock follows the steps.

A refused step is kept for the next ``ならば`` step to examine; a refusal nobody examined fails the
scenario (at the next action, or at its end), so a policy check can never pass by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import parsers, step

from ..actor import Actor
from ..case import Case, LinkedCase
from ..clock import TOKYO, FixedClock
from ..definition import Definition
from ..engine import Engine
from ..errors import DefinitionError, IjimeFlowError
from ..events import Event
from ..loader import load_file
from .parse import (
    REFUSAL_JA,
    deadline_status,
    normalise,
    parse_data,
    parse_moment,
    parse_value,
    refusal_kind,
    role_id,
)

DATE = r"(?P<date>\S+(?:\s\d{1,2}(?:[:：]\d{2}|時(?:\d{1,2}分)?))?)"
QUOTED = r'"(?P<{name}>[^"]+)"'


def _q(name: str) -> str:
    return QUOTED.format(name=name)


class PolicyCheckFailed(AssertionError):
    """A scenario's expectation did not hold. The message is Japanese first."""


@dataclass
class Scene:
    rootdir: Path
    overrides: list[Path] = field(default_factory=list)
    clock: FixedClock = field(default_factory=lambda: FixedClock(datetime(2000, 1, 1, tzinfo=TOKYO)))
    engine: Engine | None = None
    definition: Definition | None = None
    case: Case | None = None
    refusal: IjimeFlowError | None = None
    refusal_step: str = ""
    examined: str = ""  # the text of the last refusal a step examined
    last_event: Event | None = None

    # -- helpers ------------------------------------------------------------------------------------
    def at(self, text: str) -> datetime:
        moment = parse_moment(text)
        if moment > self.clock.now():
            self.clock.set(moment)
        return moment

    def actor(self, role: str) -> Actor:
        name = role_id(role, self.definition)
        return Actor(f"{name}-1", {name})

    def require_case(self) -> Case:
        if self.case is None:
            raise PolicyCheckFailed("事案がまだ開かれていません / no case has been opened in this scenario")
        return self.case

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise PolicyCheckFailed("ワークフローが読み込まれていません / no workflow loaded: start with"
                                    ' 前提 ワークフロー "workflows/response.yaml" を読み込む')
        return self.engine

    def escalations(self) -> list[LinkedCase]:
        """The cases the current case escalated to (settling first)."""
        self.settle()
        return [link for link in self.require_case().linked_cases() if link.relation == "escalated_to"]

    def settle(self) -> None:
        """Fail on a refusal that no step examined."""
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise PolicyCheckFailed(f"操作「{self.refusal_step}」が拒否されましたが、確認されていません"
                                    f" / '{self.refusal_step}' was refused and nothing checked it: {refusal}")

    def attempt(self, label: str, action: Any) -> None:
        self.settle()
        try:
            self.last_event = action()
        except IjimeFlowError as exc:
            self.refusal, self.refusal_step, self.last_event = exc, label, None
        else:
            self.examined = ""

    def resolve_workflow(self, path: str) -> Path:
        candidate = Path(normalise(path))
        if not candidate.is_absolute():
            candidate = self.rootdir / candidate
        if not candidate.is_file() and len(self.overrides) == 1:
            return self.overrides[0]  # the one workflow being checked stands in for a file this project lacks
        for override in self.overrides:
            if override.stem == candidate.stem:
                return override
            if candidate.is_file():
                try:
                    if load_file(override).id == load_file(candidate).id:
                        return override
                except DefinitionError:
                    pass
        return candidate


def scene_fixture(request: pytest.FixtureRequest) -> Scene:
    overrides = [Path(p).resolve() for p in request.config.getoption("ijime_workflow") or []]
    return Scene(rootdir=Path(request.config.rootpath), overrides=overrides)


ijime_scene = pytest.fixture(name="ijime_scene")(scene_fixture)


# -- given: workflow, case, preconditions ---------------------------------------------------------------

POLICY_CHECK_SCHOOL = "policy-check"  # the school id of the cases a scenario opens


@step(parsers.re(rf"ワークフロー {_q('path')} を読み込む"))
@step(parsers.re(rf"the workflow {_q('path')} is loaded"))
def load_workflow(ijime_scene: Scene, path: str) -> None:
    file = ijime_scene.resolve_workflow(path)
    if not file.is_file():
        raise PolicyCheckFailed(f"ワークフローのファイルがありません / workflow file not found: {file}")
    if ijime_scene.engine is None:
        ijime_scene.engine = Engine(clock=ijime_scene.clock, school=POLICY_CHECK_SCHOOL)
    loaded = ijime_scene.engine.load(file)  # a DefinitionError fails the scenario with file:line:col
    ijime_scene.definition = loaded[0]
    target = loaded[0].spec.escalation.to if loaded[0].spec.escalation else None
    if target and target not in ijime_scene.engine.definitions:  # the checked file's folder lacks it
        fallback = ijime_scene.rootdir / "workflows" / f"{target}.yaml"
        if fallback.is_file():
            ijime_scene.engine.load(fallback)


@step(parsers.re(rf"{DATE} に (?P<role>\S+) が事案を開く"))
@step(parsers.re(rf"(?P<role>\S+) opens a case on {DATE}"))
def open_a_case(ijime_scene: Scene, date: str, role: str) -> None:
    engine = ijime_scene.require_engine()
    assert ijime_scene.definition is not None
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    ijime_scene.settle()
    ijime_scene.case = engine.open_case(ijime_scene.definition.id, actor=actor, at=at)


@step(parsers.re(rf"{DATE} に (?P<role>\S+) が事案を (?P<data>.+) で開く"))
@step(parsers.re(rf"(?P<role>\S+) opens a case with (?P<data>.+) on {DATE}"))
def open_a_case_with(ijime_scene: Scene, date: str, role: str, data: str) -> None:
    engine = ijime_scene.require_engine()
    assert ijime_scene.definition is not None
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    payload = parse_data(data, ijime_scene.definition)
    ijime_scene.settle()
    ijime_scene.case = engine.open_case(ijime_scene.definition.id, actor=actor, at=at, data=payload)


@step(parsers.re(r"次の操作を順に行う[:：]?"))
@step(parsers.re(r"the following steps are taken:?"))
def take_steps(ijime_scene: Scene, datatable: list[list[str]]) -> None:
    """A table of steps that must all be accepted (日付 | 役割 | 操作 | データ, or date | role | step | data).
    A row whose 操作 is ``事実:NAME`` records a fact (データ holds the value)."""
    case = ijime_scene.require_case()
    header, *rows = datatable
    columns = [normalise(h).lower() for h in header]
    for row in rows:
        cell = dict(zip(columns, row, strict=False))
        date = cell.get("日付") or cell.get("date") or ""
        role = cell.get("役割") or cell.get("role") or ""
        trigger = normalise(cell.get("操作") or cell.get("step") or "")
        data = cell.get("データ") or cell.get("data") or ""
        at, actor = ijime_scene.at(date), ijime_scene.actor(role)
        try:
            if trigger.startswith(("事実:", "fact:")):
                name = trigger.split(":", 1)[1].strip()
                fact = ijime_scene.definition.spec.facts.get(name) if ijime_scene.definition else None
                case.record_fact(name, parse_value(data, fact.type if fact else None), actor=actor, at=at)
            else:
                case.fire(trigger, actor=actor, at=at, data=parse_data(data, ijime_scene.definition) if data else None)
        except IjimeFlowError as exc:
            raise PolicyCheckFailed(f"前提の操作「{trigger}」（{date}, {role}）が拒否されました"
                                    f" / precondition step '{trigger}' was refused: {exc}") from exc


# -- when: acting -------------------------------------------------------------------------------------------

@step(parsers.re(rf"{DATE} に (?P<role>\S+) が {_q('trigger')} を (?P<data>.+) で行う"))
@step(parsers.re(rf"(?P<role>\S+) fires {_q('trigger')} with (?P<data>.+) on {DATE}"))
def fire_with_data(ijime_scene: Scene, date: str, role: str, trigger: str, data: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    payload = parse_data(data, ijime_scene.definition)
    ijime_scene.attempt(trigger, lambda: case.fire(trigger, actor=actor, at=at, data=payload))


@step(parsers.re(rf"{DATE} に (?P<role>\S+) が {_q('trigger')} を行う"))
@step(parsers.re(rf"(?P<role>\S+) fires {_q('trigger')} on {DATE}"))
def fire(ijime_scene: Scene, date: str, role: str, trigger: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    ijime_scene.attempt(trigger, lambda: case.fire(trigger, actor=actor, at=at))


@step(parsers.re(rf"{DATE} に (?P<role>\S+) が事実 {_q('fact')} を (?P<value>.+) と記録する"))
@step(parsers.re(rf"(?P<role>\S+) records {_q('fact')} as (?P<value>.+) on {DATE}"))
def record_fact(ijime_scene: Scene, date: str, role: str, fact: str, value: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    declared = ijime_scene.definition.spec.facts.get(fact) if ijime_scene.definition else None
    typed = parse_value(value, declared.type if declared else None)
    ijime_scene.attempt(f"事実:{fact}", lambda: case.record_fact(fact, typed, actor=actor, at=at))


@step(parsers.re(rf"{DATE} から登校日 (?P<count>\S+) 日分の欠席を (?P<role>\S+) が記録する"))
@step(parsers.re(rf"(?P<role>\S+) records (?P<count>\d+) school days of absence from {DATE}"))
def record_absences(ijime_scene: Scene, date: str, count: str, role: str) -> None:
    """One ``absence`` fact per school day (the workflow's calendar: weekends and closures skipped),
    each recorded at 17:00 of that day."""
    _record_absences(ijime_scene, date, count, role, every=1)


@step(parsers.re(rf"{DATE} から登校日に1日おきに (?P<count>\S+) 日分の欠席を (?P<role>\S+) が記録する"))
@step(parsers.re(rf"(?P<role>\S+) records (?P<count>\d+) days of absence every other school day from {DATE}"))
def record_absences_alternately(ijime_scene: Scene, date: str, count: str, role: str) -> None:
    """Absent, present, absent, ... on school days: absences that never form a run."""
    _record_absences(ijime_scene, date, count, role, every=2)


def _record_absences(ijime_scene: Scene, date: str, count: str, role: str, every: int) -> None:
    from ..escalation import calendar_of

    case = ijime_scene.require_case()
    assert ijime_scene.definition is not None
    calendar, actor = calendar_of(ijime_scene.definition), ijime_scene.actor(role)
    day, left, school_days = parse_moment(date).date(), int(normalise(count)), 0
    while left > 0:
        if calendar.is_school_day(day):
            if school_days % every == 0:
                at = ijime_scene.at(f"{day.isoformat()} 17:00")
                ijime_scene.settle()
                case.record_fact("absence", day, actor=actor, at=at)
                left -= 1
            school_days += 1
        day += timedelta(days=1)


@step(parsers.re(r"重大事態の事案が開かれて(?P<yes>いる|いない)"))
@step(parsers.re(r"a serious incident case (?P<yes>is|is not) opened"))
def escalated(ijime_scene: Scene, yes: str) -> None:
    ijime_scene.settle()
    links = ijime_scene.escalations()
    if bool(links) != (yes in ("いる", "is")):
        raise PolicyCheckFailed(f"重大事態の事案は{'開かれていません' if not links else '開かれています'}"
                                f" / escalations: {[link.criterion for link in links]}")


@step(parsers.re(rf"重大事態の基準 {_q('criterion')} が記録され、その内容に {_q('text')} が含まれる"))
@step(parsers.re(rf"the criterion {_q('criterion')} is recorded, mentioning {_q('text')}"))
def criterion_recorded(ijime_scene: Scene, criterion: str, text: str) -> None:
    ijime_scene.settle()
    found = [e for e in ijime_scene.require_case().history()
             if e.type == "escalated" and e.data.get("criterion") == criterion]
    if len(found) != 1:
        raise PolicyCheckFailed(f"基準「{criterion}」の記録は {len(found)} 件です（1件のはず） / criterion '{criterion}'"
                                f" recorded {len(found)} times")
    if normalise(text) not in normalise(str(found[0].data.get("figures"))):
        raise PolicyCheckFailed(f"基準の内容に「{text}」がありません / figures: {found[0].data.get('figures')}")


@step(parsers.re(r"重大事態の事案は (?P<count>\S+) 件である"))
@step(parsers.re(r"there (?:is|are) (?P<count>\d+) serious incident cases?"))
def serious_case_count(ijime_scene: Scene, count: str) -> None:
    ijime_scene.settle()
    ids = {link.case_id for link in ijime_scene.escalations()}
    if len(ids) != int(normalise(count)):
        raise PolicyCheckFailed(f"重大事態の事案は {len(ids)} 件です / {len(ids)} linked serious incident cases")


@step(parsers.re(r"以降は重大事態の事案を扱う"))
@step(parsers.re(r"the serious incident case is the case from now on"))
def switch_to_serious_case(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    engine = ijime_scene.require_engine()
    links = ijime_scene.escalations()
    if not links:
        raise PolicyCheckFailed("重大事態の事案がありません / the case has not escalated")
    ijime_scene.case = engine.get_case(links[0].case_id)
    ijime_scene.definition = engine.definition(ijime_scene.case.workflow_id)


@step(parsers.re(rf"欠席の数え方を {_q('window')} にする"))
@step(parsers.re(rf"absences are counted over {_q('window')}"))
def absence_window(ijime_scene: Scene, window: str) -> None:
    """Try the workflow with another absence window (school_year or rolling_365): a setting in YAML.
    Takes effect for cases opened afterwards."""
    _absence_setting(ijime_scene, "absence", "window", normalise(window))


@step(parsers.re(r"連続欠席の基準を (?P<days>\S+) 登校日にする"))
@step(parsers.re(r"the absence run threshold is (?P<days>\d+) school days"))
def absence_run_days(ijime_scene: Scene, days: str) -> None:
    """Try the workflow with another run length for consecutive absence (a local setting)."""
    _absence_setting(ijime_scene, "absence_run", "days", int(normalise(days)))


def _absence_setting(ijime_scene: Scene, rule: str, key: str, value: Any) -> None:
    engine, defn = ijime_scene.require_engine(), ijime_scene.definition
    if defn is None or defn.spec.escalation is None:
        raise PolicyCheckFailed("このワークフローには重大事態の基準がありません / the workflow has no escalation criteria")
    data = defn.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for criterion in data["escalation"]["criteria"]:
        if rule in criterion:
            criterion[rule][key] = value
    changed = Definition(type(defn.spec).model_validate(data), file=f"{defn.file} ({rule}.{key}={value})")
    engine.add_definition(changed)
    ijime_scene.definition = changed


# -- then: what must hold -------------------------------------------------------------------------------------

@step(parsers.re(r"受け付けられる"))
@step(parsers.re(r"it is accepted"))
def accepted(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    if ijime_scene.last_event is None:
        raise PolicyCheckFailed("受け付けられた操作がありません / no step was accepted")


@step(parsers.re(rf"{_q('kind')} として拒否される"))
@step(parsers.re(rf"it is refused as {_q('kind')}"))
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


@step(parsers.re(rf"拒否の理由に {_q('text')} が含まれる"))
@step(parsers.re(rf"the refusal mentions {_q('text')}"))
def refusal_mentions(ijime_scene: Scene, text: str) -> None:
    said = ijime_scene.examined or (str(ijime_scene.refusal) if ijime_scene.refusal else "")
    if not said:
        raise PolicyCheckFailed("確認する拒否がありません / there is no refusal to examine")
    if normalise(text) not in normalise(said):
        raise PolicyCheckFailed(f"拒否の理由に「{text}」がありません / the refusal does not mention '{text}': {said}")


@step(parsers.re(rf"状態は {_q('state')} である"))
@step(parsers.re(rf"the case is in {_q('state')}"))
def in_state(ijime_scene: Scene, state: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    if not case.in_state(state):
        raise PolicyCheckFailed(f"状態が違います（期待: {state}、実際: {', '.join(sorted(case.active_states))}）"
                                f" / expected the case in '{state}', it is in {sorted(case.active_states)}")


@step(parsers.re(rf"状態は {_q('state')} ではない"))
@step(parsers.re(rf"the case is not in {_q('state')}"))
def not_in_state(ijime_scene: Scene, state: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    if case.in_state(state):
        raise PolicyCheckFailed(f"状態 {state} にあってはなりません / the case must not be in '{state}'"
                                f" ({sorted(case.active_states)})")


@step(parsers.re(rf"{DATE} に (?P<role>\S+) が行える操作に {_q('trigger')} が(?P<yes>含まれる|含まれない)"))
@step(parsers.re(rf"on {DATE} (?P<role>\S+) (?P<yes>may|may not) fire {_q('trigger')}"))
def may_fire(ijime_scene: Scene, date: str, role: str, trigger: str, yes: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    available = case.available_triggers(actor, at=at)
    wanted = yes in ("含まれる", "may")
    if (trigger in available) != wanted:
        raise PolicyCheckFailed(f"{role} が行える操作: {', '.join(available) or 'なし'}（「{trigger}」が"
                                f"{'含まれるはず' if wanted else '含まれないはず'}） / {role} may fire {available}")


@step(parsers.re(rf"{DATE} 時点で期限 {_q('deadline')} は (?P<status>\S+) である"))
@step(parsers.re(rf"on {DATE} the deadline {_q('deadline')} is (?P<status>\S+)"))
def deadline_is(ijime_scene: Scene, date: str, deadline: str, status: str) -> None:
    ijime_scene.settle()
    case = ijime_scene.require_case()
    wanted = deadline_status(status)
    found = [d for d in case.deadlines(at=parse_moment(date)) if d.id == deadline]
    if not found:
        raise PolicyCheckFailed(f"期限「{deadline}」は始まっていません / deadline '{deadline}' has not started")
    latest = found[-1]
    if latest.status != wanted:
        raise PolicyCheckFailed(f"期限「{deadline}」は {latest.status_ja}（期限 {latest.due.isoformat()}） / deadline"
                                f" '{deadline}' is {latest.status}, expected {wanted}")


@step(parsers.re(rf"履歴の最後は {_q('trigger')} である"))
@step(parsers.re(rf"the last event is {_q('trigger')}"))
def last_event_is(ijime_scene: Scene, trigger: str) -> None:
    ijime_scene.settle()
    last = ijime_scene.require_case().history()[-1]
    if (last.trigger or last.type) != trigger:
        raise PolicyCheckFailed(f"履歴の最後は「{last.trigger or last.type}」です / the last event is"
                                f" '{last.trigger or last.type}', expected '{trigger}'")


@step(parsers.re(rf"履歴に {_q('trigger')} が (?P<count>\S+) 件ある"))
@step(parsers.re(rf"the history has (?P<count>\S+) {_q('trigger')} events?"))
def history_count(ijime_scene: Scene, trigger: str, count: str) -> None:
    ijime_scene.settle()
    found = sum(1 for e in ijime_scene.require_case().history() if (e.trigger or e.type) == trigger)
    if found != int(normalise(count)):
        raise PolicyCheckFailed(f"履歴の「{trigger}」は {found} 件です / the history has {found} '{trigger}' events")


@step(parsers.re(r"記録は検証に合格する"))
@step(parsers.re(r"the log verifies"))
def log_verifies(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    report = ijime_scene.require_engine().verify(ijime_scene.require_case().id)
    if not report.ok:
        raise PolicyCheckFailed("記録の検証に失敗しました / verification failed: "
                                + "; ".join(str(p) for p in report.problems))
