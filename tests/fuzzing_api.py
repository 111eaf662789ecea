"""Campaign 2 of the standing fuzz campaigns (see :mod:`fuzzing`): hostile API values, the same calls on
every store (in memory, an SQLite file, PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fuzzing import ALL_ROLES, START, WEIRD

from ijime_flow import Actor, Engine, IjimeFlowError
from ijime_flow.clock import TOKYO

# -- 2. hostile API values, the same calls on every store -----------------------------------------------
OLD_TOKYO = ZoneInfo("Asia/Tokyo")
NOW = START + timedelta(days=400)


def _hostile_value(rng: random.Random, depth: int = 0) -> Any:
    """A value a caller might pass as data or a fact: JSON-like, with hostile parts."""
    from datetime import UTC, date, timezone

    roll = rng.random()
    if roll < 0.35 or depth > 3:
        return rng.choice([None, True, False, 0, -1, 7, 2**53 - 1, 2**53, -(2**53), 10**400, 1.5, float("nan"),
                           float("inf"), *WEIRD, date(1, 1, 1), date(9999, 12, 31), date(2019, 5, 2),
                           datetime(2019, 5, 2), datetime(2019, 5, 2, tzinfo=UTC),
                           datetime(1, 1, 1, tzinfo=timezone(timedelta(seconds=1))), b"bytes", {1, 2}, object()])
    if roll < 0.45:
        deep: Any = "x"
        for _ in range(rng.choice([31, 32, 33, 40, 1000])):
            deep = [deep] if rng.random() < 0.5 else {"k": deep}
        return deep
    if roll < 0.7:
        return [_hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [rng.choice(WEIRD), "reason", "what", 1, None, ("t",)]
    return {rng.choice(keys): _hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _hostile_time(rng: random.Random, after: datetime) -> Any:
    from datetime import UTC, timezone

    return rng.choice([None, datetime(2019, 5, 2, 9), datetime(1, 1, 1, tzinfo=UTC),
                       datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12))),
                       datetime(2019, 5, 13, 12, tzinfo=timezone(timedelta(seconds=1))),
                       datetime(1880, 5, 13, 12, tzinfo=OLD_TOKYO), datetime(2000, 1, 1, tzinfo=TOKYO),
                       NOW + timedelta(days=1), after - timedelta(seconds=1), "2019-05-02", 5, 1.5])


def _hostile_actor(rng: random.Random) -> Any:
    try:
        return Actor(rng.choice(["t-2", *WEIRD]), rng.choice([{"staff"}, set(), {"\x00"}, {"\ud800"}, "staff",
                                                              {"no_such_role"}, [1]]))
    except IjimeFlowError:
        return rng.choice(["t-1", None, ("t-1", {"staff"}), 5])


class _Values:
    """The values of one call: plausible ones (so that calls are accepted and cases move on), except the
    one field chosen to be hostile — or, one call in five, every field drawn at random."""

    def __init__(self, rng: random.Random, fields: list[str]) -> None:
        self.rng = rng
        self.chaos = rng.random() < 0.2
        self.spoiled = rng.choice([*fields, ""])  # "": nothing hostile

    def hostile(self, field: str) -> bool:
        return (self.chaos and self.rng.random() < 0.5) or field == self.spoiled

    def actor(self) -> Any:
        return _hostile_actor(self.rng) if self.hostile("actor") else ALL_ROLES

    def time(self, after: datetime) -> Any:
        if self.hostile("at"):
            return _hostile_time(self.rng, after)
        return min(after + timedelta(minutes=self.rng.randint(0, 60 * 24 * 10)), NOW)

    def data(self) -> Any:
        return _hostile_value(self.rng) if self.hostile("data") else None  # None: what the step needs


def _plausible_data(rng: random.Random, engine: Engine, case: Any, trigger: str) -> dict[str, Any] | None:
    """Data a step needs (its ``records`` and ``requires``), with values of the right types."""
    spec = engine.definition(case.workflow_id).spec
    data: dict[str, Any] = {"reason": "x"} if rng.random() < 0.3 else {}
    for t in spec.transitions:
        if t.trigger != trigger:
            continue
        data.update({name: "x" for name in t.requires})
        for name in t.records:
            fact = spec.facts[name]
            sample = {"bool": rng.random() < 0.7, "date": "2019-05-03", "int": rng.randint(0, 40), "text": "x",
                      "datetime": "2019-05-03T10:00:00+09:00"}.get(fact.type, (fact.values or ["x"])[0])
            data[name] = [sample] if fact.many else sample
    return data or None


def api_operation(rng: random.Random, known: dict[str, datetime]) -> tuple[str, Any, Callable[[Engine], Any]]:
    """One call with hostile values: its kind, the case it is about, and a function of the engine (the
    same call for every store)."""
    roll = rng.random()
    if roll < (0.2 if len(known) < 20 else 0.08) or not known:
        v = _Values(rng, ["workflow", "case_id", "actor", "at", "data", "school"])
        workflow = rng.choice(["no_such", *WEIRD[:4], ["response"], 5]) if v.hostile("workflow") else \
            rng.choice(["response"] * 6 + ["serious_incident"])
        case_id = rng.choice([*WEIRD, 5, ["x"]]) if v.hostile("case_id") else f"c-{rng.randrange(10**9)}"
        actor, at, data = v.actor(), v.time(START), v.data()
        school = rng.choice([*WEIRD, 5]) if v.hostile("school") else None
        return "open", case_id, lambda e: e.open_case(workflow, actor=actor, at=at, data=data, case_id=case_id,
                                                      school=school)
    v = _Values(rng, ["case_id", "actor", "at", "data", "trigger", "name", "value"])
    case_id = rng.choice([*WEIRD, ["x"], 5, None]) if v.hostile("case_id") else rng.choice(sorted(known))
    actor = v.actor()
    at = v.time(known.get(case_id, START) if isinstance(case_id, str) else START)
    if roll < 0.7:
        data = v.data()
        bad_trigger = v.hostile("trigger")
        state = rng.getstate()  # every store draws the same choices inside the call

        def fire(e: Engine) -> Any:
            rng.setstate(state)
            case = e.get_case(case_id)
            triggers = case.available_triggers(ALL_ROLES, at=NOW)
            trigger = rng.choice([*WEIRD, 5, None, "close"]) if bad_trigger or not triggers else rng.choice(triggers)
            given = data if data is not None or not isinstance(trigger, str) else _plausible_data(rng, e, case, trigger)
            return case.fire(trigger, actor=actor, at=at, data=given)
        return "fire", case_id, fire
    if roll < 0.8:
        name = rng.choice([*WEIRD[:6], 5, "no_such_fact"]) if v.hostile("name") else rng.choice(
            ["bullying_recognised", "online", "absence", "petition", "apology_made", "act_stopped_on",
             "victim_distress", "serious_violence_or_extortion"])
        value = _hostile_value(rng) if v.hostile("value") else rng.choice([True, False, "2019-05-03", 30, "high"])
        return "fact", case_id, lambda e: e.get_case(case_id).record_fact(name, value, actor=actor, at=at)
    queries: list[Callable[[Engine], Any]] = [
        lambda e: e.get_case(case_id).history(),
        lambda e: e.get_case(case_id).available_triggers(actor, at=at),
        lambda e: e.get_case(case_id).deadlines(at=at),
        lambda e: e.cases(limit=rng.choice([1, 0, -1, 10**30, "5", None, 50]), offset=rng.choice([0, -1, 3, "x"])),
        lambda e: e.cases(state=rng.choice(["discovered", "closed", *WEIRD[:5], 5]), overdue=rng.random() < 0.5,
                          as_of=at),
        lambda e: e.count_cases(school=rng.choice([None, "fuzz", *WEIRD[:5], 5])),
        lambda e: e.verify(case_id),
    ]
    query = rng.choice(queries)
    state = rng.getstate()

    def query_alike(e: Engine) -> Any:
        rng.setstate(state)
        return query(e)
    return "query", case_id, query_alike


def _summary(result: Any) -> Any:
    """What must be alike on every store: the event (its seq, type, trigger and states: not its hash, since
    personal values are sealed under each store's own keys with random nonces), the ids, the verdict."""
    if hasattr(result, "hash"):
        return (result.seq, result.type, result.trigger, result.to_states)
    if hasattr(result, "ok"):
        return result.ok
    if hasattr(result, "seq"):  # a case or a projection row
        return (getattr(result, "case_id", getattr(result, "id", None)), result.seq)
    if isinstance(result, list):
        return [_summary(item) for item in result]
    if hasattr(result, "due"):  # a deadline
        return (result.due.isoformat(), str(getattr(result, "name", "")))
    return result if isinstance(result, (int, str, type(None))) else type(result).__name__


class ApiCampaign:
    """The same hostile calls on several engines (in memory, an SQLite file, PostgreSQL): each call must be
    accepted by all or refused (``IjimeFlowError``) by all, accepted steps must read back and verify, and
    every store must answer alike. Outcomes: accepted, refused; failures: traceback, divergent, unreadable."""

    def __init__(self, engines: dict[str, Engine]) -> None:
        self.engines = engines
        self.known: dict[str, datetime] = {}  # case id -> the time of its last step (to reach acceptance)
        self.last_error = ""  # the exception of the last traceback or the answers of the last divergence

    def __call__(self, rng: random.Random) -> str:
        kind, target, call = api_operation(rng, self.known)
        results: dict[str, tuple[str, Any]] = {}
        for name, engine in self.engines.items():
            try:
                results[name] = ("accepted", _summary(call(engine)))
            except IjimeFlowError as exc:
                results[name] = ("refused", type(exc).__name__)
            except Exception as exc:
                self.last_error = f"{name}: {kind} {exc!r}"
                return "traceback"
        if len({repr(r) for r in results.values()}) > 1:
            self.last_error = f"{kind}: {results}"
            return "divergent"
        outcome = next(iter(results.values()))[0]
        if outcome == "accepted" and kind in ("open", "fire", "fact"):
            return self._read_back(target)
        return outcome

    def _read_back(self, target: str) -> str:
        """Each store reads the changed case (and any case an escalation opened) back alike, and it verifies."""
        # the same step on each store: same seq, type and trigger (not the same hash: personal values are
        # sealed under each store's own keys, with random nonces)
        heads: set[tuple[str, int, str, str | None]] = set()
        for engine in self.engines.values():
            fresh = [target] + [i for i in engine.case_ids() if i not in self.known and i != target]
            try:
                for case_id in fresh:
                    case = engine.get_case(case_id)
                    events = case.history()
                    if not engine.verify(case_id).ok or len(events) != case.seq:
                        return "unreadable"
                    heads.add((case_id, case.seq, events[-1].type, events[-1].trigger))
                    self.known[case_id] = max(self.known.get(case_id, START), max(e.at for e in events))
            except IjimeFlowError:
                return "unreadable"
        if len(heads) != len({case_id for case_id, *_ in heads}):
            return "divergent"
        return "accepted"

    def verify_all(self) -> bool:
        return all(engine.verify().ok for engine in self.engines.values())
