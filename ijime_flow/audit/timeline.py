"""A case's history as people read it: Japan time, who, what (Japanese label first), what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..actor import PARTS
from ..clock import jst
from ..definition import Definition
from ..events import Event
from ..privacy.forget import erased_text
from ..privacy.holds import HOLD_TYPES, hold_text
from ..privacy.sealing import SEALED_TEXT, Sealed

_TYPE_JA = {"opened": "事案を開始", "fact": "事実を記録", "automatic": "自動"}


def states_label(defn: Definition | None, states: Sequence[str]) -> str:
    if not states:
        return "—"
    return " / ".join(defn.state_label(s) if defn else s for s in sorted(states))


def subject_text(data: dict[str, Any]) -> str:
    """A ``subject`` event in words: the pupil's id (never a name) and part, Japanese first."""
    subject, part = data.get("subject"), data.get("part")
    if part is None:
        return f"対象の児童生徒から取り消し: {subject} / subject {subject} withdrawn"
    return f"対象の児童生徒: {subject}（{PARTS.get(str(part), str(part))}） / subject {subject} named as {part}"


def describe_event(defn: Definition | None, event: Event) -> list[str]:
    """Three or four lines for one event."""
    at = jst(event.at)
    roles = ", ".join(event.actor.roles) or "-"
    lines = [f"#{event.seq:<3} {at} JST  {event.actor.id} [{roles}]"]
    if event.type == "fact":
        name = str(event.data.get("fact"))
        label = defn.fact_labels.get(name, name) if defn else name
        lines.append(f"     事実を記録: 「{label}」 = {_value(event.data.get('value'))}  (fact {name})")
        return lines
    if event.type == "escalated":
        lines.append(f"     重大事態の要件を満たし、事案 {event.data.get('case')} へ移行（要件: {event.data.get('criterion')}）"
                     f" / escalated to case {event.data.get('case')}")
        lines.append(f"     {event.data.get('figures')}")
        return lines
    if event.type == "subject":
        lines.append(f"     {subject_text(event.data)}")
        return lines
    if event.type in HOLD_TYPES:
        lines.append(f"     {hold_text(event.type, event.data)}")
        return lines
    if event.type == "erased":
        lines.append(f"     {erased_text(event.data)}")
        return lines
    if event.type == "criterion_met":
        lines.append(f"     事案 {event.data.get('escalated_from')} で重大事態の要件を追加で満たした（要件:"
                     f" {event.data.get('criterion')}） / further criterion from case {event.data.get('escalated_from')}")
        return lines
    if event.type == "opened" and "escalated_from" in event.data:
        lines.append(f"     事案 {event.data.get('escalated_from')} から重大事態として開始（要件: {event.data.get('criterion')}）"
                     f" / opened by escalation from case {event.data.get('escalated_from')}")
    if event.type == "opened" and "opened_from" in event.data:
        lines.append(f"     事案 {event.data.get('opened_from')} の {event.data.get('step')} から開始"
                     f" / opened by step {event.data.get('step')} of case {event.data.get('opened_from')}")
    if event.type == "opened":
        pin = event.definition
        what = f"{_TYPE_JA['opened']} (opened: {pin.id} {pin.version}, sha256 {pin.sha256[:12]}…)" if pin else "opened"
    else:
        label = defn.trigger_label(event.trigger or "", event.from_states or []) if defn else str(event.trigger)
        prefix = "自動: " if event.type == "automatic" else ""
        kind = "" if event.type == "transition" else f", {event.type}"
        what = f"{prefix}{label} ({event.trigger}{kind})"
    lines.append(f"     {what}")
    before, after = set(event.from_states or []), set(event.to_states or [])
    if event.type == "opened":
        lines.append(f"     → {states_label(defn, sorted(after))}")
    elif before != after:
        lines.append(f"     {states_label(defn, sorted(before - after))} → {states_label(defn, sorted(after - before))}")
    if event.data:
        lines.append("     " + ", ".join(f"{k}={_value(v)}" for k, v in sorted(event.data.items())))
    return lines


def render_timeline(defn: Definition | None, events: Sequence[Event]) -> str:
    if not events:
        return "(no events)"
    head = events[0]
    title = f"{defn.spec.title.ja} / {defn.spec.title.en}" if defn else (head.definition.id if head.definition else "")
    out = [f"事案 {head.case_id} — {title}"]
    for event in events:
        out.extend(describe_event(defn, event))
    last = events[-1]
    out.append(f"現在の状態 / current state: {states_label(defn, last.to_states or [])}")
    return "\n".join(out)


def _value(value: Any) -> str:
    if value is True:
        return "はい (true)"
    if value is False:
        return "いいえ (false)"
    text = SEALED_TEXT if isinstance(value, Sealed) else str(value)  # a personal value without its key
    return text if len(text) <= 60 else text[:57] + "…"
