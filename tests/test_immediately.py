"""``within: immediately`` (直ちに): due an hour after the state is entered; its statuses, wording, listing,
reload, stored reading, schema, refusals, and how policy checks compare it with ``same_day``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import jst

from ijime_flow import Actor, Definition, DefinitionError, Engine, FixedClock, load_text
from ijime_flow.audit.replay import render_replay, state_at
from ijime_flow.audit.report import case_report
from ijime_flow.deadlines import STATUS_JA
from ijime_flow.language.durations import IMMEDIATELY_GRACE, within_words
from ijime_flow.language.schema import workflow_schema
from ijime_flow.policy.static_checks import not_longer

URGENT = """\
id: urgent
version: "1"
title: {ja: 緊急の対応, en: Urgent response}
source: test
roles:
  staff: {ja: 教職員}
  principal: {ja: 校長, includes: [staff]}
opened_by: [staff]
initial: discovered
states:
  discovered:
    ja: 生命・身体への重大な被害のおそれ
    source: "7(1)"
    deadlines:
      - {id: report_immediately, ja: 直ちに校長へ報告, source: "7(1)", met_by: [report_to_principal], within: immediately}
      - {id: report_same_day, ja: 即日に報告, source: "7(1)", met_by: [report_to_principal], within: same_day}
  reported:
    ja: 校長へ報告済み
    source: "7(1)"
    deadlines:
      - id: call_police_immediately
        ja: 校長が自ら受けた報告は直ちに警察へ
        source: "7(2)"
        met_by: [call_police]
        within: immediately
        when: {distinct_actors: report_to_principal, at_least: 1, role: principal}
  closed: {ja: 対応済み, source: "7", final: true}
transitions:
  - trigger: report_to_principal
    ja: 校長へ報告した
    source: "7(1)"
    from: discovered
    to: reported
    roles: [staff]
  - trigger: call_police
    ja: 警察へ通報した
    source: "7(2)"
    from: reported
    to: closed
    roles: [principal]
