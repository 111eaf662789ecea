"""What verification reports: one problem (case, seq, kind, message) and the report of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class VerificationProblem:
    case_id: str
    seq: int | None
    kind: str  # format | seq | hash | chain | definition | calendar | illegal | state | link | store
    message: str

    def __str__(self) -> str:
        where = f"{self.case_id} seq {self.seq}" if self.seq is not None else (self.case_id or "store")
        return f"{where}: [{self.kind}] {self.message}"


@dataclass
class VerificationReport:
    cases: int = 0
    events: int = 0
    problems: list[VerificationProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_bad_seq(self, case_id: str) -> int | None:
        seqs = [p.seq for p in self.problems if p.case_id == case_id and p.seq is not None]
        return min(seqs) if seqs else None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "problems": [asdict(p) for p in self.problems]}
