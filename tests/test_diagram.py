"""The Mermaid diagram of a workflow: its shape for the shipped workflow, and the exact text of a tiny one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ijime_flow import Definition, load_file, load_text
from ijime_flow.audit.diagram import mermaid, mermaid_ids

RESPONSE = Path(__file__).resolve().parent.parent / "workflows" / "response.yaml"
EDGE = re.compile(r"^\s*(\w+) --> (\w+) : (.+)$")


@pytest.fixture(scope="module")
def defn() -> Definition:
    return load_file(RESPONSE)


@pytest.fixture(scope="module")
def text(defn: Definition) -> str:
    return mermaid(defn)


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


def top_level(text: str) -> list[str]:
    """The stripped lines outside every block."""
    depth, out = 0, []
    for line in (line.strip() for line in text.splitlines()[1:]):
        if depth == 0 and not line.endswith("{"):
            out.append(line)
        depth += line.endswith("{") - (line == "}")
    return out


def edges(lines: list[str]) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        match = EDGE.match(line)
        if match:
            assert (match[1], match[2]) not in out, f"two edges for one pair: {line}"
            out[(match[1], match[2])] = match[3].split(", ")
    return out


# -- the shipped workflow ---------------------------------------------------------------------------


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
        label = node.spec.ja.replace('"', "”")
        assert f'state "{label}" as {sid(path)}' in lines, path
    declared = [m[1] for line in lines if (m := re.fullmatch(r'state "[^"]+" as (\w+)', line))]
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


def test_parallel_regions_are_separated(defn: Definition, text: str) -> None:
    parallel = [node for node in defn.nodes.values() if node.kind == "parallel"]
    assert parallel, "response.yaml has a parallel state"
    for node in parallel:
        inside = block(text, sid(node.path))
        depth, direct = 0, []
        for line in inside:  # the lines directly inside the parallel block
            if depth == 0:
                direct.append(line)
            depth += line.endswith("{") - (line == "}")
        assert direct.count("--") == len(node.children) - 1
        assert [line for line in direct if line.endswith("{")] == [f"state {sid(region)} {{" for region in sorted(node.children)]
        for region in node.children:
            assert f"[*] --> {sid(region)}__{defn.nodes[region].spec.initial}" in block(text, sid(region))


def test_an_edge_for_every_moving_transition(defn: Definition, text: str) -> None:
    drawn = edges(text.splitlines())
    moving = [t for t in defn.spec.transitions if t.to is not None and "*" not in t.from_]
    assert any(t.automatic for t in moving) and any(not t.automatic for t in moving)
    for t in moving:
        assert t.to is not None
        for src in t.from_:
            labels = drawn[(sid(src), sid(t.to))]
            assert (f"{t.trigger} (自動)" if t.automatic else t.trigger) in labels
    assert set(drawn) == {(sid(src), sid(t.to)) for t in moving for src in t.from_ if t.to}


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


def test_no_edge_for_internal_actions(defn: Definition, text: str) -> None:
    internal = [t.trigger for t in defn.spec.transitions if t.to is None]
    assert internal, "response.yaml has internal actions"
    moving = {t.trigger for t in defn.spec.transitions if t.to is not None}
    labels = {label for found in edges(text.splitlines()).values() for label in found}
    for trigger in internal:
        if trigger not in moving:
            assert trigger not in labels
            assert not re.search(rf"-->.*\b{trigger}\b", text)
    comment = text.splitlines()[-1].strip()
    assert comment == "%% internal actions (no state change): " + ", ".join(dict.fromkeys(internal))


def test_deterministic(defn: Definition, text: str) -> None:
    assert mermaid(defn) == text
    assert mermaid(load_file(RESPONSE)) == text
    assert mermaid(Definition.from_canonical(defn.canonical)) == text


# -- a tiny workflow: the exact text ----------------------------------------------------------------------

TINY = """
id: tiny
version: "1"
title: {ja: 小さな流れ, en: Tiny}
source: test
roles:
  staff: {ja: 教職員}
