"""Authoring help: what a policy author is told about a mistake in a workflow file, and where.

Every message is Japanese first, then `` / `` and English, at the line of the mistake:

1. every message ``ijime-flow validate`` prints (shape, references, lint, YAML);
2. YAML syntax errors at the line where the mistake is, in plain words (a key one space off at several
   depths, a tab, a missing ``:``, a bracket or a quote left open), generated over every line of a file;
3. pydantic's errors without its own words or class names, with what was expected;
4. "もしかして / did you mean" for misspelt keys (every key of the file, misspelt four ways) and ids;
5. dates written another way than YYYY-MM-DD, with the day they mean;
6. the lint rules ``unmeetable-deadline``, ``step-from-final``, ``unregistered-guard``, and ``load_guards``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ijime_flow import DefinitionError, load_file, load_text
from ijime_flow.errors import Problem
from ijime_flow.language.guards import GuardSpecError, load_guards
from ijime_flow.language.loader import validate_paths
from ijime_flow.language.models import WorkflowDef
from ijime_flow.language.shape_messages import field_names

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

BASE = """\
id: authoring
version: "1"
title: {ja: 試験, en: Test}
source: test
timezone: Asia/Tokyo
roles:
  staff: {ja: 教職員}
  principal: {ja: 校長, includes: [staff]}
facts:
  flag: {type: bool, ja: フラグ}
  day: {type: date, ja: 日付}
  kind: {type: enum, ja: 種類, values: [pupil, guardians]}
opened_by: [staff]
records_on_open: []
fields_on_open:
  place: {type: text, ja: 場所, personal: true}
initial: start
retention:
  - {class: case, keep: P5Y, after: closed, source: "1"}
calendar:
  weekends: [saturday, sunday]
  closures: [2019-05-03]
escalation:
  to: other
  criteria:
    - {id: flagged, ja: フラグ, source: "1", when: {fact: flag, equals: true}}
states:
  start:
    ja: 開始
    source: "1"
    deadlines:
      - id: report_promptly
        ja: 速やかに報告
        source: "1"
        met_by: [finish]
        within: P1D
  working:
    ja: 対応中
    source: "2"
    initial: first
    states:
      first: {ja: 一段目, source: "2"}
      second: {ja: 二段目, source: "2", final: true}
  done: {ja: 終了, source: "1", final: true}
transitions:
  - trigger: begin
    ja: 始める
    source: "1"
    from: start
    to: working
    roles: [staff]
  - {trigger: step, ja: 進める, source: "2", from: working.first, to: working.second, roles: [staff]}
  - {trigger: finish, ja: 終える, source: "1", from: working, to: done, automatic: true}
  - trigger: close_early
    ja: 早く終える
    source: "1"
    from: start
    to: done
    roles: [principal]
    when: {fact: flag, equals: true}
"""
LINES = BASE.splitlines(keepends=True)
INTERNAL = re.compile(r"Input should|valid dictionary|instance of|Value error|Field required|Extra inputs|"
                      r"\b(?:WorkflowDef|StateDef|TransitionDef|RoleDef|FactDef|DeadlineDef|Title|CalendarDef|"
                      r"EscalationDef|CriterionDef|AbsenceCount|AbsenceRun|FactIs|AllOf|AnyOf|NotCond|Since|GuardRef)\b")


def refused(text: str, **kwargs: Any) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "wf.yaml", **kwargs)
    for problem in info.value.problems:
        assert_plain(problem)
    return list(info.value.problems)


def assert_plain(problem: Problem) -> None:
    """One line; Japanese first, then " / " and English; none of pydantic's words or class names."""
    message = problem.message.removeprefix("YAML: ")
    assert "\n" not in str(problem), str(problem)
    assert " / " in message, message
    japanese, english = message.split(" / ", 1)
    assert any(ord(c) > 0x3000 for c in japanese), message
    assert any(c.isascii() and c.isalpha() for c in english), message
    assert not INTERNAL.search(problem.message), message


def line_of(text: str, needle: str, nth: int = 1) -> int:
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) >= nth, needle
    return found[nth - 1]


def test_the_base_workflow_loads() -> None:
    assert load_text(BASE).id == "authoring"


# -- 1. every message validate prints is Japanese first ----------------------------------------------

