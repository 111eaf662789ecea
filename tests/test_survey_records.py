"""Survey records kept (issue 17 item 3): the school year's survey steps make records of the class ``survey``,
kept at least five years (``minimum: true`` with ``steps``), and forgetting a pupil whose personal value is in
one of them is refused until then — by a request and by retention alike — while a pupil named by mistake
(``correction``) may still be forgotten; ``retention --apply`` does not erase them early. The response
workflow's ``survey`` rule (no steps) refuses nothing. On a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import PRINCIPAL, WORKFLOWS, jst
from test_holds_retention import close_response, response

from ijime_flow import Actor, Case, Engine, FixedClock
from ijime_flow.calendars.absence import school_year
from ijime_flow.cli.main import main
from ijime_flow.clock import TOKYO
from ijime_flow.errors import HoldInForce
from ijime_flow.privacy.holds import check_forget, holds_on
from ijime_flow.privacy.retention import due
from ijime_flow.privacy.sealing import ERASED, About

ADMIN = Actor("v-201", {"administrator"})
COMMITTEE = Actor("c-201", {"committee"})
HEAD = Actor("p-201", {"principal"})
NOTE = "s-1 が「からかわれている」と記入（2年3組）"


def year_case(engine: Engine, clock: FixedClock, year: int) -> Case:
    """A year case: s-1 named as reporter, their answer in the June questionnaire's notes (sealed under s-1's key);
    s-2 named in the committee's June minutes only; reviewed and closed in March."""
    def at(month: int, day: int) -> datetime:
        when = jst(year if month >= 4 else year + 1, month, day)
        clock.set(when)
        return when

    case = engine.open_case("school_year", actor=ADMIN, at=at(4, 1), data={"school_year": year, "school_type": "junior_high"})
    case.add_subject("s-1", "reporter", actor=COMMITTEE, at=at(6, 10))
    case.add_subject("s-2", "reporter", actor=COMMITTEE, at=at(6, 10))
    case.fire("conduct_survey", actor=COMMITTEE, at=at(6, 10),
              data={"respondents": 312, "concerns": 1, "notes": About("s-1", NOTE)})
    case.fire("hold_committee_meeting", actor=COMMITTEE, at=at(6, 20), data={"minutes": About("s-2", "s-2 の件を共有")})
    case.fire("review_year", actor=HEAD, at=at(3, 20))
    case.fire("close_year", actor=HEAD, at=at(3, 20))
    assert case.closed
    return case


