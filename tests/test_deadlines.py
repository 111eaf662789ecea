"""Deadlines: same day in Japan time, durations, met / missed / open / overdue, restarts."""

from __future__ import annotations

from conftest import ADMIN, STAFF, jst, open_case

from ijime_flow import Engine


def by_id(case: object, at: object) -> dict[str, object]:
    return {d.id: d for d in case.deadlines(at=at)}  # type: ignore[attr-defined]


def test_same_day_means_before_midnight_in_tokyo(engine: Engine) -> None:
    case = open_case(engine)  # 2019-05-01 09:00 JST
    deadline = by_id(case, jst(2019, 5, 1, 23, 59))["report_to_administrator_same_day"]
    assert deadline.due == jst(2019, 5, 2, 0, 0)  # type: ignore[attr-defined]
    assert deadline.status == "open"  # type: ignore[attr-defined]
    assert by_id(case, jst(2019, 5, 2, 0, 0))["report_to_administrator_same_day"].status == "overdue"  # type: ignore[attr-defined]
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 1, 23, 59))
    met = by_id(case, jst(2019, 5, 3))["report_to_administrator_same_day"]
    assert met.status == "met" and met.met_seq == 3  # type: ignore[attr-defined]
    assert met.status_ja == "期限内に実施"  # type: ignore[attr-defined]


def test_a_late_step_is_missed_and_a_duration_counts_from_entry(engine: Engine) -> None:
    case = open_case(engine)
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 2, 0, 1))
    case.fire("share_with_committee", actor=ADMIN, at=jst(2019, 5, 2, 9))
    deadlines = by_id(case, jst(2019, 5, 2, 10))
    assert deadlines["report_to_administrator_same_day"].status == "missed"  # type: ignore[attr-defined]
    assert deadlines["share_with_committee_same_day"].status == "met"  # type: ignore[attr-defined]
    fact_finding = deadlines["fact_finding_promptly"]
    assert fact_finding.due == jst(2019, 5, 3, 9) and fact_finding.status == "open"  # type: ignore[attr-defined]
    assert by_id(case, jst(2019, 5, 3, 9))["fact_finding_promptly"].status == "overdue"  # type: ignore[attr-defined]


def test_deadlines_are_read_off_a_reloaded_case(sqlite_engine: Engine) -> None:
    case = open_case(sqlite_engine)
    case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 1, 10))
    again = sqlite_engine.get_case(case.id)
    assert [(d.id, d.status) for d in again.deadlines(at=jst(2019, 5, 1, 11))] == [
        ("report_to_administrator_same_day", "open")]
