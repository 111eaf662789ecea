"""What a school's workflows lack of the contract, as ``check`` reports it once, at the top: each element with
its policy source and strength. A missing ``must`` element within what ``check`` checks (sections 4 and 7 of
the policy, 6(2), the national policy and the law they complete) is one 不合格 — the state a missing step leads
to is the same departure, not another; what needs it is 未確認 (:mod:`.elements`, :mod:`.runner`). Elements of
other duties (the national survey, the school year: sections 3, 5, 6(1)) are listed, not judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..definition import Definition
from .contract import ContractElement, TriggerElement, load_contract, missing_from

STRENGTH_JA = {"must": "義務", "should": "望ましい"}
KIND_JA = {"role": "役割", "state": "状態", "region": "対応の領域", "trigger": "操作", "action": "随時の操作",
           "fact": "事実", "criterion": "重大事態の要件", "workflow": "ワークフロー"}


@dataclass
class Lack:
    workflow: str
    file: str
    element: ContractElement
    departure: bool  # a must element within the check's scope: 不合格
    with_it: list[str]  # the states it would lead to (one departure with it)

    def line(self) -> str:
        e = self.element
        mark = "不合格" if self.departure else ("未確認" if e.strength == "must" else "警告  ")
        scope = "" if in_scope(e.source) else "（この検査の範囲外 / outside this check）"
        also = f"（→ {'、'.join(self.with_it)}）" if self.with_it else ""
        return (f"  {mark} [{e.source}; {STRENGTH_JA.get(e.strength, e.strength)}] {KIND_JA.get(e.kind, e.kind)}"
                f" {e.id} {e.ja}{also}{scope} — {Path(self.file).name if self.file else self.workflow}")

    def to_dict(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "file": self.file, "kind": self.element.kind, "id": self.element.id,
                "ja": str(self.element.ja), "source": self.element.source, "strength": self.element.strength,
                "departure": self.departure, "with": self.with_it}


def in_scope(source: str) -> bool:
    parts = [p.strip() for p in source.replace("、", ",").split(",")]
    return any(p.startswith(("4", "7", "law")) or p in ("6(2)", "national policy") for p in parts)


def lacks(school: Mapping[str, tuple[Path, Definition]]) -> list[Lack]:
    """Per workflow of the contract the school has (and each one they escalate to), what it lacks."""
    contract = load_contract()
    known = {w.id for w in contract.workflows}
    out: list[Lack] = []
    wanted = [wid for wid in school if wid in known]
    for wid in list(wanted):
        escalation = school[wid][1].spec.escalation
        target = escalation.to if escalation is not None else None
        if target and target in known and target not in school and target not in wanted:
            wanted.append(target)
    for wid in wanted:
        if wid not in school:
            w = contract.workflow(wid)
            out.append(Lack(wid, "", w, w.strength == "must" and in_scope(w.source), []))
            continue
        file, definition = school[wid]
        missing = missing_from(definition, contract)
        led_to = {e.to: e.id for e in missing if isinstance(e, TriggerElement) and e.to}
        for element in missing:
            if element.kind == "state" and element.id in led_to:
                continue  # reached by a missing step: that step's departure
            with_it = [e.id for e in missing if isinstance(element, TriggerElement) and e.kind == "state" and
                       e.id == element.to]
            out.append(Lack(wid, str(file), element, element.strength == "must" and in_scope(element.source), with_it))
    return out