def notes(engine: Engine, case_id: str) -> object:
    [survey] = [e for e in engine.get_case(case_id).history() if e.trigger == "conduct_survey"]
    return survey.data["notes"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(jst(2019, 4, 1))


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Engine:
    eng = Engine(str(tmp_path / "school.db"), clock=clock, school="school-1")
    eng.load(WORKFLOWS)
    return eng


def test_forgetting_within_five_years_is_refused(engine: Engine, clock: FixedClock) -> None:
    case = year_case(engine, clock, 2019)
    clock.set(jst(2021, 1, 15))
    for reason in ("request", "retention"):
        with pytest.raises(HoldInForce) as caught:
            engine.forget("s-1", actor=HEAD, reason=reason)
        exc = caught.value
        assert (exc.code, exc.hold, exc.case_id, exc.reason) == ("hold_in_force", "minimum", case.id, "survey")
        assert exc.ja.startswith("s-1 の記録は消去できません") and case.id in exc.ja and "「survey」" in exc.ja
        assert "2024-06-10 まで消去できません" in exc.ja and "not erased before 2024-06-10" in exc.en
    assert notes(engine, case.id) == NOTE and engine.keys.owned("s-1")  # nothing destroyed
    clock.set(jst(2024, 6, 9, 23))
    with pytest.raises(HoldInForce):
        engine.forget("s-1", actor=HEAD, reason="request")
    # s-2 is named only in the minutes, no survey record: forgetting them erases no survey
    check_forget(engine, "s-2", [case.id])
    assert engine.forget("s-2", actor=HEAD, reason="request").keys == 1
    assert notes(engine, case.id) == NOTE
    assert engine.verify().ok


def test_a_pupil_named_by_mistake_may_be_forgotten(engine: Engine, clock: FixedClock) -> None:
    case = year_case(engine, clock, 2019)
    clock.set(jst(2020, 5, 1))
    with pytest.raises(HoldInForce):
        check_forget(engine, "s-1", [case.id], reason="request")
    check_forget(engine, "s-1", [case.id], reason="correction")
    done = engine.forget("s-1", actor=HEAD, reason="correction")
    assert done.cases == (case.id,) and done.keys == 1
    assert notes(engine, case.id) == ERASED
    assert engine.verify().ok


def test_after_five_years_forgetting_is_allowed(engine: Engine, clock: FixedClock) -> None:
    case = year_case(engine, clock, 2019)
    clock.set(jst(2024, 6, 10, 0, 30))  # the minimum ends on 2024-06-10 (Japan time)
    assert [h.kind for h in holds_on(engine, case.id)] == []
    engine.forget("s-1", actor=HEAD, reason="request")
    assert notes(engine, case.id) == ERASED


def test_the_retention_listing_names_the_survey(engine: Engine, clock: FixedClock) -> None:
    case = year_case(engine, clock, 2019)
    clock.set(jst(2022, 4, 1))
    by_id = {s.subject_id: s for s in due(engine, jst(2022, 4, 1)).subjects}
    s1 = by_id["s-1"]
    assert s1.status == "held" and "「survey」" in s1.ja and "2024-06-10" in s1.ja and case.id in s1.ja
    [hold] = [h.to_dict() for h in s1.holds]
    assert (hold["kind"], hold["reason"], hold["until"], hold["case_id"]) == ("minimum", "survey", "2024-06-10", case.id)
    survey = next(r for r in case_retention_rules(s1) if r["class"] == "survey")
    assert (survey["minimum"], survey["start"], survey["due_on"]) == (True, "2019-06-10", "2024-06-10")


def case_retention_rules(item: object) -> list[dict[str, object]]:
    rules: list[dict[str, object]] = item.to_dict()["cases"][0]["rules"]  # type: ignore[attr-defined]
    return rules


def _short_rules(tmp_path: Path) -> Path:
    """The school year with a case rule that comes due the day after closing: only the survey minimum keeps it."""
    text = (WORKFLOWS / "school_year.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "2019.1"', 'version: "2019.1-short"')
    text = text.replace("- {class: case, keep: P5Y, after: closed, count_from: next_school_year,",
                        "- {class: case, keep: P1D, after: closed,")
    assert "keep: P1D" in text
    folder = tmp_path / "short"
    folder.mkdir()
    (folder / "school_year.yaml").write_text(text, encoding="utf-8")
    return folder


def test_retention_apply_does_not_erase_the_survey_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `retention --apply` runs now (the system clock): the year closed last school year, its survey within five years
    year = school_year(datetime.now(TOKYO).date()) - 1
    db = tmp_path / "board.db"
    clock = FixedClock(jst(year, 4, 1))
    with Engine(str(db), clock=clock, school="school-1") as engine:
        engine.load(_short_rules(tmp_path))
        case = year_case(engine, clock, year)
        # another school's year, s-3 named in its minutes only: no survey record keeps it
        other = engine.open_case("school_year", actor=ADMIN, at=jst(year, 4, 1), school="school-2",
                                 data={"school_year": year, "school_type": "junior_high"})
        other.add_subject("s-3", "reporter", actor=COMMITTEE)
        other.fire("hold_committee_meeting", actor=COMMITTEE, data={"minutes": About("s-3", "s-3 の件")})
        other.fire("review_year", actor=HEAD)
        other.fire("close_year", actor=HEAD)
    argv = ["retention", "--db", str(db), "--json"]
    assert main(argv) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["due"] == ["s-3"]
    by_id = {s["subject_id"]: s for s in listing["subjects"]}
    # per pupil: s-1 (in the survey) held by the survey's minimum; s-2 (not in it) kept, as the case's records are
    # kept at least as long as their longest rule says
    assert by_id["s-1"]["status"] == "held" and f"{year + 5}-06-10" in by_id["s-1"]["ja"]
    assert by_id["s-2"]["status"] == "kept" and f"{year + 5}-06-10" in by_id["s-2"]["ja"]
    assert main([*argv, "--apply", "--actor-id", "p-201", "--roles", "principal"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["forgotten"] == ["s-3"] and out["refused"] is None
    with Engine(str(db), clock=FixedClock(datetime.now(TOKYO))) as engine:
        assert notes(engine, case.id) == NOTE and engine.keys.owned("s-1")
        with pytest.raises(HoldInForce):  # and forgetting s-1 by hand is refused as well
            engine.forget("s-1", actor=HEAD, reason="retention")
        assert engine.verify().ok
    assert main(["retention", "--db", str(db)]) == 0
    table = capsys.readouterr().out
    assert "保全中" in table and "survey" in table


def test_the_response_survey_rule_refuses_nothing(engine: Engine, clock: FixedClock) -> None:
    case = close_response(response(engine, clock, jst(2019, 5, 1), ["s-1"]), clock, jst(2019, 5, 2), about="s-1")
    clock.set(jst(2019, 6, 1))
    assert holds_on(engine, case.id) == []
    assert engine.forget("s-1", actor=PRINCIPAL, reason="request").keys == 1


def test_the_day_counts_in_japan(engine: Engine, clock: FixedClock) -> None:
    case = year_case(engine, clock, 2019)
    clock.set(datetime(2024, 6, 9, 14, 59, tzinfo=UTC))  # 23:59 on 9 June in Japan
    [hold] = holds_on(engine, case.id)
    assert hold.until == date(2024, 6, 10)
    clock.set(datetime(2024, 6, 9, 15, 0, tzinfo=UTC))  # midnight: 10 June in Japan
    assert holds_on(engine, case.id) == []


def test_the_listing_holds_only_the_pupil_in_the_survey_and_only_until_its_minimum_ends(engine: Engine,
                                                                                        clock: FixedClock) -> None:
    """Per pupil, as of the listing's time: s-2 (in the committee's minutes, not in a survey record) is not held by
    the survey's minimum; s-1 is, until 2024-06-10 — a listing as of later shows s-1 free of it even when run now."""
    year_case(engine, clock, 2019)
    clock.set(jst(2022, 4, 1))
    listed = {s.subject_id: s for s in due(engine, jst(2022, 4, 1)).subjects}
    assert [h.kind for h in listed["s-1"].holds] == ["minimum"]
    assert [h.kind for h in listed["s-2"].holds] == []
    later = {s.subject_id: s for s in due(engine, jst(2024, 6, 10)).subjects}  # the clock still says 2022
    assert [h.kind for h in later["s-1"].holds] == []
