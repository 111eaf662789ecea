"""A case report people read: one Markdown document for school staff and auditors.

:func:`case_report` puts together what the log says about one case, in Japanese first (English in
parentheses where it helps): a summary, the timeline in Japan time, the deadlines as of a given time,
the linked cases, the result of verification, and the workflow's state diagram with the states the
case passed through and the current ones highlighted. Everything comes from the store — the events
and the definition the case pinned — and ``as_of``; the wall clock is never read, so the same store
and the same ``as_of`` give the same text, byte for byte.

Personal data: the log holds pseudonymous ids, never names, and the report shows ids only. Recorded
values (facts, a step's data) are shown shortened; each is free text the school wrote.

Markdown safety: every table cell escapes ``|``, backslashes, the characters that start HTML, code
or emphasis, and writes line breaks as ``<br>``, so a recorded value cannot break the table or
inject markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..calendars.resolved import CALENDAR_KEY
from ..clock import jst, require_aware
from ..deadlines import Deadline, case_deadlines
from ..definition import Definition
from ..errors import StoreError
from ..events import ActorRef, Event
from ..privacy.forget import erased_text
from ..privacy.holds import HOLD_TYPES, hold_text
from ..privacy.sealing import SEALED_TEXT, Sealed
from .diagram import mermaid, mermaid_ids
from .folding import FoldProblem, fold_checked, pinned_definition, read_events
from .report_proofs import DEFAULT_LATE, ProofView, proof_section, record_marks
from .timeline import subject_text

if TYPE_CHECKING:
    from ..case import LinkedCase
    from ..engine import Engine
    from .verify import VerificationReport

__all__ = ["CURRENT_STYLE", "VISITED_STYLE", "case_report", "case_report_checked", "highlighted_diagram", "jst"]

VISITED_STYLE = "fill:#dbeafe,stroke:#1d4ed8"
CURRENT_STYLE = "fill:#fde68a,stroke:#b45309,stroke-width:3px"
VALUE_WIDTH = 60  # characters of one recorded value shown
DATA_WIDTH = 160  # characters of a step's data summary shown

_RELATION_JA = {"escalated_to": "重大事態として移行した先 (escalated to)",
                "escalated_from": "移行元の事案 (escalated from)",
                "opened": "この事案の手順で開いた事案 (opened by a step of this case)",
                "opened_from": "この事案を開いた事案 (opened from)"}
# characters that would end a cell, start HTML, a code span, emphasis or a link
_CELL_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "`": "\\`", "*": "\\*", "[": "\\[", "]": "\\]",
                               "&": "&amp;", "<": "&lt;", ">": "&gt;"})


def case_report(engine: Engine, case_id: str, *, as_of: datetime, late: timedelta = DEFAULT_LATE,
                proofs: ProofView | None = None) -> str:
    """The Markdown report of one case, as of ``as_of`` (deadlines are judged at that time).

    Raises :class:`UnknownCase` when the store has no such case, and
    :class:`~ijime_flow.audit.folding.NothingToReplay` (a :class:`StoreError`) when not even its first
    event can be used: it is unreadable, does not pin a definition, or pins one the store lacks. A
    later event that cannot be read or folded ends the timeline there (verification tells the rest);
    :func:`case_report_checked` also says where.

    ``late``: a step recorded (``recorded_at``) more than this after it happened (``at``) is marked in the
    timeline, as is one dated before an earlier step. ``proofs``: how far a signed checkpoint proves the
    case's events (:mod:`ijime_flow.audit.report_proofs`); without it the report says none was checked."""
    return case_report_checked(engine, case_id, as_of=as_of, late=late, proofs=proofs)[0]


def case_report_checked(engine: Engine, case_id: str, *, as_of: datetime, late: timedelta = DEFAULT_LATE,
                        proofs: ProofView | None = None) -> tuple[str, FoldProblem | None]:
    """:func:`case_report`, and where a damaged log ended its timeline (``None``: it did not)."""
    require_aware(as_of, "as_of")
    events, problem, last_seq = read_events(engine, case_id)
    defn = pinned_definition(engine, case_id, events, problem, last_seq)
    _, events, problem = fold_checked(case_id, defn, events, problem, last_seq)
    unreadable = f"seq {problem.seq}: {problem.reason}" if problem is not None else ""
    links: list[LinkedCase] | None = None if unreadable else engine.get_case(case_id).linked_cases()
    out = [f"# 事案報告書 (case report): {_code(case_id)}", "",
           f"基準時刻 (as of): {jst(as_of)} JST — 期限の判定はこの時刻によります (deadlines are judged at this time).", ""]
    marks = record_marks(events, late)
    out += _summary(defn, events, unreadable, marks)
    out += _timeline(defn, events, unreadable, marks, late)
    out += _deadlines(case_deadlines(defn, events, as_of), defn, as_of)
    out += _linked(engine, defn, links)
    out += _verification(engine.verify(case_id))
    out += proof_section(proofs, _cell)
    out += ["## 状態遷移図 (state diagram)", "",
            "これまでに経た状態を青、現在の状態を黄で示します (visited states in blue, current ones in yellow).", "",
            "```mermaid", highlighted_diagram(defn, events).rstrip("\n"), "```", ""]
    return "\n".join(out), problem


