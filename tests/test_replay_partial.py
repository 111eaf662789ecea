"""Replay and report of a damaged log show what they can: the state up to the last event that folds,
a note naming the seq that could not be folded and why, and exit code 1 ("problems found").

The damage is made the way an attacker or a broken disk would: bundles (JSON Lines) whose event
bodies are edited — hashes recomputed, so nothing but the content is wrong — or cut, whose definition
line is dropped or changed, and SQLite stores edited behind the engine's back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, WORKFLOWS, jst, open_case, walk_main_line

from ijime_flow import Engine
from ijime_flow.audit.bundle import export_bundle
from ijime_flow.audit.folding import NothingToReplay
from ijime_flow.audit.replay import render_replay, state_at
from ijime_flow.audit.report import case_report, case_report_checked
from ijime_flow.audit.source import open_source
from ijime_flow.cli import main
from ijime_flow.events import body_hash

Lines = list[dict[str, Any]]


# -- building damaged histories -------------------------------------------------------------------------
def history(engine: Engine) -> str:
    """Opened 2019-05-01 09:00 (seq 1), the main line on 05-01..07 at 10:00 (seq 2..8), then a fact on
    05-08 12:00 (seq 9): the case's id."""
    case = walk_main_line(open_case(engine))
    case.record_fact("serious_violence_or_extortion", False, actor=STAFF, at=jst(2019, 5, 8, 12))
    return case.id


def lines_of(text: str) -> Lines:
    return [json.loads(line) for line in text.splitlines()]


def text_of(lines: Lines) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n" for obj in lines)


