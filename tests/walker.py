"""Random walks over a workflow, for tests that compare two ways of knowing the same thing (the
projection kept step by step against the one rebuilt from the log). Every choice comes from one
seeded ``random.Random``, so a failure replays exactly."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from ijime_flow import Actor, Case, Engine, IjimeFlowError, Subject
from ijime_flow.actor import PARTS
from ijime_flow.definition import Definition
from ijime_flow.language.models import FactDef


def everyone(defn: Definition) -> Actor:
    """One actor holding every role of the workflow: the walk chooses steps, not who may take them."""
    return Actor("x-001", set(defn.spec.roles) or {"staff"})


def fact_value(fact: FactDef, rng: random.Random, at: datetime) -> Any:
    kind = fact.type
    if kind == "bool":
        return rng.random() < 0.3
    if kind == "int":
        return rng.randint(0, 40)
    if kind == "number":
        return round(rng.uniform(0, 40), 1)
    if kind == "enum":
        return rng.choice(fact.values or [""])
    if kind == "date":
        return (at - timedelta(days=rng.randint(0, 3))).date() if rng.random() < 0.9 else date(2019, 4, 8)
    if kind == "datetime":
        return at
    return rng.choice(["記録", "note"])


def step_data(defn: Definition, case: Case, trigger: str, rng: random.Random, at: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _, t in defn.transitions_by_trigger.get(trigger, []):
        if defn.source_active(t, case.active_states):
            for name in t.records:
                data[name] = fact_value(defn.spec.facts[name], rng, at)
            for name in t.requires:
                data[name] = "記録"
    return data


def random_walk(engine: Engine, case: Case, rng: random.Random, steps: int, start: datetime,
                people: random.Random | None = None) -> datetime:
    """Up to ``steps`` steps: a trigger the actor may fire now, or a fact; refusals are part of the walk
    (a condition on the data may say no) and record nothing. ``people``: also name, rename and withdraw
    subjects now and then, by actors of several ids (its own choices: the walk's steps stay as they were).
    Returns the time of the last step."""
    defn = engine.definition(case.workflow_id) if case.workflow_id in engine.definitions else None
    assert defn is not None
    actor, at = everyone(defn), start
    facts = [name for name, fact in defn.spec.facts.items()]
    for _ in range(steps):
        if case.closed:
            break
        at += timedelta(hours=rng.choice([1, 5, 20, 30, 80]))
        triggers = case.available_triggers(actor, at)
        try:
            if triggers and rng.random() < 0.75:
                trigger = rng.choice(triggers)
                case.fire(trigger, actor=actor, at=at, data=step_data(defn, case, trigger, rng, at))
            elif facts:
                name = rng.choice(facts)
                case.record_fact(name, fact_value(defn.spec.facts[name], rng, at), actor=actor, at=at)
        except IjimeFlowError:
            pass
        if people is not None and not case.closed and people.random() < 0.2:
            subject_step(case, defn, people, at)
    return at


PUPILS = ["s-2041", "s-3307", "s-0001", "s-0420"]


def subject_step(case: Case, defn: Definition, rng: random.Random, at: datetime) -> None:
    """Name a pupil in a part (or another part), or withdraw one, as one of a few actors."""
    actor = Actor(f"x-{rng.randint(1, 4):03d}", set(defn.spec.roles))
    named = {s.id for s in case.subjects}
    try:
        if named and rng.random() < 0.3:
            case.remove_subject(rng.choice(sorted(named)), actor=actor, at=at)
        else:
            case.add_subject(rng.choice(PUPILS), rng.choice(sorted(PARTS)), actor=actor, at=at)
    except IjimeFlowError:  # the part it has already
        pass


def some_subjects(rng: random.Random) -> list[Subject]:
    return [Subject(pupil, rng.choice(sorted(PARTS))) for pupil in rng.sample(PUPILS, rng.randint(0, 2))]
