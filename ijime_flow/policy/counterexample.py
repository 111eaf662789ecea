"""A broken rule's counterexample: the shortest steps that break it, in Japanese, and as a runnable
scenario in the step library's phrases (``ijime-flow check --workflow W counterexample.feature``).

The scenario expects what the rule says should happen (a refusal, a serious-incident case, an overdue
deadline); run against the workflow that broke the rule, it fails at its last step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..clock import jst
from .explore import Action


@dataclass(frozen=True)
class Counterexample:
    path: list[Action]  # what is done first, every step accepted (the case is opened by the first)
    last: Action | None  # the step the rule concerns (None: the rule concerns where the path led)
    expect: str  # one of EXPECTATIONS
    ja: str  # what went wrong, for school staff
    en: str
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. {"trigger": ..., "days": ...}

    def steps_ja(self) -> list[str]:
        lines = [_action_ja(a) for a in self.path]
        if self.last is not None:
            lines.append(_action_ja(self.last) + " → 受け付けられる（規則では拒否されるべき）"
                         if self.expect.startswith("refused") else _action_ja(self.last))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [_action_dict(a) for a in self.path], "last": _action_dict(self.last) if self.last else None,
                "expect": self.expect, "ja": self.ja, "en": self.en, "detail": {k: _json(v) for k, v in self.detail.items()}}


EXPECTATIONS = ("refused", "refused_permission", "escalated", "overdue", "final_reachable", "cleared")
_REFUSALS = {"refused": None, "refused_permission": "権限がない"}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return f'"{value}"'


def _data(action: Action) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in action.data)


def _json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, date | datetime) else value


def _action_dict(action: Action) -> dict[str, Any]:
    return {"kind": action.kind, "name": action.name, "role": action.role, "at": action.at.isoformat(),
            "data": {k: _json(v) for k, v in action.data}}


def _action_ja(action: Action) -> str:
    when = jst(action.at)
    if action.kind == "open":
        return f"{when} {action.role} が事案を開く" + (f"（{_data(action)}）" if action.data else "")
    if action.kind == "fire":
        return f"{when} {action.role} が「{action.name}」を行う" + (f"（{_data(action)}）" if action.data else "")
    if action.kind == "fact":
        return f"{when} {action.role} が事実「{action.name}」を {_value(dict(action.data)['value'])} と記録する"
    if action.kind == "absences":
        return _absences_phrase(action)
    return f"{when} まで時間が経つ"


def scenario(example: Counterexample, *, workflow: str, rule_id: str, rule_ja: str, source: str) -> str:
    """The counterexample as a feature file (Japanese Gherkin) for the step library."""
    lines = ["# language: ja", f"機能: 反例 {rule_id}（方針 {source}）",
             f"  規則「{rule_ja}」が守られていないことを示す手順。規則を守るワークフローでは最後の確認が成り立つ。", "",
             f"  @counterexample @{rule_id}", f"  シナリオ: {rule_ja}",
             f'    前提 ワークフロー "{workflow}" を読み込む']
    if example.path:  # else the opening itself is the step the rule concerns
        lines.append(f"    かつ {_opening_phrase(example.path[0])}")
    rest = example.path[1:]
    lines += [f"    かつ {_absences_phrase(a)}" for a in rest if a.kind == "absences"]
    table = [a for a in rest if a.kind in ("fire", "fact")]
    if table:
        lines.append("    かつ 次の操作を順に行う:")
        lines.append("      | 日付 | 役割 | 操作 | データ |")
        for action in table:
            name = f"事実:{action.name}" if action.kind == "fact" else action.name
            value = _value(dict(action.data)["value"]) if action.kind == "fact" else _data(action)
            lines.append(f"      | {jst(action.at)} | {action.role} | {name} | {value.replace('|', '/')} |")
    lines += _expectation(example)
    return "\n".join(lines) + "\n"


def _opening_phrase(action: Action) -> str:
    data = _data(action)
    return f"{jst(action.at)} に {action.role} が事案を" + (f" {data} で開く" if data else "開く")


def _absences_phrase(action: Action) -> str:
    days = dict(action.data)["days"]
    return f"{', '.join(day.isoformat() for day in days)} の欠席を {action.role} が記録する"


def _expectation(example: Counterexample) -> list[str]:
    last, expect = example.last, example.expect
    out: list[str] = []
    if last is not None and last.kind == "fire":
        data = _data(last)
        out.append(f"    もし {jst(last.at)} に {last.role} が \"{last.name}\" を" + (f" {data} で行う" if data else "行う"))
    elif last is not None and last.kind == "fact":
        out.append(f"    もし {jst(last.at)} に {last.role} が事実 \"{last.name}\" を {_value(dict(last.data)['value'])}"
                   " と記録する")
    elif last is not None and last.kind == "absences":
        out.append(f"    もし {_absences_phrase(last)}")
    elif last is not None and last.kind == "open":
        out.append(f"    もし {_opening_phrase(last)}")
    if expect in _REFUSALS:
        kind = _REFUSALS[expect]
        out.append(f'    ならば "{kind}" として拒否される' if kind else "    ならば 拒否される")
    elif expect == "escalated":
        out.append("    ならば 重大事態の事案が開かれている")
    elif expect == "overdue":
        out.append(f'    ならば {example.detail["check_at"]} 時点で "{example.detail["trigger"]}" を行う期限は 期限超過 である')
    elif expect == "cleared":
        out.append(f'    ならば 事実 "{example.detail["fact"]}" は記録されていない')
    elif expect == "final_reachable":
        out.append("    ならば 終結まで進める")
    return out
