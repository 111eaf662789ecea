"""Classes of workflow text that validation used to let through (or report badly), generated.

Each class is generated with hypothesis and must be refused at validation with a DefinitionError whose
problem sits at the offending node's ``line:col`` and speaks Japanese first, then `` / `` English:

1. durations (``within:``, ``at_least:``) that are not whole, unsigned, non-zero, bare and at most
   100 years long; and ``parse_duration`` raises only ``DurationError`` for them;
2. an enum fact listing a value twice;
3. a step whose ``requires`` names a fact it does not record (it could never be taken), and an
   automatic step with ``records`` / ``requires`` (it is taken without data);
4. an escalation whose target is not among the workflows loaded together;
5. a cycle of roles' ``includes``;
6. a character YAML does not allow, reported where it is, on one line; YAML syntax errors in Japanese.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ijime_flow import DefinitionError, Engine, load_file, load_path, load_text
from ijime_flow.errors import Problem
from ijime_flow.language.conditions import DurationError, parse_duration
from ijime_flow.language.durations import MAX_DURATION_MONTHS
from ijime_flow.language.loader import validate_paths

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FINISH = '  - {trigger: finish, ja: 終える, source: "1", from: start, to: done, roles: [staff]}\n'


def workflow(*, wid: str = "holes", roles: str = "  staff: {ja: 教職員}\n",
             facts: str = "  flag: {type: bool, ja: フラグ}\n  day: {type: date, ja: 日付}\n",
             opener: str = "staff", start: str = "", transitions: str = FINISH, tail: str = "") -> str:
    return (f"id: {wid}\nversion: \"1\"\ntitle: {{ja: 試験, en: Test}}\nsource: test\nroles:\n{roles}"
            f"facts:\n{facts}opened_by: [{opener}]\ninitial: start\nstates:\n"
            f"  start:\n    ja: 開始\n    source: \"1\"\n{start}"
            f"  done: {{ja: 終了, source: \"1\", final: true}}\ntransitions:\n{transitions}{tail}")


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based (line, col) of where ``needle`` starts, its nth occurrence."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def refused(text: str, file: str = "wf.yaml", **kwargs: bool) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, file, **kwargs)
    for problem in info.value.problems:
        assert_plain(problem)
    return list(info.value.problems)


def assert_plain(problem: Problem) -> None:
    """One line; Japanese first, then " / " and English."""
    message = problem.message.removeprefix("YAML: ")
    assert "\n" not in str(problem) and "\r" not in str(problem), str(problem)
    assert " / " in message, message
    japanese, english = message.split(" / ", 1)
    assert any(ord(c) > 0x3000 for c in japanese), message
    assert english.isascii() or any(c.isascii() and c.isalpha() for c in english), message


def only(problems: list[Problem], rule: str) -> Problem:
    tagged = [p for p in problems if p.message.endswith(f"[{rule}]")]
    assert len(tagged) == 1, [str(p) for p in problems]
    return tagged[0]


# -- 1. durations --------------------------------------------------------------------------------------

UNITS = ("Y", "M", "D")
TIME_UNITS = ("H", "M", "S")
# the longest of each part, a month counted as 31 days
LIMIT = {"Y": MAX_DURATION_MONTHS // 12, "M": MAX_DURATION_MONTHS, "W": MAX_DURATION_MONTHS * 31 // 7,
         "D": MAX_DURATION_MONTHS * 31, "H": MAX_DURATION_MONTHS * 31 * 24, "TM": MAX_DURATION_MONTHS * 31 * 1440,
         "S": MAX_DURATION_MONTHS * 31 * 86400}


@st.composite
def good_durations(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return f"P{draw(st.integers(1, LIMIT['W']))}W"
    parts = {u: draw(st.integers(0, 40)) if draw(st.booleans()) else None for u in ("Y", "M", "D", "H", "TM", "S")}
    assume(any(v for v in parts.values()))
    text = "P" + "".join(f"{parts[u]}{u}" for u in UNITS if parts[u] is not None)
    clock = "".join(f"{parts[k]}{u}" for k, u in (("H", "H"), ("TM", "M"), ("S", "S")) if parts[k] is not None)
    return text + ("T" + clock if clock else "")


@st.composite
def too_long(draw: st.DrawFn) -> str:
    unit = draw(st.sampled_from(list(LIMIT)))
    n = draw(st.one_of(st.integers(LIMIT[unit] + 1, LIMIT[unit] * 10), st.integers(LIMIT[unit] + 1, 10**40)))
    return f"PT{n}{unit[-1]}" if unit in ("H", "TM", "S") else f"P{n}{unit}"


BAD_DURATIONS = st.one_of(
    too_long(),
    good_durations().map(lambda d: d.replace("P", "-P", 1)),  # signed
    good_durations().map(lambda d: "+" + d),
    st.builds(lambda a, b, u: f"P{a}.{b}{u}", st.integers(0, 99), st.integers(1, 9), st.sampled_from("YMWD")),
    st.builds(lambda a, b, u: f"PT{a},{b}{u}", st.integers(0, 99), st.integers(1, 9), st.sampled_from("HMS")),
    st.builds(lambda parts: "P" + "".join(f"0{u}" for u in parts), st.lists(st.sampled_from(UNITS), min_size=1,
                                                                          max_size=1)),  # zero
    st.sampled_from(["PT0S", "P0W", "P0Y0M0DT0H0M0S", "PT", "P", "", "P1DT", "P1Y1W", "p3m", "P3m", "P１D", "3M"]),
    st.builds(lambda d, ws, before: ws + d if before else d + ws, good_durations(),
              st.sampled_from([" ", "\n", "\t", "\u3000", "\r\n"]), st.booleans()),  # white space around it
)


@SETTINGS
@given(BAD_DURATIONS)
def test_parse_duration_refuses_every_bad_duration_with_a_clear_error(text: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert isinstance(info.value, ValueError)
    english = str(info.value).split(" / ", 1)[1]
    assert "ISO 8601" in english and "\n" not in str(info.value)


@SETTINGS
@given(BAD_DURATIONS, st.booleans())
def test_a_bad_duration_is_refused_where_it_is_written(text: str, deadline: bool) -> None:
    scalar = json.dumps(text, ensure_ascii=False)
    if deadline:
        start = f'    deadlines:\n      - {{id: d, ja: 期限, source: "1", met_by: [finish], within: {scalar}}}\n'
        source, needle = workflow(start=start), f"within: {scalar}"
    else:
        step = FINISH.replace("roles: [staff]}", f"roles: [staff], when: {{since: day, at_least: {scalar}}}}}")
        source, needle = workflow(transitions=step), f"at_least: {scalar}"
    [problem] = refused(source)
    line, col = at(source, needle)
    assert (problem.line, problem.col) == (line, col + needle.index(scalar))
    assert problem.path.endswith("within" if deadline else "at_least")


@SETTINGS
@given(good_durations(), st.dates(date(1900, 1, 1), date(2200, 12, 31)))
def test_an_accepted_duration_can_be_added_to_any_date_from_1900_to_2200(text: str, day: date) -> None:
    start = f'    deadlines:\n      - {{id: d, ja: 期限, source: "1", met_by: [finish], within: {text}}}\n'
    load_text(workflow(start=start))
    step = FINISH.replace("roles: [staff]}", f"roles: [staff], when: {{since: day, at_least: {text}}}}}")
    if "T" in text:  # 'since' counts dates: PT2H would count as no day at all
        [problem] = refused(workflow(transitions=step))
        assert problem.path.endswith("at_least")
    else:
        load_text(workflow(transitions=step))
    duration = parse_duration(text)
    assert day + duration >= day  # a date ignores hours (PT2H after a date is the same date)
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    assert moment + duration > moment


def test_the_longest_durations_are_accepted_and_one_more_is_not() -> None:
    for text in ("P100Y", "P1200M", "P37200D", "PT892800H", "P5314W"):
        assert date(2200, 12, 31) + parse_duration(text) < date(2400, 1, 1), text
    for text in ("P101Y", "P1201M", "P37201D", "PT892801H", "P99Y13M", "P100Y1D", "P10000Y", "P9999999999999999999Y"):
        with pytest.raises(DurationError, match="100"):
            parse_duration(text)


def test_a_case_opens_and_its_deadline_is_due_for_the_longest_duration() -> None:
    start = '    deadlines:\n      - {id: d, ja: 期限, source: "1", met_by: [finish], within: P100Y}\n'
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "holes.yaml"
        path.write_text(workflow(start=start), encoding="utf-8")
        from ijime_flow import Actor, FixedClock
        at_time = datetime(2200, 12, 31, 23, tzinfo=UTC)
        engine = Engine(clock=FixedClock(at_time), school="s")
        engine.load(path)
        case = engine.open_case("holes", actor=Actor("t", {"staff"}), at=at_time)
        [deadline] = case.deadlines()
        assert deadline.due - deadline.started_at >= timedelta(days=36500)


# -- 2. duplicate enum values -------------------------------------------------------------------------

VALUE = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@SETTINGS
@given(st.lists(VALUE, min_size=1, max_size=8, unique=True), st.data())
def test_an_enum_value_listed_twice_is_refused_at_the_repeat(values: list[str], data: st.DataObject) -> None:
    repeated = data.draw(st.sampled_from(values))
    position = data.draw(st.integers(values.index(repeated) + 1, len(values)))
    listed = [*values[:position], repeated, *values[position:]]
    block = "".join(f'      - "{v}"\n' for v in listed)
    text = workflow(facts=f"  kind:\n    type: enum\n    ja: 種類\n    values:\n{block}")
    [problem] = refused(text)
    assert problem.message.endswith("[duplicate-value]") and f"'{repeated}'" in problem.message
    values_line = at(text, "    values:")[0]
    assert (problem.line, problem.col) == (values_line + position + 1, 9)
    assert problem.path == f"facts.kind.values[{position}]"


# -- 3. requires naming a fact; automatic steps with data ----------------------------------------------

FACTS = ["flag", "day"]


@SETTINGS
@given(st.lists(st.sampled_from(["reason", "note", "agency", "flag", "day"]), min_size=1, max_size=5, unique=True),
       st.lists(st.sampled_from(FACTS), max_size=2, unique=True))
def test_requires_naming_a_fact_the_step_does_not_record_is_refused(requires: list[str], records: list[str]) -> None:
    impossible = [name for name in requires if name in FACTS and name not in records]
    step = FINISH.replace("roles: [staff]}", f"roles: [staff], records: [{', '.join(records)}],"
                                             f" requires: [{', '.join(requires)}]}}")
    text = workflow(transitions=step)
    if not impossible:
        defn = load_text(text)
        data = {name: ("2019-05-01" if name == "day" else True if name == "flag" else "x") for name in requires + records}
        from ijime_flow.stepper import step_data
        step_data(defn, defn.spec.transitions[0], data)  # the step can be taken
        return
    problems = refused(text)
    assert [p.message.endswith("[requires-fact]") for p in problems] == [True] * len(impossible)
    requires_at = at(text, "requires: [")
    for problem, name in zip(problems, impossible, strict=True):
        j = requires.index(name)
        assert problem.path == f"transitions[0].requires[{j}]" and f"'{name}'" in problem.message
        assert (problem.line, problem.col) == (requires_at[0], requires_at[1] + len("requires: [") +
                                               len(", ".join(requires[:j])) + (2 if j else 0))


@pytest.mark.parametrize("key", ["records", "requires"])
def test_an_automatic_step_cannot_have_data(key: str) -> None:
    start = ('    initial: a\n    states:\n      a: {ja: A, source: "1", final: true}\n')
    auto = f'  - {{trigger: go, ja: 進む, source: "1", from: start, to: done, automatic: true, {key}: [flag]}}\n'
    text = workflow(start=start, transitions=auto)
    problem = only(refused(text), "automatic-data")
    assert (problem.line, problem.col) == at(text, f"{key}: [flag]")


# -- 4. escalation targets -------------------------------------------------------------------------------

IDS = st.text("abcdefghij_", min_size=2, max_size=8).filter(lambda s: s[0] != "_")
TARGET_FACTS = ('  criterion: {type: enum, ja: 基準, values: [flagged, other]}\n'
                '  flag: {type: bool, ja: フラグ}\n  day: {type: date, ja: 日付}\n')


def escalating(wid: str, to: str) -> str:
    tail = (f"escalation:\n  to: {to}\n  criteria:\n"
            "    - {id: flagged, ja: フラグ, source: \"1\", when: {fact: flag, equals: true}}\n")
    return workflow(wid=wid, tail=tail)


def target(wid: str) -> str:
    return workflow(wid=wid, facts=TARGET_FACTS).replace("initial: start", "records_on_open: [criterion]\ninitial: start")


@contextmanager
def folder(files: dict[str, str]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        for file, text in files.items():
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            (root / file).write_text(text, encoding="utf-8")
        yield root


@SETTINGS
@given(IDS, IDS, IDS)
def test_an_escalation_to_a_workflow_not_loaded_with_it_is_refused(source: str, other: str, missing: str) -> None:
    assume(len({source, other, missing}) == 3)
    text = escalating(source, missing)
    with folder({f"{source}.yaml": text, f"{other}.yaml": target(other)}) as root:
        with pytest.raises(DefinitionError) as info:
            load_path(root)
        [problem] = info.value.problems
        assert_plain(problem)
        assert problem.file == str(root / f"{source}.yaml") and f"'{missing}'" in problem.message
        line = at(text, f"\n  to: {missing}\n")[0]
        assert (problem.line, problem.col) == (line + 1, 3 + len("to: "))
        assert problem.message.endswith("[escalation-target]")
        # files given together, from different folders, are checked together too
        (root / "elsewhere").mkdir()
        moved = root / "elsewhere" / f"{other}.yaml"
        (root / f"{other}.yaml").rename(moved)
        loaded, problems = validate_paths([root / f"{source}.yaml", moved])
        assert [p.line for p in problems] == [problem.line] and [d.id for d in loaded] == [other]
        # named correctly, the same set loads
        (root / f"{source}.yaml").write_text(escalating(source, other), encoding="utf-8")
        loaded, problems = validate_paths([root / f"{source}.yaml", moved])
        assert problems == [] and {d.id for d in loaded} == {source, other}


def test_a_target_that_cannot_take_the_criterion_is_refused() -> None:
    no_criterion = workflow(wid="serious")
    wrong_values = target("serious").replace("values: [flagged, other]", "values: [other]")
    for bad, path in ((no_criterion, "escalation.to"), (wrong_values, "escalation.criteria[0].id")):
        with folder({"a.yaml": escalating("a", "serious"), "serious.yaml": bad}) as root:
            with pytest.raises(DefinitionError) as info:
                load_path(root)
            [problem] = info.value.problems
            assert_plain(problem)
            assert problem.path == path and problem.file.endswith("a.yaml")


def test_a_file_alone_is_checked_against_the_target_beside_it() -> None:
    """The file Engine.load would bring along; with none beside it, the target cannot be checked."""
    with folder({"a.yaml": escalating("a", "serious"), "serious.yaml": workflow(wid="not_serious"),
                 "alone/a.yaml": escalating("a", "serious")}) as root:
        with pytest.raises(DefinitionError) as info:
            load_file(root / "a.yaml")
        assert "'serious'" in info.value.message and "not_serious" in info.value.message
        with pytest.raises(DefinitionError):
            load_path(root / "a.yaml")
        assert load_file(root / "alone" / "a.yaml").id == "a"
        assert [d.id for d in load_path(root / "alone")] == ["a"]


def test_the_shipped_workflows_validate_and_load_together() -> None:
    assert {d.id for d in load_path(WORKFLOWS)} == {"response", "school_year", "serious_incident"}
    assert load_file(WORKFLOWS / "response.yaml").id == "response"
    with Engine(school="s") as engine:
        engine.load(WORKFLOWS)
        assert set(engine.definitions) == {"response", "school_year", "serious_incident"}
    run = cli("validate", str(WORKFLOWS))
    assert run.returncode == 0 and run.stdout.count("ok: ") == 4, run.stdout + run.stderr  # three workflows, the calendar
    assert "calendar.yaml (学校の暦 / school calendar)" in run.stdout


# -- 5. cycles of roles ----------------------------------------------------------------------------------

ROLE_NAMES = ["staff", "admin", "principal", "committee", "board"]


def reaches(graph: dict[str, list[str]], start: str, goal: str) -> bool:
    seen, todo = set[str](), list(graph[start])
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


@SETTINGS
@given(st.integers(1, len(ROLE_NAMES)).flatmap(
    lambda n: st.fixed_dictionaries({r: st.lists(st.sampled_from(ROLE_NAMES[:n]), max_size=3, unique=True)
                                     for r in ROLE_NAMES[:n]})))
def test_a_cycle_of_included_roles_is_refused_and_named(graph: dict[str, list[str]]) -> None:
    roles = "".join(f"  {name}:\n    ja: 役割\n    includes: [{', '.join(inc)}]\n" for name, inc in graph.items())
    text = workflow(roles=roles)
    cyclic = [r for r in graph if reaches(graph, r, r)]
    if not cyclic:
        load_text(text)
        return
    problems = refused(text)
    assert problems and all(p.message.endswith("[role-cycle]") for p in problems)
    named: set[str] = set()
    for problem in problems:
        shown = problem.message.split("（", 1)[1].split("）", 1)[0]
        cycle = shown.split(" -> ")
        assert cycle[0] == cycle[-1] and len(cycle) >= 2, shown
        assert all(b in graph[a] for a, b in itertools.pairwise(cycle)), shown  # a real cycle
        assert f"({shown})" in problem.message  # named in English too
        start, following = cycle[0], cycle[1]
        assert problem.path == f"roles.{start}.includes[{graph[start].index(following)}]"
        assert problem.line == at(text, f"  {start}:\n")[0] + 2
        named.update(cycle)
    assert named <= set(cyclic) and all(any(reaches(graph, r, n) for n in named) for r in cyclic)


def test_a_role_including_itself_and_the_two_role_cycle() -> None:
    for roles, shown in (("  staff: {ja: 教職員, includes: [staff]}\n", "staff -> staff"),
                         ("  principal: {ja: 校長, includes: [staff]}\n  staff: {ja: 教職員, includes: [principal]}\n",
                          "principal -> staff -> principal")):
        [problem] = refused(workflow(roles=roles))
        assert shown in problem.message and problem.line == 6


# -- 6. characters YAML does not allow; YAML syntax errors ----------------------------------------------

BASE = workflow()
NOT_ALLOWED = st.sampled_from([*map(chr, [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0x85),
                                         *range(0x86, 0xA0), 0xFFFE, 0xFFFF, 0xD800, 0xDFFF])])


@SETTINGS
@given(NOT_ALLOWED, st.data())
def test_a_control_character_is_reported_where_it_is_on_one_line(char: str, data: st.DataObject) -> None:
    spots = [i for i in range(len(BASE)) if BASE[i] not in "\n" and BASE.rfind(": ", 0, i) > BASE.rfind("\n", 0, i)]
    index = data.draw(st.sampled_from(spots))
    text = BASE[:index] + char + BASE[index:]
    [problem] = refused(text)
    assert (problem.line, problem.col) == (BASE.count("\n", 0, index) + 1, index - BASE.rfind("\n", 0, index))
    assert f"U+{ord(char):04X}" in problem.message


LINES = BASE.splitlines(keepends=True)


@SETTINGS
@given(st.integers(1, len(LINES) - 1), st.sampled_from(["dedent", "indent", "tab", "colon", "quote", "bracket"]))
def test_yaml_syntax_errors_are_in_japanese_first_on_one_line(n: int, how: str) -> None:
    line = LINES[n]
    changed = {"dedent": line[1:] if line.startswith("  ") else line, "indent": " " + line,
               "tab": "\t" + line.lstrip(" "), "colon": line.replace(": ", ": x: ", 1), "quote": line.replace(": ", ': "', 1),
               "bracket": line.replace(": ", ": [", 1)}[how]
    text = "".join([*LINES[:n], changed, *LINES[n + 1:]])
    try:
        load_text(text, "wf.yaml")
    except DefinitionError as exc:
        for problem in exc.problems:
            if problem.message.startswith("YAML:"):
                assert_plain(problem)
                assert problem.line >= n + 1 or how in ("dedent", "indent"), str(problem)


def test_an_indentation_mistake_is_reported_at_its_line_in_japanese() -> None:
    text = BASE.replace('    source: "1"\n', '   source: "1"\n', 1)
    [problem] = refused(text)
    assert problem.message.startswith("YAML: 字下げ")
    assert problem.line == at(text, '   source: "1"')[0]


# -- the command -----------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, cwd=ROOT,
                          check=False)


def test_validate_prints_every_class_as_file_line_col_and_exits_1() -> None:
    start = '    deadlines:\n      - {id: d, ja: 期限, source: "1", met_by: [finish], within: P10000Y}\n'
    files = {
        "duration.yaml": workflow(wid="duration", start=start),
        "values.yaml": workflow(wid="values", facts="  kind: {type: enum, ja: 種類, values: [a, b, a]}\n"),
        "requires.yaml": workflow(wid="requires", transitions=FINISH.replace("roles: [staff]}",
                                                                              "roles: [staff], requires: [flag]}")),
        "roles.yaml": workflow(wid="roles", roles="  staff: {ja: 教職員, includes: [staff]}\n"),
        "control.yaml": BASE.replace("ja: 開始", "ja: 開\x07始"),
        "escalation.yaml": escalating("escalation", "no_such_workflow"),
    }
    with folder(files) as root:
        run = cli("validate", str(root))
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        lines = run.stdout.splitlines()
        assert len(lines) == len(files), run.stdout
        for line in lines:
            file, where, message = line.split(":", 2)[0], line.split(":")[1:3], line.split(": ", 1)[1]
            assert Path(file).name in files and all(w.isdigit() for w in where), line
            assert " / " in message, line
