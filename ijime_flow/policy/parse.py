"""Reading what a policy author writes in a feature file: dates, values, roles, refusal kinds.

Pure functions, so they are tested on their own. Full-width digits and letters (２０１９年５月１日)
are read as their ASCII forms (Unicode NFKC) before anything else.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Any

from ..clock import TOKYO
from ..definition import Definition
from ..errors import GuardFailed, IjimeFlowError, InvalidData, InvalidTransition, PermissionDenied

DEFAULT_TIME = time(12, 0)

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?$")
_JA = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?))?$")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_day(text: str) -> date:
    return parse_moment(text).date()


def parse_moment(text: str) -> datetime:
    """``2019-05-01``, ``2019-05-01 10:30``, ``2019年5月1日``, ``2019年5月1日 10時30分`` or
    ``2019年5月1日 10:30``, full-width digits allowed; Japan time; 12:00 when no time is given."""
    clean = normalise(text)
    match = _ISO.match(clean)
    if match:
        y, mo, d, h, mi = match.groups()
    else:
        match = _JA.match(clean)
        if not match:
            raise ValueError(f"日付として読めません / not a date: '{text}' (2019-05-01, 2019年5月1日 10:30 ...)")
        y, mo, d, h, mi_colon, mi_ja = match.groups()
        mi = mi_colon or mi_ja
    try:
        at_time = time(int(h), int(mi or 0)) if h is not None else DEFAULT_TIME
        return datetime.combine(date(int(y), int(mo), int(d)), at_time, tzinfo=TOKYO)
    except ValueError as exc:
        raise ValueError(f"日付として正しくありません / invalid date '{text}': {exc}") from None


_TRUE = {"true", "はい", "真", "yes", "あり"}
_FALSE = {"false", "いいえ", "偽", "no", "なし"}


def parse_value(text: str, kind: str | None = None) -> Any:
    """A value as written, read as ``kind`` (a fact type) when known."""
    clean = normalise(text)
    if len(clean) >= 2 and clean[0] == clean[-1] and clean[0] in "\"'「":
        return clean[1:-1]
    if clean.startswith("「") and clean.endswith("」"):
        return clean[1:-1]
    if kind == "bool" or (kind is None and clean.lower() in _TRUE | _FALSE):
        if clean.lower() in _TRUE:
            return True
        if clean.lower() in _FALSE:
            return False
        raise ValueError(f"true / false（はい / いいえ）で書いてください: '{text}'")
    if kind == "date" or (kind is None and (_ISO.match(clean) or _JA.match(clean))):
        return parse_day(clean)
    if kind == "datetime":
        return parse_moment(clean)
    if kind == "int" or (kind is None and re.fullmatch(r"-?\d+", clean)):
        return int(clean)
    if kind == "number":
        return float(clean)
    return clean


def parse_data(text: str, defn: Definition | None) -> dict[str, Any]:
    """``bullying_recognised=true, reason="双方の合意を確認"`` -> a dict, facts read by their type."""
    out: dict[str, Any] = {}
    for part in _split(normalise(text)):
        if "=" not in part:
            raise ValueError(f"データは name=value の形で書いてください / data must be name=value: '{part}'")
        name, value = (p.strip() for p in part.split("=", 1))
        fact = defn.spec.facts.get(name) if defn else None
        out[name] = parse_value(value, fact.type if fact else None)
    return out


def _split(text: str) -> list[str]:
    """Split on commas (、 too) outside quotes."""
    parts, current, quote = [], "", ""
    for char in text:
        if quote:
            current += char
            if char == quote or (quote == "「" and char == "」"):
                quote = ""
        elif char in "\"'「":
            quote, current = char, current + char
        elif char in ",、":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def role_id(text: str, defn: Definition | None) -> str:
    """A role by id (``principal``), by its Japanese label (``校長``), by one part of the label
    (``管理職`` for 管理職（校長・教頭）, ``スクールカウンセラー``) or by an unambiguous ending
    (``対策委員会`` for 校内いじめ問題対策委員会)."""
    clean = normalise(text)
    if defn is None or clean in defn.spec.roles:
        return clean
    exact, partial = [], []
    for name, role in defn.spec.roles.items():
        label = normalise(role.ja)
        parts = set(re.split(r"[・（）()、]", label)) - {""}
        if clean == label or (role.en and role.en.lower() == clean.lower()):
            exact.append(name)
        elif clean in parts or label.endswith(clean):
            partial.append(name)
    found = exact or partial
    if len(found) == 1:
        return found[0]
    why = f"どれか決められません（{', '.join(found)}）" if found else "ワークフローにありません"
    raise ValueError(f"役割「{text}」は{why} / role '{text}' is {'ambiguous' if found else 'unknown'}"
                     f" (roles: {', '.join(defn.spec.roles)})")


REFUSALS: dict[str, type[IjimeFlowError]] = {
    "権限がない": PermissionDenied, "権限なし": PermissionDenied, "PermissionDenied": PermissionDenied,
    "permission": PermissionDenied,
    "条件を満たさない": GuardFailed, "条件不成立": GuardFailed, "GuardFailed": GuardFailed, "guard": GuardFailed,
    "行えない操作": InvalidTransition, "不正な操作": InvalidTransition, "InvalidTransition": InvalidTransition,
    "invalid transition": InvalidTransition,
    "データ不備": InvalidData, "InvalidData": InvalidData, "invalid data": InvalidData,
}
REFUSAL_JA: dict[type[IjimeFlowError], str] = {PermissionDenied: "権限がない", GuardFailed: "条件を満たさない",
                                              InvalidTransition: "行えない操作", InvalidData: "データ不備"}

STATUSES: dict[str, str] = {
    "met": "met", "期限内に実施": "met", "達成": "met",
    "missed": "missed", "期限後に実施": "missed", "遅延": "missed",
    "open": "open", "期限前": "open", "未到来": "open",
    "overdue": "overdue", "期限超過": "overdue", "未達": "overdue",
}


def refusal_kind(text: str) -> type[IjimeFlowError]:
    clean = normalise(text)
    try:
        return REFUSALS[clean]
    except KeyError:
        raise ValueError(f"拒否の種類「{text}」は不明です / unknown refusal kind (one of: {', '.join(REFUSALS)})") from None


def deadline_status(text: str) -> str:
    clean = normalise(text)
    try:
        return STATUSES[clean]
    except KeyError:
        raise ValueError(f"期限の状態「{text}」は不明です / unknown deadline status (one of: {', '.join(STATUSES)})") from None
