"""Reports people read: the Markdown case report, and the `report` and `cases` commands."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, COMMITTEE, PRINCIPAL, STAFF, WORKFLOWS, finish_regions, jst, open_case, walk_main_line

from ijime_flow import Case, Engine, InvalidData, UnknownCase
from ijime_flow.audit.diagram import mermaid, mermaid_ids
from ijime_flow.audit.report import CURRENT_STYLE, VISITED_STYLE, case_report, highlighted_diagram
from ijime_flow.cli.report import display_width, format_table, parse_time, register
from ijime_flow.language.loader import load_text

SECTIONS = ["## 概要 (summary)", "## 経過 (timeline)", "## 期限 (deadlines)", "## 関連事案 (linked cases)",
            "## 検証 (verification)", "## 証明 (proofs)", "## 状態遷移図 (state diagram)"]


def section(text: str, title: str) -> str:
    """The text of one ``## `` section."""
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row, split on unescaped pipes."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line[1:-1])]


def table(text: str) -> list[list[str]]:
    """The body rows of the (first) table in ``text``."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [cells(line) for line in lines[2:]]


def mermaid_block(text: str) -> str:
    found = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert found is not None
    return found.group(1)


def classes(diagram: str, name: str) -> set[str]:
    lines = [line.strip() for line in diagram.splitlines() if line.strip().startswith("class ")]
    found = [line for line in lines if line.endswith(f" {name}")]
    assert len(found) <= 1, found
    return set(found[0].split()[1].split(",")) if found else set()


def steps(text: str) -> list[list[str]]:
    """The timeline's rows without the "recorded" column (tests/test_report_proofs.py checks that one)."""
    return [row[:2] + row[3:] for row in table(section(text, "経過"))]


def main_line_case(engine: Engine) -> Case:
    """Opened at 2019-05-01 00:00 UTC (09:00 JST), the main line to begin_response (05-07), then the
    victim interviewed on 05-10 10:00 JST: that starts the same-day deadline to tell the guardians."""
    case = engine.open_case("response", actor=STAFF, at=datetime(2019, 5, 1, 0, 0, tzinfo=UTC))
    walk_main_line(case)
    case.fire("interview_victim", actor=COMMITTEE, at=jst(2019, 5, 10, 10))
    return case


