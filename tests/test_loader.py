"""Loading workflow files: strict YAML, schema errors at file:line:col, folders, and the canonical hash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ijime_flow import Definition, DefinitionError, load_file, load_path, load_text
from ijime_flow.language.yaml_source import parse

ROOT = Path(__file__).resolve().parent.parent
RESPONSE = ROOT / "workflows" / "response.yaml"
BAD = Path(__file__).resolve().parent / "fixtures" / "bad"

MINIMAL = """\
id: minimal
version: "1"
title: {ja: 最小, en: Minimal}
source: test
roles:
  staff: {ja: 教職員}
facts:
  flag: {type: bool, ja: フラグ}
opened_by: [staff]
initial: start
states:
  start: {ja: 開始, source: "1"}
  done: {ja: 終了, source: "1", final: true}
transitions:
  - trigger: finish
    ja: 終える
    source: "1"
    from: start
    to: done
    roles: [staff]
"""
LINE_FORMAT = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the line holding the nth occurrence of needle."""
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) >= nth, f"{needle!r} not found {nth} time(s)"
    return lines[nth - 1]


def col_of(text: str, needle: str) -> int:
    line = text.splitlines()[line_of(text, needle) - 1]
    return line.index(needle) + 1


def problems_of(text: str, file: str = "wf.yaml", **kwargs: bool) -> list:
    with pytest.raises(DefinitionError) as info:
        load_text(text, file, **kwargs)
    assert info.value.problems
    return list(info.value.problems)


def test_minimal_workflow_loads() -> None:
    defn = load_text(MINIMAL)
    assert isinstance(defn, Definition)
    assert (defn.id, defn.version) == ("minimal", "1")
    assert set(defn.nodes) == {"start", "done"}


# -- strict YAML ----------------------------------------------------------------------------------

def test_duplicate_key_names_the_key_and_both_lines() -> None:
    text = MINIMAL.replace("  staff: {ja: 教職員}\n", "  staff: {ja: 教職員}\n  staff: {ja: 職員}\n")
    [problem] = problems_of(text)
    first, second = line_of(text, "staff: {ja: 教職員}"), line_of(text, "staff: {ja: 職員}")
    assert "duplicate key 'staff'" in problem.message
    assert f"line {first}" in problem.message
    assert problem.line == second
    assert problem.col == col_of(text, "staff: {ja: 職員}")


def test_duplicate_key_inside_a_flow_mapping() -> None:
    text = MINIMAL.replace("title: {ja: 最小, en: Minimal}", "title: {ja: 最小, en: Minimal, ja: 二重}")
    [problem] = problems_of(text)
    assert "duplicate key 'ja'" in problem.message
    assert problem.line == line_of(text, "title:")
    assert problem.col == col_of(text, "ja: 二重")


def test_duplicate_top_level_key() -> None:
    text = MINIMAL + "initial: done\n"
    [problem] = problems_of(text)
    assert "duplicate key 'initial'" in problem.message
    assert f"line {line_of(text, 'initial: start')}" in problem.message
    assert (problem.line, problem.col) == (line_of(text, "initial: done"), 1)


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n"])
def test_yaml11_booleans_stay_text(word: str) -> None:
    text = MINIMAL.replace("title: {ja: 最小, en: Minimal}", f"title: {{ja: {word}, en: {word}}}")
    text = text.replace("  staff: {ja: 教職員}", f"  staff: {{ja: 教職員}}\n  {word}: {{ja: {word}}}")
    text = text.replace("opened_by: [staff]", f"opened_by: [staff, {word}]")
    defn = load_text(text)
    assert defn.spec.title.ja == word and defn.spec.title.en == word
    assert word in defn.spec.roles
    assert defn.spec.roles[word].ja == word
    assert defn.spec.opened_by == ["staff", word]


def test_a_label_yes_stays_yes() -> None:
    defn = load_text(MINIMAL.replace("    ja: 終える\n", "    ja: yes\n    en: no\n"))
    assert (defn.spec.transitions[0].ja, defn.spec.transitions[0].en) == ("yes", "no")


def test_true_and_false_are_still_booleans() -> None:
    defn = load_text(MINIMAL.replace("final: true", "final: True"))
    assert defn.nodes["done"].final is True
    assert parse("a: true\nb: FALSE\nc: yes\n", "x").data == {"a": True, "b": False, "c": "yes"}


@pytest.mark.parametrize("value", ["1:30", "190:20:30"])
def test_sexagesimal_numbers_stay_text(value: str) -> None:
    assert parse(f"a: {value}\n", "x").data == {"a": value}
    defn = load_text(MINIMAL.replace('version: "1"', f"version: {value}"))
    assert defn.version == value


