"""Recurring deadlines (``every: month | term | year``, ``months``; issue 17): one deadline per period of the
case's school year, due at the period's end (midnight in the workflow's zone) and met only by a step inside the
period; terms from ``calendar.terms``; the projection and ``cases(overdue=True)`` see them; a stored definition
reads back the same; bad declarations are refused where they are written."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, STAFF, WORKFLOWS, jst

from ijime_flow import Actor, DefinitionError, Engine, FixedClock, load_file
from ijime_flow.calendars.periods import periods
from ijime_flow.clock import TOKYO

YEAR = {"school_year": 2019, "school_type": "junior_high"}
SCHOOL_YEAR = (WORKFLOWS / "school_year.yaml").read_text(encoding="utf-8")


def engine_at(now: datetime, folder: Path = WORKFLOWS) -> Engine:
    engine = Engine(clock=FixedClock(now), school="school-1")
    engine.load(folder)
    return engine


def midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=TOKYO)


def of(case, deadline_id: str, as_of: datetime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d.period: d.status for d in case.deadlines(as_of) if d.id == deadline_id}


def test_a_monthly_duty_has_twelve_periods_each_due_at_its_months_end() -> None:
    engine = engine_at(jst(2020, 4, 1))
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    meetings = [d for d in case.deadlines(jst(2019, 4, 1, 9)) if d.id == "committee_meets_monthly"]
    assert [d.period for d in meetings] == [f"2019-{m:02d}" for m in range(4, 13)] + [f"2020-{m:02d}" for m in (1, 2, 3)]
    assert [d.due for d in meetings[:3]] == [midnight(2019, 5, 1), midnight(2019, 6, 1), midnight(2019, 7, 1)]
    assert meetings[-1].due == midnight(2020, 4, 1) and meetings[2].period_ja == "2019年度 6月"
    for month in (4, 5, 7):  # no meeting in June
        case.fire("hold_committee_meeting", actor=COMMITTEE, at=jst(2019, month, 10))
    assert of(case, "committee_meets_monthly", midnight(2019, 7, 1) - timedelta(seconds=1))["2019-06"] == "open"
    found = of(case, "committee_meets_monthly", midnight(2019, 7, 1))
    assert (found["2019-04"], found["2019-05"], found["2019-06"], found["2019-07"], found["2019-08"]) == (
        "met", "met", "overdue", "met", "open")
    case.fire("hold_committee_meeting", actor=COMMITTEE, at=jst(2019, 7, 20))  # a second July meeting: not June's
    assert of(case, "committee_meets_monthly", jst(2019, 7, 21))["2019-06"] == "overdue"


def test_a_step_in_one_term_does_not_meet_another_and_the_terms_come_from_the_calendar() -> None:
    engine = engine_at(jst(2020, 4, 1))
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    case.fire("conduct_survey", actor=COMMITTEE, at=jst(2019, 6, 7), data={"respondents": 300, "concerns": 1})
    case.fire("conduct_survey", actor=COMMITTEE, at=jst(2019, 6, 20), data={"respondents": 298, "concerns": 0})
    assert of(case, "survey_each_term", jst(2020, 1, 10)) == {"2019:term_1": "met", "2019:term_2": "overdue",
                                                              "2019:term_3": "open"}
    case.fire("conduct_citywide_survey", actor=COMMITTEE, at=jst(2020, 1, 17), data={"respondents": 301, "concerns": 2})
    assert of(case, "survey_each_term", jst(2020, 4, 1)) == {"2019:term_1": "met", "2019:term_2": "overdue",
                                                             "2019:term_3": "met"}  # also met by the city-wide survey
    assert of(case, "citywide_survey_in_september", jst(2020, 4, 1)) == {"2019": "overdue"}  # January is not September


def test_a_window_of_months_and_a_case_opened_late_or_early() -> None:
    engine = engine_at(jst(2020, 4, 1))
    late = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 10, 15), data=YEAR)  # starts using it in October
    periods_seen = {d.period for d in late.deadlines(jst(2019, 10, 15)) if d.id == "committee_meets_monthly"}
    assert min(periods_seen) == "2019-10"  # the months already over are not the tool's to judge
    assert of(late, "interviews_after_survey", jst(2019, 10, 15)) == {"2019": "open"}  # Sept 1 – Oct 31: not over
    assert [d.due for d in late.deadlines(jst(2019, 10, 15)) if d.id == "interviews_after_survey"] == [midnight(2019, 11, 1)]
    assert not [d for d in late.deadlines(jst(2019, 10, 15)) if d.id == "citywide_survey_in_september"]
    early = engine_at(jst(2020, 4, 1)).open_case("school_year", actor=ADMIN, at=jst(2019, 3, 20), data=YEAR)
    assert min(d.period for d in early.deadlines(jst(2019, 3, 20)) if d.id == "committee_meets_monthly") == "2019-04"


def test_the_projection_lists_a_year_case_overdue_from_the_first_missed_period() -> None:
    engine = engine_at(jst(2019, 5, 2))
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    for trigger, actor in (("hold_committee_meeting", COMMITTEE), ("launch_committee", COMMITTEE)):
        case.fire(trigger, actor=actor, at=jst(2019, 4, 2))
    assert [r.case_id for r in engine.cases(overdue=True, as_of=jst(2019, 4, 30, 23))] == []
    assert [r.case_id for r in engine.cases(overdue=True, as_of=jst(2019, 5, 1, 0))] == []  # April all met
    assert [r.case_id for r in engine.cases(overdue=True, as_of=midnight(2019, 6, 1))] == [case.id]  # May's meeting
    (row,) = engine.cases(workflow="school_year")
    assert row.next_due == midnight(2019, 6, 1)
    assert {d.period for d in row.open_deadlines if d.id == "committee_meets_monthly"} >= {"2019-05", "2020-03"}
    before = engine.cases(workflow="school_year")
    engine.rebuild_projection()
    assert engine.cases(workflow="school_year") == before
    assert engine.verify().ok


def test_a_stored_definition_reads_back_with_its_recurring_deadlines(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    with Engine(db, clock=FixedClock(jst(2019, 8, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        case_id = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR).id
    with Engine(db, clock=FixedClock(jst(2019, 8, 1)), school="school-1") as engine:  # nothing loaded: the pinned text
        deadlines = engine.get_case(case_id).deadlines(jst(2019, 8, 1))
        assert {d.within for d in deadlines} == {"end_of_month", "end_of_term", "end_of_year"}
        assert engine.verify().ok


def test_the_year_is_the_cases_school_year_fact() -> None:
    defn = load_file(WORKFLOWS / "school_year.yaml")
    monthly = next(d for d in defn.spec.states["in_year"].deadlines if d.every == "month")
    assert periods(defn, monthly, 2024)[10].label == "2025-02" and periods(defn, monthly, 2024)[10].end == midnight(2025, 3, 1)
    assert periods(defn, monthly, 2023)[10].end == midnight(2024, 3, 1)  # February of a leap year ends on the 29th


def _folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    for name in ("response.yaml", "serious_incident.yaml", "calendar.yaml"):
        (folder / name).write_text((WORKFLOWS / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "school_year.yaml").write_text(text, encoding="utf-8")
    return folder


def test_two_terms_of_a_school_that_has_two(tmp_path: Path) -> None:
    old = SCHOOL_YEAR[SCHOOL_YEAR.index("  terms:"):SCHOOL_YEAR.index("\nretention:")]
    two = ('  terms:\n    - {id: first, ja: 前期, from: "04-01", to: "10-10"}\n'
           '    - {id: second, ja: 後期, from: "10-11", to: "03-31"}\n')
    engine = engine_at(jst(2020, 4, 1), _folder(tmp_path, SCHOOL_YEAR.replace(old, two)))
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    case.fire("hold_counselling", actor=STAFF, at=jst(2019, 10, 5))
    assert of(case, "counselling_each_term", jst(2020, 4, 1)) == {"2019:first": "met", "2019:second": "overdue"}
    assert [d.due for d in case.deadlines(jst(2020, 4, 1)) if d.id == "counselling_each_term"] == [
        midnight(2019, 10, 11), midnight(2020, 4, 1)]


@pytest.mark.parametrize(("old", "new", "said"), [
    ("every: month}", "every: month, within: P1D}", "write no 'within'"),
    ("every: month}", "every: week}", "month, term, year"),
    ("every: year, months: [9]}", "every: term, months: [9]}", "months"),
    ("every: year, months: [9]}", "every: year, months: [9, 9]}", "once"),
    ("every: year, months: [9]}", "every: year, months: [13]}", "12"),
    ("met_by: [hold_committee_meeting],\n         every: month}", "met_by: [hold_committee_meeting]}", "within"),
    ('{id: term_2, ja: 2学期, en: Second term, from: "09-01", to: "12-31"}',
     '{id: term_2, ja: 2学期, en: Second term, from: "09-01", to: "02-30"}', "term_2"),
    ('{id: term_2, ja: 2学期, en: Second term, from: "09-01", to: "12-31"}',
     '{id: term_2, ja: 2学期, en: Second term, from: "08-01", to: "12-31"}', "overlaps"),
    ('{id: term_2, ja: 2学期, en: Second term, from: "09-01", to: "12-31"}',
     '{id: term_2, ja: 2学期, en: Second term, from: "9-1", to: "12-31"}', "MM-DD"),
])
def test_a_bad_recurring_deadline_or_term_is_refused_where_it_is_written(tmp_path: Path, old: str, new: str,
                                                                        said: str) -> None:
    assert old in SCHOOL_YEAR, old
    path = _folder(tmp_path, SCHOOL_YEAR.replace(old, new, 1)) / "school_year.yaml"
    with pytest.raises(DefinitionError) as refused:
        load_file(path)
    problems = refused.value.problems
    assert all(p.file == str(path) and p.line > 1 for p in problems), problems
    assert any(said in p.message for p in problems), problems


def test_staff_cannot_record_the_committees_meeting() -> None:
    engine = engine_at(jst(2020, 4, 1))
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    with pytest.raises(Exception, match="committee"):
        case.fire("hold_committee_meeting", actor=Actor("t-2", {"staff"}), at=jst(2019, 4, 10))
    assert of(case, "committee_meets_monthly", midnight(2019, 5, 1))["2019-04"] == "overdue"
