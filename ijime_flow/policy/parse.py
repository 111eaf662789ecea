"""Reading what a policy author writes in a feature file: dates, values, roles, refusal kinds.

Pure functions, so they are tested on their own. Full-width digits and letters (２０１９年５月１日)
are read as their ASCII forms (Unicode NFKC) before anything else.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..clock import TOKYO
from ..definition import Definition
from ..errors import GuardFailed, IjimeFlowError, InvalidData, InvalidTransition, PermissionDenied, UnknownTrigger

DEFAULT_TIME = time(12, 0)

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?$")
_ZONE = re.compile(r"^(?P<at>.*?\d)(?:(?P<offset>Z|[+-]\d{2}:?\d{2})|\s+(?P<zone>[A-Za-z_]+/[A-Za-z_/+-]+|UTC))$")
_JA = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?))?$")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_day(text: str, tz: tzinfo = TOKYO) -> date:
    return parse_moment(text, tz).date()


def parse_moment(text: str, tz: tzinfo = TOKYO) -> datetime:
    """``2019-05-01``, ``2019-05-01 10:30``, ``2019年5月1日``, ``2019年5月1日 10時30分`` or
    ``2019年5月1日 10:30``, full-width digits allowed; 12:00 when no time is given. Read in ``tz`` (the
    workflow's time zone; Japan time by default), unless the text names its own: an offset
    (``2019-05-15 00:30+07:00``, ``…Z``) or a zone (``2019-05-15 00:30 Asia/Jakarta``)."""
    clean = normalise(text)
    zoned = _ZONE.match(clean)
    if zoned is not None and (zoned["offset"] or zoned["zone"]):
        tz = _zone(zoned["offset"], zoned["zone"], text)
        clean = zoned["at"].strip()
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
        return datetime.combine(date(int(y), int(mo), int(d)), at_time, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"日付として正しくありません / invalid date '{text}': {exc}") from None


def _zone(offset: str | None, zone: str | None, text: str) -> tzinfo:
    if zone is not None:
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"タイムゾーン「{zone}」がありません / unknown time zone '{zone}' in '{text}'"
                             " (Asia/Tokyo, Asia/Jakarta, UTC ...)") from None
    assert offset is not None
    if offset == "Z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"時差として読めません / not an offset: '{offset}' in '{text}' (+09:00, -05:00, Z)")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_TRUE = {"true", "はい", "真", "yes", "あり"}
_FALSE = {"false", "いいえ", "偽", "no", "なし"}


def parse_value(text: str, kind: str | None = None, tz: tzinfo = TOKYO) -> Any:
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
        return parse_day(clean, tz)
    if kind == "datetime":
        return parse_moment(clean, tz)
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
        out[name] = parse_value(value, fact.type if fact else None, defn.tz if defn is not None else TOKYO)
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


class NotChecked(Exception):
    """A scenario that cannot be played on this school's workflows: it needs a contract element they lack
    (``missing``: ``"trigger:report_to_administrator"``, ``"workflow:serious_incident"`` …). 未確認, not 不合格."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


ROLE_NAMES: dict[str, str] = {
    # the names a feature may give the contract's roles, besides each role's id and its Japanese and English
    # names in the contract (ijime_flow/policy/contract.yaml): the short forms policy texts use
    "管理職": "administrator", "教頭": "administrator", "対策委員会": "committee", "いじめ対策委員会": "committee",
    "スクールカウンセラー": "counselor", "スクールソーシャルワーカー": "counselor", "市長": "mayor", "市長等": "mayor",
}


@lru_cache(maxsize=1)
def contract_role_names() -> dict[str, str]:
    """Every name of a contract role a feature may use (normalised) → its contract id."""
    from .contract import load_contract

    names = {normalise(k): v for k, v in ROLE_NAMES.items()}
    for role in load_contract().roles:
        for name in (role.id, str(role.ja), str(role.en or "")):
            if name:
                names.setdefault(normalise(name), role.id)
                names.setdefault(normalise(name).lower(), role.id)
    return names


def role_id(text: str, defn: Definition | None) -> str:
    """A role as a feature names it: a role id of the workflow, a contract role by its id, its Japanese or
    English name or a short form (``管理職``, ``対策委員会``: :data:`ROLE_NAMES`) — the workflow's role of that
    contract id (a school's own role id is mapped to it by its contract map) — or a role of the workflow's own
    by its exact label. Never by a fragment of a label: a school that calls its committee 「いじめの防止等の
    対策のための組織」 is still the contract's ``committee``. A contract role the workflow lacks is 未確認."""
    clean = normalise(text)
    if defn is None or clean in defn.spec.roles:
        return clean
    contract = contract_role_names().get(clean) or contract_role_names().get(clean.lower())
    if contract is not None:
        if contract in defn.spec.roles:
            return contract
        raise NotChecked(f"役割「{text}」（契約の {contract}）がワークフロー {defn.id} にありません（未確認） / the workflow"
                         f" has no role '{contract}' (give its own id for it in contract-map.yaml)", [f"role:{contract}"])
    exact = [name for name, role in defn.spec.roles.items()
             if clean == normalise(role.ja) or (role.en and role.en.lower() == clean.lower())]
    if len(exact) == 1:
        return exact[0]
    why = f"どれか決められません（{', '.join(exact)}）" if exact else "ワークフローにも契約にもありません"
    raise ValueError(f"役割「{text}」は{why} / role '{text}' is {'ambiguous' if exact else 'unknown'}"
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
                                              InvalidTransition: "行えない操作", UnknownTrigger: "行えない操作",
                                              InvalidData: "データ不備"}

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