opened_by: [staff]
initial: start
states:
  start: {ja: '開始 "引用" <b>', source: t}
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
  - {trigger: finish, ja: 仕上げる, source: t, from: work.draft, to: work.done, roles: [staff]}
  - {trigger: split, ja: 分ける, source: t, from: work, to: both, automatic: true}
  - {trigger: left_go, ja: 左へ, source: t, from: both.left.a, to: both.left.b, roles: [staff]}
  - {trigger: memo, ja: 記録, source: t, from: "*", roles: [staff]}
  - {trigger: skip, ja: 飛ばす, source: t, from: [start, work], to: closed, roles: [staff]}
  - {trigger: quit, ja: やめる, source: t, from: start, to: closed, roles: [staff]}
  - {trigger: tidy, ja: 片付け, source: t, from: both.left, roles: [staff]}
  - {trigger: join, ja: 合流, source: t, from: both, to: closed, automatic: true}
"""

TINY_DIAGRAM = """\
stateDiagram-v2
    [*] --> start
    state "並行" as both
    state both {
        state "左" as both__left
        state both__left {
            [*] --> both__left__a
            state "左A" as both__left__a
            state "左B" as both__left__b
            both__left__a --> both__left__b : left_go
            both__left__b --> [*]
        }
        --
        state "右" as both__right
        state both__right {
            [*] --> both__right__a
            state "右A" as both__right__a
            both__right__a --> [*]
        }
    }
    state "終了" as closed
    state "開始 ”引用” ＜b＞" as start
    state "作業" as work
    state work {
        [*] --> work__draft
        state "完了" as work__done
        state "下書き" as work__draft
        work__draft --> work__done : finish
        work__done --> [*]
    }
    start --> work : begin
    work --> both : split (自動)
    start --> closed : skip, quit
    work --> closed : skip
    both --> closed : join (自動)
    closed --> [*]
    %% internal actions (no state change): memo, tidy
"""


def test_tiny_workflow_exact_text() -> None:
    defn = load_text(TINY)
    assert mermaid(defn) == TINY_DIAGRAM
    # the states are sorted by name: the text does not depend on the order of the YAML file, only
    # on what the canonical form (the SHA-256) holds
    assert mermaid(Definition.from_canonical(defn.canonical)) == TINY_DIAGRAM


def test_from_any_state_and_awkward_ids() -> None:
    """Steps from "*" that move are listed, not drawn; ids Mermaid would misread get a suffix."""
    extra = "  note: {ja: 注記, source: t}\n  a__b: {ja: 衝突, source: t}\n"
    text = TINY.replace("  closed: {ja: 終了", extra + "  closed: {ja: 終了")
    text = text.replace("transitions:\n", "transitions:\n"
                        "  - {trigger: jot, ja: 注記へ, source: t, from: '*', to: note, roles: [staff]}\n"
                        "  - {trigger: back, ja: 戻る, source: t, from: note, to: start, roles: [staff]}\n")
    text = text.replace("  start: {ja:", "  a:\n    ja: 親\n    source: t\n    initial: b\n    states:\n"
                        "      b: {ja: 子, source: t}\n      work_start: {ja: 紛らわしい, source: t}\n  start: {ja:")
    defn = load_text(text, run_lint=False)
    ids = mermaid_ids(defn)
    assert ids["note"] == "note_S"
    assert ids["a.b"] == "a__b" and ids["a__b"] == "a__b_S2"
    assert ids["a.work_start"] == "a__work_start_S"
    assert len(set(ids.values())) == len(ids)
    diagram = mermaid(defn)
    assert 'state "注記" as note_S' in diagram
    assert "    note_S --> start : back\n" in diagram
    assert "jot" not in "".join(line for line in diagram.splitlines() if "-->" in line and "%%" not in line)
    assert diagram.endswith("%% internal actions (no state change): memo, tidy\n    %% from any open state: jot --> note_S\n")