def reseal(lines: Lines, seq: int, change: Callable[[dict[str, Any]], None]) -> Lines:
    """Edit the body of event ``seq`` and recompute its hash (as bundle_campaign in fuzzing.py does):
    the text is a well-formed event whose content the pinned workflow cannot take."""
    line = next(x for x in lines if x["kind"] == "event" and x["seq"] == seq)
    body = json.loads(line["body"])
    change(body)
    body["hash"] = body_hash(body)
    line["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return lines


def cut(lines: Lines, seq: int) -> Lines:
    line = next(x for x in lines if x["kind"] == "event" and x["seq"] == seq)
    line["body"] = line["body"][:40]  # cut inside its JSON text
    return lines


def reseal_text(lines: Lines, seq: int, text: str) -> Lines:
    line = next(x for x in lines if x["kind"] == "event" and x["seq"] == seq)
    line["body"] = text
    return lines


def swap(lines: Lines, a: int, b: int) -> Lines:
    first, second = (next(x for x in lines if x["kind"] == "event" and x["seq"] == n) for n in (a, b))
    first["body"], second["body"] = second["body"], first["body"]
    return lines


def no_definition(lines: Lines) -> Lines:
    return [x for x in lines if x["kind"] != "definition"]


def changed_definition(lines: Lines) -> Lines:
    for x in lines:
        if x["kind"] == "definition":
            x["text"] = x["text"].replace("いじめ", "いじめ（改）", 1)  # no longer the text its hash names
    return lines


def set_data(**data: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body["data"].update(data)


# name: (damage, seq it stops at, kind, a word of the reason)
PARTIAL: dict[str, tuple[Callable[[Lines], Lines], int, str, str]] = {
    "unknown state": (lambda ls: reseal(ls, 5, lambda b: b.update(to_states=["nowhere"])), 5, "unfoldable", "nowhere"),
    "unknown state among others": (lambda ls: reseal(ls, 8, lambda b: b.update(to_states=[*b["to_states"], "x.y"])),
                                   8, "unfoldable", "x.y"),
    "damaged body": (lambda ls: cut(ls, 5), 5, "unreadable", "not a valid event"),
    "body not an object": (lambda ls: reseal_text(ls, 7, "[1, 2]"), 7, "unreadable", "not a valid event"),
    "body names another seq": (lambda ls: reseal(ls, 6, lambda b: b.update(seq=7)), 6, "misplaced", "says it is seq 7"),
    "body of another case": (lambda ls: reseal(ls, 3, lambda b: b.update(case_id="case-x")), 3, "misplaced",
                             "of case case-x"),
    "bodies swapped": (lambda ls: swap(ls, 4, 5), 4, "misplaced", "says it is seq 5"),
    "fact value of the wrong type": (lambda ls: reseal(ls, 6, set_data(bullying_recognised="yes")), 6, "unfoldable",
                                     "bullying_recognised"),
    "fact the workflow lacks": (lambda ls: reseal(ls, 9, set_data(fact="no_such_fact")), 9, "unfoldable",
                                "cannot be read"),
}
# nothing folds: (damage, kind, a word of the reason)
NOTHING: dict[str, tuple[Callable[[Lines], Lines], str, str]] = {
    "missing definition": (no_definition, "definition", "is not in the store or bundle"),
    "definition text changed": (changed_definition, "definition", "does not match its hash"),
    "first event not an opening": (lambda ls: reseal(ls, 1, lambda b: b.update(type="transition")), "definition",
                                   "must be 'opened'"),
    "opened into an unknown state": (lambda ls: reseal(ls, 1, lambda b: b.update(to_states=["nowhere"])),
                                     "unfoldable", "nowhere"),
    "first body damaged": (lambda ls: cut(ls, 1), "unreadable", "not a valid event"),
    "first body names another seq": (lambda ls: reseal(ls, 1, lambda b: b.update(seq=2)), "misplaced",
                                     "says it is seq 2"),
}


@pytest.fixture
def clean(engine: Engine, tmp_path: Path) -> tuple[Engine, str, str]:
    """The engine, the case id and the bundle text of the undamaged history."""
    case_id = history(engine)
    return engine, case_id, export_bundle(engine, case_id, with_linked=False, exported_at=jst(2020, 4, 1, 9))


def damaged(tmp_path: Path, text: str, damage: Callable[[Lines], Lines]) -> Path:
    path = tmp_path / "damaged.jsonl"
    path.write_text(text_of(damage(lines_of(text))), encoding="utf-8")
    return path


def command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "unexpected error" not in out.err, out
    return code, out.out, out.err


# -- replay: the state before the event that does not fold ----------------------------------------------------
@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_replay_shows_the_state_before_the_event_that_does_not_fold(
        name: str, clean: tuple[Engine, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine, case_id, text = clean
    damage, seq, kind, word = PARTIAL[name]
    bundle = damaged(tmp_path, text, damage)
    before = state_at(engine, case_id, seq=seq - 1).to_dict()  # what the undamaged log says there

    code, out, _ = command(["replay", str(bundle), "--json"], capsys)
    assert code == 1
    shown = json.loads(out)
    problem = shown.pop("problem")
    assert shown == before  # states, facts, deadlines as of seq - 1, exactly
    assert (problem["seq"], problem["kind"], problem["shown_seq"], problem["last_seq"]) == (seq, kind, seq - 1, 9)
    assert word in problem["reason"]
    assert f"replay stopped at seq {seq}" in problem["message"] and "not shown" in problem["message"]
    assert problem["message"].startswith(f"seq {seq} で再生を止めました")

    code, out, _ = command(["replay", str(bundle)], capsys)
    assert code == 1
    timeline, _, state = out.partition("時点の状態")
    left = f"seq {seq} to 9" if seq < 9 else "seq 9"
    assert f"注意 / note: seq {seq} で再生を止めました" in timeline and f"{left} not shown" in timeline
    assert f"#{seq - 1} " in timeline and f"#{seq:<3} 再生できません / cannot be folded:" in timeline
    assert word in timeline and f"#{seq + 1} " not in timeline
    assert f"（seq {seq - 1} / 9、" in state and f"events from seq {seq} on are not taken into account" in state
    for label in before["state_labels"]:
        assert label in state

    with open_source(bundle, None, None)[0] as loaded:  # the API says the same
        point = state_at(loaded, case_id)
        assert (point.seq, point.stopped_at, point.last_seq) == (seq - 1, seq, 9)
        assert point.problem is not None and point.problem.kind == kind and word in point.problem.reason
        assert len(point.events) == seq - 1 and render_replay(point) == out.rstrip("\n")


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_a_point_asked_before_the_damage_is_shown_whole(name: str, clean: tuple[Engine, str, str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    engine, case_id, text = clean
    damage, seq, _, _ = PARTIAL[name]
    bundle = damaged(tmp_path, text, damage)
    code, out, _ = command(["replay", str(bundle), "--seq", str(seq - 1), "--json"], capsys)
    assert code == 0 and json.loads(out) == state_at(engine, case_id, seq=seq - 1).to_dict()  # no "problem" key
    code, out, _ = command(["replay", str(bundle), "--seq", str(seq), "--json"], capsys)
    assert code == 1 and json.loads(out)["problem"]["seq"] == seq and json.loads(out)["seq"] == seq - 1


def test_a_time_asked_before_the_damage(clean: tuple[Engine, str, str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = clean
    unknown = damaged(tmp_path, text, PARTIAL["unknown state"][0])  # seq 5 is at 2019-05-04 10:00
    code, out, _ = command(["replay", str(unknown), "--at", "2019-05-04T09:59", "--json"], capsys)
    assert code == 0 and json.loads(out)["seq"] == 4 and "problem" not in json.loads(out)
    code, out, _ = command(["replay", str(unknown), "--at", "2019-05-04T10:00", "--json"], capsys)
    assert code == 1 and json.loads(out)["problem"]["seq"] == 5 and json.loads(out)["seq"] == 4
    # an unreadable body has no time to trust: it counts, unless the history had already passed the time
    cut5 = damaged(tmp_path, text, PARTIAL["damaged body"][0])
    code, out, _ = command(["replay", str(cut5), "--at", "2019-05-03T12:00", "--json"], capsys)
    assert code == 1 and json.loads(out)["problem"]["kind"] == "unreadable" and json.loads(out)["seq"] == 4
    code, out, _ = command(["replay", str(cut5), "--at", "2019-05-02T12:00", "--json"], capsys)
    assert code == 0 and json.loads(out)["seq"] == 3 and "problem" not in json.loads(out)


# -- replay: nothing folds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NOTHING))
def test_nothing_to_show_is_a_problem_found_not_unusable_input(
        name: str, clean: tuple[Engine, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, case_id, text = clean
    damage, kind, word = NOTHING[name]
    bundle = damaged(tmp_path, text, damage)
    code, out, _ = command(["replay", str(bundle), "--json"], capsys)
    assert code == 1
    shown = json.loads(out)
    assert shown["case_id"] == case_id and shown["seq"] is None and shown["last_seq"] == 9
    problem = shown["problem"]
    assert (problem["seq"], problem["kind"], problem["shown_seq"]) == (1, kind, None) and word in problem["reason"]
    assert "there is no state to show" in problem["message"]
    if name == "missing definition":
        assert shown["definition"]["id"] == "response" and shown["definition"]["version"] == "2019.1"

    code, out, _ = command(["replay", str(bundle), "--seq", "3"], capsys)
    assert code == 1
    assert "注意 / note: seq 1 で再生を止めました" in out and "示せる状態はありません" in out and word in out

    with open_source(bundle, None, None)[0] as loaded, pytest.raises(NothingToReplay) as caught:
        state_at(loaded, case_id)
    assert caught.value.problem.seq == 1 and caught.value.problem.kind == kind


# -- a SQLite store edited behind the engine's back ------------------------------------------------------------
def edit_store(db_path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        raw.execute("DROP TRIGGER IF EXISTS events_no_update")
        for sql, params in statements:
            raw.execute(sql, params)
    finally:
        raw.close()


def stored_body(db_path: Path, case_id: str, seq: int) -> dict[str, Any]:
    raw = sqlite3.connect(db_path)
    try:
        body: dict[str, Any] = json.loads(raw.execute("SELECT body FROM events WHERE case_id=? AND seq=?",
                                                      (case_id, seq)).fetchone()[0])
        return body
    finally:
        raw.close()


def test_a_damaged_sqlite_store(sqlite_engine: Engine, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_id = history(sqlite_engine)
    before = state_at(sqlite_engine, case_id, seq=6).to_dict()
    sqlite_engine.close()
    body = stored_body(db_path, case_id, 7)
    body["to_states"] = ["board_reported", "no_such_state"]
    body["hash"] = body_hash(body)
    edit_store(db_path, ("UPDATE events SET body=? WHERE case_id=? AND seq=7",
                         (json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False), case_id)))
    code, out, _ = command(["replay", "--db", str(db_path), case_id, "--json"], capsys)
    shown = json.loads(out)
    problem = shown.pop("problem")
    assert code == 1 and shown == before
    assert (problem["seq"], problem["kind"]) == (7, "unfoldable") and "no_such_state" in problem["reason"]

    edit_store(db_path, ("UPDATE events SET body='{not json' WHERE case_id=? AND seq=4", (case_id,)))
    code, out, _ = command(["replay", "--db", str(db_path), case_id], capsys)
    assert code == 1 and "seq 4 で再生を止めました（記録が読めません）" in out and "seq 4 to 9 not shown" in out
    assert "（seq 3 / 9、" in out

    edit_store(db_path, ("DELETE FROM definitions", ()))
    code, out, _ = command(["replay", "--db", str(db_path), case_id, "--json"], capsys)
    assert code == 1 and json.loads(out)["problem"]["kind"] == "definition"


# -- report: the same class ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_report_ends_its_timeline_there_and_says_so(name: str, clean: tuple[Engine, str, str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, case_id, text = clean
    damage, seq, kind, word = PARTIAL[name]
    bundle = damaged(tmp_path, text, damage)
    out_file = tmp_path / "case.md"
    code, out, err = command(["report", str(bundle), "--as-of", "2019-05-10T12:00", "-o", str(out_file)], capsys)
    assert code == 1 and "report written" in out
    assert f"注意 / note: seq {seq} で再生を止めました" in err and f"replay stopped at seq {seq}" in err and word in err
    report = out_file.read_text(encoding="utf-8")
    timeline = report.split("## 経過 (timeline)")[1].split("## 期限")[0]
    rows = [line.split("|")[1].strip() for line in timeline.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == [str(n) for n in range(1, seq)]  # the header row, then seq 1 .. seq - 1
    assert f"**読み取れない記録があります (an event cannot be read)**: seq {seq}" in report
    with open_source(bundle, None, None)[0] as loaded:
        checked, problem = case_report_checked(loaded, case_id, as_of=jst(2019, 5, 10, 12))
        assert checked == report and problem is not None and (problem.seq, problem.kind) == (seq, kind)
        assert case_report(loaded, case_id, as_of=jst(2019, 5, 10, 12)) == report


def test_report_of_a_whole_log_exits_0(clean: tuple[Engine, str, str], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = clean
    code, out, err = command(["report", str(damaged(tmp_path, text, lambda ls: ls))], capsys)
    assert code == 0 and "# 事案報告書" in out and "注意" not in err


@pytest.mark.parametrize("name", sorted(NOTHING))
def test_report_with_nothing_to_show_is_a_plain_message(name: str, clean: tuple[Engine, str, str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, case_id, text = clean
    damage, kind, word = NOTHING[name]
    bundle = damaged(tmp_path, text, damage)
    out_file = tmp_path / "case.md"
    code, out, err = command(["report", str(bundle), "-o", str(out_file)], capsys)
    assert code == 1 and out == "" and not out_file.exists()
    assert "報告書を作成できません / no report can be written" in err and word in err and "seq 1" in err
    with open_source(bundle, None, None)[0] as loaded, pytest.raises(NothingToReplay) as caught:
        case_report(loaded, case_id, as_of=jst(2019, 5, 10))
    assert caught.value.problem.kind == kind


def test_replay_against_a_damaged_log_is_still_a_plain_message(clean: tuple[Engine, str, str], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = clean
    against = str(WORKFLOWS / "response.yaml")
    code, _, err = command(["replay", str(damaged(tmp_path, text, PARTIAL["damaged body"][0])), "--against", against],
                           capsys)
    assert code == 2 and "seq 5" in err
    code, out, _ = command(["replay", str(damaged(tmp_path, text, no_definition)), "--against", against], capsys)
    assert code == 1 and "is not in the store or bundle" in out
