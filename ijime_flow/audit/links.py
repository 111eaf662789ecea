"""Escalation links between cases: both ends must name each other."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store


def _link_problem(store: Store, source: str, target: str, criterion: str, *, reverse: bool = False) -> str:
    """Both ends of an escalation must name each other: the source's ``escalated`` event names the
    target case, and the target's ``opened`` / ``criterion_met`` event names the source. ``reverse``
    checks from the source side (looks in the target's log)."""
    look_in = target if reverse else source
    rows = store.read_case(look_in)
    if not rows:
        return f"the linked case {look_in} does not exist in the store"
    for row in rows:
        try:  # a damaged row names no link (its own check reports it, with its seq)
            body = json.loads(row.body)
        except (ValueError, RecursionError):
            continue
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            continue
        if data.get("criterion") != criterion:
            continue
        if reverse and body.get("type") in ("opened", "criterion_met") and data.get("escalated_from") == source:
            return ""
        if not reverse and body.get("type") == "escalated" and data.get("case") == target:
            return ""
    if reverse:
        return f"case {target} does not record that it was opened from {source} for '{criterion}'"
    return f"case {source} has no escalation to {target} for '{criterion}'"
