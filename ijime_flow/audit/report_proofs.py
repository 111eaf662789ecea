"""What a case report says of proofs and of when each step was written down.

- :class:`ProofView`: how far a signed checkpoint proves the case's events — the checkpoint's origin
  (log id), size, time and signers, "N of M events proven, K after the checkpoint", and every problem
  found (a signature that does not verify, a store or bundle that does not extend the checkpoint, a
  missing or wrong inclusion proof). Made from a store (:func:`store_proofs`: the case's events at
  positions up to the checkpoint's size are proven when the whole store is consistent with it) or from
  a bundle's proof lines (:func:`bundle_proofs`, on :func:`ijime_flow.audit.bundle.proof_status`).
- :func:`record_marks`: a step recorded long after it happened (``recorded_at`` more than ``late``
  after ``at``), or dated before an earlier step of the case — what an auditor must be shown, since the
  log otherwise reads the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..clock import jst
from ..events import Event

if TYPE_CHECKING:
    from ..store import Store
    from .bundle import ProofStatus

__all__ = ["DEFAULT_LATE", "ProofView", "bundle_proofs", "proof_section", "record_marks", "store_proofs"]

DEFAULT_LATE = timedelta(days=1)
"""A step recorded more than this after it happened is marked as recorded late."""


@dataclass(frozen=True)
class ProofView:
    """How far one signed checkpoint proves one case's events (see the module notes)."""

    origin: str
    size: int
    issued_at: str
    signers: tuple[str, ...]  # who signed (and cosigned) the checkpoint, among the auditor's keys
    events: int  # the case's events
    covered: int  # those at or before the checkpoint (position <= size)
    proven: int  # the covered ones proven
    after: int  # recorded after the checkpoint: no proof possible until a newer one
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and self.proven == self.covered


def _checkpoint_fields(checkpoint: Any) -> tuple[str, int, str]:
    origin = str(getattr(checkpoint, "origin", None) or getattr(checkpoint, "log_id", ""))
    return origin, int(checkpoint.size), str(getattr(checkpoint, "issued_at", "") or "")


def _signers(checkpoint: Any, keys: Any, witnesses: Sequence[Any]) -> tuple[tuple[str, ...], str, list[str], Any]:
    """Who signed and cosigned ``checkpoint`` among the auditor's ``keys`` and ``witnesses``, the latest
    cosigned time (a C2SP checkpoint's text carries none), the signature problems, and the check itself."""
    from ..proofs.check import verifiers
    from ..proofs.witness import check_signatures

    found = check_signatures(checkpoint, verifiers(keys), list(witnesses))
    names = (*found.signed_by, *(f"{name}（副署 / cosigned {jst(at)} JST）" for name, at in found.cosigned_by))
    latest = max((at for _, at in found.cosigned_by), default=None)
    return names, f"{jst(latest)} JST（副署の時刻 / cosigned）" if latest is not None else "", list(found.problems), found


def store_proofs(store: Store, case_id: str, checkpoint: Any, keys: Any, witnesses: Sequence[Any] = ()) -> ProofView:
    """The case's events against ``checkpoint``, the store checked whole (its first ``size`` events must
    be the checkpoint's tree: :func:`ijime_flow.proofs.check.check_store`). ``keys``: the log's public
    key(s) — PEM, a vkey or verifiers; ``witnesses``: cosigners the auditor requires."""
    from ..proofs.check import check_store

    signers, cosigned, _, signed = _signers(checkpoint, keys, witnesses)  # each signature checked once
    problems, _ = check_store(store, checkpoint, keys, list(witnesses), signed=signed)
    origin, size, issued_at = _checkpoint_fields(checkpoint)
    positions = [row.position for row in store.read_case(case_id)]
    covered = sum(1 for p in positions if p <= size)
    return ProofView(origin, size, issued_at or cosigned, signers, len(positions), covered,
                     0 if problems else covered, len(positions) - covered, tuple(problems))


def bundle_proofs(status: ProofStatus, keys: Any, witnesses: Sequence[Any] = ()) -> ProofView | None:
    """A bundle's :class:`~ijime_flow.audit.bundle.ProofStatus` as the report shows it (``None``: no checkpoint)."""
    if status.checkpoint is None:
        return None
    signers, cosigned, problems, _ = _signers(status.checkpoint, keys, witnesses)
    origin, size, issued_at = _checkpoint_fields(status.checkpoint)
    return ProofView(origin, size, issued_at or cosigned, signers, status.events, status.covered, status.proven,
                     status.after, tuple(dict.fromkeys([*status.problems, *problems])))


def proof_section(view: ProofView | None, cell: Any) -> list[str]:
    """The report's ``## 証明 (proofs)`` section; ``cell`` makes text safe for a table cell."""
    out = ["## 証明 (proofs)", ""]
    if view is None:
        return [*out, "署名されたチェックポイントとの照合はしていません (not checked against a signed checkpoint:"
                      " give --checkpoint FILE --pubkey KEY). 記録はハッシュ連鎖でのみ検証されています (the events are"
                      " verified by their hash chain only).", ""]
    verdict = "証明OK (proven)" if view.ok else "証明NG (NOT proven)"
    when = f", {cell(view.issued_at)}" if view.issued_at else ""
    rows = [("チェックポイント (checkpoint)", f"{cell(view.origin)} — size {view.size}{when}"),
            ("署名 (signed by)", ", ".join(cell(s) for s in view.signers) or "— (署名を確認できません / no valid signature)"),
            ("証明された記録 (events proven)",
             f"{view.events} 件中 {view.proven} 件 (of {view.events}: {view.proven}), チェックポイント後 {view.after} 件"
             f" ({view.after} recorded after the checkpoint)"),
            ("結果 (result)", verdict)]
    out += ["| 項目 (item) | 内容 (value) |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    if view.problems:
        out += ["| 問題 (problem) |", "|---|", *(f"| {cell(p)} |" for p in view.problems), ""]
    return out


def record_marks(events: Sequence[Event], late: timedelta) -> dict[int, str]:
    """A mark per seq for steps recorded late or dated before an earlier step (Japanese / English)."""
    marks: dict[int, str] = {}
    latest: Event | None = None
    for event in events:
        found = []
        lag = event.recorded_at - event.at
        if lag > late:
            found.append(f"⚠ 遅れて記録（{_span(lag)}後） / recorded late ({_span(lag, en=True)} after it happened)")
        if latest is not None and event.at < latest.at:
            found.append(f"⚠ seq {latest.seq} より前の日時 / dated before seq {latest.seq} ({jst(latest.at)})")
        if found:
            marks[event.seq] = "<br>".join(found)
        if latest is None or event.at >= latest.at:
            latest = event
    return marks


def _span(lag: timedelta, *, en: bool = False) -> str:
    days, hours = lag.days, lag.seconds // 3600
    if days:
        return f"{days} day(s) {hours} h" if en else f"{days}日{hours}時間"
    return f"{hours} h {lag.seconds % 3600 // 60} min" if en else f"{hours}時間{lag.seconds % 3600 // 60}分"
