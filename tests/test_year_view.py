"""The board's view of the 2019 school year (issue 17 item 6): three junior high schools' year cases with the
duties they recorded — one held no questionnaire in the second term, one committee did not meet in June (it met
on 2 July instead) — checked cell by cell against the marks written out below; ``ijime-flow duties`` (text and
JSON, exit codes) and ``ijime-flow cases --workflow school_year --overdue`` on a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, WORKFLOWS, jst

from ijime_flow import Actor, Engine, FixedClock
from ijime_flow.audit.year_view import year_view
from ijime_flow.cli.main import main
from ijime_flow.errors import InvalidData

ADMIN = Actor("v-101", {"administrator"})
COMMITTEE = Actor("c-101", {"committee"})
TEACHER = Actor("t-101", {"staff"})
AS_OF = jst(2020, 1, 15, 12)  # the third term under way
SCHOOLS = ("school-1", "school-2", "school-3")

Step = tuple[datetime, str, Actor, dict[str, Any]]


def plan(school: str) -> list[Step]:
    """What a school recorded from April 2019 to mid-January 2020."""
    survey = {"respondents": 312, "concerns": 4}
    steps: list[Step] = [(jst(2019, 4, 5), "launch_committee", COMMITTEE, {})]
    for month in (4, 5, 6, 7, 8, 9, 10, 11, 12):
        if not (school == "school-3" and month == 6):  # school-3: no meeting in June
            steps.append((jst(2019, month, 20), "hold_committee_meeting", COMMITTEE, {}))
    if school == "school-3":  # the June meeting held on 2 July: it meets July, not June
        steps.append((jst(2019, 7, 2), "hold_committee_meeting", COMMITTEE, {}))
    steps.append((jst(2020, 1, 10), "hold_committee_meeting", COMMITTEE, {}))
    steps += [(jst(2019, 5, 15), "hold_training", ADMIN, {"theme": "いじめの定義と早期発見"}),
              (jst(2019, 6, 12), "conduct_survey", COMMITTEE, survey),
              (jst(2019, 6, 20), "hold_counselling", TEACHER, {}),
              (jst(2019, 7, 5), "conduct_parent_survey", COMMITTEE, {"respondents": 280, "concerns": 1}),
              (jst(2019, 7, 10), "conduct_evaluation_survey", COMMITTEE, {}),
              (jst(2019, 7, 19), "review_term", ADMIN, {}),
              (jst(2019, 9, 15), "hold_awareness_month", ADMIN, {}),
              (jst(2019, 10, 10), "interview_after_survey", TEACHER, {"pupils": 320, "interviewed": 320}),
              (jst(2019, 10, 20), "hold_training", ADMIN, {"theme": "ネットいじめ"}),
              (jst(2019, 11, 20), "hold_counselling", TEACHER, {}),
              (jst(2019, 12, 10), "conduct_evaluation_survey", COMMITTEE, {}),
              (jst(2019, 12, 20), "review_term", ADMIN, {})]
    if school != "school-2":  # school-2: neither the city-wide questionnaire nor its own in the second term
        steps += [(jst(2019, 9, 10), "conduct_citywide_survey", COMMITTEE, survey),
                  (jst(2019, 11, 12), "conduct_survey", COMMITTEE, survey)]
    return steps


# the marks expected, one per period in order (months April-March, terms 1-3, or the year), written out by hand
BASE = {
    "survey_each_term": "済済…",
    "parent_survey_each_year": "済",
    "citywide_survey_in_september": "済",
    "interviews_after_survey": "済",
    "counselling_each_term": "済済…",
    "committee_meets_monthly": "済済済済済済済済済済……",
    "training_each_term": "済済…",
    "awareness_month_in_september": "済",
    "evaluation_survey_each_term": "済済…",
    "review_each_term": "済済…",
    "year_reviewed_by_year_end": "…",
    "committee_launched_in_april": "済",
}
EXPECTED = {
    "school-1": BASE,
    "school-2": {**BASE, "survey_each_term": "済✗…", "citywide_survey_in_september": "✗"},
    "school-3": {**BASE, "committee_meets_monthly": "済済✗済済済済済済済……"},
}
SHORTS = {"committee_meets_monthly": ["4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月", "1月", "2月", "3月"],
          "survey_each_term": ["1学期", "2学期", "3学期"], "parent_survey_each_year": ["年度"],
          "interviews_after_survey": ["9月・10月"]}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "board.db"
    clock = FixedClock(jst(2019, 4, 1, 9))
    with Engine(str(path), clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        cases = {s: engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), school=s,
                                     data={"school_year": 2019, "school_type": "junior_high"}) for s in SCHOOLS}
        other = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), school="school-1",
                                 data={"school_year": 2018, "school_type": "junior_high"})  # another year: not shown
        assert other.facts["school_year"] == 2018
        engine.open_case("response", actor=STAFF, at=jst(2019, 4, 1, 9), school="school-4")  # no year case
        for at, school, trigger, actor, data in sorted((at, s, t, a, d) for s in SCHOOLS for at, t, a, d in plan(s)):
            clock.set(at)
            cases[school].fire(trigger, actor=actor, at=at, data=data)
    yield path


def test_each_cell_as_written(db: Path) -> None:
    with Engine(str(db), clock=FixedClock(AS_OF)) as engine:
        view = year_view(engine, 2019, as_of=AS_OF)
    assert [s.school for s in view.schools] == list(SCHOOLS)
    assert view.without_case == ("school-4",)
    for school in view.schools:
        marks = {d.id: "".join(c.mark for c in d.cells) for d in school.duties}
        assert marks == EXPECTED[school.school], school.school
        for duty in school.duties:
            if duty.id in SHORTS:
                assert [c.short for c in duty.cells] == SHORTS[duty.id]
        assert school.states == ("年度の取組中",) and not school.closed
    june = view.schools[2].duties[5].cells[2]
    assert (june.period, june.period_ja, june.status, june.due) == ("2019-06", "2019年度 6月", "overdue", jst(2019, 7, 1, 0))
    july = view.schools[2].duties[5].cells[3]
    assert (july.status, july.met_at) == ("met", jst(2019, 7, 2))
    assert [(n.duty, n.period, n.schools) for n in view.not_done] == [
        ("survey_each_term", "2019:term_2", ("school-2",)),
        ("citywide_survey_in_september", "2019", ("school-2",)),
        ("committee_meets_monthly", "2019-06", ("school-3",))]
    assert view.overdue and not view.schools[0].overdue
    assert view.schools[0].count("met") == 25 and view.schools[0].count("open") == 8


def test_before_the_year_and_one_school(db: Path) -> None:
    with Engine(str(db), clock=FixedClock(AS_OF)) as engine:
        early = year_view(engine, 2019, as_of=jst(2019, 4, 2))
        assert not early.overdue and early.not_done == ()  # nothing due before 1 May
        only = year_view(engine, 2019, as_of=AS_OF, schools=["school-3", "school-9"])
        assert [s.school for s in only.schools] == ["school-3"] and only.without_case == ("school-9",)
        assert year_view(engine, 2020, as_of=AS_OF).schools == ()
        with pytest.raises(InvalidData):
            year_view(engine, 19, as_of=AS_OF)


def test_duties_command(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["duties", "--db", str(db), "--year", "2019", "--as-of", "2020-01-15T12:00"])
    out = capsys.readouterr().out
    assert code == 1
    assert "学校 school-2" in out and "2019年度 2学期 いじめに特化したアンケート（無記名、学期に1回以上）: school-2" in out
    assert "2019年度 6月 校内いじめ問題対策委員会の定例会（月に1回）: school-3" in out
    assert "no school_year case for 2019: school-4" in out
    assert "4月済 5月済 6月✗ 7月済" in out
    assert main(["duties", "--db", str(db), "--year", "2019", "--as-of", "2020-01-15T12:00", "--school", "school-1"]) == 0
    assert "なし / none" in capsys.readouterr().out
    assert main(["duties", "--db", str(db), "--year", "2019", "--as-of", "2020-01-15T12:00", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["year"] == 2019 and data["overdue"] is True and data["without_case"] == ["school-4"]
    assert [s["school"] for s in data["schools"]] == list(SCHOOLS)
    for school in data["schools"]:
        assert {d["id"]: "".join(c["mark"] for c in d["cells"]) for d in school["duties"]} == EXPECTED[school["school"]]
    assert data["schools"][1]["counts"]["overdue"] == 2
    assert [(n["duty"], n["schools"]) for n in data["not_done"]] == [
        ("survey_each_term", ["school-2"]), ("citywide_survey_in_september", ["school-2"]),
        ("committee_meets_monthly", ["school-3"])]


@pytest.mark.parametrize("argv", [["--year", "nineteen"], ["--year", "2019", "--as-of", "someday"]])
def test_duties_unusable_input(db: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duties", "--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ijime-flow: ") and "Traceback" not in err
    assert main(["duties", "--db", str(db.parent / "none.db"), "--year", "2019"]) == 2


def test_cases_overdue_lists_the_overdue_schools(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["cases", "--db", str(db), "--workflow", "school_year", "--overdue", "--as-of", "2020-01-15T12:00", "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["school"] for r in rows) == ["school-2", "school-3"]
    assert all(r["overdue"] for r in rows)
    assert main(argv[:-1]) == 0
    out = capsys.readouterr().out
    assert "school-2" in out and "school-3" in out and "2 件" in out and "school-1 " not in out
    early = ["cases", "--db", str(db), "--workflow", "school_year", "--overdue", "--as-of", "2019-06-15", "--json"]
    assert main(early) == 0
    assert json.loads(capsys.readouterr().out) == []
