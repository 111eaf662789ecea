"""The Mermaid diagram of a workflow: Japanese edge labels with roles, condition and deadline marks, the trigger
ids kept in comments, internal actions in notes, states in main-line order, escaping, and the exact text of
a tiny workflow."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from ijime_flow import Definition, load_file, load_text
from ijime_flow.audit.diagram import mermaid, mermaid_ids
from ijime_flow.audit.diagram_words import Wording, label, within_ja
from ijime_flow.language.models import TransitionDef

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
RESPONSE = WORKFLOWS / "response.yaml"
SERIOUS = WORKFLOWS / "serious_incident.yaml"
EDGE = re.compile(r"^\s*(\w+) --> (\w+) : (.+)$")
STATE = re.compile(r'^\s*state "([^"]*)" as (\w+)$')


@pytest.fixture(scope="module")
def defn() -> Definition:
    return load_file(RESPONSE)


@pytest.fixture(scope="module")
def text(defn: Definition) -> str:
    return mermaid(defn)


@pytest.fixture(scope="module")
def serious() -> Definition:
    return load_file(SERIOUS)


def sid(path: str) -> str:
    return path.replace(".", "__")


def block(text: str, state_id: str) -> list[str]:
    """The lines inside ``state <state_id> { ... }`` (nested blocks included), stripped."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(f"state {state_id} {{")
    depth, inside = 1, list[str]()
    for line in lines[start + 1:]:
        depth += line.endswith("{") - (line == "}")
        if depth == 0:
            return inside
        inside.append(line)
    raise AssertionError(f"block {state_id} is not closed")


def direct(lines: list[str]) -> list[str]:
    """The lines of a block's body that are not inside a nested block (the nested block's opening line kept)."""
    depth, out = 0, []
    for line in lines:
        if depth == 0:
            out.append(line)
        depth += line.endswith("{") - (line == "}")
    return out


def top_level(text: str) -> list[str]:
    """The stripped lines outside every block."""
    return direct([line.strip() for line in text.splitlines()[1:]])


def edges(lines: list[str]) -> dict[tuple[str, str], str]:
    """(source id, destination id) -> the edge's label."""
    out: dict[tuple[str, str], str] = {}
    for line in lines:
        match = EDGE.match(line)
        if match:
            assert (match[1], match[2]) not in out, f"two edges for one pair: {line}"
            out[(match[1], match[2])] = match[3]
    return out


def edge_triggers(text: str) -> dict[tuple[str, str], list[str]]:
    """(source id, destination id) -> the trigger ids of the ``%% trigger:`` comment just before its edge."""
    lines = [line.strip() for line in text.splitlines()]
    out: dict[tuple[str, str], list[str]] = {}
    for before, line in itertools.pairwise(lines):
        match = EDGE.match(line)
        if match:
            assert before.startswith("%% trigger: "), f"no trigger comment before {line}"
            out[(match[1], match[2])] = before.removeprefix("%% trigger: ").split(", ")
    return out


def notes(text: str) -> dict[str, tuple[str, list[str]]]:
    """State id -> (the ``%%`` comment line just before its note, the note's lines), without their indent
    (a continuation line keeps the ideographic space it starts with)."""
    lines = [line.strip(" ") for line in text.splitlines()]
    out: dict[str, tuple[str, list[str]]] = {}
    for index, line in enumerate(lines):
        if line.startswith("note right of "):
            end = lines.index("end note", index)
            comments = []
            back = index - 1
            while lines[back].startswith("%%"):
                comments.insert(0, lines[back])
                back -= 1
            out[line.removeprefix("note right of ")] = (" | ".join(comments), lines[index + 1:end])
    return out


def declared_order(lines: list[str]) -> list[str]:
    return [m[2] for line in lines if (m := STATE.match(line))]


def step(defn: Definition, t: TransitionDef) -> str:
    """The first line of a step's words: its label and its roles."""
    return Wording(defn).step(t)[0]


# -- the shipped workflow: shape --------------------------------------------------------------------------------


def test_starts_with_the_diagram_type(text: str) -> None:
    assert text.splitlines()[0] == "stateDiagram-v2"
    assert "```" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_ids_are_the_mangled_paths(defn: Definition) -> None:
    assert mermaid_ids(defn) == {path: sid(path) for path in defn.nodes}
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in mermaid_ids(defn).values())


def test_every_state_has_a_label_line(defn: Definition, text: str) -> None:
    lines = [line.strip() for line in text.splitlines()]
    for path, node in defn.nodes.items():
        assert f'state "{label(node.spec.ja)}" as {sid(path)}' in lines, path
    declared = declared_order(lines)
    assert len(declared) == len(set(declared)) == len(defn.nodes)


def test_initial_and_final_states(defn: Definition, text: str) -> None:
    top = top_level(text)
    assert top[0] == f"[*] --> {sid(defn.spec.initial)}"
    for path, node in defn.nodes.items():
        if node.kind == "compound":
            assert f"[*] --> {sid(path)}__{node.spec.initial}" in block(text, sid(path))
        if node.final:
            where = top if node.parent is None else block(text, sid(node.parent))
            assert f"{sid(path)} --> [*]" in where, path
    assert sum(line.endswith("--> [*]") for line in text.splitlines()) == sum(n.final for n in defn.nodes.values())


def test_parallel_regions_are_separated_in_the_order_of_their_steps(defn: Definition, text: str) -> None:
    parallel = [node for node in defn.nodes.values() if node.kind == "parallel"]
    assert parallel, "response.yaml has a parallel state"
    for node in parallel:
        inside = direct(block(text, sid(node.path)))
        assert inside.count("--") == len(node.children) - 1
        # victim support 4(3), perpetrator guidance 4(4), bystanders 4(5): the order of their first step
        regions = ("victim_support", "perpetrator_guidance", "bystander_guidance")
        assert [line for line in inside if line.endswith("{")] == [f"state {sid(f'{node.path}.{r}')} {{" for r in regions]
        for region in node.children:
            assert f"[*] --> {sid(region)}__{defn.nodes[region].spec.initial}" in block(text, sid(region))


def test_an_edge_for_every_moving_transition(defn: Definition, text: str) -> None:
    drawn = edges(text.splitlines())
    triggers = edge_triggers(text)
    moving = [t for t in defn.spec.transitions if t.to is not None and "*" not in t.from_]
    assert any(t.automatic for t in moving) and any(not t.automatic for t in moving)
    for t in moving:
        assert t.to is not None
        for src in t.from_:
            pair = (sid(src), sid(t.to))
            assert step(defn, t) in drawn[pair].split("<br/>") or f"・{step(defn, t)}" in drawn[pair].split("<br/>")
            assert (f"{t.trigger} (automatic)" if t.automatic else t.trigger) in triggers[pair]
    assert set(drawn) == set(triggers) == {(sid(src), sid(t.to)) for t in moving for src in t.from_ if t.to}


def test_edges_inside_a_region_are_written_in_its_block(defn: Definition, text: str) -> None:
    regions = [path for path, node in defn.nodes.items() if node.region]
    for t in defn.spec.transitions:
        if t.to is None or "*" in t.from_:
            continue
        for src in t.from_:
            parent = defn.nodes[src].parent
            pair = (sid(src), sid(t.to))
            if parent in regions and defn.nodes[t.to].parent == parent:
                assert pair in edges(block(text, sid(parent))), t.trigger
                assert pair not in edges(top_level(text))
            else:
                assert pair in edges(top_level(text)), t.trigger


def test_deterministic(defn: Definition, text: str) -> None:
    assert mermaid(defn) == text
    assert mermaid(load_file(RESPONSE)) == text
    assert mermaid(Definition.from_canonical(defn.canonical)) == text


# -- the shipped workflow: words ----------------------------------------------------------------------------------


def test_edges_are_labelled_in_japanese_with_roles(text: str) -> None:
    drawn = edges(text.splitlines())
    # two steps on one edge: one item each
    assert drawn[("discovered", "initial_response")] == (
        "・その場で行為を止めた【教職員】<br/>・相談を真摯に傾聴し安全を確保した【教職員】")
    assert drawn[("facts_confirmed", "board_reported")] == "校長が事実確認の結果を教育委員会へ報告【校長】"
    assert drawn[("responding", "monitoring")] == "全ての対応を終え継続的な見守りへ【自動】"
    # several roles, in their Japanese labels; 管理職（校長・教頭） keeps its own "・"
    assert drawn[("responding__victim_support__interviewing", "responding__victim_support__interviewed")] == (
        "被害生徒から事実関係を聴き取った【教職員、校内いじめ問題対策委員会】")
    assert drawn[("reported_to_administrator", "shared_with_committee")].startswith(
        "校内いじめ問題対策委員会で情報共有【管理職（校長・教頭）】")
    # no trigger id in any label: they are in the comments
    assert not any(re.search(r"[a-z_]{4,}", found) for found in drawn.values())
    assert edge_triggers(text)[("discovered", "initial_response")] == ["stop_act", "secure_safety"]
    assert edge_triggers(text)[("responding", "monitoring")] == ["complete_response (automatic)"]


def test_conditions_are_marked(defn: Definition, text: str) -> None:
    drawn = edges(text.splitlines())
    assert drawn[("board_reported", "responding")] == (
        "被害・加害・周囲への対応を開始【校内いじめ問題対策委員会】<br/>〔条件〕いじめの事実が確認されていること")
    assert drawn[("board_reported", "closed")] == (
        "いじめと認められず終結（理由を記録）【校長】<br/>〔条件〕いじめの事実が確認されなかったこと")
    # an `all` without its own label: one line per part
    assert drawn[("monitoring", "resolved")].split("<br/>") == [
        "解消と判断した【校内いじめ問題対策委員会】",
        "〔条件〕いじめの行為が止んでから3か月以上経過していること",
        "〔条件〕被害生徒が心身の苦痛を感じていないことが本人・保護者との面談で確認されていること"]
    # every edge of a step with a condition is marked, and no other
    for t in defn.spec.transitions:
        if t.to is not None and "*" not in t.from_:
            for src in t.from_:
                assert ("〔条件〕" in drawn[(sid(src), sid(t.to))]) == (t.when is not None), t.trigger


def test_deadlines_are_marked(defn: Definition, text: str) -> None:
    drawn = edges(text.splitlines())
    assert drawn[("initial_response", "reported_to_administrator")] == "管理職へ速やかに報告【教職員】<br/>⏱ 期限：即日"
    assert drawn[("shared_with_committee", "fact_finding")].endswith("<br/>⏱ 期限：1日以内")
    assert drawn[("responding__victim_support__assured", "responding__victim_support__guardians_informed")].endswith(
        "<br/>⏱ 期限：即日")
    meeting = {trigger for deadlines in defn.deadline_defs.values() for d in deadlines for trigger in d.met_by}
    for t in defn.spec.transitions:
        if t.to is not None and "*" not in t.from_:
            for src in t.from_:
                assert ("⏱ 期限：" in drawn[(sid(src), sid(t.to))]) == (t.trigger in meeting), t.trigger


def test_conditional_deadlines_of_the_serious_incident(serious: Definition) -> None:
    drawn = edges(mermaid(serious).splitlines())
    assert drawn[("suspected", "reported_to_board")] == (
        "校長が教育委員会に重大事態の発生を報告【校長】<br/>⏱ 期限：即日または1日以内（該当する場合）")


@pytest.mark.parametrize(("within", "words"), [
    ("same_day", "即日"), ("P1D", "1日以内"), ("PT2H", "2時間以内"), ("P2W", "2週間以内"), ("P1Y2M", "1年2か月以内"),
    ("P3M", "3か月以内"), ("P1DT12H", "1日12時間以内"), ("PT30M", "30分以内"), ("P0D", "直ちに"), ("soon", "soon 以内"),
])
def test_deadline_wording(within: str, words: str) -> None:
    assert within_ja(within) == words


def test_internal_actions_are_listed_in_a_note_on_their_state(defn: Definition, text: str) -> None:
    found = notes(text)
    internal = [t for t in defn.spec.transitions if t.to is None and "*" not in t.from_]
    assert internal, "response.yaml has internal actions"
    for t in internal:
        for src in t.from_:
            comment, lines = found[sid(src)]
            assert lines[0] == "この状態で行う操作（状態は変わらない）"
            assert f"・{step(defn, t)}" in lines, (t.trigger, src)
            assert t.trigger in comment.removeprefix("%% internal actions: ").split(", ")
    # a step from two states is listed on both
    both = set(found["monitoring"][1]) & set(found["resolved"][1])
    assert ("・解決したと思われる場合でも継続して見守った"
            "【教職員、校内いじめ問題対策委員会、スクールカウンセラー・スクールソーシャルワーカー】") in both
    # internal actions are never edges, and their trigger ids appear only in comments
    moving = {t.trigger for t in defn.spec.transitions if t.to is not None}
    for t in internal:
        if t.trigger not in moving:
            assert not any(t.trigger in line for line in text.splitlines() if not line.strip().startswith("%%"))
    # a note is written in the block that declares its state: a region's note inside the parallel block
    assert "note right of responding__victim_support" in direct(block(text, "responding"))
    assert "note right of monitoring" in top_level(text)


def test_steps_from_any_state_are_listed_on_the_initial_state(defn: Definition, text: str) -> None:
    comment, lines = notes(text)["discovered"]
    from_any = [t for t in defn.spec.transitions if "*" in t.from_]
    assert comment == "%% from any open state: " + ", ".join(t.trigger for t in from_any)
    assert lines[0] == "どの状態からでも行える操作（終結まで）"
    assert lines[1:3] == ["・警察署に相談・通報した【校長】", "\u3000〔条件〕重大な暴力行為や金品強要等のおそれがあること"]
    for t in from_any:
        assert f"・{step(defn, t)}" in lines
    # a bool fact without a label of its own: in words, not "true"
    assert "\u3000〔条件〕「ネット上のいじめ」に該当すること" in lines


def test_notes_inside_a_compound_state(serious: Definition) -> None:
    text = mermaid(serious)
    inside = block(text, "school_investigation")
    assert "note right of school_investigation__investigating" in direct(inside)
    comment, lines = notes(text)["school_investigation__investigating"]
    assert comment == "%% internal actions: reanalyse_materials, conduct_survey, report_progress"
    assert lines[1] == "・先行して調査した資料を再分析した【校内いじめ問題対策委員会】"
    assert "note right of school_investigation" in top_level(text)  # the compound state's own actions
    assert len(notes(text)) == text.count("note right of ") == [line.strip() for line in text.splitlines()].count("end note")


# -- main-line order ----------------------------------------------------------------------------------------------


def test_states_in_main_line_order(text: str) -> None:
    assert declared_order(top_level(text)) == [
        "discovered", "initial_response", "reported_to_administrator", "shared_with_committee", "fact_finding",
        "facts_confirmed", "board_reported", "responding", "monitoring", "resolved", "closed"]
    victim = ("interviewing", "interviewed", "assured", "guardians_informed", "done")
    assert declared_order(direct(block(text, "responding__victim_support"))) == [
        f"responding__victim_support__{n}" for n in victim]
    assert declared_order(direct(block(text, "responding__bystander_guidance"))) == [
        f"responding__bystander_guidance__{name}" for name in ("guiding", "guided", "done")]


def test_serious_incident_main_line_order(serious: Definition) -> None:
    text = mermaid(serious)
    assert declared_order(top_level(text)) == [
        "suspected", "reported_to_board", "mayor_informed", "school_investigation", "board_investigation",
        "results_reported", "measures_taken", "reinvestigation", "closed"]
    assert declared_order(direct(block(text, "school_investigation"))) == [
        f"school_investigation__{name}" for name in ("organising", "organised", "explained", "investigating")]


def test_the_order_does_not_depend_on_the_yaml_order() -> None:
    reordered = TINY.replace("  closed: {ja: 終了, source: t, final: true}\n", "")
    reordered = reordered.replace("\nstates:\n", "\nstates:\n  closed: {ja: 終了, source: t, final: true}\n")
    assert reordered != TINY
    assert mermaid(load_text(reordered)) == TINY_DIAGRAM


# -- a tiny workflow: the exact text ----------------------------------------------------------------------

TINY = """
id: tiny
version: "1"
title: {ja: 小さな流れ, en: Tiny}
source: test
roles:
  staff: {ja: 教職員}
  head: {ja: 校長}
facts:
  ok: {type: bool, ja: 確認}
opened_by: [staff]
initial: start
states:
  start:
    ja: '開始 "引用" <b>'
    source: t
    deadlines: [{id: begin_soon, ja: すぐ始める, source: t, met_by: [begin], within: P2D}]
  work:
    ja: 作業
    source: t
    initial: draft
    states:
      draft: {ja: 下書き, source: t}
      done: {ja: 完了, source: t, final: true}
  both:
    ja: 並行
    source: t
    parallel:
      left:
        ja: 左
        source: t
        initial: a
        states:
          a: {ja: 左A, source: t}
          b: {ja: 左B, source: t, final: true}
      right:
        ja: 右
        source: t
        initial: a
        states:
          a: {ja: 右A, source: t, final: true}
  closed: {ja: 終了, source: t, final: true}
transitions:
  - {trigger: begin, ja: 始める, source: t, from: start, to: work, roles: [staff]}
  - {trigger: finish, ja: 仕上げる, source: t, from: work.draft, to: work.done, roles: [staff, head]}
  - {trigger: split, ja: 分ける, source: t, from: work, to: both, automatic: true}
  - {trigger: left_go, ja: 左へ, source: t, from: both.left.a, to: both.left.b, roles: [staff]}
  - {trigger: memo, ja: 記録, source: t, from: "*", roles: [staff]}
  - {trigger: skip, ja: 飛ばす, source: t, from: [start, work], to: closed, roles: [head], when: {fact: ok, equals: true}}
  - {trigger: quit, ja: やめる, source: t, from: start, to: closed, roles: [staff]}
  - {trigger: tidy, ja: 片付け, source: t, from: both.left, roles: [staff], when: {fact: ok, is_set: true, ja: 確認を記録済み}}
  - {trigger: join, ja: 合流, source: t, from: both, to: closed, automatic: true}
"""

TINY_DIAGRAM = """\
stateDiagram-v2
    [*] --> start
    state "開始 ”引用” ＜b＞" as start
    %% from any open state: memo
    note right of start
        どの状態からでも行える操作（終結まで）
        ・記録【教職員】
    end note
    state "作業" as work
    state work {
        [*] --> work__draft
        state "下書き" as work__draft
        state "完了" as work__done
        %% trigger: finish
        work__draft --> work__done : 仕上げる【教職員、校長】
        work__done --> [*]
    }
    state "並行" as both
    state both {
        state "左" as both__left
        state both__left {
            [*] --> both__left__a
            state "左A" as both__left__a
            state "左B" as both__left__b
            %% trigger: left_go
            both__left__a --> both__left__b : 左へ【教職員】
            both__left__b --> [*]
        }
        %% internal actions: tidy
        note right of both__left
            この状態で行う操作（状態は変わらない）
            ・片付け【教職員】
            \u3000〔条件〕確認を記録済み
        end note
        --
        state "右" as both__right
        state both__right {
            [*] --> both__right__a
            state "右A" as both__right__a
            both__right__a --> [*]
        }
    }
    state "終了" as closed
    %% trigger: begin
    start --> work : 始める【教職員】<br/>⏱ 期限：2日以内
    %% trigger: split (automatic)
    work --> both : 分ける【自動】
    %% trigger: skip, quit
    start --> closed : ・飛ばす【校長】<br/>〔条件〕「確認」に該当すること<br/>・やめる【教職員】
    %% trigger: skip
    work --> closed : 飛ばす【校長】<br/>〔条件〕「確認」に該当すること
    %% trigger: join (automatic)
    both --> closed : 合流【自動】
    closed --> [*]
"""


def test_tiny_workflow_exact_text() -> None:
    defn = load_text(TINY)
    assert mermaid(defn) == TINY_DIAGRAM
    # the text depends only on what the canonical form (the SHA-256) holds
    assert mermaid(Definition.from_canonical(defn.canonical)) == TINY_DIAGRAM


def test_from_any_state_and_awkward_ids() -> None:
    """Steps from "*" that move are listed in the initial state's note, not drawn; ids Mermaid would misread
    get a suffix."""
    extra = "  note: {ja: 注記, source: t}\n  a__b: {ja: 衝突, source: t}\n"
    text = TINY.replace("  closed: {ja: 終了", extra + "  closed: {ja: 終了")
    text = text.replace("transitions:\n", "transitions:\n"
                        "  - {trigger: jot, ja: 注記へ, source: t, from: '*', to: note, roles: [staff]}\n"
                        "  - {trigger: back, ja: 戻る, source: t, from: note, to: start, roles: [staff]}\n")
    text = text.replace("  start:\n", "  a:\n    ja: 親\n    source: t\n    initial: b\n    states:\n"
                        "      b: {ja: 子, source: t}\n      work_start: {ja: 紛らわしい, source: t}\n  start:\n")
    defn = load_text(text, run_lint=False)
    ids = mermaid_ids(defn)
    assert ids["note"] == "note_S"
    assert ids["a.b"] == "a__b" and ids["a__b"] == "a__b_S2"
    assert ids["a.work_start"] == "a__work_start_S"
    assert len(set(ids.values())) == len(ids)
    diagram = mermaid(defn)
    assert 'state "注記" as note_S' in diagram
    assert "    note_S --> start : 戻る【教職員】\n" in diagram
    assert "jot" not in "".join(line for line in diagram.splitlines() if "-->" in line and "%%" not in line)
    comment, lines = notes(diagram)["start"]
    assert comment == "%% from any open state: jot --> note_S, memo"
    assert lines == ["どの状態からでも行える操作（終結まで）", "・注記へ【教職員】 →「注記」", "・記録【教職員】"]
    # the state "*" leads to comes right after the main line that reaches it by ordinary steps
    assert declared_order(top_level(diagram)).index("note_S") > declared_order(top_level(diagram)).index("both")


# -- escaping -----------------------------------------------------------------------------------------------------

AWKWARD = 'a "q" : b :: c; d [*] --> e <b>x</b> #quot; &amp; %% {f}'

ESCAPING = f"""
id: awkward
version: "1"
title: {{ja: t, en: t}}
source: t
roles:
  staff: {{ja: 'ロール: "甲"; [乙]'}}
facts:
  flag: {{type: bool, ja: '旗: "F"'}}
opened_by: [staff]
initial: start
states:
  start: {{ja: '{AWKWARD}', source: t}}
  box:
    ja: '箱: [x]'
    source: t
    initial: inner
    states:
      inner: {{ja: 'end note', source: t}}
      out: {{ja: 'x::y;', source: t, final: true}}
  closed: {{ja: '終了:', source: t, final: true}}
transitions:
  - {{trigger: go, ja: '{AWKWARD}', source: t, from: start, to: box, roles: [staff],
     when: {{fact: flag, equals: true, ja: '条件: "旗"; ::'}}}}
  - {{trigger: in_box, ja: 'end note', source: t, from: box.inner, to: box.out, roles: [staff]}}
  - {{trigger: memo, ja: "メモ: \\"%%\\" ;\\nend note", source: t, from: box.inner, roles: [staff],
     when: {{fact: flag, equals: true, ja: 'end note: x'}}}}
  - {{trigger: any, ja: 'いつでも: #x;', source: t, from: "*", to: closed, roles: [staff]}}
  - {{trigger: done, ja: 'done:', source: t, from: box, to: closed, automatic: true}}
"""


def test_labels_with_quotes_colons_and_brackets_are_escaped() -> None:
    text = mermaid(load_text(ESCAPING, run_lint=False))
    lines = [line.strip() for line in text.splitlines()]
    # a state label never holds the quote that would end it
    labels = [m[1] for line in lines if (m := STATE.match(line))]
    assert len(labels) == text.count("state \"") == 5
    assert 'state "a ”q” ： b ：： c； d [*] --＞ e ＜b＞x＜/b＞ ＃quot； ＆amp； %% {f}" as start' in lines
    assert 'state "x：：y；" as box__out' in lines and 'state "終了：" as closed' in lines
    # an edge label ends at ";" or "::" in Mermaid: neither is left, nor a ":" after the one that opens it,
    # nor HTML other than the line breaks the diagram writes itself
    drawn = edges(lines)
    assert len(drawn) == 3
    for found in drawn.values():
        assert ";" not in found and ":" not in found and "#" not in found and "&" not in found
        assert '"' not in found
        assert re.sub(r"<br/>", "", found).count("<") == 0 and ">" not in re.sub(r"<br/>", "", found)
    assert drawn[("start", "box")] == (
        "a ”q” ： b ：： c； d [*] --＞ e ＜b＞x＜/b＞ ＃quot； ＆amp； %% {f}【ロール： ”甲”； [乙]】"
        "<br/>〔条件〕条件： ”旗”； ：：")
    assert drawn[("box", "closed")] == "done：【自動】"
    # a note ends only at its own "end note" line: no label line starts with it, nor holds a line break
    assert lines.count("end note") == text.count("note right of ") == 2
    comment, inside = notes(text)["box__inner"]
    assert comment == "%% internal actions: memo"
    assert inside == ["この状態で行う操作（状態は変わらない）", "・メモ： ”%%” ； end note【ロール： ”甲”； [乙]】",
                      "\u3000〔条件〕end note： x"]
    assert notes(text)["start"][1][1] == "・いつでも： ＃x；【ロール： ”甲”； [乙]】 →「終了：」"
    # a comment line is never a label's: every "%%" line is one the diagram writes
    assert all(re.fullmatch(r"%% (trigger|internal actions|from any open state): [\w ,()>-]+", line)
               for line in lines if line.startswith("%%"))


def test_label_escapes() -> None:
    assert label('a:b;c"d<e>f#g&h') == "a：b；c”d＜e＞f＃g＆h"
    assert label(" two\nlines\t") == "two lines"
    assert label("  ") == "-"