# -- the case report --------------------------------------------------------------------------------
def test_report_of_a_main_line_case(sqlite_engine: Engine) -> None:
    case = main_line_case(sqlite_engine)
    defn = sqlite_engine.definition("response")
    text = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 10, 12))

    assert text.startswith(f"# 事案報告書 (case report): `{case.id}`\n")
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    summary = dict((row[0], row[1]) for row in table(section(text, "概要")))
    assert summary["事案ID (case id)"] == f"`{case.id}`"
    assert summary["学校 (school)"] == "`school-1`"
    assert summary["ワークフロー (workflow)"] == "いじめに対する措置 (Response to bullying) — `response`"
    assert summary["版 (version)"] == f"2019.1 — sha256 `{defn.sha256[:12]}`"
    assert summary["開始 (opened)"] == "2019-05-01 09:00 JST"  # opened at 00:00 UTC
    assert summary["最終記録 (last event)"] == "2019-05-10 10:00 JST (seq 9)"
    assert summary["現在の状態 (current states)"] == "観衆・傍観者への指導<br>加害生徒からの聴き取り<br>聴き取り済み"
    assert summary["終結 (closed)"] == "いいえ (open)"
    assert summary["記録件数 (events)"] == "9"
    assert f"<code>{defn.sha256}</code></details>" in section(text, "概要")

    rows = steps(text)
    assert [row[0] for row in rows] == [str(n) for n in range(1, 10)]
    assert [row[1] for row in rows] == ["2019-05-01 09:00", *[f"2019-05-0{day} 10:00" for day in range(1, 8)],
                                        "2019-05-10 10:00"]
    assert rows[0][2:] == ["`t-014` 教職員 (staff)", "事案を開始 (opened: `response` 2019.1)",
                           "→ いじめの疑いを発見・相談を受けた", "—"]
    assert rows[1][2:] == ["`t-014` 教職員 (staff)", "その場で行為を止めた (`stop_act`)",
                           "いじめの疑いを発見・相談を受けた → その場で止めた／傾聴し安全を確保した", "—"]
    assert rows[3][2] == "`v-002` 管理職（校長・教頭） (administrator)"
    assert rows[5][3] == "事実確認の結果をまとめた (`confirm_facts`)"
    assert rows[5][5] == "bullying_recognised=はい (true)"
    assert rows[6][2] == "`p-001` 校長 (principal)"
    assert rows[7][4] == ("校長が教育委員会へ報告 → 観衆・傍観者への指導<br>加害生徒からの聴き取り<br>"
                          "被害生徒からの聴き取り")
    assert rows[8][4] == "被害生徒からの聴き取り → 聴き取り済み"  # only the region that moved

    deadlines = {row[0].split()[0].strip("`"): row for row in table(section(text, "期限"))}
    assert list(deadlines) == ["report_to_administrator_same_day", "share_with_committee_same_day",
                               "fact_finding_promptly", "victim_guardians_same_day"]
    assert deadlines["report_to_administrator_same_day"][1:] == [
        "いじめの疑いを発見・相談を受けた", "2019-05-01 09:00", "2019-05-02 00:00", "2019-05-02 10:00 (seq 3)",
        "期限後に実施 (missed)"]
    assert deadlines["fact_finding_promptly"][2:] == ["2019-05-03 10:00", "2019-05-04 10:00", "2019-05-04 10:00 (seq 5)",
                                                      "期限内に実施 (met)"]
    assert deadlines["victim_guardians_same_day"][1:] == ["聴き取り済み", "2019-05-10 10:00", "2019-05-11 00:00", "—",
                                                          "期限前（未実施） (open)"]
    assert "2019-05-10 12:00 JST 時点 (as of)." in section(text, "期限")
    # the same case at midnight: the same-day deadline is now overdue, the others as they were
    later = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 11, 0))
    statuses = [row[-1] for row in table(section(later, "期限"))]
    assert statuses == ["期限後に実施 (missed)", "期限後に実施 (missed)", "期限内に実施 (met)", "期限超過（未実施） (overdue)"]

    assert "関連事案はありません (none)." in section(text, "関連事案")
    assert "検証OK (verified): 9 件の記録、問題なし (events, no problems)." in section(text, "検証")


def test_report_diagram_marks_visited_and_current_states(sqlite_engine: Engine) -> None:
    case = main_line_case(sqlite_engine)
    defn = sqlite_engine.definition("response")
    ids = mermaid_ids(defn)
    diagram = mermaid_block(case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 10, 12)))

    # the pinned workflow's diagram, unchanged, then the styles at the top level after every state
    plain = mermaid(defn)
    assert diagram.startswith(plain)
    extra = diagram[len(plain):].splitlines()
    assert extra[:2] == [f"    classDef visited {VISITED_STYLE}", f"    classDef current {CURRENT_STYLE}"]
    assert all(re.fullmatch(r"    class [A-Za-z0-9_]+(,[A-Za-z0-9_]+)* (visited|current)", line) for line in extra[2:])
    assert len(extra) == 4

    visited = {"discovered", "initial_response", "reported_to_administrator", "shared_with_committee", "fact_finding",
               "facts_confirmed", "board_reported", "responding.victim_support.interviewing"}
    current = {"responding", "responding.victim_support", "responding.victim_support.interviewed",
               "responding.perpetrator_guidance", "responding.perpetrator_guidance.interviewing",
               "responding.bystander_guidance", "responding.bystander_guidance.guiding"}
    assert classes(diagram, "visited") == {ids[path] for path in visited}
    assert classes(diagram, "current") == {ids[path] for path in current}
    # every id a class names is a state the diagram declares
    declared = set(re.findall(r'^\s*state "[^"]*" as (\S+)$', diagram, re.M))
    assert classes(diagram, "visited") | classes(diagram, "current") <= declared

    # a case past the parallel state: every state of the three regions visited, monitoring current
    done = finish_regions(walk_main_line(sqlite_engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 30))))
    assert done.active_states == {"monitoring"}
    diagram = highlighted_diagram(defn, done.history())
    assert classes(diagram, "current") == {"monitoring"}
    responding = {path for path in defn.nodes if path.startswith("responding")}
    assert classes(diagram, "visited") == {ids[path] for path in visited - {"responding.victim_support.interviewing"}
                                           | responding}


