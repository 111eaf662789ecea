"""The step library: write policy checks against any workflow file without writing Python.

This module has the steps that set up and act (given / when); the checks (then) are in
:mod:`.outcomes`, the scene they share in :mod:`.scene`.

Japanese first, English alongside. Every step that acts takes a date (``2019-05-01``,
``2019年5月1日 10:30``, full-width digits too) and a role (its id or its Japanese label in the
workflow); the actor is a pseudonymous ``<role>-1``. The story's clock follows the steps.

A refused step is kept for the next ``ならば`` step to examine; a refusal nobody examined fails the
scenario (at the next action, or at its end), so a policy check can never pass by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..case import Case
from ..definition import Definition
from ..engine import Engine
from ..errors import IjimeFlowError
from ..events import Event
from .bridge import bridge, extra_data
from .parse import (
    NotChecked,
    normalise,
    parse_data,
    parse_moment,
    parse_value,
)
from .phrases import phrase
from .scene import DATE, PolicyCheckFailed, Scene, _q, absent_workflow

# -- given: workflow, case, preconditions ---------------------------------------------------------------

POLICY_CHECK_SCHOOL = "policy-check"  # the school id of the cases a scenario opens
DAY = r"\d{4}-\d{1,2}-\d{1,2}"


@phrase(rf"ワークフロー {_q('path')} を読み込む")
@phrase(rf"the workflow {_q('path')} is loaded")
def load_workflow(ijime_scene: Scene, path: str) -> None:
    if ijime_scene.engine is None:
        ijime_scene.engine = Engine(clock=ijime_scene.clock, school=POLICY_CHECK_SCHOOL)
        for name, guard in ijime_scene.guards.items():
            ijime_scene.engine.register_guard(name, guard)
    engine = ijime_scene.engine
    if ijime_scene.school is not None:  # ``check``: the school's own workflows, and only those
        file, definition = ijime_scene.school_workflow(path)
        for other in [definition, *(d for _, d in ijime_scene.school.values() if d.id != definition.id)]:
            if other.id not in engine.definitions:
                engine.add_definition(other)
            target = other.spec.escalation.to if other.spec.escalation else None
            if target and target not in ijime_scene.school and target not in engine.definitions:
                engine.add_definition(absent_workflow(target, other))  # its steps are 未確認, never the bundled ones
        ijime_scene.definition = definition
        ijime_scene.files.append(str(file))
        _calendar_beside(engine, file)
        return
    file = ijime_scene.resolve_workflow(path)
    if not file.is_file():
        raise PolicyCheckFailed(f"ワークフローのファイルがありません / workflow file not found: {file}")
    loaded = ijime_scene.load(file, engine.definitions)  # a DefinitionError fails the scenario with file:line:col
    for definition in loaded:
        engine.add_definition(definition)
    ijime_scene.definition = loaded[0]
    ijime_scene.files.append(str(file))
    _calendar_beside(engine, file)
    target = loaded[0].spec.escalation.to if loaded[0].spec.escalation else None
    # what it escalates to: from its own folder (as Engine.load), else this project's workflows
    for folder in (file.parent, ijime_scene.rootdir / "workflows"):
        if target and target not in engine.definitions and (folder / f"{target}.yaml").is_file():
            for definition in ijime_scene.load(folder / f"{target}.yaml", engine.definitions):
                engine.add_definition(definition)


def _calendar_beside(engine: Engine, file: Path) -> None:
    """The school calendar beside the workflow (``calendar.yaml``), as :meth:`Engine.load` reads it."""
    from ..calendars.file import calendar_beside

    found = calendar_beside(file)
    if found is not None:
        engine.load_calendar(found)


@phrase(rf"{DATE} に (?P<role>\S+) が事案を開く")
@phrase(rf"(?P<role>\S+) opens a case on {DATE}")
def open_a_case(ijime_scene: Scene, date: str, role: str) -> None:
    engine, definition = ijime_scene.require_engine(), ijime_scene.definition
    assert definition is not None
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    _open(ijime_scene, lambda: engine.open_case(definition.id, actor=actor, at=at))


@phrase(rf"{DATE} に (?P<role>\S+) が事案を (?P<data>.+) で開く")
@phrase(rf"(?P<role>\S+) opens a case with (?P<data>.+) on {DATE}")
def open_a_case_with(ijime_scene: Scene, date: str, role: str, data: str) -> None:
    engine, definition = ijime_scene.require_engine(), ijime_scene.definition
    assert definition is not None
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    payload = parse_data(data, definition)
    _open(ijime_scene, lambda: engine.open_case(definition.id, actor=actor, at=at, data=payload))


def _open(ijime_scene: Scene, opening: Callable[[], Case]) -> None:
    """Open the scenario's case; a refusal is kept for the next ならば, like any step's."""
    def attempt() -> Event:
        ijime_scene.case = opening()
        return ijime_scene.case.history()[0]

    ijime_scene.attempt("事案を開く", attempt)


@phrase(r"次の操作を順に行う[:：]?")
@phrase(r"the following steps are taken:?")
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
        try:
            if trigger.startswith(("事実:", "fact:")):
                ijime_scene.require("fact", trigger.split(":", 1)[1].strip())
            else:
                ijime_scene.require("trigger", trigger)
        except NotChecked as exc:
            if ijime_scene.school is None:
                raise
            ijime_scene.skipped += exc.missing  # ``check``: a preparatory step the school lacks is left out
            continue
        at, actor = ijime_scene.at(date), ijime_scene.actor(role)
        try:
            if trigger.startswith(("事実:", "fact:")):
                name = trigger.split(":", 1)[1].strip()
                fact = ijime_scene.definition.spec.facts.get(name) if ijime_scene.definition else None
                case.record_fact(name, parse_value(data, fact.type if fact else None, ijime_scene.tz), actor=actor, at=at)
            else:
                payload = _prepared(ijime_scene, case, trigger, at, parse_data(data, ijime_scene.definition) if data else {})
                case.fire(trigger, actor=actor, at=at, data=payload or None)
        except IjimeFlowError as exc:
            raise PolicyCheckFailed(f"前提の操作「{trigger}」（{date}, {role}）が拒否されました"
                                    f" / precondition step '{trigger}' was refused: {exc}") from exc


def _prepared(ijime_scene: Scene, case: Case, trigger: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """``check`` on a school's workflow: its extra steps taken first and its extra data given (:mod:`.bridge`)."""
    defn = ijime_scene.definition
    if ijime_scene.reference is None or defn is None:
        return data
    reference = ijime_scene.reference.get(defn.id)
    taken = bridge(case, defn, reference, trigger, at)
    ijime_scene.bridged += taken
    return {**data, **extra_data(defn, reference, trigger, data)}


