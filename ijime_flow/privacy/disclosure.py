"""What a disclosure or a redacted bundle carries besides the events, and what it says it withheld.

A **disclosure** bundle (開示請求: ``export_bundle(..., disclose_for=SUBJECT)``, ``ijime-flow export --for``) keeps
every event exactly as stored (ciphertext) and adds, as ``key`` lines, the keys of the requester's own values in
the exported cases — nothing else: other pupils' values and the case's own stay sealed. A **redacted** bundle
(``redacted=True``, ``--redacted``, for an outside committee) carries no key at all. Both put a ``withheld``
summary in the header: counts per owner kind, never another pupil's id.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidData
from .sealing import SEALED, is_sealed

if TYPE_CHECKING:
    from ..engine import Engine
    from ..store import StoredEvent

__all__ = ["disclosure_lines", "key_line"]


def key_line(kid: str, owner: str, key: bytes) -> dict[str, Any]:
    return {"kind": "key", "kid": kid, "owner": owner, "key": base64.b64encode(key).decode()}


def _sealed_kids(logs: Mapping[str, Sequence[StoredEvent]]) -> list[str]:
    """The key id of every sealed value of the events, once per value."""
    kids: list[str] = []
    for rows in logs.values():
        for row in rows:
            try:
                data = json.loads(row.body).get("data") or {}
            except (ValueError, AttributeError):
                continue
            if isinstance(data, dict):
                kids += [str(v[SEALED].get("kid")) for v in data.values() if is_sealed(v) and isinstance(v[SEALED], dict)]
    return kids


def disclosure_lines(engine: Engine, logs: Mapping[str, Sequence[StoredEvent]], *, disclose_for: str | None,
                     redacted: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The key lines and the header's ``withheld`` summary of a disclosure (``disclose_for``) or redacted bundle."""
    if redacted and disclose_for is not None:
        raise InvalidData("開示（--for）と秘匿（--redacted）は同時に指定できません / give --for or --redacted, not both")
    kids = _sealed_kids(logs)
    main = next(iter(logs))
    if redacted:
        return [], {"redacted": True, "values": len(kids), "pseudonymised": False,
                    "ja": f"個人情報 {len(kids)} 件をすべて封印のまま（鍵なし）で提供します。仮名化は行っていません。",
                    "en": f"all {len(kids)} personal value(s) withheld (sealed, no key); no pseudonymisation in this"
                          " version"}
    assert disclose_for is not None
    subjects = {s.id for s in engine.get_case(main).subjects}
    if disclose_for not in subjects:
        raise InvalidData(f"{disclose_for} は事案 {main} の対象の児童生徒ではありません / {disclose_for} is not a subject"
                          f" of case {main}: a disclosure is for one of its pupils")
    for cid in logs:
        subjects |= {s.id for s in engine.get_case(cid).subjects}
    owner_of: dict[str, str] = {}
    for owner in [*sorted(subjects), ""]:
        owner_of.update({kid: owner for kid, cid in engine.keys.owned(owner) if cid in logs})
    lines: list[dict[str, Any]] = []
    for kid in sorted({k for k in kids if owner_of.get(k) == disclose_for}):
        key = engine.keys.get(kid)
        if key is not None:  # a forgotten key stays forgotten
            lines.append(key_line(kid, disclose_for, key))
    opened = {line["kid"] for line in lines}
    own = sum(1 for k in kids if k in opened)
    own_erased = sum(1 for k in kids if owner_of.get(k) == disclose_for and k not in opened)
    case_own = sum(1 for k in kids if owner_of.get(k) == "")
    others = [k for k in kids if owner_of.get(k) not in (disclose_for, "")]
    pupils = len({owner_of[k] for k in others if k in owner_of})
    return lines, {"disclosed_for": disclose_for, "opened": own, "erased": own_erased,
                   "other_pupils": {"pupils": pupils, "values": len(others)}, "case": {"values": case_own},
                   "ja": f"本人の個人情報 {own} 件を開示します（消去済み {own_erased} 件）。他の児童生徒 {pupils} 名の"
                         f" {len(others)} 件と事案自体の記録 {case_own} 件は封印のまま（非開示）です。",
                   "en": f"the requester's own {own} value(s) disclosed ({own_erased} erased); withheld (sealed):"
                         f" {len(others)} value(s) of {pupils} other pupil(s) and {case_own} of the case's own notes"}