def highlighted_diagram(defn: Definition, events: Sequence[Event]) -> str:
    """The workflow's Mermaid ``stateDiagram-v2`` (:func:`ijime_flow.audit.diagram.mermaid`) with two
    classes: ``current`` on every active state (the leaves after the last event and the states
    they are inside), ``visited`` on every other state some event entered (its ``to_states`` and
    the states they are inside). The ``classDef`` and ``class`` lines are written at the top level,
    after every state: Mermaid applies a class to the state of that id wherever it is nested."""
    ids = mermaid_ids(defn)
    passed = _with_ancestors(defn, (leaf for event in events for leaf in event.to_states or ()))
    current = _with_ancestors(defn, _current_leaves(events))
    visited = passed - current
    lines = [mermaid(defn).rstrip("\n"), f"    classDef visited {VISITED_STYLE}", f"    classDef current {CURRENT_STYLE}"]
    for paths, name in ((visited, "visited"), (current, "current")):
        if paths:
            lines.append(f"    class {','.join(ids[path] for path in sorted(paths))} {name}")
    return "\n".join(lines) + "\n"


# -- reading ----------------------------------------------------------------------------------------
def _current_leaves(events: Sequence[Event]) -> list[str]:
    return list(events[-1].to_states or ()) if events else []


def _with_ancestors(defn: Definition, leaves: Iterable[str]) -> set[str]:
    return {path for leaf in leaves if leaf in defn.nodes for path in defn.ancestors(leaf)}


# -- sections ---------------------------------------------------------------------------------------
def _summary(defn: Definition, events: Sequence[Event], unreadable: str, marks: dict[int, str]) -> list[str]:
    first, last = events[0], events[-1]
    leaves = frozenset(_current_leaves(events))
    title = defn.spec.title
    known = [leaf for leaf in leaves if leaf in defn.nodes]
    closed = "はい (closed)" if known and defn.is_closed(frozenset(known)) else "いいえ (open)"
    count = f"{len(events)}" + (" (読み取れない記録があるため、それ以前まで / up to an unreadable event)" if unreadable else "")
    rows = [
        ("事案ID (case id)", _code(first.case_id)),
        ("学校 (school)", _code(first.school) if first.school else "—"),
        ("ワークフロー (workflow)", f"{_cell(title.ja)} ({_cell(title.en)}) — `{defn.id}`"),
        ("版 (version)", f"{_cell(defn.version)} — sha256 `{defn.sha256[:12]}`"),
        ("開始 (opened)", f"{jst(first.at)} JST"),
        ("最終記録 (last event)", f"{jst(last.at)} JST (seq {last.seq})"),
        ("現在の状態 (current states)", _states(defn, sorted(leaves))),
        ("終結 (closed)", closed),
        ("記録件数 (events)", count),
        ("記録の遅れ・日時の逆転 (late or out-of-order records)",
         f"**{len(marks)} 件 (marked in the timeline)**" if marks else "なし (none)"),
    ]
    out = ["## 概要 (summary)", "", "| 項目 (item) | 内容 (value) |", "|---|---|"]
    out += [f"| {name} | {value} |" for name, value in rows]
    out += ["", f"<details><summary>定義の SHA-256 (definition sha256)</summary><code>{defn.sha256}</code></details>", ""]
    return out


