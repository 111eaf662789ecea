"""The store conformance suite: abstract test cases every backend's tests subclass unchanged
(as the eventsourcing library does for its recorders). A subclass provides ``new_store`` and, for
persistent backends, ``reopen``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ijime_flow import ConcurrencyError, Engine, FixedClock
from ijime_flow.events import Event, seal
from ijime_flow.store import Store

AT = datetime(2019, 5, 1, 1, 0, tzinfo=UTC)


def events(case_id: str, first: int, count: int, prev: str | None = None) -> list[tuple[Event, str]]:
    out = []
    for seq in range(first, first + count):
        event, body = seal(case_id=case_id, seq=seq, type="fact", trigger=None, from_states=["a"], to_states=["a"],
                           actor_id="t-1", actor_roles=["staff"], at=AT, recorded_at=AT,
                           data={"fact": "note", "value": f"秘密 {seq}"}, definition=None, prev_hash=prev)
        out.append((event, body))
        prev = event.hash
    return out


class StoreConformance:
    def new_store(self) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Store:
        return self.new_store()

    def test_an_empty_store(self, store: Store) -> None:
        assert store.case_ids() == [] and store.read_case("x") == [] and list(store.read_from(0)) == []
        assert store.get_definition("0" * 64) is None and store.integrity_problems() == []

    def test_append_and_read_a_case_byte_for_byte(self, store: Store) -> None:
        records = events("c1", 1, 3)
        store.append(records)
        rows = store.read_case("c1")
        assert [(r.case_id, r.seq) for r in rows] == [("c1", 1), ("c1", 2), ("c1", 3)]
        assert [r.body for r in rows] == [body for _, body in records]

    def test_read_from_a_global_position(self, store: Store) -> None:
        a, b = events("a", 1, 2), events("b", 1, 2)
        store.append(a[:1])
        store.append(b[:1])
        store.append(a[1:])
        store.append(b[1:])
        order = [(r.position, r.case_id, r.seq) for r in store.read_from(0)]
        assert order == [(1, "a", 1), (2, "b", 1), (3, "a", 2), (4, "b", 2)]
        assert [r.position for r in store.read_from(2)] == [3, 4]
        assert store.case_ids() == ["a", "b"]

    def test_optimistic_concurrency_one_writer_wins(self, store: Store) -> None:
        store.append(events("c1", 1, 2))
        rival = events("c1", 2, 1)  # someone else's seq 2
        with pytest.raises(ConcurrencyError) as lost:
            store.append(rival)
        assert (lost.value.case_id, lost.value.seq) == ("c1", 2)
        assert [r.body for r in store.read_case("c1")] == [body for _, body in events("c1", 1, 2)]
        assert store.integrity_problems() == []

    def test_an_append_across_cases_is_all_or_nothing(self, store: Store) -> None:
        store.append(events("b", 1, 1))
        with pytest.raises(ConcurrencyError):
            store.append(events("a", 1, 1) + events("b", 1, 1))  # b/1 exists: a/1 must not land either
        assert store.read_case("a") == [] and len(store.read_case("b")) == 1
        store.append(events("a", 1, 1))
        assert [r.position for r in store.read_from(0)] == [1, 2]  # no gap left by the failed append

    def test_definitions_by_hash(self, store: Store) -> None:
        store.put_definition("ab" * 32, "response", "1", '{"id":"response"}')
        store.put_definition("ab" * 32, "response", "1", '{"id":"other"}')  # kept once, first text wins
        assert store.get_definition("ab" * 32) == '{"id":"response"}'

    def test_the_engine_runs_a_case_on_it(self, store: Store) -> None:
        from conftest import PRINCIPAL, STAFF, WORKFLOWS, jst, walk_main_line

        engine = Engine(store, clock=FixedClock(jst(2020, 1, 1)))
        engine.load(WORKFLOWS)
        case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9)), until="confirm_facts")
        case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
        assert engine.get_case(case.id).facts["bullying_recognised"] is True
        assert len(case.linked_cases()) == 1 and engine.verify().ok


class PersistentStoreConformance(StoreConformance):
    """For stores that keep their data: what was written is there after reopening."""

    def reopen(self, store: Store) -> Store:
        raise NotImplementedError

    def test_what_was_written_survives_reopening(self, store: Store) -> None:
        store.append(events("c1", 1, 2))
        store.put_definition("cd" * 32, "w", "1", "{}")
        again = self.reopen(store)
        assert [r.seq for r in again.read_case("c1")] == [1, 2] and again.get_definition("cd" * 32) == "{}"
        again.append(events("c1", 3, 1, prev=None))
        assert [r.position for r in again.read_from(0)] == [1, 2, 3]