def test_diagram_of_a_case_just_opened_has_no_visited_line(engine: Engine) -> None:
    case = open_case(engine)
    diagram = highlighted_diagram(engine.definition("response"), case.history())
    assert classes(diagram, "current") == {"discovered"}
    assert classes(diagram, "visited") == set()
    assert not re.search(r"^\s*class\s+visited$", diagram, re.M)  # never a class line without ids


def test_report_of_an_escalated_case_lists_the_linked_case(sqlite_engine: Engine) -> None:
    case = walk_main_line(open_case(sqlite_engine), until="confirm_facts")
    case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8, 9))
    [link] = case.linked_cases()
    text = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 8, 12))

    [row] = table(section(text, "関連事案"))
    assert row[:4] == [f"`{link.case_id}`", "重大事態として移行した先 (escalated to)",
                       "児童生徒や保護者からの申立て（学校の見解にかかわらず） (`petition`)", str(link.seq)]
    assert row[4] == "重大事態への対処 (`serious_incident`): 重大事態の疑い"
    timeline = steps(text)
    assert timeline[-2][3] == "事実を記録 (fact): 「いじめにより重大事態に至ったという申立て」= guardians (`petition`)"
    assert timeline[-1][3].startswith(f"重大事態の要件を満たし、事案 `{link.case_id}` へ移行 (escalated)<br>")
    assert timeline[-1][2] == "`ijime-flow` system"

    # and the other side: the serious incident case points back, its same-day report is overdue by midnight
    other = case_report(sqlite_engine, link.case_id, as_of=jst(2019, 5, 9, 0))
    [back] = table(section(other, "関連事案"))
    assert back[:2] == [f"`{case.id}`", "移行元の事案 (escalated from)"]
    assert back[4] == "いじめに対する措置 (`response`): 事実確認の結果"
    [deadline] = table(section(other, "期限"))
    assert deadline[0].startswith("`occurrence_report_same_day`") and deadline[-1] == "期限超過（未実施） (overdue)"
    assert "| 学校 (school) | `school-1` |" in other


def test_report_uses_the_pinned_definition(engine: Engine) -> None:
    case = walk_main_line(open_case(engine), until="stop_act")
    pinned = engine.definition("response")
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    changed = load_text(text.replace("その場で止めた／傾聴し安全を確保した", "初期対応（改訂）"), run_lint=False)
    engine.add_definition(changed)
    assert engine.definition("response").sha256 != pinned.sha256

    report = case_report(engine, case.id, as_of=jst(2019, 5, 2))
    assert "初期対応（改訂）" not in report
    assert "その場で止めた／傾聴し安全を確保した" in section(report, "概要")
    assert f"sha256 `{pinned.sha256[:12]}`" in report
    assert mermaid_block(report).startswith(mermaid(pinned))


def test_report_cells_escape_pipes_newlines_and_markup(engine: Engine) -> None:
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9),
                            data={"place": "2年|3組\n廊下 <b>*x*</b>"})
    text = case_report(engine, case.id, as_of=jst(2019, 5, 1, 12))
    [row] = [line for line in section(text, "経過").splitlines() if line.startswith("| 1 |")]
    assert len(cells(row)) == 7  # the pipe in the value did not add a cell
    assert cells(row)[6] == r"place=2年\|3組<br>廊下 &lt;b&gt;\*x\*&lt;/b&gt;"


def test_report_of_a_tampered_log(sqlite_engine: Engine, db_path: Path) -> None:
    case = walk_main_line(open_case(sqlite_engine), until="share_with_committee")
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        raw.execute("DROP TRIGGER events_no_update")
        body = json.loads(raw.execute("SELECT body FROM events WHERE case_id=? AND seq=3", (case.id,)).fetchone()[0])
        body["actor"]["id"] = "t-999"  # edited, hash not recomputed
        raw.execute("UPDATE events SET body=? WHERE case_id=? AND seq=3", (json.dumps(body), case.id))
        text = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 4))
        verdict = section(text, "検証")
        assert "検証NG (verification FAILED)" in verdict and "検証OK" not in verdict
        assert table(verdict)[0][:2] == ["3", "hash"]
        assert steps(text)[2][2] == "`t-999` 教職員 (staff)"  # shown as stored

        raw.execute("UPDATE events SET body='{not json' WHERE case_id=? AND seq=4", (case.id,))
        damaged = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 4))
        assert [row[0] for row in table(section(damaged, "経過"))] == ["1", "2", "3"]
        assert "読み取れない記録があります (an event cannot be read)**: seq 4" in damaged
        assert "読み取れない記録があるため一覧できません" in section(damaged, "関連事案")
    finally:
        raw.close()