# -- when: acting -------------------------------------------------------------------------------------------

@phrase(rf"{DATE} に (?P<role>\S+) が {_q('trigger')} を (?P<data>.+) で行う")
@phrase(rf"(?P<role>\S+) fires {_q('trigger')} with (?P<data>.+) on {DATE}")
def fire_with_data(ijime_scene: Scene, date: str, role: str, trigger: str, data: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    payload = parse_data(data, ijime_scene.definition)
    ijime_scene.attempt(trigger, lambda: case.fire(trigger, actor=actor, at=at,
                                                   data=_prepared(ijime_scene, case, trigger, at, payload)))


@phrase(rf"{DATE} に (?P<role>\S+) が {_q('trigger')} を行う")
@phrase(rf"(?P<role>\S+) fires {_q('trigger')} on {DATE}")
def fire(ijime_scene: Scene, date: str, role: str, trigger: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    ijime_scene.attempt(trigger, lambda: case.fire(trigger, actor=actor, at=at,
                                                   data=_prepared(ijime_scene, case, trigger, at, {}) or None))


@phrase(rf"{DATE} に (?P<role>\S+) が事実 {_q('fact')} を (?P<value>.+) と記録する")
@phrase(rf"(?P<role>\S+) records {_q('fact')} as (?P<value>.+) on {DATE}")
def record_fact(ijime_scene: Scene, date: str, role: str, fact: str, value: str) -> None:
    case = ijime_scene.require_case()
    at, actor = ijime_scene.at(date), ijime_scene.actor(role)
    declared = ijime_scene.definition.spec.facts.get(fact) if ijime_scene.definition else None
    typed = parse_value(value, declared.type if declared else None, ijime_scene.tz)
    ijime_scene.attempt(f"事実:{fact}", lambda: case.record_fact(fact, typed, actor=actor, at=at))


@phrase(rf"{DATE} から登校日 (?P<count>\S+) 日分の欠席を (?P<role>\S+) が記録する")
@phrase(rf"(?P<role>\S+) records (?P<count>\d+) school days of absence from {DATE}")
def record_absences(ijime_scene: Scene, date: str, count: str, role: str) -> None:
    """One ``absence`` fact per school day (the workflow's calendar: weekends and closures skipped),
    each recorded at 17:00 of that day."""
    _record_absences(ijime_scene, date, count, role, every=1)


@phrase(rf"{DATE} から登校日に1日おきに (?P<count>\S+) 日分の欠席を (?P<role>\S+) が記録する")
@phrase(rf"(?P<role>\S+) records (?P<count>\d+) days of absence every other school day from {DATE}")
def record_absences_alternately(ijime_scene: Scene, date: str, count: str, role: str) -> None:
    """Absent, present, absent, ... on school days: absences that never form a run."""
    _record_absences(ijime_scene, date, count, role, every=2)


@phrase(rf"(?P<days>{DAY}(?:[、,]\s*{DAY})*) の欠席を (?P<role>\S+) が記録する")
@phrase(rf"(?P<role>\S+) records absences on (?P<days>{DAY}(?:,\s*{DAY})*)")
def record_absences_on(ijime_scene: Scene, days: str, role: str) -> None:
    """One ``absence`` fact for each day named (``2019-07-10, 2019-07-11``), at 17:00 of that day, whatever the
    workflow's calendar says of them: what a counterexample of the policy's calendar records."""
    case, actor = ijime_scene.require_case(), ijime_scene.actor(role)
    for text in re.split(r"[、,]\s*", normalise(days)):
        day = parse_moment(text, ijime_scene.tz).date()
        at = ijime_scene.at(f"{day.isoformat()} 17:00")
        ijime_scene.settle()
        case.record_fact("absence", day, actor=actor, at=at)


def _record_absences(ijime_scene: Scene, date: str, count: str, role: str, every: int) -> None:
    from ..calendars.absence import absent_days
    from ..escalation import calendar_of

    case = ijime_scene.require_case()
    assert ijime_scene.definition is not None
    # the school days of the calendar the case pinned (national holidays, calendar.yaml, the workflow's calendar:)
    calendar = case.calendar.days if case.calendar is not None else calendar_of(ijime_scene.definition)
    actor = ijime_scene.actor(role)
    for day in absent_days(calendar.is_school_day, parse_moment(date, ijime_scene.tz).date(), int(normalise(count)), every):
        at = ijime_scene.at(f"{day.isoformat()} 17:00")
        ijime_scene.settle()
        case.record_fact("absence", day, actor=actor, at=at)


@phrase(r"重大事態の事案が開かれて(?P<yes>いる|いない)")
@phrase(r"a serious incident case (?P<yes>is|is not) opened")
def escalated(ijime_scene: Scene, yes: str) -> None:
    ijime_scene.settle()
    links = ijime_scene.escalations()
    if bool(links) != (yes in ("いる", "is")):
        raise PolicyCheckFailed(f"重大事態の事案は{'開かれていません' if not links else '開かれています'}"
                                f" / escalations: {[link.criterion for link in links]}")


@phrase(rf"重大事態の基準 {_q('criterion')} が記録され、その内容に {_q('text')} が含まれる")
@phrase(rf"the criterion {_q('criterion')} is recorded, mentioning {_q('text')}")
def criterion_recorded(ijime_scene: Scene, criterion: str, text: str) -> None:
    ijime_scene.settle()
    found = [e for e in ijime_scene.require_case().history()
             if e.type == "escalated" and e.data.get("criterion") == criterion]
    if len(found) != 1:
        raise PolicyCheckFailed(f"基準「{criterion}」の記録は {len(found)} 件です（1件のはず） / criterion '{criterion}'"
                                f" recorded {len(found)} times")
    if normalise(text) not in normalise(str(found[0].data.get("figures"))):
        raise PolicyCheckFailed(f"基準の内容に「{text}」がありません / figures: {found[0].data.get('figures')}")


@phrase(r"重大事態の事案は (?P<count>\S+) 件である")
@phrase(r"there (?:is|are) (?P<count>\d+) serious incident cases?")
def serious_case_count(ijime_scene: Scene, count: str) -> None:
    ijime_scene.settle()
    ids = {link.case_id for link in ijime_scene.escalations()}
    if len(ids) != int(normalise(count)):
        raise PolicyCheckFailed(f"重大事態の事案は {len(ids)} 件です / {len(ids)} linked serious incident cases")


@phrase(r"以降は重大事態の事案を扱う")
@phrase(r"the serious incident case is the case from now on")
def switch_to_serious_case(ijime_scene: Scene) -> None:
    ijime_scene.settle()
    engine = ijime_scene.require_engine()
    links = ijime_scene.escalations()
    if not links:
        raise PolicyCheckFailed("重大事態の事案がありません / the case has not escalated")
    ijime_scene.case = engine.get_case(links[0].case_id)
    ijime_scene.definition = engine.definition(ijime_scene.case.workflow_id)
    if ijime_scene.school is not None and ijime_scene.definition.id in ijime_scene.school:
        ijime_scene.files.append(str(ijime_scene.school[ijime_scene.definition.id][0]))


@phrase(rf"欠席の数え方を {_q('window')} にする")
@phrase(rf"absences are counted over {_q('window')}")
def absence_window(ijime_scene: Scene, window: str) -> None:
    """Try the workflow with another absence window (school_year or rolling_365): a setting in YAML.
    Takes effect for cases opened afterwards."""
    _absence_setting(ijime_scene, "absence", "window", normalise(window))


@phrase(r"連続欠席の基準を (?P<days>\S+) 登校日にする")
@phrase(r"the absence run threshold is (?P<days>\d+) school days")
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
