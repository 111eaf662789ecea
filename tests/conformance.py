"""The store conformance suite: abstract test cases every backend's tests subclass unchanged
(as the eventsourcing library does for its recorders). A subclass provides ``new_store`` and, for
persistent backends, ``reopen``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ijime_flow import ConcurrencyError, Engine, FixedClock
from ijime_flow.events import Event, seal
from ijime_flow.projection import CaseQuery, CaseRow, OpenDeadline
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

        engine = Engine(store, clock=FixedClock(jst(2020, 1, 1)), school="school-1")
        engine.load(WORKFLOWS)
        case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9)), until="confirm_facts")
        case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
        assert engine.get_case(case.id).facts["bullying_recognised"] is True
        assert len(case.linked_cases()) == 1 and engine.verify().ok


    # -- the projection ---------------------------------------------------------------------------
    def test_a_row_rides_on_its_append(self, store: Store) -> None:
        store.append(events("c1", 1, 2), [row("c1", seq=2)])
        assert store.case_row("c1") == row("c1", seq=2) and store.case_row("c2") is None
        with pytest.raises(ConcurrencyError):  # a lost race writes no row either
            store.append(events("c1", 2, 1), [row("c1", seq=2, states=("lost",))])
        assert store.case_row("c1") == row("c1", seq=2)
        store.append(events("c2", 1, 1), [row("c2", seq=1), row("c1", seq=1, states=("older",))])
        assert store.case_row("c1") == row("c1", seq=2)  # a row never replaces a later one
        with pytest.raises(ConcurrencyError):  # all or nothing across cases, rows included
            store.append(events("c3", 1, 1) + events("c2", 1, 1), [row("c3", seq=1)])
        assert store.case_row("c3") is None

    def test_queries_on_the_projection(self, store: Store) -> None:
        rows = sample_rows()
        for r in rows:
            store.append(events(r.case_id, 1, 1), [r])
        ids = lambda found: [r.case_id for r in found]  # noqa: E731
        assert ids(store.find_cases(CaseQuery())) == [f"k{n:02d}" for n in range(12)]  # oldest opened first
        assert ids(store.find_cases(CaseQuery(school="s1"))) == ["k00", "k03", "k06", "k09"]
        assert ids(store.find_cases(CaseQuery(school="s1", workflow="serious_incident"))) == ["k03", "k09"]
        assert ids(store.find_cases(CaseQuery(state="responding"))) == [f"k{n:02d}" for n in range(12) if n not in (0, 6)]
        assert ids(store.find_cases(CaseQuery(state="responding.victim_support.interviewed"))) == ["k01", "k04",
                                                                                                   "k07", "k10"]
        assert ids(store.find_cases(CaseQuery(state="respond"))) == []  # a state, not a prefix of text
        assert ids(store.find_cases(CaseQuery(closed=True))) == ["k00", "k06"]
        due = BASE + timedelta(days=2)
        assert ids(store.find_cases(CaseQuery(overdue_at=due))) == ["k01", "k02"]  # due at or before
        assert ids(store.find_cases(CaseQuery(overdue_at=due - timedelta(microseconds=1)))) == ["k01"]
        assert store.count_cases(CaseQuery(school="s2", state="responding")) == 4
        assert store.count_cases_by("school", CaseQuery()) == {"": 1, "s1": 4, "s2": 4, "s3": 3}
        assert store.count_cases_by("workflow", CaseQuery(closed=False)) == {"response": 8, "serious_incident": 2}
        assert store.count_cases_by("state", CaseQuery(school="s1")) == {
            "closed": 2, "responding": 2, "responding.victim_support": 2, "responding.victim_support.interviewing": 2}
        assert ids(store.find_cases(CaseQuery(), limit=3, offset=4)) == ["k04", "k05", "k06"]
        assert ids(store.find_cases(CaseQuery(), offset=10)) == ["k10", "k11"]
        assert store.find_cases(CaseQuery(school="s1"))[1] == rows[3]  # rows come back whole

    def test_queries_by_subject_part_and_actor(self, store: Store) -> None:
        people = {"a": ((("s-1", "victim"), ("s-2", "perpetrator")), ("t-1",)),
                  "b": ((("s-1", "bystander"),), ("t-1", "t-2")),
                  "c": ((("s-22", "victim"),), ("t-22",)),  # ids that contain others' ids are not theirs
                  "d": ((), ())}
        for n, (case_id, (subjects, actors)) in enumerate(people.items()):
            store.append(events(case_id, 1, 1), [replace(row(case_id, opened=n), subjects=subjects, actors=actors)])
        ids = lambda query: [r.case_id for r in store.find_cases(query)]  # noqa: E731
        assert ids(CaseQuery(subject="s-1")) == ["a", "b"] and ids(CaseQuery(subject="s-2")) == ["a"]
        assert ids(CaseQuery(subject="s-1", part="victim")) == ["a"] and ids(CaseQuery(subject="s-2", part="victim")) == []
        assert ids(CaseQuery(part="victim")) == ["a", "c"] and ids(CaseQuery(part="reporter")) == []
        assert ids(CaseQuery(actor="t-1")) == ["a", "b"] and ids(CaseQuery(actor="t-2")) == ["b"]
        assert ids(CaseQuery(actor="t-2", subject="s-1", part="bystander")) == ["b"]
        assert ids(CaseQuery(subject="victim")) == [] and ids(CaseQuery(actor="t")) == []
        assert store.count_cases(CaseQuery(subject="s-1")) == 2 and store.count_cases(CaseQuery(actor="t-22")) == 1
        assert store.case_row("a") == replace(row("a"), subjects=people["a"][0], actors=people["a"][1])
        assert store.case_row("d") == row("d", opened=3)  # none: empty, as they are written

    def test_a_rebuild_replaces_every_row(self, store: Store) -> None:
        store.append(events("a", 1, 2), [row("a", seq=2)])
        store.append(events("gone", 1, 1), [row("gone", seq=1)])
        seen: list[tuple[int, str, int]] = []

        def project(stream):  # type: ignore[no-untyped-def]
            for stored in stream:
                seen.append((stored.position, stored.case_id, stored.seq))
            return [row("a", seq=2, states=("rebuilt",))]

        assert store.rebuild_projection(project) == 1
        assert seen == [(1, "a", 1), (2, "a", 2), (3, "gone", 1)]  # the whole log, in position order
        assert store.case_row("a") == row("a", seq=2, states=("rebuilt",)) and store.case_row("gone") is None
        assert not store.projection_stale()


BASE = datetime(2019, 5, 1, 1, 0, tzinfo=UTC)


def row(case_id: str, *, seq: int = 1, states: tuple[str, ...] = ("discovered",), school: str | None = "s1",
        workflow: str = "response", closed: bool = False, opened: int = 0,
        deadlines: tuple[OpenDeadline, ...] = ()) -> CaseRow:
    active = tuple(sorted({".".join(s.split(".")[:i]) for s in states for i in range(1, s.count(".") + 2)}))
    return CaseRow(case_id=case_id, school=school, workflow=workflow, version="1", definition_sha256="ab" * 32,
                   states=states, active=active, closed=closed, opened_at=BASE + timedelta(hours=opened),
                   updated_at=BASE + timedelta(hours=opened, minutes=seq), seq=seq, open_deadlines=deadlines)


def sample_rows() -> list[CaseRow]:
    """Twelve cases: schools s1, s2, s3 in turn (one without a school), every third in the serious
    workflow, two closed, two with a deadline (due in 1 and 2 days)."""
    out = []
    for n in range(12):
        states: tuple[str, ...] = ("closed",) if n in (0, 6) else (
            ("responding.victim_support.interviewed", "responding.bystanders.guiding") if n % 3 == 1 else
            ("responding.victim_support.interviewing",) if n % 3 == 0 else ("responding.perpetrator.guiding",))
        deadlines = tuple(OpenDeadline("report", "reported", BASE, BASE + timedelta(days=n)) for _ in range(1)
                          if n in (1, 2))
        out.append(row(f"k{n:02d}", states=states, school=None if n == 11 else f"s{n % 3 + 1}",
                       workflow="serious_incident" if n % 3 == 0 and n not in (0, 6) else "response",
                       closed=n in (0, 6), opened=n, deadlines=deadlines))
    return out


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
