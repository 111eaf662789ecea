"""Deadlines due soon: ``engine.cases(due_before=...)``, ``engine.deadlines_due`` and ``follow_deadlines``, and
the ``ijime-flow due`` command — on memory, a real SQLite file and the real PostgreSQL server, same answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import jst

from ijime_flow import Actor, Engine, FixedClock, InvalidData
from ijime_flow.cli.main import main
from ijime_flow.projection import follow_deadlines

TINY = """\
id: tiny
version: "1"
title: {ja: 小さな手順, en: A small procedure}
source: test
timezone: Asia/Tokyo
roles:
  staff: {ja: 教職員}
opened_by: [staff]
initial: discovered
states:
  discovered:
    ja: 発見
    source: "1"
    deadlines:
      - {id: report_same_day, ja: 即日に管理職へ報告, en: Report the same day, source: "1", met_by: [report], within: same_day}
      - {id: plan_in_three_days, ja: 三日以内に方針を決める, en: Plan within three days, source: "1", met_by: [plan], within: P3D}
  reported: {ja: 報告済み, source: "1"}
  planned: {ja: 方針決定, source: "1"}
  closed: {ja: 終結, source: "1", final: true}
transitions:
  - {trigger: report, ja: 報告した, source: "1", from: discovered, to: reported, roles: [staff]}
  - {trigger: plan, ja: 方針を決めた, source: "1", from: reported, to: planned, roles: [staff]}
  - {trigger: close, ja: 終結した, source: "1", from: [discovered, planned], to: closed, roles: [staff]}
