"""The words for what a workflow file was expected to hold, and Japanese for the checks written in English.

:mod:`.shape_messages` says "expected a state definition (a mapping)" rather than a class name; these are
its nouns, by model (:func:`model_noun`) and by the field holding a mapping or a list (:func:`field_noun`).
A model's own check may raise a message in English only (those of :mod:`.condition_models` that predate
the convention): :func:`translated` puts Japanese in front of it; a message already in both languages is
kept as it is.
"""

from __future__ import annotations

import re

IDENT_PATTERN = r"^[a-z][a-z0-9_]*$"
STATE_PATH_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$|^\*$"

_MODELS: dict[str, tuple[str, str]] = {
    "WorkflowDef": ("ワークフロー", "a workflow"),
    "Title": ("題名 {ja: ..., en: ...}", "a title {ja: ..., en: ...}"),
    "RoleDef": ("役割の定義", "a role definition"),
    "FactDef": ("事実の定義", "a fact definition"),
    "DeadlineDef": ("期限の定義", "a deadline definition"),
    "StateDef": ("状態の定義", "a state definition"),
    "TransitionDef": ("操作（遷移）の定義", "a step (transition) definition"),
    "AbsenceCount": ("欠席日数の基準", "an absence count"),
    "AbsenceRun": ("連続欠席の基準", "an absence run"),
    "CriterionDef": ("基準の定義", "a criterion definition"),
    "EscalationDef": ("エスカレーションの定義", "an escalation definition"),
    "CalendarDef": ("学校の暦の定義", "a calendar definition"),
}
_MAPPINGS: dict[str, tuple[str, str]] = {
    "roles": ("役割の一覧（名前: 定義）", "the roles, as name: definition"),
    "facts": ("事実の一覧（名前: 定義）", "the facts, as name: definition"),
    "states": ("状態の一覧（名前: 定義）", "the states, as name: definition"),
    "parallel": ("並行する領域の一覧（名前: 定義）", "the parallel regions, as name: definition"),
}
_LISTS: dict[str, tuple[str, str]] = {
    "from": ("状態の名前一つか、そのリスト", "one state name or a list of them"),
    "transitions": ("操作（遷移）のリスト（「- trigger: ...」の並び）", "a list of steps ('- trigger: ...' entries)"),
    "deadlines": ("期限のリスト（「- id: ...」の並び）", "a list of deadlines ('- id: ...' entries)"),
    "criteria": ("基準のリスト（「- id: ...」の並び）", "a list of criteria ('- id: ...' entries)"),
    "closures": ("日付のリスト（例: [2019-05-30, 2019-05-31]）", "a list of dates (e.g. [2019-05-30, 2019-05-31])"),
    "weekends": ("曜日のリスト（例: [saturday, sunday]）", "a list of weekdays (e.g. [saturday, sunday])"),
}
_MAPPING = ("キーと値の組（マッピング）", "a mapping (key: value)")
_LIST = ("リスト（[a, b] または「- 」で始まる行の並び）", "a list ([a, b], or lines starting with '- ')")
CONDITION = ("条件", "a condition")


def model_noun(name: str) -> tuple[str, str]:
    """What a model is called, (Japanese, English); a condition's models are all "a condition"."""
    return _MODELS.get(name, CONDITION)


def field_noun(field: str, kind: str) -> tuple[str, str]:
    """What the field ``field`` holds when it must be a mapping (``kind`` "dict") or a list ("list")."""
    if kind == "dict":
        return _MAPPINGS.get(field, _MAPPING)
    return _LISTS.get(field, _LIST)


_ENGLISH_ONLY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"a fact condition takes exactly one of (?P<ops>[^;]+); got (?P<got>.*)"),
     "事実の条件には {ops} のうちちょうど一つを書きます（書かれたもの: {got}）"),
    (re.compile(r"'(?P<op>\w+)' needs a value"),
     "「{op}」には値が必要です（null は値ではありません。記録されていないことは is_set: false で書きます）"),
    (re.compile(r"a criterion takes exactly one of (?P<keys>[^;]+); got (?P<got>.*)"),
     "基準には {keys} のうちちょうど一つを書きます（書かれたもの: {got}）"),
    (re.compile(r"an enum fact needs a non-empty 'values' list"), "enum の事実には値の一覧 values が必要です"),
    (re.compile(r"'values' is only for facts of type enum"), "values は type: enum の事実にだけ書けます"),
    (re.compile(r"a state has either 'states' \(compound\) or 'parallel'"),
     "状態には states（入れ子）か parallel（並行する領域）のどちらか一方だけを書きます"),
    (re.compile(r"a final state cannot have children"), "最終状態（final: true）には子の状態を書けません"),
    (re.compile(r"'states' must not be empty"), "states を空にはできません"),
    (re.compile(r"a compound state needs 'initial'"), "入れ子の状態には最初に入る子の状態 initial が必要です"),
    (re.compile(r"'initial' is only for a state with 'states'"), "initial は states を持つ状態にだけ書けます"),
    (re.compile(r"'parallel' needs at least two regions"), "parallel には領域が二つ以上必要です"),
    (re.compile(r"parallel region '(?P<name>\w+)' needs 'states' and 'initial'"),
     "並行する領域「{name}」には states と initial が必要です"),
    (re.compile(r"an automatic step is taken by the engine: it has no 'roles'"),
     "自動の操作はシステムが行うため roles は書けません"),
    (re.compile(r"an automatic step needs 'to'"), "自動の操作には行き先 to が必要です"),
    (re.compile(r"a step needs 'roles'"), "操作には行える役割 roles が必要です"),
)


def translated(message: str) -> str:
    """``message`` in both languages: as it is when it has both already, else with Japanese in front."""
    if " / " in message:
        return message
    for pattern, japanese in _ENGLISH_ONLY:
        match = pattern.search(message)
        if match:
            return f"{japanese.format(**match.groupdict())} / {message}"
    return f"この値は使えません / {message}"
