"""ijime-flow annual-return: the national survey's bullying tables from verified logs, checked cell by cell against a
count the test makes from its own list of what it created (never from the module)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, COUNSELOR, PRINCIPAL, REGIONS, STAFF, STEP_DATA, WORKFLOWS, jst

from ijime_flow import Actor, Case, Engine, FixedClock
from ijime_flow.cli import main
from ijime_flow.errors import InvalidData
from ijime_flow.survey import annual_return
from ijime_flow.survey.annual import AnnualReturn

YEAR = 2019
TYPES = {"school-a": "elementary", "school-b": "junior_high", "school-c": "junior_high"}  # school-d: no school_year case
COLS = ["elementary", "junior_high", "high", "special_needs", "compulsory", "secondary", "unknown"]


@dataclass(frozen=True)
class Made:
    """What the test created, as the test knows it."""

    case_id: str
    school: str
    counted: bool  # recognised within 2019 and still recognised at the reference date
    grade: int | None = None
    forms: tuple[str, ...] = ()
    found: str | None = None
    status: str = "in_progress"  # as of 2020-03-31

    @property
    def stype(self) -> str:
        return TYPES.get(self.school, "unknown")


@dataclass
class World:
    db: Path
    made: list[Made]
    serious: dict[str, tuple[str, set[str]]]  # serious case id -> (school, types)
    as_of_cases: dict[str, str]  # case id -> resolution status as of 2019-09-30


def _walk(case: Case, start: datetime, *, recognised: bool) -> datetime:
    """The main line from the case's opening, a day a step; returns the time of the last step."""
    steps: list[tuple[str, Actor, dict[str, object]]] = [
        ("stop_act", STAFF, {}), ("report_to_administrator", STAFF, {}), ("share_with_committee", ADMIN, {}),
        ("start_fact_finding", COMMITTEE, {}), ("confirm_facts", COMMITTEE, {"bullying_recognised": recognised}),
        ("report_to_board", PRINCIPAL, {})]
    steps += [("begin_response", COMMITTEE, {})] if recognised else [("close", PRINCIPAL, {"reason": "ふざけ合いと確認"})]
    at = start
    for trigger, actor, data in steps:
        at += timedelta(days=1)
        case.fire(trigger, actor=actor, at=at, data=data)
    return at


def _resolve(case: Case, at: datetime, *, close: bool) -> datetime:
    for region in REGIONS.values():
        for trigger in region:
            case.fire(trigger, actor=COMMITTEE, at=at, data=STEP_DATA.get(trigger))
    case.record_fact("act_stopped_on", at.date(), actor=COMMITTEE, at=at)
    at += timedelta(days=100)
    case.record_fact("victim_distress", False, actor=COUNSELOR, at=at)
    case.fire("resolve", actor=COMMITTEE, at=at)
    if close:
        at += timedelta(days=5)
        case.fire("close", actor=PRINCIPAL, at=at)
    return at


def _response(engine: Engine, school: str, opened: datetime, *, recognised: bool = True, grade: int | None = None,
              forms: tuple[str, ...] = (), found: str | None = None, outcome: str = "open") -> tuple[Case, datetime]:
    case = engine.open_case("response", actor=STAFF, at=opened, school=school)
    if found is not None:
        case.record_fact("discovered_through", found, actor=STAFF, at=opened)
    if grade is not None:
        case.record_fact("grade", grade, actor=STAFF, at=opened)
    for form in forms:
        case.record_fact("forms", form, actor=COMMITTEE, at=opened)
    at = _walk(case, opened, recognised=recognised)
    if outcome in ("resolved", "closed"):
        at = _resolve(case, at + timedelta(days=2), close=outcome == "closed")
    return case, at