@pytest.mark.parametrize("path", sorted((FIXTURES / "lint").glob("*.yaml")) + sorted((FIXTURES / "bad").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_fixture_problem_is_japanese_first(path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    for problem in info.value.problems:
        assert_plain(problem)


@pytest.mark.parametrize("text", ["", "- a\n", "42\n"])
def test_a_file_that_is_no_mapping(text: str) -> None:
    [problem] = refused(text)
    assert problem.message.startswith("ワークフローのファイルは") and "mapping" in problem.message


def test_files_and_folders_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "sjis.yaml").write_bytes(BASE.encode("shift_jis"))
    (tmp_path / "empty").mkdir()
    _, problems = validate_paths([tmp_path / "missing.yaml", tmp_path / "sjis.yaml", tmp_path / "empty"])
    messages = [p.message for p in problems]
    assert messages[0] == "ファイルがありません / file not found"
    assert messages[1].startswith("UTF-8 のテキストではありません") and "not UTF-8" in messages[1]
    assert messages[2].startswith("このフォルダーにワークフローのファイル") and "no workflow files" in messages[2]
    for problem in problems:
        assert_plain(problem)


def test_validate_prints_file_line_col_japanese_first(tmp_path: Path) -> None:
    files = {"syntax.yaml": BASE.replace("    ja: 開始\n", "   ja: 開始\n"),
             "shape.yaml": BASE.replace("transitions:", "tranistions:"),
             "lint.yaml": BASE.replace("to: working\n", "to: workng\n")}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "ijime_flow", "validate", str(tmp_path)], capture_output=True,
                         text=True, cwd=ROOT, check=False, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    shown = {Path(line.split(":", 1)[0]).name: line for line in run.stdout.splitlines()}
    assert shown["syntax.yaml"].startswith(f"{tmp_path / 'syntax.yaml'}:{line_of(files['syntax.yaml'], '   ja: 開始')}:4:"
                                           " YAML: 字下げが揃っていません")
    assert f":{line_of(files['shape.yaml'], 'tranistions:')}:1: 不明な項目「tranistions」です" in shown["shape.yaml"]
    assert "もしかして: working" in shown["lint.yaml"] and "did you mean: working" in shown["lint.yaml"]


# -- 2. YAML syntax errors, at the line of the mistake ----------------------------------------------

def _mutation(how: str, line: str) -> str | None:
    body = line.rstrip("\n")
    key, sep, value = body.partition(": ")
    if not body.strip():
        return None
    if how == "dedent":
        return line[1:] if line.startswith(" ") else None
    if how == "indent":
        return " " + line
    if how == "tab":
        return "\t" + line.lstrip(" ") if line.startswith(" ") else None
    if how == "colon":  # a key with a plain value, or a key opening a block: its ':' dropped
        if body.endswith(":") and ": " not in body:
            return body[:-1] + "\n"
        return f"{key} {value}\n" if sep and ":" not in value and not value.startswith(("{", "[", '"')) else None
    if how == "quote":
        return f'{key}: "{value}\n' if sep and not value.startswith(('"', "{", "[")) and '"' not in value else None
    if how == "bracket":
        return f"{key}: [{value}\n" if sep and not value.startswith(("{", "[")) else None
    return None


def _syntax_cases() -> list[tuple[str, int]]:
    cases = []
    for how in ("dedent", "indent", "tab", "colon", "quote", "bracket"):
        for n, line in enumerate(LINES):
            changed = _mutation(how, line)
            if changed is None:
                continue
            try:
                for _ in yaml.parse("".join([*LINES[:n], changed, *LINES[n + 1:]]), Loader=yaml.CSafeLoader):
                    pass
            except yaml.MarkedYAMLError:
                cases.append((how, n))
    return cases


SYNTAX_CASES = _syntax_cases()
EXPECTED = {"tab": "字下げにタブは使えません", "quote": "この行の引用符「\"」が閉じられていません",
            "bracket": "この行の「[」が「]」で閉じられていません"}


def test_the_syntax_cases_cover_every_kind_of_mistake_at_several_depths() -> None:
    kinds = {how for how, _ in SYNTAX_CASES}
    assert kinds == {"dedent", "indent", "tab", "colon", "quote", "bracket"}
    depths = {len(LINES[n]) - len(LINES[n].lstrip(" ")) for how, n in SYNTAX_CASES if how in ("dedent", "indent")}
    assert {0, 2, 4, 6, 8} <= depths


@pytest.mark.parametrize(("how", "n"), SYNTAX_CASES, ids=[f"{how}-line{n + 1}" for how, n in SYNTAX_CASES])
def test_a_yaml_mistake_is_reported_at_its_line_in_plain_words(how: str, n: int) -> None:
    changed = _mutation(how, LINES[n])
    assert changed is not None
    [problem] = refused("".join([*LINES[:n], changed, *LINES[n + 1:]]))
    assert problem.line == n + 1, str(problem)
    assert problem.message.startswith("YAML: ")
    if how in ("dedent", "indent"):
        indent = len(LINES[n]) - len(LINES[n].lstrip(" "))
        assert problem.message.startswith("YAML: 字下げが揃っていません"), problem.message
        assert f"空白 {indent} 個なら前後の行と揃います" in problem.message, problem.message
        assert f"{indent} would line it up" in problem.message
    elif how == "colon":
        key = LINES[n].strip().split(":")[0].removeprefix("- ")
        assert f"YAML: 「{key}」の後に「:」がありません（「{key}:」と書きます）" in problem.message, problem.message
    else:
        assert EXPECTED[how] in problem.message, problem.message


@pytest.mark.parametrize(("old", "new", "needle", "words"), [
    ('title: {ja: 試験, en: Test}', 'title: "{ja: 試験, en: Test}', 'title: "{', "引用符"),  # PyYAML: many lines on
    ("    ja: 開始\n", "   ja: 開始\n", "   ja: 開始", "字下げ"),  # the first key of a state, one space too little
    ("  start:\n", " start:\n", " start:", "字下げ"),  # PyYAML: at the next state, 16 lines on
    ("opened_by: [staff]", "opened_by [staff]", "opened_by [staff]", "「opened_by」の後に「:」"),
])
def test_pyyaml_would_point_elsewhere_and_the_mistake_is_found(old: str, new: str, needle: str, words: str) -> None:
    text = BASE.replace(old, new, 1)
    with pytest.raises(yaml.MarkedYAMLError) as raw:
        yaml.load(text, Loader=yaml.CSafeLoader)
    mark = raw.value.problem_mark
    assert mark is not None and mark.line + 1 != line_of(text, needle)  # where PyYAML alone would say
    [problem] = refused(text)
    assert problem.line == line_of(text, needle) and words in problem.message, str(problem)


def test_a_day_that_does_not_exist_is_a_located_error_not_a_crash() -> None:
    text = BASE.replace("closures: [2019-05-03]", "closures: [2019-02-30]")
    [problem] = refused(text)
    assert problem.line == line_of(text, "2019-02-30") and "「2019-02-30」という日はありません" in problem.message


# -- 3. pydantic's errors in plain words, at the offending key -----------------------------------------

@pytest.mark.parametrize(("old", "new", "needle", "japanese"), [
    ("  done: {ja: 終了, source: \"1\", final: true}", "  done: 終了", "  done: 終了",
     "状態の定義（キーと値の組）を書いてください（書かれた値: 終了）"),
    ("  done: {ja: 終了, source: \"1\", final: true}", "  done:\n    - 終了", "  done:",
     "状態の定義（キーと値の組）を書いてください（書かれた値: [終了]）"),
    ("roles:\n  staff: {ja: 教職員}\n  principal: {ja: 校長, includes: [staff]}", "roles: [staff, principal]", "roles:",
     "役割の一覧（名前: 定義）を書いてください"),
    ("title: {ja: 試験, en: Test}", "title: 試験", "title:", "題名 {ja: ..., en: ...}（キーと値の組）を書いてください"),
    ("final: true}\n  done", "final: yes}\n  done", "second: {", "「true」か「false」を書いてください（書かれた値: yes）"),
    ('version: "1"', "version: 1.5", "version:", "引用符で囲みます"),
    ("weekends: [saturday, sunday]", "weekends: [sat, sunday]", "weekends:", "もしかして: saturday"),
    ("flag: {type: bool,", "flag: {type: boolean,", "flag: {type", "「boolean」は使えません（次のどれか: bool, int"),
    ("  done: {ja: 終了", "  Done: {ja: 終了", "  Done:", "「Done」は名前に使えません（英小文字で始まる"),
    ("    to: working\n", "    to: [working]\n", "    to: [working]", "文字列を書いてください"),
    ("when: {fact: flag, equals: true}\n", "when: {fcat: flag, equals: true}\n", "fcat", "もしかして: fact"),
    ("when: {fact: flag, equals: true}\n", "when: [{fact: flag, equals: true}]\n", "when: [{fact",
     "条件を一つ書いてください（複数なら all: [...] か any: [...] で囲みます）"),
    ("when: {fact: flag, equals: true}\n", "when: {fact: flag, equals: {a: 1}}\n", "equals: {a: 1}",
     "「true」か「false」・整数・数・文字列・日付のどれかを書いてください（書かれた値: {a: 1}）"),
    ("met_by: [finish]", "met_by: []", "met_by: []", "少なくとも 1 個書いてください"),
    ('  done: {ja: 終了, source: "1", final: true}\n', '  done:\n    ja: 終了\n    source: "1"\n  final: true\n',
     "  final: true", "「final」は状態の中に書く項目です。字下げが浅すぎませんか"),
    ("    initial: first\n", "    initial: first\n    third: {ja: 三段目, source: \"2\", final: true}\n", "third:",
     "状態の中の状態は states:（並行なら parallel:）の下に書きます"),
])
def test_a_shape_error_says_what_was_expected_at_the_offending_key(old: str, new: str, needle: str, japanese: str) -> None:
    assert BASE.count(old) >= 1
    text = BASE.replace(old, new, 1)
    problems = refused(text)
    matching = [p for p in problems if japanese in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].line == line_of(text, needle), str(matching[0])


def test_one_value_no_member_of_a_union_takes_is_one_problem() -> None:
    problems = refused(BASE.replace("equals: true}\n", "equals: [1, 2]}\n"))
    assert len(problems) == 1 and "書いてください" in problems[0].message


# -- 4. did you mean: misspelt keys and ids ---------------------------------------------------------

def _misspellings(key: str) -> dict[str, str]:
    m = len(key) // 2
    found = {"drop": key[:m] + key[m + 1:], "double": key[:m] + key[m] + key[m:],
             "swap": key[: m - 1] + key[m] + key[m - 1] + key[m + 1:] if m else key[1] + key[0] + key[2:],
             "change": key[:-1] + ("x" if key[-1] != "x" else "y")}
    return {how: bad for how, bad in found.items() if bad and bad != key and re.fullmatch(r"[a-z_]+", bad)}


def _key_cases() -> list[tuple[str, str, str]]:
    """(line prefix to find the key, key, misspelling) for keys of the file at several depths."""
    places = [("", k) for k in field_names(WorkflowDef)]  # every top-level key
    places += [("    ", k) for k in ("ja", "source", "deadlines", "initial", "states")]  # fields of a state
    places += [("      - ", "id"), ("        ", "met_by"), ("        ", "within")]  # of a deadline
    places += [("  - ", "trigger"), ("    ", "from"), ("    ", "to"), ("    ", "roles"), ("    ", "when")]  # of a step
    places += [("  ", "to"), ("  ", "criteria"), ("  ", "weekends"), ("  ", "closures")]  # escalation, calendar
    cases = []
    for prefix, key in places:
        if not any(line.startswith(f"{prefix}{key}:") for line in LINES):
            continue
        cases += [(prefix, key, bad) for bad in _misspellings(key).values()]
    return cases


KEY_CASES = _key_cases()


def test_every_top_level_key_is_in_the_base_and_misspelt() -> None:
    top = {key for prefix, key, _ in KEY_CASES if prefix == ""}
    assert top == set(field_names(WorkflowDef))
    assert len(KEY_CASES) >= 4 * len(top)


@pytest.mark.parametrize(("prefix", "key", "bad"), KEY_CASES, ids=[f"{k}-as-{b}" for _, k, b in KEY_CASES])
def test_a_misspelt_key_suggests_the_key(prefix: str, key: str, bad: str) -> None:
    number = next(i for i, line in enumerate(LINES) if line.startswith(f"{prefix}{key}:"))
    text = "".join([*LINES[:number], LINES[number].replace(f"{key}:", f"{bad}:", 1), *LINES[number + 1:]])
    problems = refused(text)
    [unknown] = [p for p in problems if f"不明な項目「{bad}」です" in p.message]
    assert f"（もしかして: {key}" in unknown.message and f"(did you mean: {key}" in unknown.message, unknown.message
    assert (unknown.line, unknown.col) == (number + 1, len(prefix) + 1)
    for missing in (p for p in problems if f"必須の項目「{key}」がありません" in p.message):
        assert f"「{bad}」の綴りの誤りではありませんか" in missing.message and f"'{bad}' may be a misspelling" in missing.message


@pytest.mark.parametrize(("old", "new", "rule", "japanese", "meant"), [
    ("    to: working\n", "    to: workng\n", "unknown-state", "状態「workng」はありません", "working"),
    ("from: working.first,", "from: working.frist,", "unknown-state", "状態「working.frist」はありません", "working.first"),
    ("to: working.second,", "to: second,", "unknown-state", "状態「second」はありません", "working.second"),
    ("initial: start", "initial: strat", "unknown-state", "最初の状態「strat」は最上位の状態にありません", "start"),
    ("initial: first", "initial: frist", "unknown-state", "最初の子の状態「frist」は「working」の中にありません", "first"),
    ("met_by: [finish]", "met_by: [finsh]", "unknown-trigger", "操作「finsh」はありません", "finish"),
    ("when: {fact: flag, equals: true}\n", "when: {fact: flga, equals: true}\n", "unknown-fact",
     "事実「flga」は宣言されていません", "flag"),
    ("    roles: [principal]", "    roles: [principle]", "unknown-role", "役割「principle」は宣言されていません", "principal"),
    ("opened_by: [staff]", "opened_by: [staf]", "unknown-role", "役割「staf」は宣言されていません", "staff"),
    ("includes: [staff]", "includes: [stuff]", "unknown-role", "役割「stuff」は宣言されていません", "staff"),
    ("when: {fact: flag, equals: true}\n", "when: {fact: kind, equals: pupill}\n", "fact-type",
     "「pupill」は事実「kind」（enum）の値になりません", "pupil"),
    ("timezone: Asia/Tokyo", "timezone: Asia/Tokio", "timezone", "タイムゾーン「Asia/Tokio」はありません", "Asia/Tokyo"),
])
def test_a_misspelt_id_suggests_the_id(old: str, new: str, rule: str, japanese: str, meant: str) -> None:
    text = BASE.replace(old, new, 1)
    [problem] = [p for p in refused(text) if p.message.endswith(f"[{rule}]")]
    assert problem.message.startswith(japanese), problem.message
    assert f"もしかして: {meant}" in problem.message and f"did you mean: {meant}" in problem.message
    assert problem.line == line_of(text, new.strip().split("\n")[0])


def test_a_misspelt_escalation_target_suggests_the_workflow(tmp_path: Path) -> None:
    target = (ROOT / "workflows" / "serious_incident.yaml").read_text(encoding="utf-8")
    text = BASE.replace("  to: other", "  to: serious_incidnt")
    (tmp_path / "serious_incident.yaml").write_text(target, encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    _, problems = validate_paths([tmp_path])
    [problem] = [p for p in problems if p.message.endswith("[escalation-target]")]
    assert "もしかして: serious_incident" in problem.message and problem.line == line_of(text, "serious_incidnt")


# -- 5. dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "meant"), [
    ("2019/05/30", "2019-05-30"), ('"令和元年6月6日"', "2019-06-06"), ("2019年6月6日", "2019-06-06"),
    ("R1.6.6", "2019-06-06"), ("20190530", "2019-05-30"), ("2019-5-3", "2019-05-03"), ("平成31年4月30日", "2019-04-30"),
    ("0", None), ("6月6日", None), ("令和元年4月1日", None),
])
def test_a_closure_day_written_another_way(written: str, meant: str | None) -> None:
    text = BASE.replace("closures: [2019-05-03]", f"closures: [2019-05-03, {written}]")
    [problem] = refused(text)
    assert (problem.line, problem.path) == (line_of(text, "closures:"), "calendar.closures[1]")
    assert "YYYY-MM-DD の形で書いてください（例: 2019-05-30" in problem.message
    assert "write the date" in problem.message and "as YYYY-MM-DD (e.g. 2019-05-30" in problem.message
    if meant is None:
        assert "もしかして" not in problem.message
    else:
        assert f"もしかして: {meant}）" in problem.message and f"did you mean: {meant})" in problem.message
    if written.startswith("令和元年4"):
        assert "令和の日付にありません（令和は 2019-05-01 から）" in problem.message


