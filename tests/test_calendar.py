"""The school calendar as data (issue 14, item 9): national holidays from the ``holidays`` package, a school's
closures per school year in ``calendar.yaml``, and each case pinning the calendar it is judged under — on
memory, a real SQLite file and a real PostgreSQL (``IJIME_REQUIRE_POSTGRES=1`` makes its absence a failure)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, WORKFLOWS

from ijime_flow import Engine, FixedClock
from ijime_flow.audit.bundle import export_bundle, import_bundle, load_bundle
from ijime_flow.calendars.file import load_calendar, load_calendar_text
from ijime_flow.calendars.resolved import CALENDAR_KEY, ResolvedCalendar, resolve
from ijime_flow.canonical import sha256_hex
from ijime_flow.case import Case
from ijime_flow.clock import TOKYO
from ijime_flow.errors import DefinitionError, InvalidData
from ijime_flow.language.loader import load_file, load_text
from ijime_flow.store import MemoryStore

KINRO = date(2026, 11, 23)  # 勤労感謝の日, a Monday
RUN = [date(2026, 11, d) for d in (16, 17, 18, 19, 20, 24, 25)]  # 7 school days around it (21-23: weekend, holiday)
PLAIN = "country: JP\nschool_years: {}\n"


def at(day: date, hour: int = 17) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TOKYO)


# -- the stores -------------------------------------------------------------------------------------------
Tamper = Callable[[str, str | None], None]  # (sha256, new text or None to delete)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Callable[[], Engine], Tamper]]:
    """A maker of engines on one store (each loads the shipped workflows), and a way to alter a stored text."""
    clock = FixedClock(at(date(2027, 3, 1)))
    if request.param == "memory":
        store = MemoryStore()

        def tamper(sha: str, text: str | None) -> None:
            if text is None:
                del store._definitions[sha]
            else:
                store._definitions[sha] = text

        target: Any = store
    elif request.param == "sqlite":
        target = tmp_path / "cases.db"

        def tamper(sha: str, text: str | None) -> None:
            with sqlite3.connect(target) as db:
                if text is None:
                    db.execute("DELETE FROM definitions WHERE sha256 = ?", (sha,))
                else:
                    db.execute("UPDATE definitions SET body = ? WHERE sha256 = ?", (text, sha))
    else:
        target = request.getfixturevalue("pg_url")
        import psycopg

        def tamper(sha: str, text: str | None) -> None:
            with psycopg.connect(target, autocommit=True) as db:
                if text is None:
                    db.execute("DELETE FROM definitions WHERE sha256 = %s", (sha,))
                else:
                    db.execute("UPDATE definitions SET body = %s WHERE sha256 = %s", (text, sha))
    engines: list[Engine] = []

    def make() -> Engine:
        engine = Engine(target, clock=clock, school="school-1")
        engine.load(WORKFLOWS)
        engines.append(engine)
        return engine

    yield make, tamper
    for engine in engines:
        if request.param != "memory":
            engine.close()


def record(case: Case, days: list[date]) -> list[list[str]]:
    """Each absent day recorded at 17:00 that day; the cases each one opened."""
    return [case.record_fact_result("absence", day, actor=STAFF, at=at(day)).opened_cases for day in days]


def calendar_file(tmp_path: Path, text: str, name: str = "calendar.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- national holidays -----------------------------------------------------------------------------------
def test_kinro_kansha_no_hi_is_a_national_holiday_and_no_school_day() -> None:
    defn = load_file(WORKFLOWS / "response.yaml")
    calendar = resolve(defn.spec.calendar, None, date(2026, 11, 16))
    assert calendar.name_of(KINRO) == "勤労感謝の日"
    assert not calendar.is_school_day(KINRO)
    assert calendar.is_school_day(date(2026, 11, 24)) and not calendar.is_school_day(date(2026, 11, 21))
    assert calendar.country == "JP" and calendar.school_years == (2025, 2026, 2027, 2028)
    # the shipped workflow lists no 2019 closures any more: 2019's holidays come from the library too
    assert defn.spec.calendar.closures == []
    old = resolve(defn.spec.calendar, None, date(2019, 7, 10))
    assert not old.is_school_day(date(2019, 7, 15)) and not old.is_school_day(date(2019, 10, 22))


def test_a_seven_school_day_run_across_the_holiday_escalates_exactly_on_the_seventh(backend: Any) -> None:
    make, _ = backend
    engine = make()
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    opened = record(case, [*RUN[:6], KINRO])  # 勤労感謝の日 recorded too: it counts for nothing
    assert opened == [[]] * 7
    [linked] = record(case, [RUN[6]])[0]
    escalated = [e for e in case.history() if e.type == "escalated"]
    assert [e.data["criterion"] for e in escalated] == ["absence_run"]
    assert "授業日に連続して欠席7日（2026-11-16〜2026-11-25）" in escalated[0].data["figures"]
    assert escalated[0].seq == case.history()[-1].seq and linked
    assert engine.verify().ok


def test_a_school_day_not_absent_breaks_the_run_but_the_holiday_does_not(backend: Any) -> None:
    make, _ = backend
    engine = make()
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    assert record(case, [*RUN[:5], date(2026, 11, 25), date(2026, 11, 26)]) == [[]] * 7  # 24th attended
    assert not case.linked_cases()


# -- the calendar file ----------------------------------------------------------------------------------
def test_the_shipped_calendar_file_loads_with_the_workflows() -> None:
    shipped = load_calendar(WORKFLOWS / "calendar.yaml")
    assert shipped.country == "JP" and 2026 in shipped.closures
    assert date(2026, 8, 31) in shipped.closures[2026] and date(2026, 9, 1) not in shipped.closures[2026]
    engine = Engine(clock=FixedClock(at(date(2026, 9, 1))), school="school-1")
    engine.load(WORKFLOWS)
    assert engine.calendars.file is not None and engine.calendars.file.file == str(WORKFLOWS / "calendar.yaml")
    calendar = engine.calendars.calendar_for(engine.definition("response"), at(date(2026, 7, 1)))
    assert not calendar.is_school_day(date(2026, 7, 21)) and calendar.name_of(date(2026, 7, 21)) == "休業日 / school closure"
    assert calendar.is_school_day(date(2026, 7, 17))  # Friday 17 July, before the vacation


def test_closures_from_the_file_neither_break_nor_count_in_a_run(backend: Any, tmp_path: Path) -> None:
    make, _ = backend
    engine = make()
    engine.load_calendar(calendar_file(tmp_path, "country: JP\nschool_years:\n  2026:\n    closures:\n"
                                                 "      - 2026-11-24..2026-11-27   # 学校の休業日\n"))
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    # Mon 16 .. Fri 20, then 21-29 closed (weekend, holiday, closures, weekend): the 7th school day is 1 December
    days = [*RUN[:5], date(2026, 11, 30), date(2026, 12, 1)]
    assert record(case, days)[:6] == [[]] * 6
    assert case.linked_cases() and case.linked_cases()[0].relation == "escalated_to"
    assert engine.verify().ok


def test_an_extra_school_day_counts_in_a_run(tmp_path: Path) -> None:
    engine = Engine(clock=FixedClock(at(date(2027, 3, 1))), school="school-1")
    engine.load(WORKFLOWS)
    engine.load_calendar(calendar_file(tmp_path, "school_years:\n  2026:\n    school_days: [2026-11-21]  # 振替授業\n"))
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    record(case, RUN[:5])  # Saturday 21st is a school day the pupil did not attend: the run is broken
    assert record(case, [date(2026, 11, 24), date(2026, 11, 25)]) == [[], []] and not case.linked_cases()


BAD_FILES = [
    ("country: JP\nschool_years:\n  2026:\n    closures:\n      - 2026-07-21\n      - 2027-04-02\n", 6,
     "2027-04-02 は 2026年度（2026-04-01〜2027-03-31）の外です / 2027-04-02 is outside school year 2026"),
    ("school_years:\n  2026:\n    closures:\n      - 2026-08-31..2026-07-21\n", 4,
     "範囲の終わり 2026-07-21 が始まり 2026-08-31 より前です / the range ends"),
    ("country: JP\nweekends: [saturday, sonday]\n", 2, "sonday"),
    ("country: XX\n", 1, "国コード「XX」の祝日は分かりません"),
    ("country: JP\nsubdivision: ZZ\n", 2, "地域「ZZ」は JP にありません"),
    ("country: JP\nschool_years:\n  2026:\n    closures: [2026-07-21]\n    holidays: []\n", 5, "不明な項目「holidays」"),
    ("school_years:\n  2026:\n    closures:\n      - 2026/07/21\n", 4, "YYYY-MM-DD"),
    ("school_years:\n  2026:\n    closures: [2026-10-17]\n    school_days: [2026-10-17]\n", 4,
     "2026-10-17 は休業日にも授業日にも書かれています"),
    ("school_years:\n  2026:\n    closures: [2026-02-30]\n", 3, "「2026-02-30」という日はありません"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_a_bad_calendar_file_is_refused_at_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = calendar_file(tmp_path, text)
    with pytest.raises(DefinitionError) as caught:
        Engine(school="s").load_calendar(path)
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.line == line, problem
    assert message in problem.message, problem.message
    assert not problem.message.isascii() and problem.message.index(" / ") > 0  # Japanese first


def test_a_workflow_naming_an_unknown_country_is_refused_at_its_line() -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8").replace(
        "  weekends: [saturday, sunday]\n", "  weekends: [saturday, sunday]\n  country: XX\n", 1)
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "response.yaml")
    [problem] = caught.value.problems
    assert problem.line == text.splitlines().index("  country: XX") + 1 and "国コード「XX」" in problem.message


def test_the_loader_does_not_read_the_calendar_file_as_a_workflow() -> None:
    assert sorted(d.id for d in Engine(school="s").load(WORKFLOWS)) == ["response", "school_year", "serious_incident"]
    assert load_calendar_text(PLAIN).closures == {}


# -- the pin -------------------------------------------------------------------------------------------------
def test_a_case_pins_its_calendar_and_the_store_keeps_its_text(backend: Any) -> None:
    make, _ = backend
    engine = make()
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    pin = case.history()[0].data[CALENDAR_KEY]
    assert case.calendar is not None and pin == case.calendar.sha256
    text = engine.store.get_definition(pin)
    assert text is not None and sha256_hex(text) == pin
    stored = json.loads(text)
    assert stored["closed"]["2026-11-23"] == "勤労感謝の日" and stored["closed"]["2026-07-21"] == "休業日 / school closure"
    assert stored["country"] == "JP" and stored["weekends"] == ["saturday", "sunday"]
    assert ResolvedCalendar.from_canonical(text).closed == case.calendar.closed
    with pytest.raises(InvalidData, match="_calendar は予約されています"):
        engine.open_case("response", actor=STAFF, at=at(RUN[0], 9), data={CALENDAR_KEY: pin})


def test_verification_replays_the_pinned_calendar_whatever_is_loaded_later(backend: Any, tmp_path: Path) -> None:
    make, tamper = backend
    engine = make()
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    record(case, RUN)
    assert case.linked_cases()
    pin = case.history()[0].data[CALENDAR_KEY]
    # a later calendar closes the 24th and 25th: under it the 7th school day would be 27 November
    later = calendar_file(tmp_path, "school_years:\n  2026:\n    closures: [2026-11-24..2026-11-25]\n", "later.yaml")
    engine.load_calendar(later)
    assert engine.verify().ok
    again = make()  # another engine on the same store, with the later calendar loaded
    again.load_calendar(later)
    read = again.get_case(case.id)
    assert read.calendar is not None and read.calendar.sha256 == pin and read.calendar.is_school_day(date(2026, 11, 24))
    assert again.verify().ok
    # a new case on that engine pins the later calendar
    other = again.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    assert other.history()[0].data[CALENDAR_KEY] != pin
    # the stored text altered (the 24th made a closure): verification fails, saying why, Japanese first
    text = engine.store.get_definition(pin)
    assert text is not None
    tamper(pin, text.replace('"2026-11-23":"勤労感謝の日"', '"2026-11-23":"勤労感謝の日","2026-11-24":"休業日 / school closure"'))
    problems = [p for p in make().verify().problems if p.case_id == case.id]
    assert [(p.seq, p.kind) for p in problems] == [(1, "calendar")]
    assert problems[0].message.startswith("固定された学校の暦") and "does not hash to its pin" in problems[0].message
    tamper(pin, None)
    [missing] = [p for p in make().verify().problems if p.case_id == case.id]
    assert missing.kind == "calendar" and "ストアにありません / the pinned school calendar" in missing.message


def test_a_bundle_carries_the_pinned_calendar_and_verifies_offline(backend: Any, tmp_path: Path) -> None:
    make, _ = backend
    engine = make()
    case = engine.open_case("response", actor=STAFF, at=at(RUN[0], 9))
    record(case, RUN)
    pin = case.history()[0].data[CALENDAR_KEY]
    path = tmp_path / "case.jsonl"
    path.write_text(export_bundle(engine, case.id, with_linked=True, exported_at=at(date(2027, 3, 1))), encoding="utf-8")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert any(line.get("sha256") == pin for line in lines if line["kind"] == "definition")
    offline, main = load_bundle(path)
    with offline:
        assert main == case.id and offline.verify().ok
        assert offline.store.get_definition(pin) == engine.store.get_definition(pin)
    target = Engine(MemoryStore(), school="school-1")
    assert import_bundle(path, target).cases and target.get_case(case.id).calendar is not None


def test_validate_checks_the_calendar_beside_the_workflows(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "workflows"
    folder.mkdir()
    for name in ("response.yaml", "serious_incident.yaml"):
        (folder / name).write_text((WORKFLOWS / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "calendar.yaml").write_text("country: JP\nschool_years:\n  2026:\n    closures: [2025-01-01]\n",
                                          encoding="utf-8")

    def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ijime_flow", "validate", *map(str, paths)], capture_output=True,
                              text=True, timeout=60)

    for target in (folder, folder / "calendar.yaml"):  # the folder, or the file named alone
        done = validate(target)
        assert done.returncode == 1
        assert "calendar.yaml:4:16" in done.stdout and "2026年度" in done.stdout
    (folder / "calendar.yaml").write_text("country: JP\nschool_years:\n  2026:\n    closures: [2026-12-28]\n",
                                          encoding="utf-8")
    done = validate(folder)
    assert done.returncode == 0 and "学校の暦 / school calendar" in done.stdout and "response 2019.1" in done.stdout
