"""The Japanese words of the Mermaid diagram (:mod:`.diagram`): what a step is called, who takes it, what
must hold and by when, written so that school staff and board officers can read the diagram.

Every text is escaped with :func:`label`: nothing a workflow's labels hold can end a quoted state label, an
edge label (Mermaid ends one at ``;`` and ``::``), a note, or be read as HTML or an entity code.

* A step reads ``<its ja label>【<roles, in their ja labels>】`` (``【自動】`` for an automatic step), then,
  each on its own line, ``⏱ 期限：<when>`` when the step meets a deadline (``即日``, ``1日以内``,
  ``2時間以内``..., ``（該当する場合）`` added when the deadline starts only under a condition) and
  ``〔条件〕<the condition>`` for each condition the step requires (the condition's ``ja`` label, or the
  wording of refusal messages; ``all`` without a label gives one line per part).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..definition import Definition
from ..language.condition_models import AllOf, Condition, FactIs
from ..language.conditions import describe
from ..language.models import TransitionDef

__all__ = ["BREAK", "Wording", "label", "within_ja"]

BREAK = "<br/>"  # a line break inside an edge label (Mermaid renders labels as HTML)
AUTOMATIC_JA = "自動"
CONDITION = "〔条件〕"
DEADLINE = "⏱ 期限："
ROLE_SEPARATOR = "、"  # not "・": role labels hold it (管理職（校長・教頭）)

# Characters that would end a quoted label (``"``), an edge label (``;``, ``::``) or a note, or be read as
# HTML (``<``, ``>``, ``&``) or as a Mermaid entity code (``#quot;``): their full-width forms read the same
_LABEL_ESCAPES = str.maketrans({'"': "”", "<": "＜", ">": "＞", "&": "＆", "#": "＃", ":": "：", ";": "；",
                                "\n": " ", "\r": " ", "\t": " "})

_DURATION = re.compile(r"P(?:(\d+)W|(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)")
_UNITS = ("週間", "年", "か月", "日", "時間", "分", "秒")


def label(text: str) -> str:
    """``text`` on one line, safe inside any Mermaid label or note; ``-`` for an empty text."""
    return " ".join(text.translate(_LABEL_ESCAPES).split()) or "-"


def within_ja(within: str) -> str:
    """A deadline's ``within`` in words: ``same_day`` 即日, ``P1D`` 1日以内, ``PT2H`` 2時間以内,
    ``P1Y2M`` 1年2か月以内; a zero duration (which a stored definition may hold) 直ちに."""
    if within == "same_day":
        return "即日"
    match = _DURATION.fullmatch(within)
    if match is None or match.lastindex is None:
        return f"{within} 以内"
    parts = [f"{int(n)}{unit}" for n, unit in zip(match.groups(), _UNITS, strict=True) if n is not None and int(n)]
    return f"{''.join(parts)}以内" if parts else "直ちに"


class Wording:
    """The words for the steps of one definition."""

    def __init__(self, defn: Definition) -> None:
        self.defn = defn
        self.fact_label: Callable[[str], str] = lambda name: defn.fact_labels.get(name, name)
        # trigger -> the deadlines it meets, in the order of their states' paths
        self.deadlines: dict[str, list[tuple[str, bool]]] = {}
        for path in sorted(defn.deadline_defs):
            for deadline in defn.deadline_defs[path]:
                for trigger in deadline.met_by:
                    self.deadlines.setdefault(trigger, []).append((deadline.within, deadline.when is not None))

    def roles(self, t: TransitionDef) -> str:
        if t.automatic:
            return f"【{AUTOMATIC_JA}】"
        names = [self.defn.spec.roles[r].ja if r in self.defn.spec.roles else r for r in t.roles]
        return f"【{ROLE_SEPARATOR.join(names)}】"

    def deadline(self, trigger: str) -> str | None:
        """``⏱ 期限：即日`` for a step that meets a deadline; None for one that meets none."""
        found = self.deadlines.get(trigger)
        if not found:
            return None
        words = list(dict.fromkeys(within_ja(within) for within, _ in found))
        conditional = "（該当する場合）" if any(when for _, when in found) else ""
        return f"{DEADLINE}{'または'.join(words)}{conditional}"

    def conditions(self, cond: Condition | None) -> list[str]:
        """The condition in words, one item per line (``all`` without its own label: one per part)."""
        if cond is None:
            return []
        if isinstance(cond, AllOf) and cond.ja is None:
            return [line for part in cond.all for line in self.conditions(part)]
        if isinstance(cond, FactIs) and cond.ja is None and cond.op in ("equals", "not_equals") \
                and isinstance(cond.operand, bool):
            holds = cond.operand == (cond.op == "equals")
            return [f"「{self.fact_label(cond.fact)}」に該当{'する' if holds else 'しない'}こと"]
        return [describe(cond, self.fact_label)[0]]

    def step(self, t: TransitionDef) -> list[str]:
        """The lines of one step, escaped: what and who, then by when, then what must hold."""
        lines = [label(t.ja) + label(self.roles(t))]
        deadline = self.deadline(t.trigger)
        if deadline is not None:
            lines.append(label(deadline))
        lines += [label(CONDITION + text) for text in self.conditions(t.when)]
        return lines