def test_a_date_in_a_condition_written_another_way() -> None:
    text = BASE.replace("when: {fact: flag, equals: true}\n", "when: {fact: day, equals: 2019/06/06}\n")
    [problem] = refused(text)
    assert problem.message.startswith("「2019/06/06」は事実「day」（date）の値になりません（YYYY-MM-DD（例: 2019-05-30））")
    assert "もしかして: 2019-06-06" in problem.message and problem.message.endswith("[fact-type]")


# -- 6. the new lint rules ------------------------------------------------------------------------------

PARALLEL = """\
id: parallel
version: "1"
title: {ja: 並行, en: Parallel}
source: test
roles:
  staff: {ja: 教職員}
opened_by: [staff]
initial: intake
states:
  intake: {ja: 受付, source: "1"}
  both:
    ja: 両方
    source: "1"
    parallel:
      left:
        ja: 左
        source: "1"
        initial: l1
        states:
          l1:
            ja: 左1
            source: "1"
            deadlines:
              - {id: soon, ja: すぐ, source: "1", met_by: [MET_BY], within: P1D}
          l2: {ja: 左2, source: "1", final: true}
      right:
        ja: 右
        source: "1"
        initial: r1
        states:
          r1: {ja: 右1, source: "1"}
          r2: {ja: 右2, source: "1", final: true}
  done: {ja: 終了, source: "1", final: true}
  archived: {ja: 保管, source: "1"}
transitions:
  - {trigger: note, ja: 受付メモ, source: "1", from: intake, roles: [staff]}
  - {trigger: start_work, ja: 対応を始める, source: "1", from: intake, to: both, roles: [staff]}
  - {trigger: left_first, ja: 左を先に, source: "1", from: both, roles: [staff]}
  - {trigger: left_done, ja: 左完了, source: "1", from: both.left.l1, to: both.left.l2, roles: [staff]}
  - {trigger: right_done, ja: 右完了, source: "1", from: both.right.r1, to: both.right.r2, roles: [staff]}
  - {trigger: finish, ja: 終える, source: "1", from: both, to: archived, automatic: true}
  - {trigger: file_away, ja: 保管後の記録, source: "1", from: archived, roles: [staff]}
  - {trigger: close, ja: 終結, source: "1", from: archived, to: done, roles: [staff]}
"""