# (school, opened, grade, forms, discovered_through, outcome): all recognised within 2019
PLAN: list[tuple[str, datetime, int | None, tuple[str, ...], str | None, str]] = [
    ("school-a", jst(2019, 4, 10), 1, ("teasing_insults",), "homeroom_teacher", "open"),
    ("school-a", jst(2019, 4, 20), 2, ("teasing_insults", "exclusion"), "victim", "resolved"),
    ("school-a", jst(2019, 5, 8), 3, ("light_physical",), "school_survey", "closed"),
    ("school-a", jst(2019, 6, 3), 4, ("online", "teasing_insults"), "victim_guardians", "open"),
    ("school-a", jst(2019, 9, 2), 6, (), "other_pupils", "open"),  # forms not recorded
    ("school-a", jst(2019, 10, 1), None, ("property",), None, "resolved"),  # neither grade nor how found
    ("school-b", jst(2019, 4, 15), 1, ("violence",), "homeroom_teacher", "closed"),
    ("school-b", jst(2019, 5, 13), 2, ("violence", "extortion"), "school_nurse", "open"),
    ("school-b", jst(2019, 6, 17), 2, ("humiliation",), "counselor", "resolved"),
    ("school-b", jst(2019, 7, 1), 3, ("online",), "victim", "open"),
    ("school-b", jst(2019, 11, 5), 3, ("teasing_insults", "violence"), "other_staff", "open"),
    ("school-b", jst(2020, 1, 14), 1, ("other",), "community", "open"),
    ("school-c", jst(2019, 4, 22), 1, ("exclusion",), "school_survey", "resolved"),
    ("school-c", jst(2019, 6, 10), 2, ("violence",), "outside_agency", "open"),
    ("school-c", jst(2019, 8, 26), 3, ("teasing_insults",), "other_guardians", "closed"),
    ("school-c", jst(2020, 2, 3), 3, ("property", "extortion"), "other", "open"),
    ("school-d", jst(2019, 5, 20), 4, ("light_physical",), "homeroom_teacher", "open"),
    ("school-d", jst(2019, 12, 2), 5, ("exclusion",), "victim", "resolved"),
]