def test_report_refuses_an_unknown_case_and_a_naive_as_of(engine: Engine) -> None:
    case = open_case(engine)
    with pytest.raises(UnknownCase):
        case_report(engine, "no-such-case", as_of=jst(2019, 5, 2))
    with pytest.raises(InvalidData):
        case_report(engine, case.id, as_of=datetime(2019, 5, 2))


# -- the commands -----------------------------------------------------------------------------------
def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ijime-flow")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_report_command_writes_the_report(sqlite_engine: Engine, db_path: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    case = main_line_case(sqlite_engine)
    expected = case_report(sqlite_engine, case.id, as_of=jst(2019, 5, 11, 0))
    out = tmp_path / "case.md"
    assert run(["report", "--db", str(db_path), case.id, "--as-of", "2019-05-11T00:00", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == expected  # a naive --as-of is Japan time
    assert str(out) in capsys.readouterr().out
    assert run(["report", case.id, "--db", str(db_path), "--as-of", "2019-05-10T15:00:00+00:00"]) == 0
    assert capsys.readouterr().out == expected  # 15:00 UTC is midnight JST
    with pytest.raises(InvalidData):
        run(["report", "--db", str(db_path), case.id, "extra"])
    with pytest.raises(InvalidData):
        run(["report", "--db", str(db_path), case.id, "--as-of", "yesterday"])
    with pytest.raises(UnknownCase):
        run(["report", "--db", str(db_path), "no-such-case"])
    with pytest.raises(InvalidData):
        run(["report", "--db", str(tmp_path / "missing.db"), case.id])


@pytest.fixture
def board(sqlite_engine: Engine) -> dict[str, str]:
    """Five cases of two schools, as of 2019-05-10:
    a (school-1) responding, nothing due; b (school-1) discovered 05-02, report due 05-03 00:00;
    c (school-2) in fact-finding; d (school-2) discovered 05-04, report due 05-05 00:00; e (school-2) closed."""
    e = sqlite_engine
    a = walk_main_line(open_case(e))
    b = open_case(e, day=2)
    c = walk_main_line(e.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 30), school="school-2"),
                       until="start_fact_finding")
    d = e.open_case("response", actor=STAFF, at=jst(2019, 5, 4, 9), school="school-2")
    closed = e.open_case("response", actor=STAFF, at=jst(2019, 5, 5, 9), school="school-2")
    for trigger, actor, data in [("stop_act", STAFF, {}), ("report_to_administrator", STAFF, {}),
                                 ("share_with_committee", ADMIN, {}), ("start_fact_finding", COMMITTEE, {}),
                                 ("confirm_facts", COMMITTEE, {"bullying_recognised": False}),
                                 ("report_to_board", PRINCIPAL, {}), ("close", PRINCIPAL, {"reason": "誤解と判明"})]:
        closed.fire(trigger, actor=actor, at=jst(2019, 5, 5, 10), data=data)
    assert closed.closed
    return {"a": a.id, "b": b.id, "c": c.id, "d": d.id, "e": closed.id}


def cases_json(db_path: Path, capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, Any]]:
    assert run(["cases", "--db", str(db_path), "--json", *options]) == 0
    found: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return found