@pytest.mark.parametrize(("met_by", "meetable"), [
    ("left_done", True),  # from the deadline's own state
    ("right_done", True),  # from the other region, active at the same time
    ("left_first", True),  # from the parallel state around it
    ("finish", True),  # automatic, from around it
    ("file_away", True),  # from a state reached after it: a deadline runs until it is met
    ("note", False),  # only from a state before it
    ("start_work", False),
])
def test_a_deadline_is_met_by_steps_from_its_state_around_it_or_after_it(met_by: str, meetable: bool) -> None:
    text = PARALLEL.replace("MET_BY", met_by)
    if meetable:
        assert load_text(text).id == "parallel"
        return
    [problem] = refused(text)
    assert problem.message.startswith(f"期限「soon」は状態「both.left.l1」で始まりますが、操作「{met_by}」はそこからも、"
                                      "その後にたどり着く状態からも行えません")
    assert f"step '{met_by}' can be taken neither there nor in any state reached after it" in problem.message
    assert problem.message.endswith("[unmeetable-deadline]")
    assert (problem.line, problem.path) == (line_of(text, f"met_by: [{met_by}]"),
                                            "states.both.parallel.left.states.l1.deadlines[0].met_by[0]")


def test_a_deadline_met_only_from_a_closed_case_or_before_its_state() -> None:
    text = BASE.replace('      second: {ja: 二段目, source: "2", final: true}',
                        '      second: {ja: 二段目, source: "2", final: true,\n'
                        '               deadlines: [{id: late, ja: 遅れ, source: "2", met_by: [finish, step], within: P1D}]}')
    [problem] = refused(text)
    assert "操作「step」" in problem.message and problem.path == "states.working.states.second.deadlines[0].met_by[1]"
    assert problem.line == line_of(text, "met_by: [finish, step]")
    assert validate_paths([ROOT / "workflows"])[1] == []  # the shipped deadlines are all met after their states