def test_plain_integers_and_dates_still_resolve() -> None:
    data = parse("a: 12\nb: 0x1f\nc: 2019-05-31\nd: -3\n", "x").data
    assert data["a"] == 12 and data["b"] == 31 and data["d"] == -3
    assert str(data["c"]) == "2019-05-31"


def test_unquoted_number_version_is_refused_with_its_location() -> None:
    text = MINIMAL.replace('version: "1"', "version: 1")
    [problem] = problems_of(text)
    assert problem.path == "version"
    assert (problem.line, problem.col) == (line_of(text, "version: 1"), col_of(text, "1"))
    assert "string" in problem.message


def test_syntax_error_reports_its_line() -> None:
    text = MINIMAL.replace("    to: done\n", "    to: done: again\n")
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML:")
    assert problem.line == line_of(text, "to: done: again")


def test_unclosed_flow_mapping_reports_a_line_at_or_after_it() -> None:
    text = MINIMAL.replace("  start: {ja: 開始, source: \"1\"}", "  start: {ja: 開始, source: \"1\"")
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML:")
    assert problem.line >= line_of(text, "start: {ja: 開始")


def test_tab_indentation_is_a_yaml_error() -> None:
    text = MINIMAL.replace("    to: done\n", "\tto: done\n")
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML:")
    assert problem.line == line_of(text, "\tto: done")


@pytest.mark.parametrize("text", ["a: !!python/object/apply:os.system [ls]\n", "a: !custom 1\n"])
def test_unsafe_and_unknown_tags_are_refused(text: str) -> None:
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML:") and "tag" in problem.message
    assert problem.line == 1


def test_two_documents_are_refused() -> None:
    [problem] = problems_of(MINIMAL + "---\n" + MINIMAL)
    assert "single document" in problem.message
    assert problem.line == MINIMAL.count("\n") + 1


def test_alias_bomb_is_refused_quickly() -> None:
    """Anchors that each list the previous one ten times: 10**8 conditions in a few hundred bytes."""
    chain = "&c0 {fact: flag, equals: true}"
    for level in range(1, 9):
        chain = f"&c{level} {{all: [{chain}" + f", *c{level - 1}" * 9 + "]}"
    text = MINIMAL.replace("    roles: [staff]\n", f"    roles: [staff]\n    when: {chain}\n")
    assert len(text) < 2000
    [problem] = problems_of(text)
    assert "aliases" in problem.message


def test_moderate_alias_use_is_fine() -> None:
    text = MINIMAL.replace("    roles: [staff]\n", "    roles: &who [staff]\n    when: &c {all: [{fact: flag, equals: true}]}\n")
    text += ("  - {trigger: again, ja: もう一度, source: \"1\", from: start, to: done, roles: *who,\n"
             "     when: {not: *c}}\n")
    defn = load_text(text)
    assert defn.spec.transitions[1].roles == ["staff"]


def test_cyclic_alias_is_a_definition_error() -> None:
    text = MINIMAL.replace("    roles: [staff]\n", "    roles: [staff]\n    when: &w {all: [*w]}\n")
    [problem] = problems_of(text)
    assert problem.line == line_of(text, "when: &w")


# -- schema errors --------------------------------------------------------------------------------

def test_unknown_top_level_field_points_at_its_key() -> None:
    text = MINIMAL.replace("source: test\n", "source: test\nx: 1\n")
    [problem] = problems_of(text)
    assert problem.message == "不明な項目「x」です / unknown field 'x'"
    assert (problem.line, problem.col) == (line_of(text, "x: 1"), 1)
    assert problem.path == "x"


def test_unknown_nested_field_points_at_its_key() -> None:
    text = MINIMAL.replace("    ja: 終える\n", "    ja: 終える\n    x: 1\n")
    [problem] = problems_of(text)
    assert problem.message == "不明な項目「x」です / unknown field 'x'"
    assert (problem.line, problem.col) == (line_of(text, "    x: 1"), col_of(text, "x: 1"))
    assert problem.path == "transitions[0].x"


def test_unknown_field_in_a_flow_mapping() -> None:
    text = MINIMAL.replace('done: {ja: 終了, source: "1", final: true}', 'done: {ja: 終了, source: "1", fnal: true}')
    problems = problems_of(text)
    [unknown] = [p for p in problems if "unknown field" in p.message]
    assert unknown.message == "不明な項目「fnal」です（もしかして: final） / unknown field 'fnal' (did you mean: final)"
    assert (unknown.line, unknown.col) == (line_of(text, "fnal"), col_of(text, "fnal"))