def test_cases_filters(board: dict[str, str], db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def ids(*options: str) -> list[str]:
        return [row["case_id"] for row in cases_json(db_path, capsys, *options)]

    a, b, c, d, e = (board[k] for k in "abcde")
    assert ids("--as-of", "2019-05-10T12:00") == [a, c, b, d, e]  # oldest opened first
    assert ids("--school", "school-1") == [a, b]
    assert ids("--school", "school-2") == [c, d, e]
    assert ids("--state", "fact_finding") == [c]
    assert ids("--state", "responding") == [a]
    assert ids("--state", "responding.victim_support.interviewing", "--school", "school-1") == [a]
    assert ids("--state", "discovered", "--school", "school-2") == [d]
    assert ids("--closed") == [e]
    assert ids("--open") == [a, c, b, d]
    assert ids("--limit", "2") == [a, c]
    assert ids("--workflow", "serious_incident") == []
    assert ids("--overdue", "--as-of", "2019-05-10T12:00") == [b, d]
    assert ids("--overdue", "--as-of", "2019-05-10T12:00", "--school", "school-2") == [d]
    assert ids("--overdue", "--as-of", "2019-05-03T12:00") == [b]  # d's deadline is not yet due
    assert ids("--overdue", "--as-of", "2019-05-02T23:59") == []  # no zone = Japan time: b is due at 00:00 JST
    assert ids("--overdue", "--as-of", "2019-05-02T15:00+00:00") == [b]  # = 2019-05-03 00:00 JST


def test_cases_json_rows(board: dict[str, str], db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row["case_id"]: row for row in cases_json(db_path, capsys, "--as-of", "2019-05-10T12:00")}
    b = rows[board["b"]]
    assert b["school"] == "school-1" and b["workflow"] == "response" and b["version"] == "2019.1"
    assert b["states"] == ["discovered"] and b["state_labels"] == ["いじめの疑いを発見・相談を受けた"]
    assert b["opened_at"] == "2019-05-02T09:00:00+09:00" and b["updated_at"] == "2019-05-02T09:00:00+09:00"
    assert b["next_due"] == "2019-05-03T00:00:00+09:00" and b["overdue"] is True and b["closed"] is False
    assert b["open_deadlines"] == [{"id": "report_to_administrator_same_day", "state": "discovered",
                                    "started_at": "2019-05-02T09:00:00+09:00", "due": "2019-05-03T00:00:00+09:00"}]
    a = rows[board["a"]]
    assert a["state_labels"] == ["観衆・傍観者への指導", "加害生徒からの聴き取り", "被害生徒からの聴き取り"]
    assert a["next_due"] is None and a["overdue"] is False and a["seq"] == 8
    assert rows[board["e"]]["closed"] is True and rows[board["e"]]["state_labels"] == ["終結"]


def test_cases_table_is_aligned(board: dict[str, str], db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["cases", "--db", str(db_path), "--as-of", "2019-05-10T12:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rule, *rows, footer = lines
    assert len(rows) == 5
    assert footer == "5 件 / 5 case(s) — 基準時刻 as of 2019-05-10 12:00 JST"
    assert header.split() == ["事案ID", "学校", "ワークフロー", "現在の状態", "開始日", "最終更新", "期限"]
    widths = {display_width(line) for line in [header, rule, *rows]}
    assert len(widths) == 1, widths
    # the columns start at the same display column on every line, Japanese labels or not
    by_id = {row.split()[0]: row for row in rows}
    b, c = by_id[board["b"]], by_id[board["c"]]
    assert "いじめの疑いを発見・相談を受けた" in b and "関係生徒からの聴き取り・事実確認" in c
    for line in (b, c):
        assert display_width(line[:line.index("2019-05-0")]) == display_width(header[:header.index("開始日")])
    assert b.rstrip().endswith("期限超過 2019-05-03 00:00 から (report_to_administrator_same_day)")
    assert "school-2" in by_id[board["d"]] and "期限超過 2019-05-05 00:00 から" in by_id[board["d"]]
    assert by_id[board["a"]].rstrip().endswith("-")


def test_cases_refuses_unusable_input(tmp_path: Path, board: dict[str, str], db_path: Path) -> None:
    with pytest.raises(InvalidData):
        run(["cases", "--db", str(tmp_path / "missing.db")])
    assert not (tmp_path / "missing.db").exists()  # a reading command never creates a store
    with pytest.raises(InvalidData):
        run(["cases", "--db", str(db_path), "--limit", "0"])
    with pytest.raises(InvalidData):
        run(["cases", "--db", str(db_path), "--as-of", "2019-13-01"])
    with pytest.raises(SystemExit):
        run(["cases", "--db", str(db_path), "--open", "--closed"])


def test_table_helpers() -> None:
    assert display_width("abc") == 3 and display_width("事案") == 4 and display_width("ｱ") == 1
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    lines = format_table(["名前", "n"], [["あい", "1"], ["abcdef", "22"]])
    assert lines == ["名前    n ", "------  --", "あい    1 ", "abcdef  22"]
    assert parse_time("2019-05-14") == jst(2019, 5, 14, 0)
    assert parse_time("2019-05-14T08:30:00Z") == datetime(2019, 5, 14, 8, 30, tzinfo=UTC)
