"""Replay for auditors: a case's state at a past time or seq, under its pinned definition; its history
under another definition; the `replay` command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, MAIN_LINE, PRINCIPAL, STAFF, WORKFLOWS, finish_regions, jst, open_case, walk_main_line

from ijime_flow import Case, Engine
from ijime_flow.audit.replay import render_replay, replay_against, state_at
from ijime_flow.cli.replay import parse_time, register
from ijime_flow.errors import DefinitionError, InvalidData, UnknownCase
from ijime_flow.language.loader import load_file

RESPONSE = WORKFLOWS / "response.yaml"
BOARD_ROLES = "to: board_reported, roles: [principal]}"
RESPONDING = ("responding.bystander_guidance.guiding", "responding.perpetrator_guidance.interviewing",
              "responding.victim_support.interviewing")


def variant(tmp_path: Path, name: str, version: str, *replacements: tuple[str, str]) -> Path:
    """A copy of the response workflow with a new version and some text replaced (each must occur once)."""
    text = RESPONSE.read_text(encoding="utf-8")
    for old, new in [('version: "2019.1"', f'version: "{version}"'), *replacements]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "response.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def walked(engine: Engine) -> Case:
    """Opened 2019-05-01 09:00 (seq 1); the main line on 2019-05-01..07 at 10:00 (seq 2..8)."""
    return walk_main_line(open_case(engine))


# -- state_at -------------------------------------------------------------------------------------------
def test_state_between_steps_is_the_state_after_the_last_step_before(sqlite_engine: Engine) -> None:
    case = walked(sqlite_engine)
    point = state_at(sqlite_engine, case.id, at=jst(2019, 5, 3, 17))
    # steps: stop_act 5/1, report_to_administrator 5/2, share_with_committee 5/3 (the 3rd step, seq 4)
    assert point.seq == 4 and point.last_seq == 8
    assert point.events[-1].trigger == "share_with_committee"
    assert point.at == jst(2019, 5, 3, 10) and point.as_of == jst(2019, 5, 3, 17)
    assert point.active_states == ("shared_with_committee",)
    assert point.state_labels == ("委員会で情報共有",)
    assert point.facts == {} and point.closed is False
    assert (point.workflow, point.version, point.school) == ("response", "2019.1", "school-1")
    status = {d.id: d.status for d in point.deadlines}
    # reported the day after discovery, shared the day after reporting: both same-day deadlines done late
    assert status == {"report_to_administrator_same_day": "missed", "share_with_committee_same_day": "missed",
                      "fact_finding_promptly": "open"}
    fact_finding = point.deadlines[-1]
    assert fact_finding.due == jst(2019, 5, 4, 10) and fact_finding.met_at is None


def test_the_event_at_the_time_asked_is_included_and_deadlines_are_judged_then(engine: Engine) -> None:
    case = walked(engine)
    just_before = state_at(engine, case.id, at=jst(2019, 5, 4, 9, 59))
    assert just_before.seq == 4 and {d.id: d.status for d in just_before.deadlines}["fact_finding_promptly"] == "open"
    exactly = state_at(engine, case.id, at=jst(2019, 5, 4, 10))
    assert exactly.seq == 5 and exactly.active_states == ("fact_finding",)
    assert {d.id: (d.status, d.met_seq) for d in exactly.deadlines}["fact_finding_promptly"] == ("met", 5)
    # the morning after discovery: stop_act done, the report to the administrator is overdue
    morning = state_at(engine, case.id, at=jst(2019, 5, 2, 9))
    assert morning.seq == 2 and morning.active_states == ("initial_response",)
    [report] = morning.deadlines
    assert (report.id, report.status, report.status_ja) == ("report_to_administrator_same_day", "overdue", "期限超過（未実施）")
    # a time given in another zone is the same moment: 08:00 UTC is 17:00 in Japan
    from datetime import UTC, datetime
    assert state_at(engine, case.id, at=datetime(2019, 5, 3, 8, 0, tzinfo=UTC)).seq == 4
    assert state_at(engine, case.id, at=datetime(2019, 5, 3, 0, 59, tzinfo=UTC)).seq == 3  # 09:59 JST


def test_state_at_a_seq_and_at_the_end(engine: Engine) -> None:
    case = walked(engine)
    point = state_at(engine, case.id, seq=6)
    assert point.seq == 6 and point.events[-1].trigger == "confirm_facts"
    assert point.active_states == ("facts_confirmed",) and point.state_labels == ("事実確認の結果",)
    assert point.facts == {"bullying_recognised": True}
    assert point.as_of == point.at == jst(2019, 5, 5, 10)
    first = state_at(engine, case.id, seq=1)
    assert first.active_states == ("discovered",) and first.at == jst(2019, 5, 1, 9)
    [report] = first.deadlines
    assert report.status == "open"
    end = state_at(engine, case.id)
    assert end.seq == 8 and end.active_states == tuple(sorted(case.active_states)) == RESPONDING
    assert end.facts == dict(case.facts)
    assert len(end.events) == len(case.history()) == 8


def test_facts_after_a_later_fact_are_not_seen_earlier(engine: Engine) -> None:
    case = walked(engine)
    case.record_fact("serious_violence_or_extortion", True, actor=STAFF, at=jst(2019, 5, 8, 12))
    assert "serious_violence_or_extortion" not in state_at(engine, case.id, at=jst(2019, 5, 8, 11, 59)).facts
    later = state_at(engine, case.id, at=jst(2019, 5, 8, 12))
    assert later.seq == 9 and later.facts["serious_violence_or_extortion"] is True


def test_refusals(engine: Engine) -> None:
    case = walked(engine)
    with pytest.raises(InvalidData, match="after the time asked") as before:
        state_at(engine, case.id, at=jst(2019, 5, 1, 8, 59))
    assert "2019-05-01 09:00" in str(before.value)  # names when it was opened (Japan time)
    from datetime import datetime
    with pytest.raises(InvalidData, match="naive"):
        state_at(engine, case.id, at=datetime(2019, 5, 3, 17))
    for seq in (0, 9, -1):
        with pytest.raises(InvalidData, match="its last seq is 8"):
            state_at(engine, case.id, seq=seq)
    with pytest.raises(InvalidData, match="not both"):
        state_at(engine, case.id, at=jst(2019, 5, 3), seq=3)
    with pytest.raises(UnknownCase):
        state_at(engine, "no-such-case")


def test_replay_uses_the_pinned_definition_not_the_file_loaded_now(sqlite_engine: Engine, db_path: Path,
                                                                     tmp_path: Path) -> None:
    original = sqlite_engine.definition("response")
    case = walked(sqlite_engine)
    changed = variant(tmp_path, "changed", "2020.1", ("ja: 委員会で情報共有", "ja: いじめ対策委員会で共有した"))
    sqlite_engine.load(changed)
    assert sqlite_engine.definition("response").version == "2020.1"  # new cases open under the change
    point = state_at(sqlite_engine, case.id, seq=4)
    assert (point.version, point.sha256) == ("2019.1", original.sha256)
    assert point.state_labels == ("委員会で情報共有",)
    assert "委員会で情報共有" in render_replay(point) and "いじめ対策委員会で共有した" not in render_replay(point)
    newer = walk_main_line(open_case(sqlite_engine), until="share_with_committee")
    later = state_at(sqlite_engine, newer.id)
    assert later.version == "2020.1" and later.state_labels == ("いじめ対策委員会で共有した",)
    # an engine with no workflow loaded at all replays from the text the store kept
    with Engine(db_path) as bare:
        assert bare.definitions == {}
        again = state_at(bare, case.id, at=jst(2019, 5, 3, 17))
        assert (again.version, again.sha256, again.state_labels) == ("2019.1", original.sha256, ("委員会で情報共有",))
        assert state_at(bare, case.id, seq=4).to_dict() == point.to_dict()


def test_to_dict_is_json_with_japan_time(engine: Engine) -> None:
    case = walked(engine)
    data = json.loads(json.dumps(state_at(engine, case.id, at=jst(2019, 5, 5, 12)).to_dict(), ensure_ascii=False))
    assert data["seq"] == 6 and data["last_seq"] == 8
    assert data["definition"]["version"] == "2019.1" and len(data["definition"]["sha256"]) == 64
    assert data["at_jst"] == "2019-05-05T10:00:00+09:00" and data["as_of_jst"] == "2019-05-05T12:00:00+09:00"
    assert data["active_states"] == ["facts_confirmed"] and data["state_labels"] == ["事実確認の結果"]
    assert data["facts"]["bullying_recognised"]["value"] is True
    by_id = {d["id"]: d for d in data["deadlines"]}
    assert by_id["fact_finding_promptly"]["status"] == "met" and by_id["fact_finding_promptly"]["met_seq"] == 5
    assert by_id["share_with_committee_same_day"]["status_ja"] == "期限後に実施"
    assert by_id["share_with_committee_same_day"]["due_jst"] == "2019-05-03T00:00:00+09:00"
    assert data["closed"] is False


def test_render_replay_shows_the_timeline_then_the_state(engine: Engine) -> None:
    case = walked(engine)
    case.record_fact("serious_violence_or_extortion", False, actor=STAFF, at=jst(2019, 5, 8, 12))
    text = render_replay(state_at(engine, case.id, at=jst(2019, 5, 8, 18)))
    timeline, _, state = text.partition("時点の状態")
    assert "#1 " in timeline and "#9 " in timeline and "#10" not in timeline
    assert "report_to_board" in timeline and "p-001 [principal]" in timeline
    assert timeline.rstrip().endswith("2019-05-08 18:00 JST")
    assert state.startswith(" / state at 2019-05-08T18:00:00+09:00")
    assert "いじめが起きた集団への働きかけ" not in state and "観衆・傍観者への指導" in state
    assert "bullying_recognised" in state and "serious_violence_or_extortion" in state and "いいえ (false)" in state
    assert "期限後に実施 / missed" in state and "share_with_committee_same_day" in state
    early = render_replay(state_at(engine, case.id, seq=2))
    assert "report_to_administrator_same_day: 期限前（未実施） / open" in early
    assert "事実 / facts: （なし / none）" in early


# -- replay_against --------------------------------------------------------------------------------------
def lenient_case(engine: Engine, tmp_path: Path) -> Case:
    """A case under a policy where staff may report to the board, and a teacher did."""
    lenient = variant(tmp_path, "lenient", "2019.1-lenient", (BOARD_ROLES, "to: board_reported, roles: [principal, staff]}"))
    engine.load(lenient)
    case = open_case(engine)
    for day, (trigger, actor, data) in enumerate(MAIN_LINE, start=1):
        case.fire(trigger, actor=STAFF if trigger == "report_to_board" else actor, at=jst(2019, 5, day, 10), data=data)
    assert case.history()[6].actor.id == STAFF.id and engine.verify(case.id).ok
    return case


def test_against_a_revision_names_the_first_step_it_would_not_allow(sqlite_engine: Engine, tmp_path: Path) -> None:
    case = lenient_case(sqlite_engine, tmp_path)
    revised = load_file(variant(tmp_path, "revised", "2020.1"))  # report_to_board: principal only
    result = replay_against(sqlite_engine, case.id, revised)
    assert not result.allowed
    assert (result.seq, result.trigger, result.actor_id, result.actor_roles) == (7, "report_to_board", "t-014", ("staff",))
    assert result.kind == "PermissionDenied" and result.allowed_roles == ("principal",)
    assert result.states == ("facts_confirmed",) and result.state_labels == ("事実確認の結果",) and result.events == 7
    assert result.pinned.version == "2019.1-lenient" and result.against.version == "2020.1"
    ja, _, en = result.message.partition(" / ")
    assert ja.startswith("seq 7: t-014（staff）による「report_to_board」は response 2020.1 では認められません")
    assert en == "seq 7: report_to_board by t-014 (staff) — not allowed under response 2020.1 (roles: principal)"
    assert "principal" in result.reason
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["allowed"] is False and data["refused"]["seq"] == 7 and data["refused"]["actor"]["id"] == "t-014"


def test_against_the_same_or_a_looser_definition_everything_is_allowed(engine: Engine, tmp_path: Path) -> None:
    case = finish_regions(walked(engine))  # the regions done: the automatic step to monitoring
    assert case.history()[-1].type == "automatic"
    same = replay_against(engine, case.id, load_file(RESPONSE))
    assert same.allowed and same.seq is None and same.kind is None
    assert same.states == ("monitoring",) and same.events == len(case.history())
    assert same.against.sha256 == same.pinned.sha256 and same.then_automatic == ()
    assert same.message.endswith(f"every one of the {same.events} events is allowed under response 2019.1")
    looser = load_file(variant(tmp_path, "lenient", "2019.1-lenient",
                               (BOARD_ROLES, "to: board_reported, roles: [principal, staff]}")))
    assert replay_against(engine, case.id, looser).allowed


def test_against_a_stricter_condition_is_a_guard_failure(engine: Engine, tmp_path: Path) -> None:
    case = walked(engine)
    stricter = load_file(variant(
        tmp_path, "stricter", "2020.2",
        ("when: {fact: bullying_recognised, equals: true, ja: いじめの事実が確認されていること, en: bullying was recognised}",
         "when: {all: [{fact: bullying_recognised, equals: true}, {fact: serious_violence_or_extortion, is_set: true}]}")))
    result = replay_against(engine, case.id, stricter)
    assert (result.seq, result.trigger, result.kind) == (8, "begin_response", "GuardFailed")
    assert result.actor_id == COMMITTEE.id and result.allowed_roles == ()
    assert result.states == ("board_reported",)


def test_against_another_workflow_is_refused(engine: Engine) -> None:
    case = walked(engine)
    with pytest.raises(InvalidData, match="runs workflow 'response'"):
        replay_against(engine, case.id, load_file(WORKFLOWS / "serious_incident.yaml"))


def test_against_who_opened(engine: Engine, tmp_path: Path) -> None:
    case = walk_main_line(engine.open_case("response", actor=ADMIN, at=jst(2019, 5, 1, 9)), until="stop_act")
    only_principal = load_file(variant(tmp_path, "opened", "2020.3", ("opened_by: [staff]", "opened_by: [principal]")))
    result = replay_against(engine, case.id, only_principal)
    assert (result.seq, result.trigger, result.actor_id, result.allowed_roles) == (1, "opened", "v-002", ("principal",))
    assert replay_against(engine, walk_main_line(open_case(engine)).id, load_file(RESPONSE)).allowed
    assert PRINCIPAL.roles == {"principal"}


# -- the command ------------------------------------------------------------------------------------------
def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ijime-flow")
    register(parser.add_subparsers())
    args = parser.parse_args(["replay", *argv])
    code: int = args.run(args)
    return code


def test_command_json_at_a_time_without_zone_is_japan_time(sqlite_engine: Engine, db_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    case = walked(sqlite_engine)
    capsys.readouterr()  # what the library logged while walking
    assert run("--db", str(db_path), case.id, "--at", "2019-05-03T17:00", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["case_id"] == case.id and data["seq"] == 4
    assert data["active_states"] == ["shared_with_committee"]
    assert data["as_of_jst"] == "2019-05-03T17:00:00+09:00" and data["at"] == "2019-05-03T10:00:00+09:00"
    assert run("--db", str(db_path), case.id, "--at", "2019-05-03T00:59:00Z", "--json") == 0
    assert json.loads(capsys.readouterr().out)["seq"] == 3
    assert run("--db", str(db_path), case.id, "--seq", "6", "--json") == 0
    assert json.loads(capsys.readouterr().out)["facts"]["bullying_recognised"]["value"] is True
    assert run("--db", str(db_path), case.id) == 0
    text = capsys.readouterr().out
    assert "時点の状態 / state at" in text and "seq 8 / 8" in text


def test_command_against(sqlite_engine: Engine, db_path: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    case = lenient_case(sqlite_engine, tmp_path)
    revised = variant(tmp_path, "revised", "2020.1")
    capsys.readouterr()
    assert run("--db", str(db_path), case.id, "--against", str(revised)) == 1
    out = capsys.readouterr().out
    assert "seq 7: report_to_board by t-014 (staff) — not allowed under response 2020.1 (roles: principal)" in out
    assert run("--db", str(db_path), case.id, "--against", str(revised), "--json") == 1
    assert json.loads(capsys.readouterr().out)["refused"]["seq"] == 7
    lenient = tmp_path / "lenient" / "response.yaml"
    assert run("--db", str(db_path), case.id, "--against", str(lenient), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["allowed"] is True and data["refused"] is None and data["states"] == list(RESPONDING)


def test_command_unusable_input(sqlite_engine: Engine, db_path: Path, tmp_path: Path) -> None:
    case = walked(sqlite_engine)
    with pytest.raises(InvalidData, match="ISO 8601"):
        run("--db", str(db_path), case.id, "--at", "3 May")
    with pytest.raises(InvalidData, match="after the time asked"):
        run("--db", str(db_path), case.id, "--at", "2019-04-30")
    with pytest.raises(InvalidData, match="its last seq is 8"):
        run("--db", str(db_path), case.id, "--seq", "42")
    with pytest.raises(InvalidData, match="one CASE"):
        run("--db", str(db_path), case.id, "other")
    with pytest.raises(InvalidData, match="needs a CASE"):
        run("--db", str(db_path))
    with pytest.raises(InvalidData, match="--against"):
        run("--db", str(db_path), case.id, "--seq", "3", "--against", str(RESPONSE))
    with pytest.raises(UnknownCase):
        run("--db", str(db_path), "no-such-case")
    with pytest.raises(InvalidData, match="no such store"):
        run("--db", str(tmp_path / "missing.db"), case.id)
    with pytest.raises(DefinitionError):
        run("--db", str(db_path), case.id, "--against", str(tmp_path / "missing.yaml"))
    with pytest.raises(SystemExit):  # argparse: --at and --seq exclude each other
        run("--db", str(db_path), case.id, "--at", "2019-05-03T17:00", "--seq", "3")


def test_parse_time() -> None:
    assert parse_time("2019-05-03T17:00") == jst(2019, 5, 3, 17)
    assert parse_time("2019-05-03 17:00:00+09:00") == jst(2019, 5, 3, 17)
    assert parse_time("2019-05-03T08:00:00Z") == jst(2019, 5, 3, 17)
    assert parse_time("2019-05-03") == jst(2019, 5, 3, 0)