def _timeline(defn: Definition, events: Sequence[Event], unreadable: str, marks: dict[int, str],
              late: timedelta) -> list[str]:
    out = ["## 経過 (timeline)", "",
           f"時刻は出来事の日時、記録は書き込まれた日時です。{_hours(late)}より後に記録された操作と、前の操作より前の日時の"
           f"操作に ⚠ を付けています (time: when it happened; recorded: when it was written to the log; ⚠ marks a step"
           f" recorded more than {_hours(late, en=True)} after it happened, or dated before an earlier step).", "",
           "| # | 時刻 (JST) | 記録 (recorded, JST) | 役割 (actor) | 操作 (action) | 状態の変化 (state change) | データ (data) |",
           "|---:|---|---|---|---|---|---|"]
    for event in events:
        recorded = jst(event.recorded_at) + (f"<br>{marks[event.seq]}" if event.seq in marks else "")
        cells = [str(event.seq), jst(event.at), recorded, _actor(defn, event.actor), _action(defn, event),
                 _change(defn, event), _data(event)]
        out.append("| " + " | ".join(cells) + " |")
    if unreadable:
        out += ["", f"**読み取れない記録があります (an event cannot be read)**: {_cell(unreadable)} — 検証の結果を参照"
                    " (see the verification below)."]
    out.append("")
    return out


def _deadlines(deadlines: Sequence[Deadline], defn: Definition, as_of: datetime) -> list[str]:
    out = ["## 期限 (deadlines)", "", f"{jst(as_of)} JST 時点 (as of).", ""]
    if not deadlines:
        return [*out, "期限はまだ始まっていません (no deadline has started).", ""]
    out += ["| 期限 (id) | 状態 (state) | 開始 (started) | 期限 (due) | 実施 (met) | 結果 (status) |",
            "|---|---|---|---|---|---|"]
    for d in deadlines:
        met = f"{jst(d.met_at)} (seq {d.met_seq})" if d.met_at is not None else "—"
        cells = [f"`{d.id}` {_cell(d.ja)} — {d.within_ja}", _cell(defn.state_label(d.state)), jst(d.started_at),
                 jst(d.due), met,
                 f"{d.status_ja} ({d.status})"]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return out


def _linked(engine: Engine, defn: Definition, links: Sequence[LinkedCase] | None) -> list[str]:
    out = ["## 関連事案 (linked cases)", ""]
    if links is None:
        return [*out, "読み取れない記録があるため一覧できません (cannot be listed: the log is damaged).", ""]
    if not links:
        return [*out, "関連事案はありません (none).", ""]
    out += ["| 事案ID (case) | 関係 (relation) | 要件 (criterion) | 記録 (seq) | 関連事案の現在 (where it stands) |",
            "|---|---|---|---:|---|"]
    for link in links:
        cells = [_code(link.case_id), _RELATION_JA.get(link.relation, _cell(link.relation)),
                 _criterion(defn, link.criterion), str(link.seq), _where(engine, link.case_id)]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return out


def _verification(report: VerificationReport) -> list[str]:
    out = ["## 検証 (verification)", ""]
    if report.ok:
        return [*out, f"検証OK (verified): {report.events} 件の記録、問題なし (events, no problems).", ""]
    out += [f"検証NG (verification FAILED): {len(report.problems)} 件の問題 (problems) / {report.events} 件の記録 (events).",
            "", "| seq | 種類 (kind) | 内容 (message) |", "|---:|---|---|"]
    out += [f"| {p.seq if p.seq is not None else '—'} | {_cell(p.kind)} | {_cell(p.message)} |" for p in report.problems]
    out.append("")
    return out


def _hours(span: timedelta, *, en: bool = False) -> str:
    hours = span.total_seconds() / 3600
    text = f"{hours:g}"
    return f"{text} h" if en else f"{text}時間"


# -- cells ------------------------------------------------------------------------------------------
def _cell(text: object) -> str:
    """Text made safe for a Markdown table cell."""
    value = str(text).translate(_CELL_ESCAPES)
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _code(text: object) -> str:
    """An id as a code span, safe in a table cell (ids are plain ASCII in practice; this is a guard)."""
    value = " ".join(str(text).replace("`", "'").split()).replace("|", "\\|")
    return f"`{value}`"


def _states(defn: Definition, states: Sequence[str]) -> str:
    if not states:
        return "—"
    return "<br>".join(_cell(defn.state_label(s)) for s in states)


def _actor(defn: Definition, actor: ActorRef) -> str:
    roles = []
    for role in actor.roles:
        spec = defn.spec.roles.get(role)
        roles.append(f"{_cell(spec.ja)} ({_cell(role)})" if spec else _cell(role))
    return f"{_code(actor.id)} " + (", ".join(roles) or "—")