def _status(outcome: str, last: datetime, as_of: datetime) -> str:
    return "resolved" if outcome in ("resolved", "closed") and last <= as_of else "in_progress"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = tmp_path_factory.mktemp("annual") / "cases.db"
    made: list[Made] = []
    serious: dict[str, tuple[str, set[str]]] = {}
    as_of_cases: dict[str, str] = {}
    with Engine(db, clock=FixedClock(jst(2020, 5, 1, 12))) as engine:
        engine.load(WORKFLOWS)
        for school, stype in TYPES.items():
            engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 8), school=school,
                             data={"school_year": YEAR, "school_type": stype})
        engine.open_case("school_year", actor=ADMIN, at=jst(2018, 4, 2, 8), school="school-d",  # another year's only
                         data={"school_year": 2018, "school_type": "high"})
        for school, opened, grade, forms, found, outcome in PLAN:
            case, last = _response(engine, school, opened, grade=grade, forms=forms, found=found, outcome=outcome)
            made.append(Made(case.id, school, True, grade, tuple(sorted(forms)), found, _status(outcome, last, jst(2020, 3, 31))))
            as_of_cases[case.id] = _status(outcome, last, jst(2019, 9, 30, 23, 59))
        # not counted: closed unrecognised, recognised in 2018, recognised after the year, recognised then withdrawn
        for school, opened in (("school-a", jst(2019, 5, 1)), ("school-b", jst(2019, 9, 9)), ("school-c", jst(2019, 10, 7))):
            case, _ = _response(engine, school, opened, recognised=False, grade=2, forms=("teasing_insults",))
            made.append(Made(case.id, school, False))
        case, _ = _response(engine, "school-b", jst(2019, 3, 1), grade=2, forms=("violence",), found="victim")
        made.append(Made(case.id, "school-b", False))
        case, _ = _response(engine, "school-a", jst(2020, 3, 28), grade=5, forms=("exclusion",))  # recognised 2020-04-02
        made.append(Made(case.id, "school-a", False))
        case, _ = _response(engine, "school-c", jst(2019, 7, 8), grade=1, forms=("violence",))
        case.record_fact("bullying_recognised", False, actor=COMMITTEE, at=jst(2019, 8, 1))
        made.append(Made(case.id, "school-c", False))
        # opened in March 2019, recognised on 2 April 2019: counted in 2019
        case, _ = _response(engine, "school-c", jst(2019, 3, 28), grade=2, forms=("humiliation",), found="victim")
        made.append(Made(case.id, "school-c", True, 2, ("humiliation",), "victim"))
        as_of_cases[case.id] = "in_progress"
        # serious incidents: 1号 (serious harm), 2号 (a run of 7 absent school days), both (a petition, then 30 days)
        counted = {m.school: m for m in made if m.counted and m.status == "in_progress"}  # the last open one of each school
        harm = engine.get_case(next(m.case_id for m in made if m.school == "school-b" and m.status == "in_progress"))
        new = harm.record_fact_result("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 7, 3)).opened_cases
        serious[new[0]] = ("school-b", {"type_1"})
        run = engine.get_case(counted["school-c"].case_id)
        days = [date(2019, 11, d) for d in (11, 12, 13, 14, 15, 18, 19)]
        new = run.record_facts([("absence", d) for d in days], actor=STAFF, at=jst(2019, 11, 19, 17)).opened_cases
        serious[new[0]] = ("school-c", {"type_2"})
        both = engine.get_case(counted["school-a"].case_id)
        new = both.record_fact_result("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 9, 10)).opened_cases
        both.record_facts([("absence", d) for d in days], actor=STAFF, at=jst(2019, 11, 20, 17))
        serious[new[0]] = ("school-a", {"type_1", "type_2", "both"})
        assert engine.verify().ok
    assert len([m for m in made if m.counted]) == 19 and 15 <= len(made) <= 30
    yield World(db, made, serious, as_of_cases)


def _read(db: Path, **kw: object) -> AnnualReturn:
    from ijime_flow.audit.source import open_reading

    with open_reading(db) as engine:
        return annual_return(engine, YEAR, **kw)  # type: ignore[arg-type]


def _expected(made: list[Made], serious: dict[str, tuple[str, set[str]]]) -> dict[str, Counter[tuple[str, str]]]:
    """Every cell, from the test's own list: a case adds one to each row it falls under, in its column and in 計."""
    out: dict[str, Counter[tuple[str, str]]] = {t: Counter() for t in
                                                ("recognised", "forms", "discovered_through", "resolution_status",
                                                 "serious_incidents")}
    for m in (m for m in made if m.counted):
        keys = {"recognised": [str(m.grade) if m.grade else "unknown"], "forms": list(m.forms) or ["unrecorded"],
                "discovered_through": [m.found or "unrecorded"], "resolution_status": [m.status]}
        for table, rows in keys.items():
            for row in [*rows, "total"]:
                for col in (m.stype, "total"):
                    out[table][(row, col)] += 1
    for school, types in serious.values():
        for row in [*types, "total"]:
            for col in (TYPES.get(school, "unknown"), "total"):
                out["serious_incidents"][(row, col)] += 1
    return out


def _check_every_cell(result: AnnualReturn, expected: dict[str, Counter[tuple[str, str]]]) -> None:
    for table in result.tables:
        assert [c.id for c in table.cols] == [*COLS, "total"]
        shown = {(r.id, c.id) for r in table.rows for c in table.cols}
        assert {k for k, v in expected[table.id].items() if v} <= shown, table.id
        for row, col in sorted(shown):
            assert table.count(row, col) == expected[table.id][(row, col)], (table.id, row, col)


def test_every_cell_of_every_table_matches_the_independent_count(world: World) -> None:
    result = _read(world.db)
    assert result.ok and result.unverified == ()
    _check_every_cell(result, _expected(world.made, world.serious))
    assert {c.case_id for c in result.cases} == {m.case_id for m in world.made if m.counted}
    assert result.unknown_type_schools == ("school-d",)
    assert {(m.case_id, m.fact) for m in result.missing} == {
        (m.case_id, f) for m in world.made if m.counted
        for f, v in (("forms", m.forms), ("discovered_through", m.found), ("grade", m.grade)) if not v}
    forms = result.table("forms")
    assert forms.count("total", "total") == 19 < sum(forms.count(r.id, "total") for r in forms.rows if r.id != "total")
    assert result.table("forms").rows[0].ja == "冷やかしやからかい、悪口や脅し文句、嫌なことを言われる"  # from the contract


def test_school_filter_counts_one_school(world: World) -> None:
    result = _read(world.db, school="school-b")
    mine = [m for m in world.made if m.school == "school-b"]
    _check_every_cell(result, _expected(mine, {k: v for k, v in world.serious.items() if v[0] == "school-b"}))
    assert result.table("recognised").count("total", "junior_high") == 6
    assert result.table("recognised").count("total", "elementary") == 0


def test_as_of_replays_only_the_events_up_to_it(world: World) -> None:
    as_of = jst(2019, 9, 30, 23, 59)
    result = _read(world.db, as_of=as_of)
    status = {c.case_id: c.resolution for c in result.cases}
    opened_by_then = {m.case_id for m in world.made if m.counted} & set(status)
    assert opened_by_then and all(status[i] == world.as_of_cases[i] for i in opened_by_then)
    assert len(result.serious) == 2  # the harm (July) and the petition (September): the absences came in November
    serious = result.table("serious_incidents")
    assert [serious.count(r, "total") for r in ("type_1", "type_2", "both", "total")] == [2, 0, 0, 2]
    with pytest.raises(InvalidData, match="before"):
        _read(world.db, as_of=jst(2019, 3, 1))


def test_explain_lists_the_cases_behind_a_cell(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["annual-return", "--db", str(world.db), "--year", "2019", "--explain", "forms", "violence", "junior_high"])
    ids = capsys.readouterr().out.split()
    assert code == 0
    assert sorted(ids) == sorted(m.case_id for m in world.made if m.counted and "violence" in m.forms
                                 and m.stype == "junior_high")
    code = main(["annual-return", "--db", str(world.db), "--year", "2019", "--explain", "serious_incidents", "both", "total"])
    assert code == 0 and capsys.readouterr().out.split() == [k for k, v in world.serious.items() if "both" in v[1]]


def test_unknown_explain_row_and_bad_year_are_refused_in_plain_words(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--explain", "forms", "kicking", "total"]) == 2
    err = capsys.readouterr().err
    assert "kicking" in err and "violence" in err and "Traceback" not in err
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--explain", "tables", "x", "y"]) == 2
    assert "recognised" in capsys.readouterr().err
    for bad in ("19", "twenty", "2019-20", "3000"):
        assert main(["annual-return", "--db", str(world.db), "--year", bad]) == 2
        err = capsys.readouterr().err
        assert "年度" in err and "school year" in err and "Traceback" not in err


def _md_tables(text: str) -> dict[str, dict[tuple[str, str], int]]:
    tables: dict[str, dict[tuple[str, str], int]] = {}
    current, cols = "", list[str]()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("table: `"):
            current = line.split("`")[1]
            tables[current] = {}
            cols = [c.strip() for c in lines[i + 4].strip("|").split("|")][3:]  # the column ids under the header
        elif current and line.startswith("| ") and i > 0 and lines[i - 1].startswith("| ") and not line.startswith("|  |"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] != "id":
                tables[current].update({(cells[0], col): int(v) for col, v in zip(cols, cells[3:], strict=True)})
        elif line.startswith("## ") and "表" not in line:
            current = ""
    return tables


def test_markdown_is_the_default_and_parses_back(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annual-return", "--db", str(world.db), "--year", "2019"]) == 0
    text = capsys.readouterr().out
    assert "いじめの認知件数" in text and "| id | 区分 | category | 小学校 | 中学校 |" in text
    parsed = _md_tables(text)
    expected = _expected(world.made, world.serious)
    assert set(parsed) == set(expected)
    for table, cells in parsed.items():
        assert cells == {k: expected[table][k] for k in cells}, table
        assert {k for k, v in expected[table].items() if v} <= cells.keys(), table  # no counted cell left out
    assert "school-d" in text.split("校種不明の学校")[1]


def _csv_tables(text: str) -> dict[str, dict[tuple[str, str], int]]:
    tables: dict[str, dict[tuple[str, str], int]] = {}
    rows = list(csv.reader(io.StringIO(text)))
    i = 0
    while i < len(rows):
        if rows[i] and rows[i][0].startswith("表"):
            table, cols, i = rows[i][3], rows[i + 2][3:], i + 3
            tables[table] = {}
            while i < len(rows) and rows[i]:
                tables[table].update({(rows[i][0], c): int(v) for c, v in zip(cols, rows[i][3:], strict=True)})
                i += 1
        i += 1
    return tables


def test_csv_parses_back_to_the_same_counts(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--format", "csv"]) == 0
    parsed = _csv_tables(capsys.readouterr().out)
    expected = _expected(world.made, world.serious)
    assert set(parsed) == set(expected)
    for table, cells in parsed.items():
        assert cells == {k: expected[table][k] for k in cells}, table
        assert {k for k, v in expected[table].items() if v} <= cells.keys(), table  # no counted cell left out
    out = tmp_path / "return.csv"
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--format", "csv", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and _csv_tables(out.read_text(encoding="utf-8-sig")) == parsed


def test_xlsx_has_a_sheet_per_table_with_a_bold_header(world: World, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--format", "xlsx"]) == 2
    assert "--out" in capsys.readouterr().err
    out = tmp_path / "return.xlsx"
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--format", "xlsx", "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:5] == ["表1 認知件数", "表2 態様", "表3 発見のきっかけ", "表4 解消状況", "表5 重大事態"]
    sheet = book["表1 認知件数"]
    assert [c.value for c in sheet[1]][:5] == ["id", "区分", "category", "小学校", "中学校"] and sheet["D1"].font.bold
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=3)}
    assert [rows["total"][i].value for i in (3, 4, 9, 10)] == [6, 11, 2, 19]
    forms = {r[0].value: r for r in book["表2 態様"].iter_rows(min_row=3)}
    assert forms["violence"][4].value == len([m for m in world.made if m.counted and "violence" in m.forms
                                              and m.stype == "junior_high"]) == 4
    serious = {r[0].value: r for r in book["表5 重大事態"].iter_rows(min_row=3)}
    assert [serious[k][10].value for k in ("type_1", "type_2", "both", "total")] == [2, 2, 1, 3]


def test_xlsx_without_openpyxl_names_the_extra(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openpyxl", None)
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--format", "xlsx",
                 "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "pip install 'ijime-flow[xlsx]'" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()


def test_json_has_the_tables_and_the_cases(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annual-return", "--db", str(world.db), "--year", "2019", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["year"] == 2019 and len(out["cases"]) == 19 and len(out["serious_incidents"]) == 3
    assert out["tables"][0]["counts"]["total"]["total"] == 19


def test_a_tampered_case_is_listed_not_counted_and_the_exit_code_is_1(world: World, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "tampered.db"
    shutil.copy(world.db, db)
    victim = next(m for m in world.made if m.counted and m.school == "school-b" and m.forms == ("humiliation",))
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER events_no_update")
    seq, body = raw.execute("SELECT seq, body FROM events WHERE case_id=? AND body LIKE '%\"fact\":\"forms\"%'",
                            (victim.case_id,)).fetchone()
    assert '"value":"humiliation"' in body
    raw.execute("UPDATE events SET body=? WHERE case_id=? AND seq=?",
                (body.replace('"value":"humiliation"', '"value":"violence"'), victim.case_id, seq))
    raw.close()
    result = _read(db)
    assert [u.case_id for u in result.unverified] == [victim.case_id] and "hash" in result.unverified[0].kinds
    assert victim.case_id not in {c.case_id for c in result.cases}
    _check_every_cell(result, _expected([m for m in world.made if m is not victim], world.serious))
    assert main(["annual-return", "--db", str(db), "--year", "2019"]) == 1
    captured = capsys.readouterr()
    assert victim.case_id in captured.out.split("## 検証できなかった事案")[1] and victim.case_id in captured.err
    assert main(["annual-return", "--db", str(db), "--year", "2019", "--explain", "forms", "violence", "total"]) == 1
    assert victim.case_id not in capsys.readouterr().out


def test_a_missing_store_is_unusable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annual-return", "--db", str(tmp_path / "none.db"), "--year", "2019"]) == 2
    assert "no such store" in capsys.readouterr().err