@pytest.mark.parametrize("field", ["id", "version", "title", "source", "roles", "opened_by", "initial", "states"])
def test_missing_top_level_field_is_named(field: str) -> None:
    lines = MINIMAL.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{field}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    text = "".join(lines[:start] + lines[end:])
    problems = problems_of(text)
    assert any(p.message == f"必須の項目「{field}」がありません / missing required field '{field}'" and p.path == field
               for p in problems), problems


def test_missing_nested_field_points_at_its_mapping() -> None:
    text = MINIMAL.replace('    source: "1"\n', "")
    [problem] = problems_of(text)
    assert problem.message == "必須の項目「source」がありません / missing required field 'source'"
    assert problem.path == "transitions[0].source"
    assert problem.line == line_of(text, "- trigger: finish")


def test_missing_roles_on_a_step_is_explained() -> None:
    text = MINIMAL.replace("    roles: [staff]\n", "")
    [problem] = problems_of(text)
    assert "roles" in problem.message
    assert problem.line == line_of(text, "- trigger: finish")


def test_invalid_state_name_points_at_the_key() -> None:
    text = MINIMAL.replace("  done: {ja: 終了", "  Done: {ja: 終了").replace("to: done", "to: Done")
    problems = problems_of(text)
    named = [p for p in problems if "'Done' is not a valid name" in p.message]
    assert named
    assert (named[0].line, named[0].col) == (line_of(text, "  Done: {"), 3)


def test_every_problem_of_a_file_is_reported() -> None:
    text = MINIMAL.replace("source: test\n", "source: test\nx: 1\n").replace("    ja: 終える\n", "    ja: 終える\n    y: 2\n")
    problems = problems_of(text)
    assert [p.message for p in problems] == ["不明な項目「x」です / unknown field 'x'", "不明な項目「y」です / unknown field 'y'"]


def test_unknown_time_zone() -> None:
    text = MINIMAL.replace("source: test\n", "source: test\ntimezone: Asia/Tokio\n")
    [problem] = problems_of(text)
    assert "Asia/Tokio" in problem.message and problem.message.endswith("[timezone]")
    assert problem.line == line_of(text, "timezone:")


# -- not a workflow at all ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "", "   \n\n", "# only a comment\n", "---\n", "~\n"])
def test_non_mapping_or_empty_document(text: str) -> None:
    [problem] = problems_of(text, "odd.yaml")
    assert problem.file == "odd.yaml"
    assert "mapping" in problem.message
    assert problem.line >= 1 and problem.col >= 1


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    assert info.value.file == str(path)
    assert "mapping" in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    assert (info.value.file, info.value.line, info.value.col) == (str(path), 1, 1)
    assert "not found" in info.value.message


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "sjis.yaml"
    path.write_bytes(MINIMAL.encode("shift_jis"))
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    assert info.value.file == str(path)
    assert "UTF-8" in info.value.message


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_file(tmp_path)
    assert info.value.file == str(tmp_path)


def test_load_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text(MINIMAL, encoding="utf-8")
    defn = load_file(path)
    assert defn.file == str(path)
    assert defn.nodes["start"].spec.ja == "開始"


# -- folders ----------------------------------------------------------------------------------------

def test_folder_reports_problems_of_every_file_together(tmp_path: Path) -> None:
    (tmp_path / "a_good.yaml").write_text(MINIMAL, encoding="utf-8")
    bad_yaml = MINIMAL.replace("    to: done\n", "    to: done: again\n")
    (tmp_path / "b_syntax.yaml").write_text(bad_yaml, encoding="utf-8")
    bad_ref = MINIMAL.replace("id: minimal", "id: other").replace("to: done", "to: nowhere")
    (tmp_path / "c_reference.yml").write_text(bad_ref, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a workflow: ignored", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_path(tmp_path)
    by_file = {Path(p.file).name: p for p in info.value.problems}
    assert set(by_file) == {"b_syntax.yaml", "c_reference.yml"}
    assert by_file["b_syntax.yaml"].line == line_of(bad_yaml, "to: done: again")
    assert by_file["c_reference.yml"].line == line_of(bad_ref, "to: nowhere")
    assert by_file["c_reference.yml"].message.endswith("[unknown-state]")
    assert len(str(info.value).splitlines()) == 2


def test_folder_of_good_files_loads_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "a.yml").write_text(MINIMAL.replace("id: minimal", "id: first"), encoding="utf-8")
    assert [d.id for d in load_path(tmp_path)] == ["first", "minimal"]


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_path(tmp_path)
    assert "no workflow files" in info.value.message


def test_shipped_workflows_folder_loads() -> None:
    assert "response" in {d.id for d in load_path(ROOT / "workflows")}


