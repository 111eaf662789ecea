"""Hostile and careless values through the API, on all three stores: whatever is accepted reads back and
verifies; whatever is refused is an ``IjimeFlowError`` that says why, and records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN, COMMITTEE, STAFF, WORKFLOWS, jst

from ijime_flow import Engine, FixedClock, IjimeFlowError, InvalidData


def reads_back(engine: Engine, case_id: str) -> None:
    """The case loads again from the store, and the store verifies."""
    fresh = engine.get_case(case_id)
    assert fresh.history()[-1].seq == len(engine.store.read_case(case_id))
    report = engine.verify()
    assert report.ok, report.problems


# offsets the event format cannot carry as they are: seconds, and zoneinfo's local mean time
ODD_TIMES = [
    datetime(2019, 5, 13, 12, tzinfo=timezone(timedelta(seconds=1))),
    datetime(2019, 5, 13, 12, tzinfo=timezone(timedelta(hours=9, minutes=18, seconds=59))),
    datetime(2019, 5, 13, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-3, seconds=-30))),
    datetime(1960, 5, 13, 12, tzinfo=ZoneInfo("Africa/Monrovia")),  # zoneinfo: -00:44:30 until 1972
]


@pytest.mark.parametrize("at", ODD_TIMES, ids=["1s", "lmt-like", "neg-seconds", "zoneinfo-old"])
def test_an_accepted_time_reads_back(any_engine: Engine, at: datetime) -> None:
    opened_at = min(at, jst(2019, 5, 1, 9)) - timedelta(days=1)
    case = any_engine.open_case("response", actor=STAFF, at=opened_at)
    event = case.fire("stop_act", actor=STAFF, at=at)
    assert event.at == at  # the same instant
    assert event.at.utcoffset() is not None and not event.at.utcoffset() % timedelta(minutes=1)  # type: ignore[operator]
    reads_back(any_engine, case.id)


def test_a_clock_with_an_odd_offset_is_recorded_as_the_same_instant(tmp_path: Path) -> None:
    odd = FixedClock(datetime(2020, 3, 31, 18, tzinfo=timezone(timedelta(hours=9, seconds=7))))
    with Engine(tmp_path / "c.db", clock=odd, school="s") as eng:
        eng.load(WORKFLOWS)
        case = eng.open_case("response", actor=STAFF)
        case.fire("stop_act", actor=STAFF)
        assert case.history()[-1].recorded_at == odd.now()
        reads_back(eng, case.id)


@pytest.mark.parametrize("at", [datetime(1, 1, 1, tzinfo=UTC), datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
                                datetime(1019, 5, 1, tzinfo=ZoneInfo("Asia/Tokyo"))])
def test_times_before_1900_are_refused(any_engine: Engine, at: datetime) -> None:
    with pytest.raises(InvalidData, match="1900"):
        any_engine.open_case("response", actor=STAFF, at=at)
    case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    with pytest.raises(InvalidData, match="1900"):
        case.record_fact("serious_violence_or_extortion", True, actor=ADMIN, at=at)
    assert len(any_engine.store.read_case(case.id)) == 1


@pytest.mark.parametrize("before", [timedelta(microseconds=1), timedelta(days=1), timedelta(days=365 * 19)])
def test_steps_dated_before_the_case_was_opened_are_refused(any_engine: Engine, before: timedelta) -> None:
    opened = jst(2019, 5, 1, 9)
    case = any_engine.open_case("response", actor=STAFF, at=opened)
    for attempt in (lambda: case.fire("stop_act", actor=STAFF, at=opened - before),
                    lambda: case.record_fact("serious_violence_or_extortion", True, actor=ADMIN, at=opened - before)):
        with pytest.raises(InvalidData, match="before the case was opened"):
            attempt()
    assert len(any_engine.store.read_case(case.id)) == 1
    case.fire("stop_act", actor=STAFF, at=opened)  # the same moment is fine
    reads_back(any_engine, case.id)


def test_verify_reports_a_step_dated_before_the_opening(engine: Engine) -> None:
    # a history written by hand (every hash right) with a step dated before the case was opened
    from ijime_flow.events import seal
    from ijime_flow.store import MemoryStore

    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    opened = engine.store.read_case(case.id)[0]
    store = MemoryStore()
    defn = engine.definition("response")
    store.put_definition(defn.sha256, defn.id, defn.version, engine.store.get_definition(defn.sha256) or "")
    first = engine.get_case(case.id).history()[0]
    pin = first.data["_calendar"]  # the school calendar the case was judged under travels with it
    store.put_definition(pin, "calendar", "", engine.store.get_definition(pin) or "")
    later, body = seal(case_id=case.id, seq=2, type="transition", trigger="stop_act",
                       from_states=first.to_states, to_states=["act_stopped"], actor_id=STAFF.id,
                       actor_roles=sorted(STAFF.roles), at=jst(2000, 1, 1), recorded_at=jst(2019, 5, 2),
                       data={}, definition=None, prev_hash=first.hash)
    store.append([(first, opened.body), (later, body)])
    forged = Engine(store, clock=engine.clock)
    report = forged.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "illegal")]
    assert "before the case was opened" in report.problems[0].message


def test_a_refused_time_records_nothing_and_other_steps_go_on(sqlite_engine: Engine) -> None:
    case = sqlite_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    with pytest.raises(IjimeFlowError):
        case.fire("stop_act", actor=STAFF, at=datetime(2019, 4, 30, tzinfo=UTC))
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 1, 11))
    case.fire("share_with_committee", actor=ADMIN, at=jst(2019, 5, 1, 12))
    case.fire("start_fact_finding", actor=COMMITTEE, at=jst(2019, 5, 2, 12))
    reads_back(sqlite_engine, case.id)


# -- values no store keeps alike: refused the same everywhere -------------------------------------------
def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"x": value}
    return value


HOSTILE_VALUES = {
    "lone-surrogate": "a\ud800b",
    "nul": "a\x00b",
    "huge-int": 10**5000,
    "int-beyond-2**53": 2**53,
    "deep-1000": _deep(1000),
    "nan": float("nan"),
    "a-set": {1, 2},
    "surrogate-key": {"\udfff": 1},
    "nul-key": {"a\x00": 1},
}


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_hostile_data_is_refused_on_every_store(any_engine: Engine, name: str) -> None:
    value = HOSTILE_VALUES[name]
    with pytest.raises(IjimeFlowError):
        any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), data={"what": value})
    case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    with pytest.raises(IjimeFlowError):
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10), data={"note": value})
    assert len(any_engine.store.read_case(case.id)) == 1
    reads_back(any_engine, case.id)


@pytest.mark.parametrize("text", ["a\ud800", "a\x00b", "", " ", "x" * 129],
                         ids=["surrogate", "nul", "empty", "blank", "too-long"])
def test_hostile_ids_are_refused_on_every_store(any_engine: Engine, text: str) -> None:
    from ijime_flow import Actor

    with pytest.raises(IjimeFlowError):
        Actor(text, {"staff"})
    with pytest.raises(IjimeFlowError):
        Actor("t-1", {text})
    with pytest.raises(IjimeFlowError):
        any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id=text)
    with pytest.raises(IjimeFlowError):
        any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), school=text)
    case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    with pytest.raises(IjimeFlowError):
        case.fire(text, actor=STAFF, at=jst(2019, 5, 1, 10))
    with pytest.raises(IjimeFlowError):
        case.record_fact(text, True, actor=ADMIN, at=jst(2019, 5, 1, 10))
    assert any_engine.case_ids() == [case.id]
    reads_back(any_engine, case.id)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_fact_dates_out_of_range_are_refused(any_engine: Engine, value: str) -> None:
    from datetime import date

    case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    for given in (value, date.fromisoformat(value)):
        with pytest.raises(IjimeFlowError):
            case.record_fact("absence", given, actor=ADMIN, at=jst(2019, 5, 1, 10))
    assert len(any_engine.store.read_case(case.id)) == 1


def test_wrong_python_types_are_refused_in_plain_words(engine: Engine) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
    attempts: list[Any] = [
        lambda: case.fire(["x"], actor=STAFF),  # type: ignore[arg-type]
        lambda: case.fire("stop_act", actor="t-014"),  # type: ignore[arg-type]
        lambda: case.fire("stop_act", actor=STAFF, data="text"),  # type: ignore[arg-type]
        lambda: case.fire("stop_act", actor=STAFF, data=[("a", 1)]),  # type: ignore[arg-type]
        lambda: case.fire("stop_act", actor=STAFF, at="2019-05-01"),  # type: ignore[arg-type]
        lambda: case.record_fact(3, True, actor=ADMIN),  # type: ignore[arg-type]
        lambda: case.available_triggers("t-014"),  # type: ignore[arg-type]
        lambda: engine.get_case(["x"]),  # type: ignore[arg-type]
        lambda: engine.verify(["x"]),  # type: ignore[arg-type]
        lambda: engine.definition(["x"]),  # type: ignore[arg-type]
        lambda: engine.open_case(["response"], actor=STAFF),  # type: ignore[arg-type]
        lambda: engine.open_case("response", actor=STAFF, case_id=5),  # type: ignore[arg-type]
        lambda: engine.cases(limit="5"),  # type: ignore[arg-type]
        lambda: engine.cases(limit=10**30),
        lambda: engine.cases(limit=0),
        lambda: engine.cases(offset=-1),
        lambda: engine.cases(school=3),  # type: ignore[arg-type]
        lambda: engine.cases(closed="no"),  # type: ignore[arg-type]
        lambda: engine.cases(overdue=True, as_of=datetime(1, 1, 1, tzinfo=UTC)),
        lambda: engine.count_cases(state=["x"]),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(IjimeFlowError):
            attempt()
    assert len(engine.store.read_case(case.id)) == 1


# -- generated: any JSON-like value with hostile parts, on every store ----------------------------------
def _values() -> Any:
    from hypothesis import strategies as st

    text = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "\x00", "a\udfffb", "\u3042\x00"]))
    scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**60), max_value=2**60),
                        st.sampled_from([2**53 - 1, 2**53, -(2**53), 10**400]), st.floats(), text)
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(text, inner, max_size=3)), max_leaves=12)


def test_generated_data_is_refused_or_reads_back_alike_on_every_store(any_engine: Engine) -> None:
    from hypothesis import HealthCheck, given, settings

    outcomes: list[bool] = []

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=_values())
    def check(value: Any) -> None:
        before = len(any_engine.case_ids())
        try:
            case = any_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), data={"what": value})
        except IjimeFlowError:
            assert len(any_engine.case_ids()) == before
            outcomes.append(False)
            return
        stored = dict(any_engine.get_case(case.id).history()[0].data)
        assert stored.pop("_calendar") and stored == {"what": case.history()[0].data["what"]}  # the engine's pin, and the data
        outcomes.append(True)

    check()
    assert any_engine.verify().ok
    assert True in outcomes and False in outcomes  # both kinds were tried