@pytest.mark.parametrize(("source", "japanese"), [
    ("done", "事案はそこで終結しているため、この操作は行えません"),
    ("working.second", "最終状態は「working」の完了を意味するため、そこから出ると完了が取り消されます"),
])
def test_a_step_out_of_a_final_state(source: str, japanese: str) -> None:
    text = BASE + f'  - {{trigger: reopen, ja: 再開, source: "1", from: {source}, to: start, roles: [staff]}}\n'
    problems = [p for p in refused(text) if p.message.endswith("[step-from-final]")]
    assert len(problems) == 1
    assert problems[0].message.startswith(f"操作「reopen」が最終状態「{source}」（final: true）から出ています。{japanese}")
    assert (problems[0].line, problems[0].path) == (line_of(text, "trigger: reopen"), "transitions[4].from[0]")


GUARDED = BASE.replace("when: {fact: flag, equals: true}\n", "when: {all: [{fact: flag, equals: true}, {guard: weekday}]}\n")
GUARDED = GUARDED.replace("        within: P1D\n", "        within: P1D\n        when: {not: {guard: term_time}}\n")


def test_a_guard_that_will_not_be_registered_is_reported_at_its_line() -> None:
    problems = refused(GUARDED, guards=())
    assert [p.path for p in problems] == ["states.start.deadlines[0].when.not.guard", "transitions[3].when.all[1].guard"]
    for problem, name in zip(problems, ["term_time", "weekday"], strict=True):
        assert problem.message.startswith(f"条件が Python のガード「{name}」を使っていますが、登録されていません")
        assert f'Engine.register_guard("{name}"' in problem.message and "ijime-flow check --guards module:attr" in problem.message
        assert problem.line == line_of(GUARDED, f"guard: {name}") and problem.message.endswith("[unregistered-guard]")
    [problem] = refused(GUARDED, guards=("term_time", "weekdays"))
    assert "もしかして: weekdays" in problem.message
    assert load_text(GUARDED, guards={"weekday", "term_time"}).id == "authoring"
    assert load_text(GUARDED).id == "authoring"  # the library's loaders do not check guards unless told
    assert load_text(GUARDED, guards=(), run_lint=False).id == "authoring"