def test_bad_fixtures_folder_reports_every_file() -> None:
    files = sorted(BAD.glob("*.yaml"))
    assert len(files) >= 2
    with pytest.raises(DefinitionError) as info:
        load_path(BAD)
    assert {Path(p.file).name for p in info.value.problems} == {f.name for f in files}
    for problem in info.value.problems:
        text = Path(problem.file).read_text(encoding="utf-8")
        assert "# <- error" in text.splitlines()[problem.line - 1], str(problem)


# -- the error text ---------------------------------------------------------------------------------

def test_error_lines_are_file_line_col_message() -> None:
    text = MINIMAL.replace("source: test\n", "source: test\nx: 1\n").replace("to: done", "to: nowhere")
    with pytest.raises(DefinitionError) as info:
        load_text(text, "dir/wf.yaml")
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems) >= 1
    for line, problem in zip(lines, info.value.problems, strict=True):
        match = LINE_FORMAT.match(line)
        assert match, line
        assert match["file"] == "dir/wf.yaml"
        assert (int(match["line"]), int(match["col"])) == (problem.line, problem.col)
        assert match["message"].startswith(problem.message)
    first = info.value.problems[0]
    assert (info.value.file, info.value.line, info.value.col, info.value.message) == (
        first.file, first.line, first.col, first.message)


# -- canonical form and hash ---------------------------------------------------------------------------

def _reorder(value: object) -> object:
    if isinstance(value, dict):
        return {k: _reorder(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


def test_hash_ignores_comments_blank_lines_and_spacing() -> None:
    text = RESPONSE.read_text(encoding="utf-8")
    base = load_text(text)
    no_comments = "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))
    spaced = "\n# a comment\n\n" + no_comments.replace("\n", "   \n").replace("{ja: ", "{ ja:   ")
    for variant in (no_comments, spaced):
        assert variant != text
        defn = load_text(variant)
        assert defn.canonical == base.canonical
        assert defn.sha256 == base.sha256


def test_hash_ignores_key_order_and_flow_or_block_style() -> None:
    text = RESPONSE.read_text(encoding="utf-8")
    base = load_text(text)
    data = parse(text, "response.yaml").data
    reordered = yaml.safe_dump(_reorder(data), allow_unicode=True, sort_keys=False, default_flow_style=False)
    assert reordered.splitlines()[0].split(":")[0] != "id"
    assert load_text(reordered).sha256 == base.sha256
    flow = yaml.safe_dump(data, allow_unicode=True, default_flow_style=True, width=100_000)
    assert load_text(flow).sha256 == base.sha256


def test_hash_ignores_writing_a_default_out() -> None:
    base = load_text(MINIMAL)
    explicit = load_text(MINIMAL.replace("source: test\n", "source: test\ntimezone: Asia/Tokyo\n"))
    assert explicit.sha256 == base.sha256


@pytest.mark.parametrize(("old", "new"), [
    ("en: Response to bullying", "en: Response to bullying (revised)"),
    ("ja: 解消と判断した", "ja: 解消したと判断した"),
    ("at_least: P3M", "at_least: P4M"),
    ('version: "2019.1"', 'version: "2019.2"'),
])
def test_hash_changes_when_meaning_changes(old: str, new: str) -> None:
    text = RESPONSE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    base, changed = load_text(text), load_text(text.replace(old, new))
    assert changed.canonical != base.canonical
    assert changed.sha256 != base.sha256


def test_hash_is_stable_across_loads_and_round_trips_through_canonical() -> None:
    a, b = load_file(RESPONSE), load_text(RESPONSE.read_text(encoding="utf-8"))
    assert a.sha256 == b.sha256
    again = Definition.from_canonical(a.canonical)
    assert again.canonical == a.canonical and again.sha256 == a.sha256


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 017", 17), ("a: 0x1F", 31), ("a: -7", -7), ("a: 1:30", "1:30"), ("a: 1:30.5", "1:30.5"),
    ("a: 1_000", "1_000"), ("a: 2.5e1", 25.0), ("a: off", "off"),
])
def test_plain_scalars_follow_yaml_1_2(text: str, expected: object) -> None:
    value = parse(text, "x.yaml").data["a"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("old", "new"), [
    ("  closed: {ja: 終結, en: Closed, source: \"4\", final: true}",
     "  closed: {ja: 終結, en: Closed, source: \"4\", final: yes}"),
    ("     source: \"4(3)\", from: responding, to: monitoring, automatic: true}",
     "     source: \"4(3)\", from: responding, to: monitoring, automatic: 1}"),
])
def test_flags_take_true_or_false_only(old: str, new: str) -> None:
    text = (Path(__file__).resolve().parent.parent / "workflows" / "response.yaml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DefinitionError, match="valid boolean"):
        load_text(text.replace(old, new), "response.yaml")