"""

STAFF = Actor("t-401", {"staff"})
HEAD = Actor("p-501", {"principal"})
OPENED = jst(2019, 6, 3, 9)


@pytest.fixture
def urgent(tmp_path: Path) -> Engine:
    (tmp_path / "urgent.yaml").write_text(URGENT, encoding="utf-8")
    engine = Engine(tmp_path / "cases.db", clock=FixedClock(jst(2020, 3, 31, 18)), school="school-1")
    engine.load(tmp_path / "urgent.yaml")
    return engine


def deadline(case: Any, at: Any, name: str = "report_immediately") -> Any:
    return next(d for d in case.deadlines(at=at) if d.id == name)


def test_immediately_is_due_an_hour_after_entry(urgent: Engine) -> None:
    case = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    d = deadline(case, OPENED)
    assert timedelta(hours=1) == IMMEDIATELY_GRACE
    assert d.due == OPENED + timedelta(hours=1) == jst(2019, 6, 3, 10)
    assert (d.within, d.within_ja, d.within_en) == ("immediately", "直ちに（1時間以内）", "immediately (within 1 hour)")
    assert deadline(case, jst(2019, 6, 3, 9, 59)).status == "open"
    late = deadline(case, jst(2019, 6, 3, 10))
    assert (late.status, late.status_ja) == ("overdue", "期限超過（未実施）")
    same_day = deadline(case, jst(2019, 6, 3, 10), "report_same_day")
    assert same_day.status == "open" and same_day.within_ja == "即日（当日中）"


def test_met_at_the_due_time_is_met_and_later_is_missed(urgent: Engine) -> None:
    on_time = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    on_time.fire("report_to_principal", actor=STAFF, at=jst(2019, 6, 3, 10))  # exactly an hour: in time
    met = deadline(on_time, jst(2019, 6, 4))
    assert (met.status, met.status_ja, met.met_seq) == ("met", STATUS_JA["met"], 2)
    assert met.status_ja == "期限内に実施"
    late = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    late.fire("report_to_principal", actor=STAFF, at=jst(2019, 6, 3, 10, 1))
    missed = deadline(late, jst(2019, 6, 4))
    assert (missed.status, missed.status_ja) == ("missed", "期限後に実施")
    assert deadline(late, jst(2019, 6, 4), "report_same_day").status == "met"  # 即日 asks less


def test_the_projection_lists_it_overdue_after_the_hour(urgent: Engine) -> None:
    case = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    assert [r.case_id for r in urgent.cases(overdue=True, as_of=jst(2019, 6, 3, 9, 59))] == []
    assert [r.case_id for r in urgent.cases(overdue=True, as_of=jst(2019, 6, 3, 10))] == [case.id]
    again = urgent.get_case(case.id)  # read back from SQLite: the same deadline
    assert deadline(again, jst(2019, 6, 3, 10)).due == jst(2019, 6, 3, 10)


def test_a_deadline_can_start_on_who_took_the_step(urgent: Engine) -> None:
    by_staff = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    by_staff.fire("report_to_principal", actor=STAFF, at=jst(2019, 6, 3, 9, 30))
    assert [d.id for d in by_staff.deadlines(at=jst(2019, 6, 4))] == ["report_immediately", "report_same_day"]
    by_head = urgent.open_case("urgent", actor=HEAD, at=OPENED)
    by_head.fire("report_to_principal", actor=HEAD, at=jst(2019, 6, 3, 9, 30))
    police = deadline(by_head, jst(2019, 6, 3, 10, 30), "call_police_immediately")
    assert police.due == jst(2019, 6, 3, 10, 30) and police.status == "overdue"
    assert deadline(urgent.get_case(by_head.id), jst(2019, 6, 3, 10), "call_police_immediately").status == "open"
    assert urgent.verify().ok


def test_listings_and_reports_say_immediately(urgent: Engine) -> None:
    case = urgent.open_case("urgent", actor=STAFF, at=OPENED)
    text = render_replay(state_at(urgent, case.id))
    assert "直ちに（1時間以内）、期限 2019-06-03 10:00 JST" in text
    assert "即日（当日中）、期限 2019-06-04 00:00 JST" in text
    report = case_report(urgent, case.id, as_of=jst(2019, 6, 3, 11))
    assert "| `report_immediately` 直ちに校長へ報告 — 直ちに（1時間以内） | " in report
    assert "| `report_same_day` 即日に報告 — 即日（当日中） | " in report and "期限超過（未実施）" in report


def test_a_stored_definition_reads_immediately_back() -> None:
    defn = load_text(URGENT)
    again = Definition.from_canonical(defn.canonical)
    assert again.sha256 == defn.sha256 and again.lenient == ()
    assert again.nodes["discovered"].spec.deadlines[0].within == "immediately"


def test_the_schema_accepts_immediately_and_refuses_other_words() -> None:
    data = json.loads(json.dumps(yaml.safe_load(URGENT), default=str))
    jsonschema.validate(data, workflow_schema())
    data["states"]["discovered"]["deadlines"][0]["within"] = "soon"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, workflow_schema())


@pytest.mark.parametrize("within", ["immediatly", "Immediately", "now", "at_once"])
def test_a_misspelt_word_is_refused_japanese_first(within: str) -> None:
    text = URGENT.replace("within: immediately}", f"within: {within}}}", 1)
    with pytest.raises(DefinitionError) as info:
        load_text(text, "urgent.yaml")
    problem = info.value.problems[0]
    assert problem.path == "states.discovered.deadlines[0].within", str(info.value)
    assert problem.message.startswith(f"期限「{within}」は書けません（same_day: 即日、immediately: 直ちに、"), problem.message
    assert f"/ within '{within}' is not a deadline: write same_day, immediately or an ISO 8601 duration" in problem.message


def test_a_malformed_duration_keeps_its_own_message() -> None:
    text = URGENT.replace("within: immediately}", "within: P1.5D}", 1)
    with pytest.raises(DefinitionError) as info:
        load_text(text, "urgent.yaml")
    assert "小数は使えません" in info.value.problems[0].message


@pytest.mark.parametrize(("within", "limit", "expected"), [
    ("immediately", "same_day", True),   # 直ちに asks more than 即日
    ("same_day", "immediately", False),
    ("immediately", "immediately", True),
    ("immediately", "PT2H", True),
    ("immediately", "PT30M", False),
    ("PT30M", "immediately", True),
    ("P1D", "immediately", False),
])
def test_policy_checks_compare_immediately(within: str, limit: str, expected: bool) -> None:
    assert not_longer(within, limit) is expected


@pytest.mark.parametrize(("within", "words"), [
    ("immediately", ("直ちに（1時間以内）", "immediately (within 1 hour)")),
    ("same_day", ("即日（当日中）", "the same day (by midnight)")),
    ("P3D", ("3日以内", "within 3 days")),
    ("PT2H", ("2時間以内", "within 2 hours")),
    ("P1M2D", ("1か月2日以内", "within 1 month 2 days")),
    ("P1W", ("1週間以内", "within 1 week")),
    (" P1.5D", (" P1.5D 以内", "within  P1.5D")),  # a stored duration the strict rules refuse: as written
])
def test_within_in_words(within: str, words: tuple[str, str]) -> None:
    assert within_words(within) == words