def _action(defn: Definition, event: Event) -> str:
    data = event.data
    if event.type == "fact":
        name = str(data.get("fact"))
        label = defn.fact_labels.get(name, name)
        return f"事実を記録 (fact): 「{_cell(label)}」= {_cell(_value(data.get('value')))} ({_code(name)})"
    if event.type == "escalated":
        return (f"重大事態の要件を満たし、事案 {_code(data.get('case'))} へ移行 (escalated)<br>"
                f"要件 (criterion): {_criterion(defn, data.get('criterion'))}<br>{_cell(data.get('figures', ''))}")
    if event.type == "subject":
        return _cell(subject_text(data))
    if event.type in HOLD_TYPES:
        return _cell(hold_text(event.type, data))
    if event.type == "erased":
        return _cell(erased_text(data))
    if event.type == "criterion_met":
        return (f"事案 {_code(data.get('escalated_from'))} で重大事態の要件を追加で満たした (further criterion)<br>"
                f"要件 (criterion): {_criterion(defn, data.get('criterion'))}<br>{_cell(data.get('figures', ''))}")
    if event.type == "opened":
        pin = event.definition
        what = f"事案を開始 (opened: `{pin.id}` {_cell(pin.version)})" if pin else "事案を開始 (opened)"
        if "escalated_from" in data:
            what += (f"<br>事案 {_code(data['escalated_from'])} から重大事態として開始 (opened by escalation)<br>"
                     f"要件 (criterion): {_criterion(defn, data.get('criterion'))}<br>{_cell(data.get('figures', ''))}")
        elif "opened_from" in data:
            what += (f"<br>事案 {_code(data['opened_from'])} の「{_cell(data.get('step', ''))}」から開始"
                     f" (opened from case {_code(data['opened_from'])}'s step)")
        return what
    trigger = event.trigger or ""
    label = _cell(defn.trigger_label(trigger, event.from_states or []))
    if event.type == "automatic":
        return f"自動: {label} ({_code(trigger)}, automatic)"
    if event.type == "action":
        return f"{label} ({_code(trigger)}, 内部の記録 / internal action)"
    return f"{label} ({_code(trigger)})"


def _change(defn: Definition, event: Event) -> str:
    after = sorted(event.to_states or ())
    if event.type == "opened":
        return f"→ {_states(defn, after)}"
    before = sorted(event.from_states or ())
    if before == after:
        return "—"
    gone = [s for s in before if s not in after]
    new = [s for s in after if s not in before]
    return f"{_states(defn, gone)} → {_states(defn, new)}"


def _data(event: Event) -> str:
    """The step's data as ``key=value`` pairs, shortened. Facts and escalations are already shown in
    the action column."""
    if event.type in ("fact", "escalated", "criterion_met", "subject", "erased", *HOLD_TYPES) or "escalated_from" in event.data \
            or "opened_from" in event.data:
        return "—"
    shown = {key: value for key, value in event.data.items() if key != CALENDAR_KEY}  # the engine's pin, not data
    if not shown:
        return "—"
    text = ", ".join(f"{key}={_value(value)}" for key, value in sorted(shown.items()))
    return _cell(_shorten(text, DATA_WIDTH))


def _value(value: Any) -> str:
    if value is True:
        return "はい (true)"
    if value is False:
        return "いいえ (false)"
    if value is None:
        return "—"
    if isinstance(value, Sealed):  # a personal value without its key (an exported bundle)
        return SEALED_TEXT
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _shorten(text, VALUE_WIDTH)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _criterion(defn: Definition, criterion: object) -> str:
    """A criterion's Japanese label when this workflow declares it (the escalating side), with its id."""
    name = str(criterion)
    escalation = defn.spec.escalation
    found = next((c for c in escalation.criteria if c.id == name), None) if escalation else None
    return f"{_cell(found.ja)} ({_code(name)})" if found else _code(name)


def _where(engine: Engine, case_id: str) -> str:
    """A linked case's workflow and current states, from the projection (no log is read)."""
    row = engine.store.case_row(case_id)
    if row is None:
        return "この記録にはありません (not in this store)"
    try:
        runtime = engine.runtime_for(row.definition_sha256)
    except StoreError:  # a stored definition that cannot run: the linked case is still named, by state id
        runtime = None
    if runtime is None:
        return f"`{row.workflow}`: " + ", ".join(_code(s) for s in row.states)
    defn = runtime.definition
    return f"{_cell(defn.spec.title.ja)} (`{row.workflow}`): {_states(defn, row.states)}"
