"""Forgetting a pupil (crypto-shredding): their keys destroyed, an ``erased`` event on each case that held them.

``engine.forget(subject_id, actor=..., reason=...)`` finds the pupil's keys in the key store (one per case
that sealed a value about them), asks :func:`ijime_flow.privacy.holds.check_forget` whether anything holds
those cases (it raises a refusal), appends one ``erased`` event to each case — ``data`` ``{"subject": ID,
"reason": CODE, "keys": [KID, …]}``, ids and a code only, never a value — and then destroys the keys (and
purges them from the key store's pages). Nothing already recorded changes: every hash, Merkle leaf and
checkpoint stays valid; what was sealed under those keys reads as 「消去済み / erased」 from then on.

Who may forget: an actor holding ``principal`` or ``board`` (included roles count, as far as the case's
workflow declares them). ``reason``: one of :data:`REASONS`, never free text. An ``erased`` event moves
nothing, has no trigger and may be recorded on a closed case (retention ends after closing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ..actor import Actor, check_actor
from ..canonical import check_id
from ..errors import InvalidData, PermissionDenied
from .holds import check_forget

if TYPE_CHECKING:
    from ..definition import Definition
    from ..engine import Engine
    from ..events import Event

__all__ = ["FORGET_ROLES", "REASONS", "Forgotten", "check_erased", "erased_text", "forget"]

FORGET_ROLES = ("principal", "board")
REASONS: dict[str, tuple[str, str]] = {
    "retention": ("保存期間の満了", "the retention period ended"),
    "request": ("本人・保護者からの請求（削除・利用停止）", "a request of the pupil or their guardians (erasure)"),
    "correction": ("誤って記録された個人情報の訂正", "personal data recorded in error"),
}


@dataclass(frozen=True)
class Forgotten:
    """What :func:`forget` did: the cases an ``erased`` event was appended to, and how many keys it destroyed."""

    subject: str
    reason: str
    cases: tuple[str, ...]
    keys: int
    events: tuple[Event, ...] = field(default=())


def check_erased(defn: Definition, data: Mapping[str, Any], trigger: str | None, actor_id: str, roles: Iterable[str]) -> None:
    """An ``erased`` event's rules (live and in verification): its shape, the reason code, who recorded it."""
    if set(data) != {"subject", "reason", "keys"} or not isinstance(data.get("keys"), list):
        raise InvalidData("消去の記録の形式が正しくありません / an erased event's data is exactly {subject, reason, keys}")
    check_id(data["subject"], "subject")
    if not all(isinstance(k, str) and k for k in data["keys"]):
        raise InvalidData("消去の記録の鍵 ID が正しくありません / an erased event's keys are key ids (text)")
    if data["reason"] not in REASONS:
        raise InvalidData(f"消去の理由は {', '.join(REASONS)} のいずれかです / the reason of an erasure is one of"
                          f" {', '.join(REASONS)}")
    if trigger is not None:
        raise InvalidData("消去の記録に操作はありません / an erased event has no trigger")
    allowed = [r for r in FORGET_ROLES if r in defn.spec.roles] or list(FORGET_ROLES)
    held = defn.role_closure(frozenset(roles)) | set(roles)
    if not held & set(allowed):
        raise PermissionDenied("個人情報の消去 (forget)", actor_id, sorted(roles), allowed)


def erased_text(data: Mapping[str, Any]) -> str:
    """An ``erased`` event in words, Japanese first: whose data, why, how many keys."""
    reason = str(data.get("reason"))
    ja, en = REASONS.get(reason, (reason, reason))
    keys = len(data.get("keys") or [])
    return (f"個人情報を消去: {data.get('subject')}（{ja}、鍵 {keys} 件） / personal data of {data.get('subject')} erased"
            f" ({en}; {keys} key{'s' if keys != 1 else ''})")


def forget(engine: Engine, subject_id: str, *, actor: Actor, reason: str, school: str | None = None,
           at: datetime | None = None) -> Forgotten:
    """Forget a pupil: see the module docstring. ``school``: only that school's keys (default: every school's)."""
    from .. import logs

    subject_id = check_id(subject_id, "subject")
    check_actor(actor)
    if reason not in REASONS:
        raise InvalidData(f"消去の理由は {', '.join(REASONS)} のいずれかです / reason must be one of {', '.join(REASONS)}"
                          " (a code, never free text)")
    with engine.lock:
        owned = engine.keys.owned(subject_id, None if school is None else check_id(school, "school"))
        by_case: dict[str, list[str]] = {}
        for kid, case_id in owned:
            by_case.setdefault(case_id, []).append(kid)
        cases = [engine.get_case(case_id) for case_id in sorted(by_case)]
        data_of = {c.id: {"subject": subject_id, "reason": reason, "keys": sorted(by_case[c.id])} for c in cases}
        for case in cases:  # every case's rules before anything is written
            check_erased(case._runtime.definition, data_of[case.id], None, actor.id, actor.roles)
        check_forget(engine, subject_id, [c.id for c in cases], reason=reason)  # raises while a hold applies
        events: list[Event] = []
        if cases:
            # inside the application's own engine.transaction(), the erased events join it
            with engine.transaction() if engine._tx is None else nullcontext():
                for case in cases:
                    when, now = case._when(at)
                    leaves, data = case._leaves, data_of[case.id]
                    result = case._commit([("erased", None, leaves, leaves, actor, data)], when, now, case._facts,
                                          "erased", data, met_at=[])
                    events.append(result.event)
        gone = engine.keys.destroy(kid for kid, _ in owned)  # only once every erased event is recorded
        for event in events:
            logs.info("case.erased", case_id=event.case_id, subject_id=subject_id, reason=reason, seq=event.seq)
        return Forgotten(subject_id, reason, tuple(c.id for c in cases), gone, tuple(events))


class Forgetting:
    """``engine.forget``: a mixin of :class:`ijime_flow.engine.Engine`."""

    def forget(self, subject_id: str, *, actor: Actor, reason: str, school: str | None = None,
               at: datetime | None = None) -> Forgotten:
        """Forget a pupil: destroy their keys and append an ``erased`` event to each case that held their
        values (:mod:`ijime_flow.privacy.forget`). ``reason``: ``retention``, ``request`` or ``correction``."""
        return forget(cast("Engine", self), subject_id, actor=actor, reason=reason, school=school, at=at)