"""

STAFF = Actor("t-001", {"staff"})
OPENED = jst(2019, 5, 1, 9)  # the same-day deadline is due at midnight ending 1 May (JST); the other 4 May 09:00
MIDNIGHT = jst(2019, 5, 2, 0)


@pytest.fixture
def target(store_target: object) -> object:
    return store_target  # each real store in turn (conftest)


def make_engine(target: object, tmp_path: Path) -> Engine:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    engine = Engine(target, clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")  # type: ignore[arg-type]
    engine.load(tmp_path / "tiny.yaml")
    return engine


@pytest.fixture
def engine(target: object, tmp_path: Path) -> Engine:
    return make_engine(target, tmp_path)


def ids(engine: Engine, before: datetime, **kw: object) -> list[str]:
    return [row.case_id for row in engine.cases(due_before=before, **kw)]  # type: ignore[arg-type]


def test_a_same_day_deadline_due_tonight_is_due_before_tomorrow_not_before_this_morning(engine: Engine) -> None:
    case = engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="tonight")
    assert ids(engine, jst(2019, 5, 2, 9)) == ["tonight"]
    assert ids(engine, jst(2019, 5, 1, 11)) == []
    assert ids(engine, MIDNIGHT) == [] and ids(engine, MIDNIGHT + timedelta(seconds=1)) == ["tonight"]  # strictly before
    assert ids(engine, jst(2019, 5, 2, 9), school="school-2") == []
    due = list(engine.deadlines_due(timedelta(days=1), as_of=jst(2019, 5, 1, 11)))
    assert [(c, d.id, d.due, d.status, d.ja) for c, d in due] == [
        (case.id, "report_same_day", MIDNIGHT, "open", "即日に管理職へ報告")]
    assert list(engine.deadlines_due(timedelta(hours=12), as_of=jst(2019, 5, 1, 11))) == []
    # overdue ones are included, marked overdue, earliest first
    later = [(d.id, d.status) for _, d in engine.deadlines_due(timedelta(days=3), as_of=jst(2019, 5, 2, 1))]
    assert later == [("report_same_day", "overdue"), ("plan_in_three_days", "open")]


def test_met_deadlines_never_appear(engine: Engine) -> None:
    case = engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="met")
    case.fire("report", actor=STAFF, at=jst(2019, 5, 1, 15))
    assert ids(engine, jst(2019, 5, 2, 9)) == []  # the same-day one is met; the other is due on 4 May
    assert [d.id for _, d in engine.deadlines_due(timedelta(days=30), as_of=OPENED)] == ["plan_in_three_days"]
    case.fire("plan", actor=STAFF, at=jst(2019, 5, 6, 9))  # late, but met: no longer due
    assert ids(engine, jst(2030, 1, 1)) == []
    assert list(engine.deadlines_due(timedelta(days=30), as_of=OPENED)) == []


def test_closed_cases_never_appear(engine: Engine) -> None:
    engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="closed").fire("close", actor=STAFF, at=jst(2019, 5, 1, 10))
    engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="open")
    far = jst(2030, 1, 1)
    assert [r.case_id for r in engine.cases(overdue=True, as_of=far)] == ["closed", "open"]  # its row keeps them
    assert ids(engine, far) == ["open"] and ids(engine, far, closed=True) == []
    assert {c for c, _ in engine.deadlines_due(timedelta(0), as_of=far)} == {"open"}


def test_a_naive_time_is_refused_in_plain_words(engine: Engine) -> None:
    with pytest.raises(InvalidData, match=r"^due_before の日時にタイムゾーンがありません"):
        engine.cases(due_before=datetime(2019, 5, 2))
    with pytest.raises(InvalidData, match=r"^as_of の日時にタイムゾーンがありません"):
        engine.deadlines_due(timedelta(days=1), as_of=datetime(2019, 5, 2))
    with pytest.raises(InvalidData, match="due_before は日時"):
        engine.cases(due_before="2019-05-02")  # type: ignore[arg-type]
    with pytest.raises(InvalidData, match="within は timedelta"):
        engine.deadlines_due("P2D", as_of=OPENED)  # type: ignore[arg-type]


def test_follow_deadlines_reports_each_once_as_it_comes_due_and_again_when_overdue(engine: Engine) -> None:
    engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="f")
    heard: list[tuple[str, str, str]] = []

    def poll(at: datetime, seen: set) -> set:  # type: ignore[type-arg]
        return follow_deadlines(engine, lambda c, d: heard.append((c, d.id, d.status)), within=timedelta(hours=6),
                                as_of=at, seen=seen)

    seen = poll(jst(2019, 5, 1, 12), set())
    assert heard == []
    seen = poll(jst(2019, 5, 1, 19), seen)
    seen = poll(jst(2019, 5, 1, 20), seen)
    assert heard == [("f", "report_same_day", "open")]
    seen = poll(jst(2019, 5, 2, 1), seen)
    assert heard[1:] == [("f", "report_same_day", "overdue")]
    poll(jst(2019, 5, 2, 2), seen)
    assert len(heard) == 2


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = str(tmp_path / "cases.db") if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    with make_engine(url, tmp_path) as engine:
        engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="case-a")
        done = engine.open_case("tiny", actor=STAFF, at=OPENED, case_id="case-b")
        done.fire("report", actor=STAFF, at=jst(2019, 5, 1, 10))
    return url


def test_the_due_command_text(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["due", "--db", db, "--within", "P1D", "--as-of", "2019-05-01T11:00"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["事案ID", "期限ID", "期限", "期日（日本時間）", "状況"]
    assert len(lines) == 4 and "case-a" in lines[2] and "report_same_day" in lines[2] and "即日に管理職へ報告" in lines[2]
    assert "2019-05-02 00:00" in lines[2] and "期限前" in lines[2] and "期限超過" not in lines[2]
    assert lines[3].startswith("1 件（うち期限超過 0 件）")
    assert main(["due", "--db", db, "--within", "P3D", "--as-of", "2019-05-02T01:00"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:-1]
    assert [r.split()[:2] for r in rows] == [["case-a", "report_same_day"], ["case-a", "plan_in_three_days"],
                                              ["case-b", "plan_in_three_days"]]
    assert "期限超過" in rows[0] and "期限超過" not in rows[1]
    assert main(["due", "--db", db, "--within", "P1D", "--as-of", "2019-05-01T11:00", "--school", "other"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 件")


def test_the_due_command_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["due", "--db", db, "--within", "PT15H", "--as-of", "2019-05-02T00:30+09:00", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found == [{"case_id": "case-a", "deadline": "report_same_day", "ja": "即日に管理職へ報告",
                      "en": "Report the same day", "state": "discovered", "started_at": "2019-05-01T09:00:00+09:00",
                      "due": "2019-05-02T00:00:00+09:00", "overdue": True, "status": "overdue", "status_ja": "期限超過"}]


def test_the_due_command_refuses_a_bad_window(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["due", "--db", db, "--within", "2 days"]) == 2
    assert "--within" in capsys.readouterr().err