def test_validate_reports_the_guards_a_workflow_needs(tmp_path: Path) -> None:
    (tmp_path / "guarded.yaml").write_text(GUARDED, encoding="utf-8")
    _, problems = validate_paths([tmp_path / "guarded.yaml"])
    assert [p.line for p in problems] == [line_of(GUARDED, "guard: term_time"), line_of(GUARDED, "guard: weekday")]
    assert validate_paths([tmp_path / "guarded.yaml"], guards={"weekday", "term_time"})[1] == []


def test_load_guards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "school_guards_t.py").write_text(
        "def weekday(ctx):\n    return True\n\nGUARDS = {'weekday': weekday}\nBAD = {'weekday': 3}\n"
        "def two(a, b):\n    return True\nvalue = 5\nanonymous = lambda ctx: True\n", encoding="utf-8")
    (tmp_path / "broken_guards_t.py").write_text("import not_installed_anywhere_x\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert set(load_guards("school_guards_t:GUARDS")) == {"weekday"}
    assert list(load_guards("school_guards_t:weekday")) == ["weekday"]
    for spec, japanese in [
        ("school_guards_t", "ガードの指定「school_guards_t」は module:attr の形で書いてください"),
        ("no_such_module_t:GUARDS", "モジュール「no_such_module_t」が見つかりません"),
        ("broken_guards_t:GUARDS", "必要なモジュール「not_installed_anywhere_x」がありません"),
        ("school_guards_t:GAURDS", "「school_guards_t」に「GAURDS」がありません（もしかして: GUARDS）"),
        ("school_guards_t:BAD", "ガード「weekday」は関数ではありません（int）"),
        ("school_guards_t:two", "引数を一つ（条件の EvalContext）取る関数にしてください"),
        ("school_guards_t:value", "ガードの辞書でも関数でもありません（int）"),
        ("school_guards_t:anonymous", "関数には名前がありません"),
    ]:
        with pytest.raises(GuardSpecError) as info:
            load_guards(spec)
        assert japanese in str(info.value) and " / " in str(info.value), str(info.value)
